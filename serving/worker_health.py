"""A worker's own HTTP endpoint (``meterverify worker --metrics-port``): ``/metrics``, summed over the worker's
processes (Prometheus multiprocess mode), and ``/healthz``, whether it can take jobs now.

A pool process killed with SIGKILL never says goodbye: before each answer the files of processes that are gone
are dropped, so ``meterverify_worker_processes`` counts the living."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

_LIVE_FILE = re.compile(r"^gauge_live\w*_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child its parent has not reaped yet is a zombie: gone all the same
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def reap_dead(folder: str) -> list[int]:
    """Drop the live gauges of processes that are gone; the pids dropped."""
    dead = []
    for name in os.listdir(folder):
        m = _LIVE_FILE.match(name)
        if m and not _alive(pid := int(m[1])):
            multiprocess.mark_process_dead(pid, folder)
            dead.append(pid)
    return dead


def live_processes(registry: CollectorRegistry) -> float:
    for family in registry.collect():
        if family.name == "meterverify_worker_processes":
            return sum(sample.value for sample in family.samples)
    return 0.0


class WorkerEndpoint:
    """Serves ``/metrics`` and ``/healthz`` on ``port`` from a thread of the worker's main process.
    ``broker_ok`` says whether the broker answers (checked at most every few seconds)."""

    def __init__(self, folder: str, broker_ok: Callable[[], bool], check_every_s: float = 5.0) -> None:
        self.folder, self.broker_ok, self.check_every_s = folder, broker_ok, check_every_s
        self.registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(self.registry, folder)
        self._broker = (0.0, False)
        self._lock = threading.Lock()

    def _broker_up(self) -> bool:
        with self._lock:
            at, ok = self._broker
            if time.monotonic() - at > self.check_every_s:
                try:
                    ok = bool(self.broker_ok())
                except Exception:
                    ok = False
                self._broker = (time.monotonic(), ok)
            return ok

    def health(self) -> tuple[int, dict]:
        reap_dead(self.folder)
        processes = live_processes(self.registry)
        broker = self._broker_up()
        ok = processes >= 1 and broker
        return (200 if ok else 503), {"processes": processes, "broker": "ok" if broker else "down"}

    def serve(self, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    status, body = endpoint.health()
                    data, kind = json.dumps(body).encode(), "application/json"
                elif self.path in ("/metrics", "/"):
                    reap_dead(endpoint.folder)
                    status, data, kind = 200, generate_latest(endpoint.registry), CONTENT_TYPE_LATEST
                else:
                    status, data, kind = 404, b"not found\n", "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=server.serve_forever, name="meterverify-worker-http", daemon=True).start()
        return server
