"""Property-based requests from the OpenAPI spec (schemathesis): whatever arrives, never a 5xx."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from meterverify.app import create_app
from serving import keys
from serving.database import upgrade
from serving.service import Service
from serving.tasks import make_queue

from .conftest import bearer, embedded_settings
from .helpers import clear_photos, consumers_csv

# The schema is read at collection time; keys and consumers are made in the fixture below.
_SVC = Service.from_settings(
    embedded_settings(Path(tempfile.mkdtemp(prefix="meterverify-schemathesis-"))), make_queue
)
upgrade(_SVC.engine)  # loading the schema already runs the app's lifespan, which wants a current database
APP = create_app(_SVC.settings, service=_SVC)
ADMIN: dict[str, str] = {}
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def running_app() -> Iterator[None]:
    with TestClient(APP) as client:
        with _SVC.sessions.begin() as s:
            ADMIN.update(bearer(keys.create_key(s, "schemathesis", ["admin"])))
        consumers, readings, _ = consumers_csv(clear_photos())
        client.post("/v1/consumers/import", headers=ADMIN,
                    files={"consumers": ("c.csv", consumers), "readings": ("r.csv", readings)})  # fmt: skip
        yield
    _SVC.close()
    shutil.rmtree(_SVC.settings.var_dir, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case) -> None:
    response = case.call(headers=ADMIN)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
