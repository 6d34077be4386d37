"""ONNX Runtime sessions for the shipped models: CPU, a fixed thread count, loaded once per process."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import onnxruntime as ort


@cache
def session(path: str | Path, threads: int | None = None) -> ort.InferenceSession:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model weights not found: {path}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or int(os.environ.get("METERVERIFY_THREADS", "1"))
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
