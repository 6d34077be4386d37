"""How fast the synthetic generator renders photos, per core, at one size.

    python -m bench.synth_speed --size 1280x960 --n 200

Prints photos per second on one core (render + JPEG encode, no disk) and the share of readable photos.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from meterdata.synth import render_photo


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="1280x960", help="WIDTHxHEIGHT of every photo")
    parser.add_argument("--n", type=int, default=200, help="photos to render")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    cv2.setNumThreads(1)  # one core, as the target is stated
    render_photo(args.seed, 0, (w, h))  # warm-up: glyph and noise caches
    times, readable = [], 0
    for i in range(args.n):
        start = time.perf_counter()
        _, sample = render_photo(args.seed, i, (w, h))
        times.append(time.perf_counter() - start)
        readable += sample.readable
    ms = np.array(times) * 1000
    print(f"size {w}x{h}, {args.n} photos, one core")
    print(
        f"  {1000 / ms.mean():.1f} photos/s  (mean {ms.mean():.1f} ms, p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms)"
    )
    print(f"  readable: {readable / args.n:.0%}")


if __name__ == "__main__":
    main()
