"""Which reader the service serves, and picking up a promotion without a restart.

``meterverify models promote`` writes the promoted version into ``models_dir`` (a folder every serve and
worker process can read: local in embedded mode, a shared volume in distributed mode) and replaces
``served.json`` atomically. Each process looks at ``served.json`` at most every ``CHECK_S`` seconds and, when
the version changed, builds the new reader beside the old one and swaps it in: jobs in flight finish on the
reader they started with.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path

log = logging.getLogger("meterverify.models")

CHECK_S = 2.0
SERVED = "served.json"


def served_file(models_dir: Path) -> Path:
    return models_dir / SERVED


def read_served(models_dir: Path) -> dict:
    """``{"reader": {"version", "onnx", "sha256"}, "shadow": {...}?, "ranker": {"version", "path", "sha256"}?}``;
    ``{}`` when nothing was promoted."""
    try:
        return json.loads(served_file(models_dir).read_text())
    except FileNotFoundError:
        return {}


def write_served(models_dir: Path, served: dict) -> None:
    """Replace ``served.json`` atomically: a reader of the file sees the old or the new, never half."""
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = models_dir / f".{SERVED}.{os.getpid()}"
    tmp.write_text(json.dumps(served, indent=2, sort_keys=True))
    os.replace(tmp, served_file(models_dir))


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _checked(path: Path, sha256: str) -> Path:
    if sha256_file(path) != sha256:
        raise RuntimeError(f"{path} does not match its recorded SHA-256: not serving it")
    return path


class ServedModels:
    """The reader (and an optional shadow reader) this process serves, reloaded when a promotion lands."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._lock = threading.Lock()
        self._checked = 0.0
        self._served: dict | None = None
        self._reader = None
        self._shadow = None

    def _load(self, entry: dict | None, ranker: dict | None = None):
        from vision.reader import MeterReader

        ranker_path = _checked(Path(ranker["path"]), ranker["sha256"]) if ranker else None
        if not entry:
            return MeterReader(ranker_weights=ranker_path)
        path = _checked(Path(entry["onnx"]), entry["sha256"])
        return MeterReader(path, version=str(entry["version"]), ranker_weights=ranker_path)

    def _refresh(self) -> None:
        now = time.monotonic()
        if self._reader is not None and now - self._checked < CHECK_S:
            return
        with self._lock:
            if self._reader is not None and now - self._checked < CHECK_S:
                return
            self._checked = now
            served = read_served(self.models_dir)
            if served == self._served and self._reader is not None:
                return
            try:
                reader = self._load(served.get("reader"), served.get("ranker"))
                shadow = self._load(served["shadow"], served.get("ranker")) if served.get("shadow") else None
            except Exception as e:  # a broken promotion must not take the service down: keep what works
                log.error(
                    "cannot load the promoted models (%s); still serving %s",
                    e,
                    getattr(self._reader, "version", "the shipped reader"),
                )
                if self._reader is None:
                    self._reader, self._shadow = self._load(None), None
                return
            if self._reader is not None:
                log.info("now serving reader %s (was %s)", reader.version, self._reader.version)
            self._reader, self._shadow, self._served = reader, shadow, served

    @property
    def reader(self):
        self._refresh()
        return self._reader

    @property
    def shadow(self):
        self._refresh()
        return self._shadow
