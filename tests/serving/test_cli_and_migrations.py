"""The service's commands (`serve`, `db upgrade`, `keys create`, `consumers import`) and the migrations."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from serving.database import make_engine, pending_migrations, upgrade
from serving.tables import Base

EXE = str(Path(sys.executable).parent / "meterverify")


def run(*args: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, check=check, timeout=120)


def test_migrations_match_the_models_on_postgres(database: str) -> None:
    engine = make_engine(database)
    assert pending_migrations(engine)
    upgrade(engine)
    upgrade(engine)  # again: nothing to do
    assert not pending_migrations(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], "models changed without a migration: alembic revision --autogenerate"
    engine.dispose()


def test_migrations_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert "submissions" in inspect(create_engine(f"sqlite:///{tmp_path / 'x.db'}")).get_table_names()


def test_db_keys_and_consumers_commands(database: str, tmp_path: Path) -> None:
    env = {**os.environ, "METERVERIFY_DATABASE_URL": database, "METERVERIFY_VAR_DIR": str(tmp_path)}
    assert "was empty: created the tables" in run("db", "upgrade", env=env).stdout
    assert "was up to date already" in run("db", "upgrade", env=env).stdout
    key = run(
        "keys", "create", "--scope", "billing", "--scope", "reviewer", "--name", "erp", env=env
    ).stdout.strip()
    assert re.fullmatch(r"mvk_[0-9a-f]{12}_[A-Za-z0-9_-]{32}", key)
    bad = run("keys", "create", "--scope", "root", env=env, check=False)
    assert bad.returncode != 0 and "scopes must be some of" in bad.stderr
    (tmp_path / "c.csv").write_text(
        "consumer_number,meter_digits,meter_decimals,sanctioned_load_kw\nA-1,6,1,3\n"
    )
    (tmp_path / "r.csv").write_text("consumer_number,date,reading\nA-1,2026-10-02,1234.5\nB-9,2026-10-02,1\n")
    failed = run(
        "consumers",
        "import",
        str(tmp_path / "c.csv"),
        "--readings",
        str(tmp_path / "r.csv"),
        env=env,
        check=False,
    )
    assert failed.returncode == 1 and "unknown consumer 'B-9'" in failed.stderr
    (tmp_path / "r.csv").write_text("consumer_number,date,reading\nA-1,2026-10-02,1234.5\n")
    ok = run("consumers", "import", str(tmp_path / "c.csv"), "--readings", str(tmp_path / "r.csv"), env=env)
    assert ok.stdout.strip() == "imported 1 consumers, 1 readings"
    # A consumer twice in one file, and a file that is not UTF-8: one clear line each, exit 1, no traceback.
    header = "consumer_number,meter_digits,meter_decimals,sanctioned_load_kw\n"
    (tmp_path / "dup.csv").write_text(header + "DUP-1,6,1,3\nDUP-1,6,1,4\n")
    dup = run("consumers", "import", str(tmp_path / "dup.csv"), env=env, check=False)
    assert dup.returncode == 1 and "Traceback" not in dup.stderr
    assert "consumers.csv line 3, consumer_number: 'DUP-1' is also on line 2" in dup.stderr
    (tmp_path / "latin1.csv").write_bytes((header + "Z-1,6,1,3\n# Müller\n").encode("latin-1"))
    latin = run("consumers", "import", str(tmp_path / "latin1.csv"), env=env, check=False)
    assert latin.returncode == 1 and "Traceback" not in latin.stderr
    assert "consumers.csv is not UTF-8 text" in latin.stderr
    # Keys: listed without secrets, revoked at once; a misspelt setting is one line naming it.
    listed = run("keys", "list", env=env).stdout
    key_id = key.split("_")[1]
    assert key_id in listed and "billing reviewer" in listed and key.split("_", 2)[2] not in listed
    assert "revoked" in run("keys", "revoke", key_id, env=env).stdout
    assert "revoked 20" in run("keys", "list", env=env).stdout
    typo = run("keys", "list", env={**env, "METERVERIFY_DATABSE_URL": "x"}, check=False)
    assert typo.returncode == 2 and "Traceback" not in typo.stderr
    assert typo.stderr.strip().splitlines() == [
        "meterverify: environment: unknown setting METERVERIFY_DATABSE_URL; did you mean METERVERIFY_DATABASE_URL?"
    ]


def test_distributed_serve_refuses_to_start_without_a_shared_session_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERVERIFY_")}
    env["METERVERIFY_BROKER_URL"] = "amqp://guest:guest@127.0.0.1:1//"  # never reached
    done = subprocess.run([EXE, "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "METERVERIFY_SESSION_SECRET" in done.stderr, done.stderr


def test_serve_with_no_configuration_runs_the_demo(tmp_path: Path) -> None:
    """What `make run` does: SQLite, a photo folder, in-process tasks, demo consumers, photos and keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERVERIFY_")}
    port = 28000 + os.getpid() % 1000
    proc = subprocess.Popen([EXE, "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Uvicorn running" in line or "Application startup complete" in line:
                break
        out = "".join(lines)
        key = re.search(r"demo billing key:\s+(\S+)", out).group(1)
        assert f"http://127.0.0.1:{port}/docs" in out
        assert re.search(r"review UI: .*/review/ .*password \S+", out)
        photo = tmp_path / "var/demo/photos/DEMO-0001.jpg"
        value = re.search(r"typed_reading=(\S+)", out).group(1)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/readyz").status_code == 200
        r = httpx.post(f"{base}/v1/submissions", headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "demo"},
                       files={"photo": ("m.jpg", photo.read_bytes(), "image/jpeg")},
                       data={"consumer_number": "DEMO-0001", "typed_reading": value})  # fmt: skip
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            body = httpx.get(
                f"{base}/v1/submissions/{r.json()['id']}", headers={"Authorization": f"Bearer {key}"}
            ).json()
            if body["decided_at"]:
                break
            time.sleep(0.1)
        assert body["status"] in ("accepted", "needs_review") and body["read"]["value"] == value
        assert (tmp_path / "var/meterverify.db").is_file()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


@pytest.mark.parametrize(
    "args", [["--help"], ["serve", "--help"], ["worker", "--help"], ["keys", "create", "--help"]]
)
def test_help_explains(args: list[str]) -> None:
    out = subprocess.run([EXE, *args], capture_output=True, text=True, check=True).stdout
    assert len(out.splitlines()) > 5


def test_the_tenancy_migration_gives_existing_rows_their_utility(tmp_path: Path) -> None:
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0001")
    with engine.begin() as conn:  # rows as the service wrote them before utilities existed
        conn.execute(text("INSERT INTO consumers VALUES ('A-1', 6, 1, 5, 'msedcl', '2026-11-01 00:00:00')"))
        conn.execute(
            text("INSERT INTO api_keys VALUES ('k1', 'erp', 'x', 'billing', '2026-11-01 00:00:00', NULL)")
        )
        conn.execute(text(
            "INSERT INTO submissions (id, consumer_number, typed_reading, submitted_at, received_at, channel, api_key_id,"
            " idempotency_key, request_hash, photo_sha256, photo_size, photo_type, status, attempts, updated_at,"
            " lucky_draw_eligible) VALUES ('s1', 'A-1', '1', '2026-11-02 00:00:00', '2026-11-02 00:00:00', 'app', 'k1',"
            " 'i', 'h', 'p', 1, 'JPEG', 'accepted', 1, '2026-11-02 00:00:00', 0)"
        ))  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO events (id, type, submission_id, payload, created_at) VALUES ('e1', 't', 's1', '{}', '2026-11-02 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO webhook_endpoints (url, secret, active, created_at) VALUES ('https://x', 's', 1, '2026-11-02 00:00:00')"
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT utility, queued_at IS NOT NULL FROM submissions")).one() == (
            "msedcl",
            1,
        )
        assert conn.execute(text("SELECT utility FROM events")).scalar() == "msedcl"
        assert conn.execute(text("SELECT utility FROM api_keys")).scalar() == "default"
        assert conn.execute(text("SELECT utility FROM webhook_endpoints")).scalar() == "default"
    engine.dispose()
