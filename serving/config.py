"""Service settings: embedded defaults, overridden by ``METERVERIFY_*`` environment variables or one TOML file.

With nothing set, the service is *embedded*: SQLite and a photo folder under ``var/``, tasks run in-process.
Give it a database URL, a broker URL and S3 settings and it is *distributed* (``meterverify serve`` for the
API, ``meterverify worker`` for as many workers as needed).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

CONFIG_FILE_ENV = "METERVERIFY_CONFIG"
ENV_PREFIX = "METERVERIFY_"
# Variables with our prefix that are not settings: read elsewhere on purpose.
_OTHER_ENV = {CONFIG_FILE_ENV, "METERVERIFY_THREADS", "METERVERIFY_NEW_PASSWORD"}


class SettingsError(ValueError):
    """A setting that cannot be right: one line naming it (the CLI prints it and exits 2)."""


def _unknown(name: str, known: list[str], where: str) -> SettingsError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return SettingsError(f"{where}: unknown setting {name}{hint}")


class _TomlFile(PydanticBaseSettingsSource):
    """Settings from the TOML file named by ``METERVERIFY_CONFIG`` (flat keys, as the fields below)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(CONFIG_FILE_ENV)
        if not path:
            return {}
        try:
            values = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise SettingsError(f"{path}: {e}") from None
        for name in values:
            if name not in self.settings_cls.model_fields:
                raise _unknown(name, list(self.settings_cls.model_fields), path)
        return values


class _NoStrayEnv(PydanticBaseSettingsSource):
    """A misspelt ``METERVERIFY_*`` variable is an error, not silently ignored."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        known = [ENV_PREFIX + f.upper() for f in self.settings_cls.model_fields]
        for name in os.environ:
            if name.startswith(ENV_PREFIX) and name not in known and name not in _OTHER_ENV:
                raise _unknown(name, known, "environment")
        return {}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    # Where things live.
    var_dir: Path = Path("var")
    database_url: str = Field("", description="SQLAlchemy URL; empty: SQLite in var_dir")
    broker_url: str = Field("", description="Celery broker (amqp://...); empty: tasks run in-process")
    task_queue: str = "meterverify"
    s3_endpoint: str = Field(
        "", description="host:port or http(s)://host:port of an S3 server; empty: photos in var_dir/photos"
    )
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    s3_bucket: str = "meterverify-photos"
    s3_secure: bool = False
    s3_timeout_s: float = 10.0

    # The API.
    public_url: str = "http://127.0.0.1:8000"
    session_secret: SecretStr = Field(
        SecretStr(""), description="Signs review UI sessions; empty: one kept in var_dir (embedded only)"
    )
    max_photo_mb: float = 20.0
    max_import_mb: float = 200.0  # a consumers/readings CSV upload
    submitted_at_max_age_h: float = 72.0  # submitted_at may be this much before the service received it
    # The lucky draw: entries close between the window's end plus the submitted_at allowance and this much
    # later; the drand round is the first after that. ``draw_allow_pending`` (tests only) closes while
    # submissions of the month still await a decision.
    draw_close_within_h: float = 48.0
    draw_allow_pending: bool = False
    # Guessing: wrong API keys per client address, wrong review sign-ins per account and per address.
    api_key_failures_per_minute: int = 30
    sign_in_failures_per_account: int = 5
    sign_in_failures_per_address: int = 20
    sign_in_lockout_min: float = 15.0  # failures are counted over this long; past the limit, wait this long

    # Work and delivery.
    inprocess_workers: int = 2  # threads running tasks in embedded mode
    stale_after_s: float = 120.0  # a job queued this long ago and never started is queued again
    processing_lease_s: float = 60.0  # a worker holds a job this long; then it is presumed dead
    retry_max_s: float = 15.0  # longest wait between retries of a job that met a store or database outage
    sweep_every_s: float = 5.0
    webhook_timeout_s: float = 10.0
    webhook_backoff_s: float = 2.0  # first retry after this, doubling
    webhook_backoff_max_s: float = 3600.0
    webhook_lease_s: float = 60.0  # a delivery being sent is not picked up by another sender for this long
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Hosts allowed although internal (comma-separated in the env)"
    )
    models_path: Path | None = Field(
        None,
        description="Where promoted models live (a shared folder in distributed mode); default var_dir/models",
    )
    utilities_dir: Path | None = Field(
        None, description="<utility>.toml verification thresholds; default built in"
    )

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return [h.strip() for h in value.split(",") if h.strip()] if isinstance(value, str) else value

    @property
    def s3_host_secure(self) -> tuple[str, bool]:
        """(host:port, TLS) from ``s3_endpoint``, which may be a URL; ``SettingsError`` for a path in it."""
        endpoint, secure = self.s3_endpoint.rstrip("/"), self.s3_secure  # the client wants host:port
        for scheme, tls in (("https://", True), ("http://", False)):
            if endpoint.startswith(scheme):
                endpoint, secure = endpoint.removeprefix(scheme), tls
        if "/" in endpoint or not endpoint:
            raise SettingsError(f"s3_endpoint {self.s3_endpoint!r}: give host:port or http(s)://host:port")
        return endpoint, secure

    @property
    def embedded_broker(self) -> bool:
        return not self.broker_url

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'meterverify.db').resolve()}"

    @property
    def models_dir(self) -> Path:
        """Promoted models and ``served.json``: shared by every serve and worker process."""
        return self.models_path or self.var_dir / "models"

    @property
    def photo_dir(self) -> Path:
        return self.var_dir / "photos"

    @property
    def max_import_bytes(self) -> int:
        return int(self.max_import_mb * 1024 * 1024)

    @property
    def max_photo_bytes(self) -> int:
        return int(self.max_photo_mb * 1024 * 1024)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):  # type: ignore[override]
        # Precedence: explicit arguments, then environment, then the config file.
        return init_settings, _NoStrayEnv(settings_cls), env_settings, _TomlFile(settings_cls)


@cache
def get_settings() -> Settings:
    """The settings; ``SettingsError`` (one line, naming the setting) for any that cannot be right."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise SettingsError(f"setting {where}: {first['msg']}") from None
