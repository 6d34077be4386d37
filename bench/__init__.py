"""Benchmarks: each module prints its figures (``python -m bench.accuracy``, ...), run from the repository root."""
