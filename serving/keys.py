"""API keys: ``mvk_<id>_<secret>``. Only a SHA-256 of the secret is stored; the key is shown once.

The secret is 192 random bits, so a fast hash is enough (a slow password hash protects guessable secrets,
not random ones); comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from . import db

SCOPES = ("billing", "reviewer", "analyst", "admin")
PREFIX = "mvk"


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(s: Session, name: str, scopes: list[str]) -> str:
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(scopes) or 'none'}")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    s.add(db.ApiKey(id=key_id, name=name, secret_hash=_hash(secret), scopes=" ".join(sorted(set(scopes)))))
    return f"{PREFIX}_{key_id}_{secret}"


def authenticate(s: Session, key: str) -> Principal | None:
    try:
        prefix, key_id, secret = key.split("_", 2)
    except ValueError:
        return None
    if prefix != PREFIX:
        return None
    row = s.get(db.ApiKey, key_id)
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    return Principal(row.id, row.name, frozenset(row.scopes.split()))
