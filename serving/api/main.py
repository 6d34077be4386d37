"""The FastAPI application: routes, error mapping, upload limit, and the service's start and stop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from meterverify.settings import Settings, get_settings

from .. import metrics
from ..database import pending_migrations
from ..service import Service
from ..store import StoreUnavailable
from ..tasks import Sweeper
from .routes import consumers, feed, health, submissions, webhooks

log = logging.getLogger("meterverify.api")

DESCRIPTION = """Verifies the kWh meter photos consumers send with their self-reading.

Send a photo with `POST /v1/submissions`; the decision (accepted, needs_review, rejected, with reasons and the
lucky-draw flag) follows at `GET /v1/submissions/{id}`, in the pull feed `GET /v1/verified` and as a signed
webhook. Every call needs an API key: `Authorization: Bearer mvk_...`, with the scope the route names.
"""


def create_app(settings: Settings | None = None, service: Service | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = service or Service.from_settings(settings)
        if pending_migrations(svc.engine):  # `meterverify serve` upgrades an embedded (SQLite) database
            raise RuntimeError("the database schema is not current: run `meterverify db upgrade`")
        app.state.service = svc
        metrics.watch_database(svc.sessions)
        sweeper = Sweeper(svc)
        sweeper.start()
        try:
            yield
        finally:
            sweeper.stop()
            if service is None:
                svc.close()

    app = FastAPI(
        title="meterverify",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={401: {"description": "No or unknown API key"}, 403: {"description": "Scope missing"}},
    )
    for module in (submissions, consumers, feed, webhooks, health):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_photo_bytes + 1024 * 1024)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(DBAPIError, _database_unavailable)
    return app


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("photo store unavailable: %s", exc)
    return _unavailable("store_unavailable", "the photo store is unavailable; nothing was stored", 30)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc)
    return _unavailable("database_unavailable", "the database is unavailable; nothing was stored", 10)


def _unavailable(code: str, message: str, retry_after: int) -> JSONResponse:
    return JSONResponse(
        {"detail": {"code": code, "message": message}},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


class BodyLimit:
    """Refuse a request body larger than ``max_bytes`` with 413, before it is parsed or spooled to disk."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await _too_large(send, self.max_bytes)
        seen, exceeded, answered = 0, False, False

        async def counted() -> dict:
            nonlocal seen, exceeded
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:  # a chunked body has no Content-Length: it is counted as it comes
                exceeded = True
                raise _TooLarge
            return message

        async def answer(message: dict) -> None:
            # The form parser turns any error while reading into its own 400: answer 413 instead.
            nonlocal answered
            if not exceeded:
                await send(message)
            elif not answered:
                answered = True
                await _too_large(send, self.max_bytes)

        try:
            await self.app(scope, counted, answer)
        except _TooLarge:
            if not answered:
                await _too_large(send, self.max_bytes)


class _TooLarge(Exception):
    pass


async def _too_large(send, limit: int) -> None:
    body = b'{"detail":{"code":"request_too_large","message":"the request is larger than %d MB"}}' % (
        limit // 2**20
    )
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
