"""What the API, the workers and the sweeper share: settings, database, photo store, task queue, reader.

Built once per process from the settings (``Service.from_settings``); nothing here runs at import time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from verification import UtilityConfig, default_config

from .config import Settings
from .database import make_engine, make_sessionmaker
from .store import PhotoStore, make_store

log = logging.getLogger("meterverify")


@dataclass
class Service:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: PhotoStore
    # Given from outside (``tasks.make_queue``: in-process or Celery); none for a process that queues nothing.
    make_queue: Callable[[Service], TaskQueue] | None = field(default=None, repr=False)
    queue: TaskQueue = field(init=False)
    courier: Any = None  # delivery.Courier, in a process that runs one (the API's)
    _configs: dict[str, UtilityConfig] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.queue = self.make_queue(self) if self.make_queue else NoQueue()
        # SQLite has one writer: decisions in this process take turns instead of failing with "locked".
        self._decision_lock = threading.Lock() if self.engine.dialect.name == "sqlite" else None

    @classmethod
    def from_settings(
        cls, settings: Settings, make_queue: Callable[[Service], TaskQueue] | None = None
    ) -> Service:
        engine = make_engine(settings.sqlalchemy_url)
        return cls(settings, engine, make_sessionmaker(engine), make_store(settings), make_queue)

    @cached_property
    def models(self):
        from .served_models import ServedModels

        return ServedModels(self.settings.models_dir)

    @property
    def reader(self):
        """The reader being served now (a promotion is picked up within seconds, without a restart)."""
        return self.models.reader

    def decision_lock(self) -> AbstractContextManager:
        return self._decision_lock or nullcontext()

    def utility_config(self, utility: str) -> UtilityConfig:
        if utility not in self._configs:
            folder = self.settings.utilities_dir
            path = folder / f"{utility}.toml" if folder else None
            if path is not None and path.is_file():
                self._configs[utility] = UtilityConfig.from_toml(path.read_text(), name=utility)
            else:
                self._configs[utility] = default_config()
        return self._configs[utility]

    def close(self) -> None:
        self.queue.close()
        self.engine.dispose()


class TaskQueue(Protocol):
    """Runs ``process_submission(id)`` somewhere: in this process (embedded) or on Celery workers."""

    def enqueue(self, submission_id: str) -> None: ...

    def ping(self) -> None:
        """Raise unless tasks can be queued."""

    def waiting(self) -> int:
        """Jobs waiting in the queue, not yet taken (the in-process pool counts its running ones too); raise
        when that cannot be known now."""

    def wake_courier(self) -> None:
        """Ask a webhook sender to look at the outbox now."""

    def close(self) -> None: ...


class NoQueue:
    """The queue of a process that runs no jobs (a CLI command): asking it to queue one is a bug."""

    def enqueue(self, submission_id: str) -> None:
        raise RuntimeError("this process was built without a task queue")

    def ping(self) -> None:
        raise RuntimeError("this process was built without a task queue")

    def waiting(self) -> int:
        return 0

    def wake_courier(self) -> None:
        pass

    def close(self) -> None:
        pass
