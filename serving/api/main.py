"""The FastAPI application: routes, error mapping, upload limit, and the service's start and stop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException

from .. import metrics
from ..config import Settings, get_settings
from ..database import pending_migrations
from ..delivery import Courier
from ..service import Service
from ..store import StoreUnavailable
from ..tasks import Sweeper, make_queue, requeue_stale
from ..throttle import FailureWindow
from .routes import consumers, draws, feed, health, keys, submissions, webhooks

log = logging.getLogger("meterverify.api")

DESCRIPTION = """Verifies the kWh meter photos consumers send with their self-reading.

Send a photo with `POST /v1/submissions`; the decision (accepted, needs_review, rejected, with reasons and the
lucky-draw flag) follows at `GET /v1/submissions/{id}`, in the pull feed `GET /v1/verified` and as a signed
webhook. Every call needs an API key: `Authorization: Bearer mvk_...`, with the scope the route names.
"""


def create_app(
    settings: Settings | None = None,
    service: Service | None = None,
    extensions: Sequence[Callable[[FastAPI], None]] = (),
) -> FastAPI:
    """The API; ``extensions`` add to it (the review UI is mounted where the whole app is assembled,
    ``meterverify.app``)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = service or Service.from_settings(settings, make_queue)
        if pending_migrations(svc.engine):  # `meterverify serve` upgrades an embedded (SQLite) database
            raise RuntimeError("the database schema is not current: run `meterverify db upgrade`")
        app.state.service = svc
        metrics.watch_database(svc.sessions)
        if settings.embedded_broker:  # this process was the only worker: what it held when it died is lost
            requeue_stale(svc, everything=True)
        courier = svc.courier = Courier(svc)
        courier.start()
        sweeper = Sweeper(svc)
        sweeper.start()
        try:
            yield
        finally:
            sweeper.stop()
            courier.stop()
            if svc.courier is courier:
                svc.courier = None
            if service is None:
                svc.close()

    app = FastAPIOffline(  # /docs and /redoc with their assets served here: sites have no CDN access
        title="meterverify",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={401: {"description": "No or unknown API key"}, 403: {"description": "Scope missing"}},
    )
    app.state.key_guesses = FailureWindow(settings.api_key_failures_per_minute, 60.0)
    for module in (submissions, consumers, feed, webhooks, keys, draws, health):
        app.include_router(module.router)
    for extend in extensions:
        extend(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_photo_bytes + 1024 * 1024,  # a photo and its form fields
        per_path={"/v1/consumers/import": settings.max_import_bytes},
    )
    app.add_middleware(NoSniff)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(DBAPIError, _database_unavailable)
    return app


# Every error answers {"detail": {"code", "message"}}; bad input is never echoed back beyond this many characters.
ECHO_LIMIT = 40


def _field(loc: tuple) -> str:
    where = [str(part) for part in loc if part not in ("body", "query", "path", "header", "cookie")]
    return ".".join(where)[:ECHO_LIMIT] or "request"


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own validation errors, in our shape: which fields, what is wrong, never the input itself."""
    problems = [
        {"field": _field(tuple(e.get("loc", ()))), "problem": str(e.get("msg", "invalid"))[:120]}
        for e in exc.errors()[:10]
    ]
    missing = all(e.get("type") == "missing" for e in exc.errors())
    code = "missing_field" if missing else "invalid_field"
    message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return JSONResponse({"detail": {"code": code, "message": message, "fields": problems}}, status_code=422)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 413: "request_too_large"}


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    detail = exc.detail
    if not (isinstance(detail, dict) and "code" in detail):  # the framework's own (no such route, method)
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        detail = {"code": code, "message": str(detail)[:200]}
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("photo store unavailable: %s", exc)
    metrics.DEPENDENCY_ERRORS.labels("store").inc()
    metrics.REJECTED_UPLOADS.labels("store_unavailable").inc()
    return _unavailable("store_unavailable", "the photo store is unavailable; nothing was stored", 30)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc)
    metrics.DEPENDENCY_ERRORS.labels("database").inc()
    if request.url.path == "/v1/submissions":
        metrics.REJECTED_UPLOADS.labels("database_unavailable").inc()
    return _unavailable("database_unavailable", "the database is unavailable; nothing was stored", 10)


def _unavailable(code: str, message: str, retry_after: int) -> JSONResponse:
    return JSONResponse(
        {"detail": {"code": code, "message": message}},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


class BodyLimit:
    """Refuse a request body larger than its path's limit with 413, before it is parsed or spooled to disk."""

    def __init__(self, app, max_bytes: int, per_path: dict[str, int] | None = None) -> None:
        self.app, self.default, self.per_path = app, max_bytes, per_path or {}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.per_path.get(scope["path"], self.default)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await _too_large(send, limit)
        seen, exceeded, answered = 0, False, False

        async def counted() -> dict:
            nonlocal seen, exceeded
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:  # a chunked body has no Content-Length: it is counted as it comes
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
                await _too_large(send, limit)

        try:
            await self.app(scope, counted, answer)
        except _TooLarge:
            if not answered:
                await _too_large(send, limit)


class NoSniff:
    """Every response says its type is the type: a browser never guesses (a photo's bytes are the sender's)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_header(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-content-type-options", b"nosniff")]
            await send(message)

        await self.app(scope, receive, with_header)


class _TooLarge(Exception):
    pass


async def _too_large(send, limit: int) -> None:
    body = b'{"detail":{"code":"request_too_large","message":"the request is larger than %d MB"}}' % (
        limit // 2**20
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
