"""Service settings: embedded defaults, overridden by ``METERVERIFY_*`` environment variables or one TOML file.

With nothing set, the service is *embedded*: SQLite and a photo folder under ``var/``, tasks run in-process.
Give it a database URL, a broker URL and S3 settings and it is *distributed* (``meterverify serve`` for the
API, ``meterverify worker`` for as many workers as needed).
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

CONFIG_FILE_ENV = "METERVERIFY_CONFIG"


class _TomlFile(PydanticBaseSettingsSource):
    """Settings from the TOML file named by ``METERVERIFY_CONFIG`` (flat keys, as the fields below)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(CONFIG_FILE_ENV)
        if not path:
            return {}
        values = tomllib.loads(Path(path).read_text())
        unknown = set(values) - set(self.settings_cls.model_fields)
        if unknown:
            raise ValueError(f"{path}: unknown settings {sorted(unknown)}")
        return values


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="METERVERIFY_", extra="forbid")

    # Where things live.
    var_dir: Path = Path("var")
    database_url: str = Field("", description="SQLAlchemy URL; empty: SQLite in var_dir")
    broker_url: str = Field("", description="Celery broker (amqp://...); empty: tasks run in-process")
    task_queue: str = "meterverify"
    s3_endpoint: str = Field("", description="host:port of an S3 server; empty: photos in var_dir/photos")
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    s3_bucket: str = "meterverify-photos"
    s3_secure: bool = False
    s3_timeout_s: float = 10.0

    # The API.
    public_url: str = "http://127.0.0.1:8000"
    max_photo_mb: float = 20.0

    # Work and delivery.
    inprocess_workers: int = 2  # threads running tasks in embedded mode
    stale_after_s: float = 120.0  # a submission not decided by then is queued again
    sweep_every_s: float = 5.0
    webhook_timeout_s: float = 10.0
    webhook_backoff_s: float = 2.0  # first retry after this, doubling
    webhook_backoff_max_s: float = 3600.0
    webhook_lease_s: float = 60.0  # a delivery being sent is not picked up by another sender for this long
    utilities_dir: Path | None = Field(
        None, description="<utility>.toml verification thresholds; default built in"
    )

    @property
    def embedded_broker(self) -> bool:
        return not self.broker_url

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'meterverify.db').resolve()}"

    @property
    def photo_dir(self) -> Path:
        return self.var_dir / "photos"

    @property
    def max_photo_bytes(self) -> int:
        return int(self.max_photo_mb * 1024 * 1024)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):  # type: ignore[override]  # fmt: skip
        # Precedence: explicit arguments, then environment, then the config file.
        return init_settings, env_settings, _TomlFile(settings_cls)


@cache
def get_settings() -> Settings:
    return Settings()
