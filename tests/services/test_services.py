"""The real services the product runs on answer, and a missing one fails CI instead of skipping."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import uuid

import pytest


def test_postgres_answers(postgres_url: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url, connect_timeout=5) as conn:
        assert conn.execute("select 1 + 1").fetchone() == (2,)


def test_rabbitmq_round_trip(amqp_url: str) -> None:
    from kombu import Connection

    queue_name = f"mv-test-{uuid.uuid4().hex[:8]}"
    with Connection(amqp_url, connect_timeout=5) as conn:
        queue = conn.SimpleQueue(queue_name, queue_opts={"auto_delete": True})
        queue.put({"hello": "meter"})
        message = queue.get(timeout=5)
        assert message.payload == {"hello": "meter"}
        message.ack()
        queue.close()


def test_redis_round_trip(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    key = f"mv-test-{uuid.uuid4().hex[:8]}"
    client.set(key, b"13441.6", ex=30)
    assert client.get(key) == b"13441.6"
    client.delete(key)


def test_seaweedfs_s3_stores_and_returns_bytes(s3_server) -> None:
    from minio import Minio

    client = Minio(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=False)
    bucket = f"mv-test-{uuid.uuid4().hex[:8]}"
    client.make_bucket(bucket)
    payload = b"\xff\xd8 not really a jpeg " * 100
    client.put_object(
        bucket, "photos/ab/cd.jpg", io.BytesIO(payload), len(payload), content_type="image/jpeg"
    )
    response = client.get_object(bucket, "photos/ab/cd.jpg")
    try:
        assert response.read() == payload
    finally:
        response.close()
        response.release_conn()
    with pytest.raises(Exception, match="NoSuchKey|does not exist"):
        client.stat_object(bucket, "photos/missing.jpg")


def test_seaweedfs_rejects_wrong_credentials(s3_server) -> None:
    from minio import Minio
    from minio.error import S3Error

    client = Minio(s3_server.endpoint, "nobody", "wrong-secret-key-123", secure=False)
    with pytest.raises(S3Error):
        client.list_buckets()


_PROBE = textwrap.dedent(
    """
    from tests.services.availability import require_service

    def test_needs_a_dead_service():
        require_service("nothing", "127.0.0.1", 9)  # the discard port: nothing listens on it here
    """
)


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 failed"), ("", "1 skipped")])
def test_missing_service_fails_in_ci_and_skips_locally(tmp_path, ci: str, outcome: str) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text(_PROBE)
    env = {
        "CI": ci,
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(__import__("pathlib").Path(__file__).parents[2]),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(probe),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert outcome in result.stdout, result.stdout + result.stderr
