"""Liveness, readiness (database, broker, store) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from ... import metrics
from ..deps import ServiceDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency is down"}})
def readyz(svc: ServiceDep) -> JSONResponse:
    """Ready to take submissions: the database, the broker and the photo store answer."""
    checks: dict[str, str] = {}
    for name, probe in (
        ("database", lambda: _ping_db(svc)),
        ("broker", svc.queue.ping),
        ("store", svc.store.ping),
    ):
        try:
            probe()
            checks[name] = "ok"
        except Exception as e:
            checks[name] = f"down: {str(e)[:200]}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503
    )


def _ping_db(svc) -> None:
    with svc.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


@router.get("/metrics")
def prometheus_metrics() -> Response:
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)
