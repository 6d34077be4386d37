"""`meterverify serve` (embedded: tasks in-process) killed with SIGKILL while photos are in flight: at the next
start the submissions it held are queued again at once, not after the sweeper's staleness."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .helpers import IN_WINDOW, clear_photos, consumers_csv

EXE = (
    str(Path(sys.executable).parent / "meterverify")
    if (Path(sys.executable).parent / "meterverify").exists()
    else shutil.which("meterverify")
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(env: dict, port: int, log: Path) -> tuple[subprocess.Popen, float]:
    proc = subprocess.Popen([EXE, "serve", "--no-demo", "--port", str(port)], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, time.monotonic()
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"serve did not start: {log.read_text()[-2000:]}")


def _undecided(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT count(*) FROM submissions WHERE decided_at IS NULL").fetchone()[0]


def test_a_killed_service_decides_what_it_held_within_seconds_of_starting_again(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERVERIFY_")}
    env |= {"METERVERIFY_VAR_DIR": str(tmp_path / "var"), "METERVERIFY_INPROCESS_WORKERS": "1",
            "METERVERIFY_SUBMITTED_AT_MAX_AGE_H": str(10 * 365 * 24)}  # fmt: skip

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, check=True, timeout=120)

    run("db", "upgrade")
    key = run("keys", "create", "--scope", "billing").stdout.strip()
    photos = clear_photos()
    consumers, readings, numbers = consumers_csv(photos)
    (tmp_path / "c.csv").write_text(consumers)
    (tmp_path / "r.csv").write_text(readings)
    run("consumers", "import", str(tmp_path / "c.csv"), "--readings", str(tmp_path / "r.csv"))

    port, log = _free_port(), tmp_path / "serve.log"
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
    proc, _ = _serve(env, port, log)
    ids = []
    try:
        for i, (photo, number) in enumerate(zip(photos, numbers, strict=True)):
            r = httpx.post(f"{base}/v1/submissions", headers={**auth, "Idempotency-Key": f"crash-{i}"},
                           files={"photo": ("m.jpg", photo.data, "image/jpeg")},
                           data={"consumer_number": number, "typed_reading": photo.value, "submitted_at": IN_WINDOW},
                           timeout=30)  # fmt: skip
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    held = _undecided(tmp_path / "var" / "meterverify.db")
    assert held >= 1, "everything was decided before the kill: nothing to recover"

    proc, started = _serve(env, port, log)
    try:
        pending = set(ids)
        while pending and time.monotonic() - started < 30:
            for sid in list(pending):
                body = httpx.get(f"{base}/v1/submissions/{sid}", headers=auth, timeout=10).json()
                if body["decided_at"]:
                    assert body["status"] == "accepted", body["reasons"]
                    pending.discard(sid)
            time.sleep(0.2)
        took = time.monotonic() - started
        assert not pending, f"{len(pending)} of {held} held submissions still undecided after {took:.0f} s"
        assert took < 15, f"recovery took {took:.1f} s"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
