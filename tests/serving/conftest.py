"""The embedded service (SQLite, photo folder, in-process tasks) with a test client and API keys."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from meterverify.app import create_app
from serving import keys
from serving.config import Settings
from serving.database import upgrade
from serving.service import Service
from serving.tasks import make_queue

from .helpers import IN_WINDOW, MeterPhoto, Receiver, clear_photos, consumers_csv


@dataclass
class Api:
    client: TestClient
    svc: Service
    billing: dict
    reviewer: dict
    admin: dict
    analyst: dict
    operator: dict
    numbers: list[str]
    photos: tuple[MeterPhoto, ...]

    def submit(self, photo: bytes, number: str, typed: str, key: str = "k1", **form) -> object:
        return self.client.post(
            "/v1/submissions",
            headers={**self.billing, "Idempotency-Key": key},
            files={"photo": ("meter.jpg", photo, "image/jpeg")},
            data={
                "consumer_number": number,
                "typed_reading": typed,
                "submitted_at": form.pop("submitted_at", IN_WINDOW),
                **form,
            },
        )

    def submitted(self, photo: bytes, number: str, typed: str, key: str = "k1", **form) -> str:
        """Submit, expecting 202: the new submission's id (else the status and body it got)."""
        return _accepted(self.submit(photo, number, typed, key, **form))

    def wait(self, submission, until=("accepted", "needs_review", "rejected"), timeout: float = 30) -> dict:
        """The submission (an id, or the 202 response of its submit) once it reaches a status in ``until``."""
        submission_id = submission if isinstance(submission, str) else _accepted(submission)
        deadline = time.monotonic() + timeout
        while True:
            r = self.client.get(f"/v1/submissions/{submission_id}", headers=self.operator)
            late = time.monotonic() > deadline
            if r.status_code != 200:  # a dependency may be coming back (503): ask again, until the deadline
                assert not late, f"GET {submission_id} answered {r.status_code}: {r.text[:500]}"
            elif r.json()["status"] in until or late:
                return r.json()
            time.sleep(0.05)


def _accepted(response) -> str:
    assert response.status_code == 202, f"submit answered {response.status_code}: {response.text[:500]}"
    return response.json()["id"]


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def embedded_settings(root: Path, **overrides) -> Settings:
    # The test receivers listen on 127.0.0.1: allowed here, as an operator would allow an internal host.
    # Submissions are dated in a fixed reading window (IN_WINDOW), however long ago that is.
    values = {"submitted_at_max_age_h": 10 * 365 * 24, "webhook_allowed_hosts": ["127.0.0.1"], "sweep_every_s": 0.2,
              "webhook_backoff_s": 0.2, "webhook_backoff_max_s": 1.0, **overrides}  # fmt: skip
    return Settings(var_dir=root, **values)


@contextmanager
def running_api(settings: Settings) -> Iterator[Api]:
    """The app with its lifespan running, an API key per scope, and a consumer per clearly read photo."""
    svc = Service.from_settings(settings, make_queue)
    upgrade(svc.engine)
    with TestClient(create_app(settings, service=svc)) as client:
        with svc.sessions.begin() as s:
            made = {
                scope: bearer(
                    keys.create_key(s, f"test {scope}", [scope], None if scope == "operator" else "default")
                )
                for scope in keys.SCOPES
            }
        photos = clear_photos()
        consumers, readings, numbers = consumers_csv(photos)
        r = client.post(
            "/v1/consumers/import",
            headers=made["admin"],
            files={
                "consumers": ("c.csv", consumers, "text/csv"),
                "readings": ("r.csv", readings, "text/csv"),
            },
        )
        assert r.status_code == 200, r.text
        yield Api(
            client, svc, made["billing"], made["reviewer"], made["admin"], made["analyst"], made["operator"],
            numbers, photos,
        )  # fmt: skip
    svc.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(embedded_settings(tmp_path)) as a:
        yield a


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test."""
    name = f"mv_test_{secrets.token_hex(4)}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = postgres_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    for _ in range(20):  # PostgreSQL may still be restarting after the restart test
        try:
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except psycopg.OperationalError:
            time.sleep(0.5)
