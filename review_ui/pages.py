"""The review UI's pages, mounted by the service at ``/review``: server-rendered (Jinja2), a little plain
JavaScript for the keyboard and the photo viewer, no build step."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

import cv2
import numpy as np
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

import verification as v
from serving import submissions, tables
from serving.service import Service
from serving.store import PhotoMissing, StoreUnavailable
from verification.words import reason_words
from vision.geometry import quad_size, rectify, widen
from vision.image import ImageError, decode_photo

from . import auth, views, work

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["reason_words"] = reason_words  # one wording of every reason code, beside the rules
router = APIRouter(prefix="/review", include_in_schema=False)
# The straightened region's height: its own pixels, within these (a tiny register is enlarged, a huge one not).
REGION_MIN_HEIGHT, REGION_MAX_HEIGHT = 96, 240
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIC": "image/heic"}


def _service(request: Request) -> Service:
    return request.app.state.service


def _sessions(request: Request) -> auth.Sessions:
    state = request.app.state
    if getattr(state, "review_sessions", None) is None:
        svc = _service(request)
        secret = auth.session_secret(svc.settings.session_secret.get_secret_value(), svc.settings.var_dir)
        state.review_sessions = auth.Sessions(secret)
    return state.review_sessions


class SignIn(Exception):
    """No valid session: a page sends the browser to the sign-in form."""


def current(request: Request) -> auth.Reviewer:
    with _service(request).sessions() as s:
        reviewer = _sessions(request).read(s, request.cookies.get(auth.SESSION_COOKIE))
    if reviewer is None:
        if request.method == "GET":
            raise SignIn
        raise HTTPException(401, "sign in first")
    return reviewer


Me = Annotated[auth.Reviewer, Depends(current)]


def checked(request: Request, reviewer: Me, csrf: Annotated[str, Form()] = "") -> auth.Reviewer:
    """A form post: signed in, and the form carries the session's CSRF token."""
    if not auth.csrf_ok(reviewer, csrf or request.headers.get("X-CSRF-Token")):
        raise HTTPException(403, "the form is stale or forged (CSRF token); reload the page")
    return reviewer


Poster = Annotated[auth.Reviewer, Depends(checked)]


def supervisor(reviewer: Me) -> auth.Reviewer:
    if not reviewer.supervisor:
        raise HTTPException(403, "supervisors only")
    return reviewer


Supervisor = Annotated[auth.Reviewer, Depends(supervisor)]


def _mine(s, reviewer: auth.Reviewer, submission_id: str) -> tables.Submission:
    """The reviewer's utility's submission, or a 404 (another utility's items do not exist here)."""
    sub = s.get(tables.Submission, submission_id[:36])
    if sub is None or sub.utility != reviewer.utility:
        raise HTTPException(404, "no such item")
    return sub


def _page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    start = time.perf_counter()
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; style-src 'self'"
    response.headers["Server-Timing"] = f"render;dur={(time.perf_counter() - start) * 1000:.1f}"
    return response


def _filters(reason: str = "", area: str = "", meter: str = "") -> work.Filters:
    return work.Filters(reason[:40], area[:64], meter[:8])


# --- signing in and out -----------------------------------------------------------------------------------


# What the sign-in form may say after a redirect: fixed words, never text from the address bar.
_SIGN_IN_ERRORS = {
    "wrong": "Wrong username or password.",
    "locked": "Too many wrong sign-ins for this account or from this address: try again in {minutes} minute(s).",
}


@router.get("/login")
def login_form(request: Request, error: str = "", minutes: int = 0) -> HTMLResponse:
    cookie, token = _sessions(request).login_token()
    words = _SIGN_IN_ERRORS.get(error, "").format(minutes=max(1, min(minutes, 999)))
    response = _page(request, "login.html", csrf=token, error=words)
    response.set_cookie(
        auth.LOGIN_COOKIE, cookie, max_age=3600, httponly=True, samesite="strict", path="/review"
    )
    return response


