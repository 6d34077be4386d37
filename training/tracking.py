"""MLflow tracking for the training scripts: a local SQLite store (./mlflow.db, artifacts in ./mlruns) unless
MLFLOW_TRACKING_URI says otherwise. ``mlflow ui --backend-store-uri sqlite:///mlflow.db`` shows the runs."""

from __future__ import annotations

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


@contextmanager
def tracked_run(experiment: str, params: dict) -> Iterator[RunLog]:
    import mlflow

    if not os.environ.get("MLFLOW_TRACKING_URI"):
        mlflow.set_tracking_uri(f"sqlite:///{Path('mlflow.db').resolve()}")
    mlflow.set_experiment(experiment)
    with mlflow.start_run():
        mlflow.log_params(params)
        yield RunLog(mlflow)
