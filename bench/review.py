"""Server-side render time of the review UI with a long queue.

    python -m bench.review [--queued 10000] [--n 200]

Builds an embedded service (SQLite) with ``--queued`` submissions waiting for review (one stored photo
shared by all; each has its own consumer, history and reasons), signs a reviewer in, then opens ``--n``
random item pages and the queue page in-process (FastAPI's test client: no network), and prints p50 / p95 /
max of the whole request, claim and database queries included. Target: item page p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from tqdm import tqdm

from meterdata.synth import render_photo
from meterverify.app import create_app
from review_ui.auth import create_user
from serving import tables
from serving.config import Settings
from serving.database import upgrade
from serving.service import Service
from serving.tasks import make_queue

PASSWORD = "bench password 1"


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--queued", type=int, default=10_000, help="submissions waiting for review")
    p.add_argument("--n", type=int, default=200, help="item pages to open")
    return p


def fill(svc: Service, n: int) -> list[str]:
    data, sample = render_photo(5, 0, size=(1280, 960), split="test")
    digest = svc.store.put(data, "image/jpeg")
    quad = [[float(x), float(y)] for x, y in sample.quad] if sample.quad else None
    now = datetime.now(UTC)
    ids, consumers, readings, submissions = [], [], [], []
    for i in tqdm(range(n), desc="queueing", unit="item"):
        number, sid = f"Q{i:06d}", str(uuid.uuid4())
        ids.append(sid)
        consumers.append(
            {
                "number": number,
                "meter_digits": 6,
                "meter_decimals": 1,
                "sanctioned_load_kw": 5,
                "utility": "default",
                "area": f"Section {i % 12}",
                "created_at": now,
            }
        )
        readings += [
            {
                "consumer_number": number,
                "on": date(2026, m, 2),
                "reading": str(1000 + 240 * m),
                "meter_replaced": False,
            }
            for m in range(1, 11)
        ]
        decision = {
            "status": "needs_review",
            "verified_reading": None,
            "proposed_reading": "3456.7",
            "reasons": [
                {
                    "code": "typed_differs",
                    "outcome": "review",
                    "message": "typed 3465.7, the photo shows 3456.7",
                    "evidence": {},
                }
            ],
            "lucky_draw_eligible": False,
            "lucky_draw_reason": "not accepted",
            "month": "2026-11",
            "in_window": True,
            "decided_by": "automatic",
        }
        submissions.append(
            {
                "id": sid,
                "utility": "default",
                "consumer_number": number,
                "typed_reading": "3465.7",
                "typed_script": "ascii",
                "submitted_at": now - timedelta(minutes=n - i),
                "received_at": now - timedelta(minutes=n - i),
                "channel": "app",
                "api_key_id": "bench",
                "idempotency_key": sid,
                "request_hash": sid,
                "photo_sha256": digest,
                "photo_size": len(data),
                "photo_type": "JPEG",
                "status": "needs_review",
                "attempts": 1,
                "updated_at": now,
                "decided_at": now,
                "queued_at": now,
                "month": "2026-11",
                "revision": 0,
                "reading": {
                    "digits": "034567",
                    "decimals": 1,
                    "value": "3456.7",
                    "confidence": 0.7,
                    "digit_confidences": [0.99, 0.98, 0.97, 0.6, 0.95, 0.99],
                    "display": {"quad": quad},
                    "readable": True,
                    "typed_verdict": "differs",
                    "typed_probability": 0.01,
                },
                "decision": decision,
                "review_reasons": " typed_differs ",
                "lucky_draw_eligible": False,
            }
        )
    with svc.sessions.begin() as s:
        s.execute(tables.Consumer.__table__.insert(), consumers)
        s.execute(tables.PastReading.__table__.insert(), readings)
        s.execute(tables.Submission.__table__.insert(), submissions)
        create_user(s, "bench", PASSWORD, "reviewer", "default")
    return ids


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def main(args: argparse.Namespace) -> None:
    settings = Settings(var_dir=Path(tempfile.mkdtemp(prefix="meterverify-review-bench-")))
    svc = Service.from_settings(settings, make_queue)
    upgrade(svc.engine)
    ids = fill(svc, args.queued)
    with TestClient(create_app(settings, service=svc)) as client:
        form = client.get("/review/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        signed = client.post(
            "/review/login",
            data={"username": "bench", "password": PASSWORD, "csrf": token},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        client.get(f"/review/items/{ids[0]}")  # warm up templates and caches
        item_ms, queue_ms = [], []
        for sid in tqdm(random.Random(1).sample(ids, min(args.n, len(ids))), desc="item pages", unit="page"):
            t0 = time.perf_counter()
            r = client.get(f"/review/items/{sid}")
            item_ms.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.status_code
        for _ in range(20):
            t0 = time.perf_counter()
            assert client.get("/review/").status_code == 200
            queue_ms.append((time.perf_counter() - t0) * 1000)
    print(f"\n{args.queued} items waiting; SQLite; one thread")
    print(
        f"item page:  p50 {statistics.median(item_ms):.1f} ms, p95 {percentile(item_ms, 0.95):.1f} ms, "
        f"max {max(item_ms):.1f} ms ({len(item_ms)} pages)"
    )
    print(
        f"queue page: p50 {statistics.median(queue_ms):.1f} ms, p95 {percentile(queue_ms, 0.95):.1f} ms "
        f"({len(queue_ms)} pages; counts over the whole queue)"
    )


if __name__ == "__main__":
    main(get_args_parser().parse_args())