def _throttle(svc: Service) -> auth.Throttle:
    settings = svc.settings
    return auth.Throttle(
        settings.sign_in_failures_per_account,
        settings.sign_in_failures_per_address,
        timedelta(minutes=settings.sign_in_lockout_min),
    )


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    sessions = _sessions(request)
    if not sessions.login_token_ok(request.cookies.get(auth.LOGIN_COOKIE), csrf):
        raise HTTPException(403, "the sign-in form is stale or forged; reload it")
    svc = _service(request)
    address = request.client.host if request.client else "unknown"
    try:
        with svc.sessions.begin() as s:
            result = auth.sign_in(s, username, password, address, csrf, _throttle(svc))
            cookie = sessions.issue(result.user) if result.user is not None else None
    except auth.FormUsed:
        raise HTTPException(403, "this sign-in form was used already; reload it") from None
    if cookie is None:
        query = {"error": result.outcome}
        if result.outcome == "locked":
            query["minutes"] = str(auth.minutes_left(result.wait))
        return RedirectResponse(f"/review/login?{urlencode(query)}", status_code=303)
    response = RedirectResponse("/review/", status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        cookie,
        max_age=auth.SESSION_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/review",
    )
    response.delete_cookie(auth.LOGIN_COOKIE, path="/review")
    return response


@router.post("/logout")
def logout(request: Request, reviewer: Poster) -> Response:
    with _service(request).sessions.begin() as s:  # every cookie of this user stops working
        user = s.get(tables.User, reviewer.id)
        user.session_epoch += 1
    response = RedirectResponse("/review/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/review")
    return response


# --- the queue ---------------------------------------------------------------------------------------------


@router.get("/")
def queue_page(
    request: Request, reviewer: Me, reason: str = "", area: str = "", meter: str = "", note: str = ""
) -> HTMLResponse:
    filters = _filters(reason, area, meter)
    with _service(request).sessions() as s:
        items = work.queue(s, reviewer, filters)
        totals = work.counts(s, reviewer)
    return _page(
        request,
        "queue.html",
        me=reviewer,
        items=items,
        totals=totals,
        filters=filters,
        now=tables.utcnow(),
        note=note[:100],
    )


@router.post("/next")
def next_item(
    request: Request,
    reviewer: Poster,
    reason: Annotated[str, Form()] = "",
    area: Annotated[str, Form()] = "",
    meter: Annotated[str, Form()] = "",
) -> Response:
    return _to_next(request, reviewer, _filters(reason, area, meter))


def _to_next(request: Request, reviewer: auth.Reviewer, filters: work.Filters) -> Response:
    wanted = {k: val for k, val in vars(filters).items() if val}
    found = work.claim_next(_service(request), reviewer, filters)
    if found is None:
        return RedirectResponse(
            f"/review/?{urlencode({**wanted, 'note': 'the queue is empty'})}", status_code=303
        )
    return RedirectResponse(
        f"/review/items/{found}" + (f"?{urlencode(wanted)}" if wanted else ""), status_code=303
    )


# --- one item ----------------------------------------------------------------------------------------------


def _item(
    request: Request,
    reviewer: auth.Reviewer,
    submission_id: str,
    error: str = "",
    status: int = 200,
    filters: work.Filters | None = None,
) -> HTMLResponse:
    svc = _service(request)
    with svc.sessions() as s:
        sub = _mine(s, reviewer, submission_id)
        consumer = s.get(tables.Consumer, sub.consumer_number)
        history = s.scalars(
            select(tables.PastReading)
            .where(tables.PastReading.consumer_number == sub.consumer_number)
            .order_by(tables.PastReading.on.desc())
            .limit(13)
        ).all()[::-1]
        trail = work.audit(s, reviewer, submission_id=sub.id) if reviewer.supervisor else []
        decision = sub.decision or {}
        proposed = submissions.reader_reading(sub)
        # A (accept the reader's) is offered only for a reading that would be accepted: else why not.
        proposed_refused = (
            submissions.review_refusal(svc, s, sub, v.Reading.parse(proposed))
            if proposed and sub.status == v.NEEDS_REVIEW
            else None
        )
    reading = sub.reading or {}
    shown = reading.get("picked") or reading  # the region the reviewer picked, once picked
    if not proposed and shown.get("digits"):
        proposed_refused = (
            "the reader did not read the whole register (a digit or the decimals are missing)"
            if shown.get("readable")
            else "the reader is not sure of its digits"
        )
    config = svc.utility_config(sub.utility)  # a digit is "unsure" below the utility's own limit
    read_digits, typed_digits = views.digits(
        shown,
        sub.typed_reading,
        consumer.meter_digits,
        consumer.meter_decimals,
        config.reader.min_digit_confidence,
    )
    reused = next((r for r in decision.get("reasons", []) if r["code"] == "photo_reused"), None)
    return _page(
        request,
        "item.html",
        status,
        me=reviewer,
        sub=sub,
        consumer=consumer,
        reading=reading,
        decision=decision,
        read_digits=read_digits,
        typed_digits=typed_digits,
        chart=views.consumption_svg(history),
        last=history[-1] if history else None,
        reused=reused,
        sent=sub.submitted_at.astimezone(config.window.tz),
        trail=trail,
        error=error,
        reject_reasons=work.REJECT_REASONS,
        filters=filters or work.Filters(),
        claimed_by_me=sub.claimed_by == reviewer.username and sub.status == v.NEEDS_REVIEW,
        proposed=proposed,
        proposed_refused=proposed_refused,
        regions=work.regions(reading),
        region=(reading.get("picked") or {}).get("region", 0),
        picked=reading.get("picked"),
        verdict=views.verdict(shown, read_digits, typed_digits),
    )


