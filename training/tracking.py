"""MLflow tracking for the training scripts: a local SQLite store (./mlflow.db, artifacts in ./mlruns) unless
MLFLOW_TRACKING_URI says otherwise. ``mlflow ui --backend-store-uri sqlite:///mlflow.db`` shows the runs."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RunLog:
    def __init__(self, mlflow) -> None:
        self._mlflow = mlflow

    def __call__(self, metrics: dict[str, float], step: int) -> None:
        self._mlflow.log_metrics(metrics, step=step)

    def artifact(self, path: Path) -> None:
        self._mlflow.log_artifact(str(path))

    def artifacts(self, folder: Path, under: str) -> None:
        self._mlflow.log_artifacts(str(folder), under)

    def register(self, name: str, path: str, tags: dict[str, str]) -> str:
        """Register the run's artifact folder ``path`` as a new version of model ``name``; its number."""
        from mlflow import MlflowClient

        client = MlflowClient()
        run = self._mlflow.active_run()
        with contextlib.suppress(Exception):  # it exists already
            client.create_registered_model(name)
        version = client.create_model_version(
            name, f"{run.info.artifact_uri}/{path}", run.info.run_id, tags=tags
        )
        return version.version


def use_default_store(mlflow) -> None:
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        mlflow.set_tracking_uri(f"sqlite:///{Path('mlflow.db').resolve()}")


@contextmanager
def tracked_run(experiment: str, params: dict) -> Iterator[RunLog]:
    import mlflow

    use_default_store(mlflow)
    mlflow.set_experiment(experiment)
    with mlflow.start_run():
        mlflow.log_params(params)
        yield RunLog(mlflow)
