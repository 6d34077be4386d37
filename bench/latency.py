"""Latency of ``vision.read`` and ``vision.verify`` on whole photos, one thread: decode included.

    python -m bench.latency [--n 40]

Photos are synthetic meter scenes with camera-like grain added and saved as JPEG quality 92, so their
file sizes (and decode cost) are those of real phone photos: about 0.4 MB at 1 MP, 4 MB at 12 MP.
Prints model load time, ms per photo (p50, p95) for 1 MP and 12 MP, for a blind read and for verifying the
typed value (with the meter's digit count and decimals, as the service does), peak memory, and where a
read's time goes, stage by stage.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor

os.environ.setdefault("METERVERIFY_THREADS", "1")

import cv2
import numpy as np

from meterdata.synth import render_photo
from vision.reader import MeterReader
from vision.reading import Meter

SIZES = {"1 MP": (1152, 864), "12 MP": (4000, 3000)}


def phone_jpeg(seed: int, index: int, size: tuple[int, int]) -> tuple[bytes, str, Meter]:
    """A synthetic scene with sensor grain, encoded like a phone camera does; its value and meter."""
    data, sample = render_photo(seed, index, size)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    grain = np.random.default_rng(index).normal(0, 7, image.shape).astype(np.float32)
    image = np.clip(image + grain, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    digits = sample.digits or "12345"
    return buf.tobytes(), sample.value or "12345", Meter(len(digits), sample.decimals if sample.digits else 0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=40, help="photos per size")
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    start = time.perf_counter()
    reader = MeterReader()
    load_ms = (time.perf_counter() - start) * 1000
    print(f"model load: {load_ms:.0f} ms (ONNX Runtime, {os.environ['METERVERIFY_THREADS']} thread)")
    for name, size in SIZES.items():
        # Made in child processes, so the peak memory below is the reader's, not the generator's.
        with ProcessPoolExecutor(2) as pool:
            photos = list(pool.map(phone_jpeg, [args.seed] * args.n, range(args.n), [size] * args.n))
        reader.read(photos[0][0])  # warm-up
        mb = np.mean([len(p) for p, _, _ in photos]) / 1e6
        for job in ("read", "verify"):
            times = []
            for data, value, meter in photos:
                t = time.perf_counter()
                reader.read(data) if job == "read" else reader.verify(data, value, meter)
                times.append((time.perf_counter() - t) * 1000)
            print(
                f"{job:>6} {name:>6} ({size[0]}x{size[1]}, {mb:.1f} MB JPEG): p50 {np.percentile(times, 50):6.1f} ms   p95 {np.percentile(times, 95):6.1f} ms   ({args.n} photos)"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB (whole process)")
    where_the_time_goes(reader, [p for p, _, _ in photos])


# Where a read spends its time, by the functions that do each stage (their cumulative time).
STAGES = {
    "decode (reduced-scale JPEG)": ("vision/image.py", "decode_photo"),
    "our display detector (CornerNet)": ("vision/detect/model.py", "detect"),
    "our CRNN on the display": ("vision/reader.py", "_own_reading"),
    "text detection (PP-OCRv4 DB)": ("vision/detect/text.py", "detect"),
    "text recognition (PP-OCR, every region)": ("vision/ocr/ppocr.py", "read"),
    "joint settling of the register (CTC)": ("vision/ocr/joint.py", "joint_reading"),
    "quality checks": ("vision/quality.py", "check_strip"),
}


def where_the_time_goes(reader: MeterReader, photos: list[bytes]) -> None:
    """The last size's blind reads again under the profiler: each stage's share of the whole."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    for data in photos:
        reader.read(data)
    profile.disable()
    stats = pstats.Stats(profile).stats  # (file, line, name) -> (calls, _, own, cumulative, callers)
    total = sum(v[2] for v in stats.values())
    print(f"where a read's time goes ({len(photos)} photos of the last size, under the profiler):")
    for label, (path, name) in STAGES.items():
        spent = sum(v[3] for (file, _, fn), v in stats.items() if file.endswith(path) and fn == name)
        print(f"  {label:<42} {spent / len(photos) * 1000:7.1f} ms  {spent / total:6.1%}")


if __name__ == "__main__":
    main()