def _refused(
    request: Request,
    reviewer: auth.Reviewer,
    submission_id: str,
    e: work.ActionRefused,
    filters: work.Filters,
) -> HTMLResponse:
    """The item again with the reason an action was refused (404 for an item that is not the reviewer's)."""
    if e.code == "not_found":
        raise HTTPException(404, "no such item") from None
    status = 409 if e.code in ("not_claimed", "not_in_review") else 422
    return _item(request, reviewer, submission_id, error=str(e), status=status, filters=filters)


@router.get("/items/{submission_id}")
def item_page(
    request: Request, submission_id: str, reviewer: Me, reason: str = "", area: str = "", meter: str = ""
) -> HTMLResponse:
    svc = _service(request)
    if not work.claim(svc, reviewer, submission_id[:36]):  # decided already, not ours, or another holds it
        with svc.sessions() as s:
            sub = _mine(s, reviewer, submission_id)
            if sub.status == v.NEEDS_REVIEW:
                return _page(request, "claimed.html", 409, me=reviewer, holder=sub.claimed_by)
    return _item(request, reviewer, submission_id, filters=_filters(reason, area, meter))


@router.post("/items/{submission_id}/act")
def item_act(
    request: Request,
    submission_id: str,
    reviewer: Poster,
    action: Annotated[str, Form()],
    reading: Annotated[str, Form(max_length=24)] = "",
    reason: Annotated[str, Form(max_length=40)] = "",
    rollover: Annotated[bool, Form()] = False,
    new_digits: Annotated[str, Form(max_length=2)] = "",
    new_decimals: Annotated[str, Form(max_length=2)] = "",
    f_reason: Annotated[str, Form()] = "",
    f_area: Annotated[str, Form()] = "",
    f_meter: Annotated[str, Form()] = "",
) -> Response:
    filters = _filters(f_reason, f_area, f_meter)
    if action.startswith("reject:"):  # the reject buttons carry their reason: "reject:<reason>"
        action, reason = "reject", action.removeprefix("reject:")
    try:
        new_meter = None
        if new_digits or new_decimals:  # both, as numbers, or the reviewer hears why not
            if not (
                new_digits.isascii()
                and new_digits.isdigit()
                and new_decimals.isascii()
                and new_decimals.isdigit()
            ):
                raise work.ActionRefused(
                    "bad_meter", "a new meter needs its digit positions and decimals, as numbers"
                )
            new_meter = (int(new_digits), int(new_decimals))
        work.act(
            _service(request), reviewer, submission_id[:36], action[:20], reading, reason, rollover, new_meter
        )
    except work.ActionRefused as e:
        return _refused(request, reviewer, submission_id, e, filters)
    return _to_next(request, reviewer, filters)  # the next item at once


