"""A made-up meter type end to end: a spec, a reader that reads it poorly, fine-tuning tracked on an MLflow
server, the promotion gate (refusing an injected regression), and a running service switching models."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from meterdata.synth.meter_type import MeterType
from serving.served_models import CHECK_S, read_served
from tests.serving.conftest import embedded_settings, running_api
from training import finetune_reader, testsets

pytestmark = pytest.mark.slow

SPEC = """name = "acme-7-blocky"
digits = 7
decimals = 1
decimal_marking = "point"
segment_style = "rect"
thickness = 0.22
slant = 0.3
digit_aspect = 0.8
pitch = 1.12
background = [120, 170, 215]
ink = [20, 30, 60]
ghost = 0.2
"""
EXE = str(Path(sys.executable).parent / "meterverify")


@pytest.fixture
def mlflow_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``mlflow server`` with a SQLite backend, artifacts served by it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).parent / "mlflow"
    proc = subprocess.Popen(
        [str(exe) if exe.exists() else shutil.which("mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--artifacts-destination",
         str(tmp_path / "mlartifacts"), "--workers", "1"],
        stdout=(tmp_path / "mlflow.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, (tmp_path / "mlflow.log").read_text()[-2000:]
        time.sleep(0.5)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    yield url
    os.killpg(proc.pid, 15)
    proc.wait(20)


def _train(tmp_path: Path, name: str, config: str, *extra: str) -> dict:
    (tmp_path / f"{name}.toml").write_text(config)
    args = finetune_reader.get_args_parser().parse_args(
        ["--config", str(tmp_path / f"{name}.toml"), "--out", str(tmp_path / name), "--threads", "2", *extra]
    )
    return finetune_reader.main(args)


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.timeout(900)  # two trainings and an MLflow server on 2 cores: minutes, not seconds
def test_a_new_meter_type_is_learnt_gated_promoted_and_served_without_restart(
    tmp_path: Path, mlflow_server: str
) -> None:
    (tmp_path / "acme.toml").write_text(SPEC)
    spec = MeterType.load(tmp_path / "acme.toml")
    type_test = testsets.frozen_sets([spec])[f"type:{spec.name}"]
    before = testsets.accuracy(None, type_test)
    assert before < 0.6, f"the shipped reader already reads the new type ({before:.0%}): a poor test"

    root = tmp_path / "service"
    with running_api(embedded_settings(root)) as api:  # a running service: tasks in this process
        first = api.wait(api.submitted(api.photos[0].data, api.numbers[0], api.photos[0].value, key="m1"))
        with api.svc.sessions() as s:
            from serving import tables

            assert s.get(tables.Submission, first["id"]).reading["reader_version"] == "shipped"

        good = _train(tmp_path, "good", 'epochs = 12\nmeter_types = ["acme.toml"]\n')
        assert good["version"] == "1"
        assert good["accuracy"][f"type:{spec.name}"] >= 0.95, good["accuracy"]

        import mlflow

        client = mlflow.MlflowClient()
        version = client.get_model_version("meterverify-reader", "1")
        assert float(version.tags[f"acc.type:{spec.name}"]) >= 0.95
        files = {a.path for a in client.list_artifacts(version.run_id)} | {
            a.path for a in client.list_artifacts(version.run_id, "model")
        }
        assert {
            "confusion.png",
            "errors.png",
            "model/reader.onnx",
            "model/easyocr",
            "model/eval.json",
        } <= files

        # An injected regression: a reader trained from scratch for a moment.
        bad = _train(tmp_path, "bad", "epochs = 1\nper_epoch = 256\n", "--from-scratch")
        env = {k: v for k, v in os.environ.items() if not k.startswith("METERVERIFY_")}
        env |= {"METERVERIFY_VAR_DIR": str(root), "MLFLOW_TRACKING_URI": mlflow_server}
        refused = _cli("models", "promote", bad["version"], env=env)
        assert refused.returncode == 1 and "refused" in refused.stderr and "WORSE" in refused.stdout, (
            refused.stderr
        )
        assert read_served(root / "models") == {}

        promoted = _cli("models", "promote", "1", env=env)
        assert promoted.returncode == 0, promoted.stdout + promoted.stderr
        assert "meter-digits" in promoted.stdout and f"type:{spec.name}" in promoted.stdout
        assert read_served(root / "models")["reader"]["version"] == "1"
        assert client.get_model_version_by_alias("meterverify-reader", "production").version == "1"

        time.sleep(CHECK_S + 0.5)  # the running service looks at served.json every CHECK_S seconds
        second = api.wait(api.submitted(api.photos[1].data, api.numbers[1], api.photos[1].value, key="m2"))
        with api.svc.sessions() as s:
            assert s.get(tables.Submission, second["id"]).reading["reader_version"] == "1"
        assert second["status"] == "accepted"  # and it still reads the old meters
        listed = _cli("models", "list", env=env)
        assert "v1" in listed.stdout and "SERVED" in listed.stdout
