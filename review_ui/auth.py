"""Reviewer accounts and sessions: argon2 password hashes, signed session cookies, CSRF tokens.

The session cookie (HttpOnly, SameSite=Strict) carries the user's id, the user's session epoch (bumped at
sign-out and when a password changes, so old cookies stop working) and a CSRF token that every form and
``fetch`` must send back. Signing in has its own short-lived CSRF cookie (login CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from serving import tables
from serving.keys import check_utility

ROLES = ("reviewer", "supervisor")
SESSION_COOKIE = "mv_review"
LOGIN_COOKIE = "mv_login"
SESSION_MAX_AGE_S = 12 * 3600
_hasher = PasswordHasher()
# Verifying against this when the user does not exist takes as long as for a real user: no user probing.
_DUMMY_HASH = _hasher.hash("not a password")


@dataclass(frozen=True)
class Reviewer:
    id: int
    username: str
    role: str
    utility: str
    csrf: str

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(s: Session, username: str, password: str, role: str, utility: str) -> tables.User:
    if role not in ROLES:
        raise ValueError(f"role is {' or '.join(ROLES)}")
    if (
        not (3 <= len(username) <= 64)
        or not username.replace("-", "").replace("_", "").replace(".", "").isalnum()
    ):
        raise ValueError("a username is 3-64 letters, digits, '.', '_' or '-'")
    if len(password) < 10:
        raise ValueError("a password has at least 10 characters")
    check_utility(utility)
    if s.scalar(select(tables.User).where(tables.User.username == username)) is not None:
        raise ValueError(f"user {username} exists")
    user = tables.User(username=username, password_hash=_hasher.hash(password), role=role, utility=utility)
    s.add(user)
    return user


def check_password(s: Session, username: str, password: str) -> tables.User | None:
    user = s.scalar(select(tables.User).where(tables.User.username == username[:64]))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password[:1024])
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


@dataclass(frozen=True)
class Throttle:
    """Wrong sign-ins allowed per account (since its last right one) and per client address within
    ``window``; past either limit the password is not even checked until the oldest counted failure is
    ``window`` old."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


class FormUsed(Exception):
    """The sign-in form's token was used before: each form signs in (or fails) once."""


@dataclass(frozen=True)
class SignInResult:
    user: tables.User | None
    outcome: str  # ok, wrong, locked
    wait: timedelta  # when locked: how long until the next try counts


def _wait(
    s: Session, column, value: str, limit: int, start: datetime, throttle: Throttle, now: datetime
) -> timedelta:
    """Until the ``limit``-th most recent wrong sign-in for ``value`` since ``start`` leaves the window."""
    A = tables.SignInAttempt
    recent = s.scalars(
        select(A.at)
        .where(column == value, A.outcome == "wrong", A.at > start)
        .order_by(A.at.desc())
        .limit(limit)
    ).all()
    return recent[-1] + throttle.window - now if len(recent) >= limit else timedelta(0)


def account_wait(s: Session, username: str, throttle: Throttle, now: datetime) -> timedelta:
    """How long the account waits: its wrong sign-ins since its last right one count."""
    A = tables.SignInAttempt
    since = now - throttle.window
    last_ok = s.scalar(select(func.max(A.at)).where(A.username == username, A.outcome == "ok"))
    start = max(since, last_ok) if last_ok else since
    return _wait(s, A.username, username, throttle.per_account, start, throttle, now)


def wait_before_sign_in(
    s: Session, username: str, address: str, throttle: Throttle, now: datetime
) -> timedelta:
    """How long ``username`` or ``address`` must wait before a password is checked for it again."""
    by_address = _wait(
        s, tables.SignInAttempt.address, address, throttle.per_address, now - throttle.window, throttle, now
    )
    return max(account_wait(s, username, throttle, now), by_address, timedelta(0))


def minutes_left(wait: timedelta) -> int:
    """A wait in whole minutes as people read it: started minutes count."""
    return int(wait.total_seconds() // 60) + 1


def sign_in(
    s: Session, username: str, password: str, address: str, form_token: str, throttle: Throttle
) -> SignInResult:
    """Check a sign-in, throttled, and record it (``FormUsed`` when this form was used before)."""
    username, address = username[:64], address[:64]
    token_hash = hashlib.sha256(form_token.encode()).hexdigest()
    A = tables.SignInAttempt
    if s.scalar(select(A.id).where(A.form_token == token_hash)) is not None:
        raise FormUsed
    now = tables.utcnow()
    wait = wait_before_sign_in(s, username, address, throttle, now)
    user = None if wait > timedelta(0) else check_password(s, username, password)
    outcome = "locked" if wait > timedelta(0) else "ok" if user is not None else "wrong"
    utility = s.scalar(select(tables.User.utility).where(tables.User.username == username))
    try:
        with s.begin_nested():
            s.add(
                A(
                    username=username,
                    address=address,
                    outcome=outcome,
                    utility=utility,
                    form_token=token_hash,
                    at=now,
                )
            )
    except IntegrityError:  # the same form posted twice at once: the other post used it
        raise FormUsed from None
    return SignInResult(user, outcome, wait)


def sign_ins(s: Session, supervisor: Reviewer, limit: int = 200) -> list[tables.SignInAttempt]:
    """The latest sign-in attempts on the supervisor's utility's accounts, newest first."""
    A = tables.SignInAttempt
    return list(
        s.scalars(
            select(A).where(A.utility == supervisor.utility).order_by(A.at.desc(), A.id.desc()).limit(limit)
        )
    )


class Sessions:
    """Signs and reads the session and login cookies with the service's secret."""

    def __init__(self, secret: str) -> None:
        self._session = URLSafeTimedSerializer(secret, salt="meterverify-review-session")
        self._login = URLSafeTimedSerializer(secret, salt="meterverify-review-login")

    def issue(self, user: tables.User) -> str:
        return self._session.dumps(
            {"uid": user.id, "epoch": user.session_epoch, "csrf": secrets.token_urlsafe(24)}
        )

    def read(self, s: Session, cookie: str | None) -> Reviewer | None:
        if not cookie:
            return None
        try:
            data = self._session.loads(cookie, max_age=SESSION_MAX_AGE_S)
        except BadSignature:
            return None
        user = s.get(tables.User, data.get("uid"))
        if user is None or user.disabled_at is not None or user.session_epoch != data.get("epoch"):
            return None
        return Reviewer(user.id, user.username, user.role, user.utility, data["csrf"])

    def login_token(self) -> tuple[str, str]:
        """(cookie, form token) for the sign-in form: the form must echo the cookie's token."""
        token = secrets.token_urlsafe(24)
        return self._login.dumps(token), token

    def login_token_ok(self, cookie: str | None, form_token: str) -> bool:
        try:
            token = self._login.loads(cookie or "", max_age=3600)
        except BadSignature:
            return False
        return hmac.compare_digest(str(token), form_token)


def csrf_ok(reviewer: Reviewer, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(reviewer.csrf, token)


def session_secret(configured: str, var_dir: Path) -> str:
    """The configured secret; in embedded mode, one generated once and kept (0600) under ``var_dir``."""
    if configured:
        return configured
    path = var_dir / "session.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()