@router.get("/items/{submission_id}/photo")
def item_photo(request: Request, submission_id: str, reviewer: Me) -> Response:
    svc = _service(request)
    with svc.sessions() as s:
        sub = _mine(s, reviewer, submission_id)
        digest, fmt = sub.photo_sha256, sub.photo_type
    try:
        data = svc.store.get(digest)
    except PhotoMissing:
        raise HTTPException(404, "the photo is missing from the store") from None
    return Response(
        data,
        media_type=MIME.get(fmt, "application/octet-stream"),
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.get("/items/{submission_id}/region/{k}.png")
def item_region(request: Request, submission_id: str, k: int, reviewer: Me) -> Response:
    """Region ``k`` (0: the register the reader chose, then the next best regions), straightened with a margin
    around it (a drum the region cut off is seen), from pixels as sharp as the photo has, up to its display
    height."""
    svc = _service(request)
    with svc.sessions() as s:
        sub = _mine(s, reviewer, submission_id)
        quads = work.regions(sub.reading)
        digest = sub.photo_sha256
    if not 0 <= k < len(quads):
        raise HTTPException(404, "no such region")
    try:
        photo = decode_photo(svc.store.get(digest))
    except (PhotoMissing, ImageError):
        raise HTTPException(404, "the photo cannot be shown") from None
    quad = widen(np.asarray(quads[k], dtype=np.float32), along=0.4, across=0.25) / photo.scale
    image, quad = photo.for_region(
        quad, REGION_MAX_HEIGHT
    )  # the full-resolution pixels, when they are needed
    height = int(np.clip(quad_size(quad)[1], REGION_MIN_HEIGHT, REGION_MAX_HEIGHT))
    ok, png = cv2.imencode(".png", rectify(image, quad, height))
    return Response(png.tobytes(), media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.post("/items/{submission_id}/region")
def item_pick_region(
    request: Request,
    submission_id: str,
    reviewer: Poster,
    k: Annotated[int | None, Form()] = None,
    quad: Annotated[str, Form(max_length=400)] = "",
    f_reason: Annotated[str, Form()] = "",
    f_area: Annotated[str, Form()] = "",
    f_meter: Annotated[str, Form()] = "",
) -> Response:
    """The reviewer picked region ``k`` as the register, or marked where it is (``quad``: JSON, four points in
    photo pixels): the reader reads it there."""
    filters = _filters(f_reason, f_area, f_meter)
    try:
        marked = None
        if quad:
            try:
                marked = json.loads(quad)
            except ValueError:
                raise work.ActionRefused("bad_region", "a region is four points [x, y]") from None
        work.pick_region(_service(request), reviewer, submission_id[:36], k, marked)
    except work.ActionRefused as e:
        return _refused(request, reviewer, submission_id, e, filters)
    except StoreUnavailable:
        return _item(
            request,
            reviewer,
            submission_id,
            error="the photo store is not answering; try again",
            status=503,
            filters=filters,
        )
    query = urlencode(
        {k: v for k, v in (("reason", filters.reason), ("area", filters.area), ("meter", filters.meter)) if v}
    )
    return RedirectResponse(f"/review/items/{submission_id}" + (f"?{query}" if query else ""), 303)


# --- supervisors ---------------------------------------------------------------------------------------------


@router.post("/items/{submission_id}/reopen")
def item_reopen(
    request: Request, submission_id: str, reviewer: Poster, reason: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    try:
        work.reopen(_service(request), reviewer, submission_id[:36], reason or "reopened by a supervisor")
    except work.ActionRefused as e:
        status = {"forbidden": 403, "not_found": 404}.get(e.code, 409)
        raise HTTPException(status, str(e)) from None
    return RedirectResponse(f"/review/items/{submission_id[:36]}", status_code=303)


@router.post("/items/{submission_id}/clear-reuse")
def item_clear_reuse(
    request: Request, submission_id: str, reviewer: Poster, reason: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    try:
        work.clear_reuse(_service(request), reviewer, submission_id[:36], reason)
    except work.ActionRefused as e:
        status = {"forbidden": 403, "not_found": 404, "no_reason": 422}.get(e.code, 409)
        raise HTTPException(status, str(e)) from None
    return RedirectResponse(f"/review/items/{submission_id[:36]}", status_code=303)


@router.get("/audit")
def audit_page(request: Request, me: Supervisor, item: str = "", reviewer: str = "") -> HTMLResponse:
    with _service(request).sessions() as s:
        rows = work.audit(s, me, submission_id=item[:36] or None, username=reviewer[:64] or None)
    return _page(request, "audit.html", me=me, rows=rows, item=item[:36], reviewer=reviewer[:64])


@router.get("/sign-ins")
def sign_ins_page(request: Request, me: Supervisor) -> HTMLResponse:
    svc = _service(request)
    throttle, now = _throttle(svc), tables.utcnow()
    with svc.sessions() as s:
        rows = auth.sign_ins(s, me)
        waits = {
            n: auth.account_wait(s, n, throttle, now)
            for n in sorted({r.username for r in rows if r.outcome != "ok"})
        }
    locked = {name: auth.minutes_left(wait) for name, wait in waits.items() if wait > timedelta(0)}
    tz = svc.utility_config(me.utility).window.tz
    return _page(request, "sign_ins.html", me=me, rows=rows, locked=locked, tz=tz)


@router.get("/stats")
def stats_page(request: Request, me: Supervisor, hours: int = 24) -> HTMLResponse:
    hours = min(max(hours, 1), 24 * 31)
    with _service(request).sessions() as s:
        figures = work.stats(s, me, tables.utcnow() - timedelta(hours=hours))
    return _page(request, "stats.html", me=me, stats=figures, hours=hours)
