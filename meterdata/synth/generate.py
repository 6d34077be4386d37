"""Write a synthetic dataset folder: ``images/`` plus ``manifest.jsonl`` and a dataset card."""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
from tqdm import tqdm

from ..manifest import MANIFEST_NAME, Sample, write_manifest
from .meter_type import MeterType
from .scene import render_photo

# With ``split="auto"`` a photo's split follows from its index alone, so it is stable across runs.
_AUTO_SPLITS = ("train",) * 8 + ("val", "test")


def _split_for(index: int, split: str) -> str:
    return _AUTO_SPLITS[index % len(_AUTO_SPLITS)] if split == "auto" else split


def _render_one(args: tuple) -> Sample:
    seed, index, size, max_side, split, out, meter_type = args
    jpeg, sample = render_photo(seed, index, size, _split_for(index, split), max_side, meter_type)
    (Path(out) / sample.image).write_bytes(jpeg)
    return sample


def generate(
    n: int,
    seed: int,
    out: str | Path,
    size: tuple[int, int] | None = None,
    split: str = "auto",
    workers: int | None = None,
    progress: bool = True,
    max_side: int | None = None,
    meter_type: MeterType | None = None,
) -> list[Sample]:
    """Render ``n`` photos into ``out``; the result depends on ``seed``, ``n`` and ``meter_type`` only, not
    on ``workers``. ``meter_type``: every photo shows a meter of that type."""
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    workers = workers or os.cpu_count() or 1
    jobs = [(seed, i, size, max_side, split, str(out), meter_type) for i in range(n)]
    bar = tqdm(total=n, desc="rendering", unit="photo", disable=not progress)
    samples: list[Sample] = []
    if workers == 1:
        cv2.setNumThreads(1)
        for job in jobs:
            samples.append(_render_one(job))
            bar.update()
    else:
        # One OpenCV thread per process: the processes already use every core.
        # spawn, not fork: forking a process that already runs ONNX Runtime or torch threads can deadlock.
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            workers, mp_context=spawn, initializer=cv2.setNumThreads, initargs=(1,)
        ) as pool:
            for sample in pool.map(_render_one, jobs, chunksize=8):
                samples.append(sample)
                bar.update()
    bar.close()
    write_manifest(out / MANIFEST_NAME, samples)
    (out / "README.md").write_text(dataset_card(samples, seed, size, split))
    return samples


def dataset_card(samples: list[Sample], seed: int, size: tuple[int, int] | None, split: str) -> str:
    kinds = Counter(s.kind for s in samples)
    modes = Counter(s.mode for s in samples if s.mode)
    splits = Counter(s.split for s in samples)
    unreadable = Counter(s.extra.get("unreadable_reason") for s in samples if not s.readable)
    size_text = f"{size[0]}x{size[1]}" if size else "mixed, 640x480 to 4000x3000"

    def table(counter: Counter) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items()))

    return f"""# Synthetic kWh meter photos (seed {seed})

- Source: `meterverify data synth --n {len(samples)} --seed {seed}` (meterverify's own generator).
- Licence: generated data, Apache-2.0 like the code that made it.
- How made: seven-segment LCD panels and drum counters drawn in meter housings with printed distractors,
  placed in cluttered scenes under random camera pose, lighting, glare, shadows, blur, noise, occlusion and
  JPEG compression. Labels are exact: they come from the drawing, not from annotation.
- Sizes: {size_text}. Split: {split}.
- Photos: {len(samples)}; readable: {sum(s.readable for s in samples)}.
- Meter kinds: {table(kinds)}.
- Display modes: {table(modes)}.
- Splits: {table(splits)}.
- Why unreadable: {table(unreadable)}.
"""
