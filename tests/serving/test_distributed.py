"""Distributed mode against the real services: PostgreSQL, RabbitMQ, SeaweedFS S3, and Celery workers run as
``meterverify worker`` processes. Faults: a worker SIGKILLed mid-job, the S3 server down, the billing receiver
down, PostgreSQL restarted."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

from serving import tables
from serving.config import Settings
from tests.services.availability import in_ci
from tests.services.rabbitmq import RabbitNode, server_binary, start_rabbitmq

from .conftest import Api, running_api
from .helpers import Receiver, clear_photos, consumers_csv

pytestmark = pytest.mark.slow


@dataclass
class Cluster:
    settings: Settings
    env: dict[str, str]
    workers: list[subprocess.Popen] = field(default_factory=list)

    def start_worker(self, log: Path, *options: str) -> subprocess.Popen:
        exe = Path(sys.executable).parent / "meterverify"
        command = [
            str(exe) if exe.exists() else shutil.which("meterverify"),
            "worker",
            "--loglevel",
            "INFO",
            *(options or ("--pool", "solo")),
        ]
        out = log.open("ab")
        proc = subprocess.Popen(
            command, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.workers.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@contextlib.contextmanager
def _cluster(database: str, broker_url: str, s3_server, tmp_path: Path, **overrides) -> Iterator[Cluster]:
    queue = f"mv-test-{secrets.token_hex(4)}"
    values = {
        "database_url": database,
        "broker_url": broker_url,
        "task_queue": queue,
        "s3_endpoint": s3_server.endpoint,
        "s3_access_key": s3_server.access_key,
        "s3_secret_key": s3_server.secret_key,
        "s3_bucket": f"photos-{secrets.token_hex(4)}",
        "s3_timeout_s": "3",
        "var_dir": str(tmp_path),
        "webhook_allowed_hosts": "127.0.0.1",
        "submitted_at_max_age_h": str(10 * 365 * 24),
    }
    env = {
        **os.environ,
        "METERVERIFY_THREADS": "1",
        **{f"METERVERIFY_{k.upper()}": v for k, v in values.items()},
    }
    settings = Settings(**{"sweep_every_s": 0.2, "webhook_backoff_s": 0.2, "webhook_backoff_max_s": 1.0,
                           "stale_after_s": 60, **values, **overrides})  # fmt: skip
    c = Cluster(settings, env)
    try:
        yield c
    finally:  # a failing test must not leave its workers running
        c.stop()
    from kombu import Connection

    with Connection(broker_url, connect_timeout=3) as conn:  # leave RabbitMQ as we found it
        for name in (queue, f"{queue}-webhooks"):
            with contextlib.suppress(Exception):  # never declared in this test, or the broker is gone
                conn.default_channel.queue_delete(name)


@pytest.fixture
def cluster(database: str, amqp_url: str, s3_server, tmp_path: Path) -> Iterator[Cluster]:
    with _cluster(database, amqp_url, s3_server, tmp_path) as c:
        yield c


@pytest.fixture
def dapi(cluster: Cluster) -> Iterator[Api]:
    with running_api(cluster.settings) as a:
        yield a


def _wait_all(api: Api, ids: list[str], timeout: float = 60) -> list[dict]:
    return [api.wait(i, timeout=timeout) for i in ids]


def _events_per_submission(api: Api) -> dict[str, int]:
    with api.svc.sessions() as s:
        return dict(
            s.execute(
                select(tables.Event.submission_id, func.count()).group_by(tables.Event.submission_id)
            ).all()
        )


def test_end_to_end_with_workers_and_a_receiver_that_was_down(
    dapi: Api, cluster: Cluster, receiver: Receiver, tmp_path: Path
) -> None:
    cluster.start_worker(tmp_path / "worker-1.log")
    cluster.start_worker(tmp_path / "worker-2.log")
    hook = dapi.client.post("/v1/webhooks", json={"url": receiver.url}, headers=dapi.admin).json()
    receiver.secret, receiver.down = hook["secret"], True
    ids = []
    for i, photo in enumerate(dapi.photos):
        r = dapi.submit(photo.data, dapi.numbers[i], photo.value, key=f"e2e-{i}")
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    decided = _wait_all(dapi, ids)
    assert [d["status"] for d in decided] == ["accepted"] * len(ids), [d["reasons"] for d in decided]
    assert dapi.client.get("/readyz").json()["checks"] == {"database": "ok", "broker": "ok", "store": "ok"}
    time.sleep(1.0)
    assert receiver.events == []
    receiver.down = False
    deadline = time.monotonic() + 20
    while len(receiver.events) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(receiver.submission_ids()) == sorted(ids)
    assert receiver.bad_signatures == 0
    feed = dapi.client.get("/v1/verified", headers=dapi.billing).json()
    assert sorted(e["data"]["id"] for e in feed["events"]) == sorted(ids)


def test_worker_killed_mid_job_another_finishes_it_once(
    dapi: Api, cluster: Cluster, receiver: Receiver, tmp_path: Path
) -> None:
    hook = dapi.client.post("/v1/webhooks", json={"url": receiver.url}, headers=dapi.admin).json()
    receiver.secret = hook["secret"]
    big = clear_photos(n=4, size=(4000, 3000))  # 12 MP: each read takes long enough to be caught mid-job
    consumers, readings, numbers = consumers_csv(big, prefix="BIG")
    dapi.client.post("/v1/consumers/import", headers=dapi.admin,
                     files={"consumers": ("c.csv", consumers, "text/csv"), "readings": ("r.csv", readings, "text/csv")})  # fmt: skip
    ids = [dapi.submitted(p.data, numbers[i], p.value, key=f"kill-{i}") for i, p in enumerate(big)]
    doomed = cluster.start_worker(tmp_path / "doomed.log")
    deadline = time.monotonic() + 60
    caught = None
    while caught is None and time.monotonic() < deadline:
        with dapi.svc.sessions() as s:
            caught = s.scalar(select(tables.Submission.id).where(tables.Submission.status == "processing"))
        time.sleep(0.002)
    assert caught, "the worker never started a job"
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait(10)
    cluster.start_worker(tmp_path / "rescuer.log")
    decided = _wait_all(dapi, ids)
    assert all(d["status"] == "accepted" for d in decided), [d["reasons"] for d in decided]
    with dapi.svc.sessions() as s:
        assert s.get(tables.Submission, caught).attempts >= 2  # it was redelivered, not lost
    assert _events_per_submission(dapi) == dict.fromkeys(ids, 1)
    deadline = time.monotonic() + 20
    while len(receiver.events) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    assert sorted(receiver.submission_ids()) == sorted(ids)  # each exactly once


def test_a_pool_process_killed_mid_job_costs_no_crash_one_that_crashes_does(
    dapi: Api, cluster: Cluster, tmp_path: Path
) -> None:
    import psutil

    big = clear_photos(n=2, size=(4000, 3000))  # 12 MP: each read takes long enough to be caught mid-job
    consumers, readings, numbers = consumers_csv(big, prefix="LOST")
    dapi.client.post("/v1/consumers/import", headers=dapi.admin,
                     files={"consumers": ("c.csv", consumers, "text/csv"), "readings": ("r.csv", readings, "text/csv")})  # fmt: skip
    worker = cluster.start_worker(tmp_path / "worker.log", "--pool", "prefork", "--concurrency", "1")
    for i, (photo, sig) in enumerate(zip(big, (signal.SIGKILL, signal.SIGSEGV), strict=True)):
        sid = dapi.submitted(photo.data, numbers[i], photo.value, key=f"lost-{i}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with dapi.svc.sessions() as s:
                if s.get(tables.Submission, sid).status == "processing":
                    break
            time.sleep(0.002)
        (child,) = [c for c in psutil.Process(worker.pid).children() if c.status() != psutil.STATUS_ZOMBIE]
        os.kill(child.pid, sig)
        decided = dapi.wait(sid, timeout=90)
        assert decided["status"] == "accepted", decided
        with dapi.svc.sessions() as s:
            sub = s.get(tables.Submission, sid)
            assert sub.attempts >= 2  # caught mid-job and run again
            assert sub.crashes == (1 if sig == signal.SIGSEGV else 0), (sig, sub.crashes)


def test_s3_down_gives_503_and_stores_nothing_then_recovers(
    dapi: Api, cluster: Cluster, s3_server, tmp_path: Path
) -> None:
    cluster.start_worker(tmp_path / "worker.log")
    photo = dapi.photos[0]
    s3_server.stop()
    try:
        r = dapi.submit(photo.data, dapi.numbers[0], photo.value, key="s3")
        assert r.status_code == 503, r.text
        assert int(r.headers["Retry-After"]) > 0
        assert r.json()["detail"]["code"] == "store_unavailable"
        with dapi.svc.sessions() as s:
            assert s.scalar(select(func.count()).select_from(tables.Submission)) == 0
        assert dapi.client.get("/readyz").status_code == 503
    finally:
        s3_server.start()
    r = dapi.submit(photo.data, dapi.numbers[0], photo.value, key="s3")
    assert r.status_code == 202, r.text
    assert dapi.wait(r)["status"] == "accepted"


def test_postgres_restart_the_service_recovers(dapi: Api, cluster: Cluster, tmp_path: Path) -> None:
    cluster.start_worker(tmp_path / "worker.log")
    photos = dapi.photos
    first = dapi.submit(photos[0].data, dapi.numbers[0], photos[0].value, key="pg-1")
    assert dapi.wait(first)["status"] == "accepted"
    version = next(iter(os.listdir("/etc/postgresql")))
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True, timeout=60
    )
    deadline = time.monotonic() + 30
    while True:  # the first requests may see 503 while PostgreSQL comes back; none may fail otherwise
        r = dapi.submit(photos[1].data, dapi.numbers[1], photos[1].value, key="pg-2")
        if r.status_code == 202 or time.monotonic() > deadline:
            break
        assert r.status_code == 503, r.text
        time.sleep(0.5)
    assert r.status_code == 202, r.text
    assert dapi.wait(r)["status"] == "accepted"  # the worker recovered too


def test_broker_down_at_submit_the_job_is_queued_within_seconds_of_its_return(
    dapi: Api, cluster: Cluster, tmp_path: Path
) -> None:
    cluster.start_worker(tmp_path / "worker.log")
    photo = dapi.photos[2]
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=120)
    try:
        r = dapi.submit(photo.data, dapi.numbers[2], photo.value, key="broker")
        assert r.status_code == 202, r.text  # stored and committed: the job is not lost
        ready = dapi.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["broker"].startswith("down")
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
    back = time.monotonic()
    body = dapi.wait(r, timeout=60)
    assert body["status"] == "accepted", body
    assert time.monotonic() - back < 15, "queued by the sweeper's staleness, not by the broker's return"
    assert _events_per_submission(dapi) == {body["id"]: 1}


def test_a_store_outage_with_jobs_in_flight_decides_them_once_it_is_back(
    dapi: Api, cluster: Cluster, s3_server, tmp_path: Path
) -> None:
    ids = [dapi.submitted(p.data, n, p.value, key=f"in-flight-{i}")
           for i, (p, n) in enumerate(zip(dapi.photos[:3], dapi.numbers[:3], strict=True))]  # fmt: skip
    s3_server.stop()
    try:
        cluster.start_worker(tmp_path / "worker.log")  # it finds the jobs and cannot fetch their photos
        time.sleep(20)
    finally:
        s3_server.start()
    back = time.monotonic()
    decided = _wait_all(dapi, ids, timeout=60)
    assert [d["status"] for d in decided] == ["accepted"] * 3, [d["reasons"] for d in decided]
    assert time.monotonic() - back < 20
    with dapi.svc.sessions() as s:
        assert [s.get(tables.Submission, i).attempts for i in ids] == [1, 1, 1]  # the outage used none up


def test_readyz_turns_503_within_5_s_of_the_store_going_down(dapi: Api, s3_server) -> None:
    assert dapi.client.get("/readyz").status_code == 200
    s3_server.stop()
    try:
        start = time.monotonic()
        r = dapi.client.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["store"].startswith("down")
        assert time.monotonic() - start < 5
    finally:
        s3_server.start()
    assert dapi.client.get("/readyz").status_code == 200


def test_worker_metrics_with_the_prefork_pool(dapi: Api, cluster: Cluster, tmp_path: Path) -> None:
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    worker = cluster.start_worker(
        tmp_path / "worker.log", "--pool", "prefork", "--concurrency", "2", "--metrics-port", str(port)
    )
    ids = [dapi.submitted(p.data, n, p.value, key=f"metrics-{i}")
           for i, (p, n) in enumerate(zip(dapi.photos[:2], dapi.numbers[:2], strict=True))]  # fmt: skip
    assert [d["status"] for d in _wait_all(dapi, ids)] == ["accepted", "accepted"]
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert values.get("meterverify_read_seconds_count") == 2, text[:2000]
    assert values.get('meterverify_decisions_total{by="automatic",status="accepted"}') == 2
    assert values.get("meterverify_worker_processes") == 2
    assert "meterverify_worker_processes" not in dapi.client.get("/metrics").text  # the API runs no worker
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {"processes": 2, "broker": "ok"}

    # A pool process killed with SIGKILL says nothing; the pool starts another; the count stays true.
    import psutil

    children = psutil.Process(worker.pid).children()
    assert len(children) == 2, children
    children[0].kill()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        alive = [c for c in psutil.Process(worker.pid).children() if c.status() != psutil.STATUS_ZOMBIE]
        if len(alive) == 2 and children[0].pid not in [c.pid for c in alive]:
            break
        time.sleep(0.2)
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert "meterverify_worker_processes 2.0" in text, [
        line for line in text.splitlines() if "processes" in line
    ]


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[RabbitNode]:
    if server_binary() is None:
        if in_ci():
            pytest.fail("rabbitmq-server is not installed", pytrace=False)
        pytest.skip("rabbitmq-server is not installed")
    (tmp_path / "rabbit").mkdir()
    node = start_rabbitmq(tmp_path / "rabbit")
    yield node
    node.stop()


def test_a_broker_killed_with_jobs_queued_delivers_them_when_it_is_back(
    database: str, own_broker: RabbitNode, s3_server, tmp_path: Path
) -> None:
    # The sweeper would queue the jobs again only after stale_after_s: whatever is decided within 30 s of
    # the broker's return came from the broker's own disk (issue 22, finding 7).
    with (
        _cluster(database, own_broker.url, s3_server, tmp_path, stale_after_s=600) as cluster,
        running_api(cluster.settings) as dapi,
    ):
        ids = [dapi.submitted(p.data, n, p.value, key=f"crash-{i}")
               for i, (p, n) in enumerate(zip(dapi.photos, dapi.numbers, strict=True))]  # fmt: skip
        with dapi.svc.sessions() as s:
            queued = s.scalar(select(func.count()).where(tables.Submission.queued_at.is_not(None)))
        assert queued == len(ids)  # the broker took every job (confirmed) before the answer
        own_broker.kill()
        own_broker.start()
        back = time.monotonic()
        cluster.start_worker(tmp_path / "worker.log")
        decided = [dapi.wait(i, timeout=max(0.1, back + 30 - time.monotonic())) for i in ids]
        assert [d["status"] for d in decided] == ["accepted"] * len(ids), [
            (d["status"], d["reasons"]) for d in decided
        ]
        assert time.monotonic() - back < 30
        assert _events_per_submission(dapi) == dict.fromkeys(ids, 1)
        with dapi.svc.sessions() as s:
            assert [s.get(tables.Submission, i).attempts for i in ids] == [1] * len(ids)
