"""The MLflow model registry and the promotion gate: which registered reader versions exist, how one compares
with the served reader on every frozen test set, and installing a version where the service picks it up."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from meterdata.synth.meter_type import MeterType
from serving.served_models import read_served, sha256_file, write_served
from training import testsets

NAME = "meterverify-reader"


@dataclass
class ModelVersion:
    version: str
    folder: Path  # reader.onnx, easyocr/, meter_types/, eval.json

    @property
    def onnx(self) -> Path:
        return self.folder / "reader.onnx"

    @property
    def meter_types(self) -> list[MeterType]:
        return [MeterType.load(p) for p in sorted((self.folder / "meter_types").glob("*.toml"))]


def client():
    import mlflow

    from training.tracking import use_default_store

    use_default_store(mlflow)
    return mlflow.MlflowClient()


def versions(name: str = NAME) -> list:
    return sorted(client().search_model_versions(f"name='{name}'"), key=lambda v: int(v.version))


def download(version: str, into: Path, name: str = NAME) -> ModelVersion:
    """The registered version's files, fetched from the tracking store (local or server)."""
    import mlflow

    mv = client().get_model_version(name, str(version))
    target = into / f"v{mv.version}"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    local = mlflow.artifacts.download_artifacts(artifact_uri=mv.source, dst_path=str(target))
    return ModelVersion(str(mv.version), Path(local))


def gate_sets(candidate: ModelVersion, models_dir: Path) -> dict[str, list[testsets.Strip]]:
    """Every frozen test set: the standard ones, the candidate's meter types and every type promoted before."""
    types = {t.name: t for t in _promoted_types(models_dir)}
    types.update({t.name: t for t in candidate.meter_types})
    return testsets.frozen_sets(types.values())


def _promoted_types(models_dir: Path) -> list[MeterType]:
    return [MeterType.load(p) for p in sorted((models_dir / "types").glob("*.toml"))]


def compare(candidate: ModelVersion, models_dir: Path) -> dict[str, testsets.Comparison]:
    served = read_served(models_dir).get("reader")
    return testsets.compare(
        candidate.onnx, Path(served["onnx"]) if served else None, gate_sets(candidate, models_dir)
    )


def install(candidate: ModelVersion, models_dir: Path, role: str = "reader") -> dict:
    """Copy the version under ``models_dir`` and point ``served.json``'s ``role`` (reader or shadow) at it."""
    home = models_dir / "reader" / f"v{candidate.version}"
    if not home.exists():
        shutil.copytree(candidate.folder, home)
    entry = {
        "version": candidate.version,
        "onnx": str((home / "reader.onnx").resolve()),
        "sha256": sha256_file(home / "reader.onnx"),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    served = read_served(models_dir)
    served[role] = entry
    if role == "reader":
        (models_dir / "types").mkdir(parents=True, exist_ok=True)
        for spec in (home / "meter_types").glob("*.toml"):
            shutil.copy(spec, models_dir / "types" / spec.name)
        if served.get("shadow", {}).get("version") == candidate.version:
            served.pop("shadow")
    write_served(models_dir, served)
    return entry
