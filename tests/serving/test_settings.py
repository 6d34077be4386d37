"""Settings: embedded defaults, environment variables, one TOML file; typos are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving.config import Settings


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


def test_a_misspelt_environment_variable_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from serving.config import SettingsError

    monkeypatch.setenv("METERVERIFY_BROKR_URL", "amqp://mq//")
    with pytest.raises(SettingsError, match=r"METERVERIFY_BROKR_URL; did you mean METERVERIFY_BROKER_URL\?"):
        Settings()


def test_a_misspelt_config_key_is_one_line_and_the_cli_prints_it(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys

    config = tmp_path / "meterverify.toml"
    config.write_text('databse_url = "postgresql://db/mv"\n')
    exe = Path(sys.executable).parent / "meterverify"
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERVERIFY_")}
    out = subprocess.run([str(exe) if exe.exists() else shutil.which("meterverify"), "keys", "list"],
                         env={**env, "METERVERIFY_CONFIG": str(config)}, capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 2
    assert (
        out.stderr.strip()
        == f"meterverify: {config}: unknown setting databse_url; did you mean database_url?"
    )


@pytest.mark.parametrize(
    "endpoint, host, secure",
    [
        ("127.0.0.1:8333", "127.0.0.1:8333", False),
        ("http://127.0.0.1:8333", "127.0.0.1:8333", False),
        ("https://s3.example.com/", "s3.example.com", True),
    ],
)
def test_the_s3_endpoint_may_be_a_url(endpoint: str, host: str, secure: bool) -> None:
    assert Settings(s3_endpoint=endpoint).s3_host_secure == (host, secure)


def test_an_s3_endpoint_with_a_path_is_a_clear_error() -> None:
    from serving.config import SettingsError

    with pytest.raises(SettingsError, match="host:port"):
        Settings(s3_endpoint="http://s3.example.com/bucket").s3_host_secure  # noqa: B018
