"""The door of a real `meterverify serve`: image bombs (issue 22, finding 1), a small PNG that decodes into
gigabytes, refused from its header while the server's memory does not move; the server's own refusals in the
API's error shape."""

from __future__ import annotations

import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

from tests.vision import photos

from .test_crash_recovery import EXE, _free_port, _serve


def test_four_png_bombs_at_once_leave_the_servers_memory_where_it_was(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERVERIFY_")}
    env |= {"METERVERIFY_VAR_DIR": str(tmp_path / "var")}

    def run(*args: str) -> str:
        return subprocess.run(
            [EXE, *args], env=env, capture_output=True, text=True, check=True, timeout=120
        ).stdout

    run("db", "upgrade")
    key = run("keys", "create", "--scope", "billing").strip()
    (tmp_path / "c.csv").write_text(
        "consumer_number,meter_digits,meter_decimals,sanctioned_load_kw\nB-1,6,1,5\n"
    )
    run("consumers", "import", str(tmp_path / "c.csv"))
    bomb = photos.png_bomb()  # 13000 x 13000 RGBA: 0.7 MB sent, 676 MB decoded
    port = _free_port()
    proc, _ = _serve(env, port, tmp_path / "serve.log")
    try:
        server = psutil.Process(proc.pid)
        idle = server.memory_info().rss
        peak, done = idle, threading.Event()

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, server.memory_info().rss)
                done.wait(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()

        def post(i: int) -> httpx.Response:
            return httpx.post(f"http://127.0.0.1:{port}/v1/submissions", timeout=60,
                              headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"bomb-{i}"},
                              files={"photo": ("m.png", bomb, "image/png")},
                              data={"consumer_number": "B-1", "typed_reading": "1"})  # fmt: skip

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(post, range(4)))
        done.set()
        watcher.join()
        assert [r.status_code for r in answers] == [413] * 4, [r.text[:200] for r in answers]
        assert {r.json()["detail"]["code"] for r in answers} == {"too_many_pixels"}
        grew = (peak - idle) / 2**20
        assert grew < 300, f"the server grew by {grew:.0f} MB"
    finally:
        proc.kill()
        proc.wait(10)


def test_a_header_too_large_is_refused_in_the_apis_error_shape(tmp_path: Path) -> None:
    import json
    import socket

    env = {k: v for k, v in os.environ.items() if not k.startswith("METERVERIFY_")}
    env |= {"METERVERIFY_VAR_DIR": str(tmp_path / "var")}
    subprocess.run([EXE, "db", "upgrade"], env=env, capture_output=True, check=True, timeout=120)
    port = _free_port()
    proc, _ = _serve(env, port, tmp_path / "serve.log")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            # A header still growing past h11's 16 KB limit; small enough that the server has read all of it
            # when it answers (so its close carries no reset that could discard the answer).
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400"), head
        assert b"content-type: application/json" in head.lower(), head
        assert json.loads(body)["detail"]["code"] == "bad_request" and len(body) < 200
    finally:
        proc.kill()
        proc.wait(10)
