"""Settings: embedded defaults, environment variables, one TOML file; typos are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterverify.settings import Settings


def test_embedded_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "METERVERIFY_CONFIG",
        "METERVERIFY_DATABASE_URL",
        "METERVERIFY_BROKER_URL",
        "METERVERIFY_S3_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert s.embedded_broker and not s.s3_endpoint
    assert s.sqlalchemy_url.startswith("sqlite:///") and s.sqlalchemy_url.endswith("var/meterverify.db")


def test_config_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "meterverify.toml"
    config.write_text(
        'database_url = "postgresql+psycopg://db/mv"\nbroker_url = "amqp://mq//"\nmax_photo_mb = 8\n'
    )
    monkeypatch.setenv("METERVERIFY_CONFIG", str(config))
    monkeypatch.setenv("METERVERIFY_BROKER_URL", "amqp://other//")  # the environment wins over the file
    s = Settings()
    assert s.sqlalchemy_url == "postgresql+psycopg://db/mv"
    assert s.broker_url == "amqp://other//"
    assert s.max_photo_bytes == 8 * 1024 * 1024


def test_a_typo_in_the_config_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "meterverify.toml"
    config.write_text('databse_url = "postgresql://db/mv"\n')
    monkeypatch.setenv("METERVERIFY_CONFIG", str(config))
    with pytest.raises(ValueError, match="databse_url"):
        Settings()
