"""A RabbitMQ node of a test's own, on free ports with its own data folder, that the test may kill with
SIGKILL and start again on the same data (the machine's node is left alone)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # Debian's; /usr/sbin/rabbitmq-server switches user


def server_binary() -> str | None:
    return SERVER if os.access(SERVER, os.X_OK) else shutil.which("rabbitmq-server")


def _free_port(below: int = 40000) -> int:
    while True:  # the distribution port is the AMQP port + 20000: keep both in range
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < below:
            return port
        time.sleep(0.01)


@dataclass
class RabbitNode:
    root: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self, timeout: float = 90) -> None:
        (self.root / "enabled_plugins").write_text("[].\n")  # no management plugin: no fixed ports
        env = {
            **os.environ,
            "HOME": str(self.root),  # its own Erlang cookie
            "RABBITMQ_NODENAME": f"mvtest{self.port}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.port + 20000),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.root / "none"),  # not the machine's rabbitmq.conf
            "RABBITMQ_PID_FILE": str(self.root / "pid"),
        }
        path = self.root / "server.log"
        seen = path.stat().st_size if path.exists() else 0  # a restart appends: look at what comes after
        log = path.open("ab")
        self.process = subprocess.Popen([server_binary()], cwd=self.root, env=env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"RabbitMQ exited: {path.read_text(errors='replace')[-2000:]}")
            if b"Starting broker... completed" in path.read_bytes()[seen:]:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", self.port)) == 0:
                        return
            time.sleep(0.2)
        raise RuntimeError(f"RabbitMQ did not start in {timeout} s")

    def kill(self) -> None:
        """SIGKILL, the whole node at once: nothing is flushed, nothing is said to clients."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


def start_rabbitmq(root: Path) -> RabbitNode:
    node = RabbitNode(root, _free_port())
    node.start()
    return node
