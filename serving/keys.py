"""API keys: ``mvk_<id>_<secret>``. Only a SHA-256 of the secret is stored; the key is shown once.

Every key belongs to one utility (a discom) and sees only that utility's consumers, submissions, feed and
webhooks; an ``operator`` key runs the platform across utilities. The secret is 192 random bits, so a fast
hash is enough (a slow password hash protects guessable secrets, not random ones); comparison is
constant-time. A revoked key stops working at once: every request looks the key up.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import tables

SCOPES = ("billing", "reviewer", "analyst", "admin", "operator")
PREFIX = "mvk"
UTILITY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")  # also a file name: utilities_dir/<utility>.toml
DEFAULT_UTILITY = "default"


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    scopes: frozenset[str]
    utility: str | None  # None: an operator key, across utilities

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes or "operator" in self.scopes

    def sees(self, utility: str) -> bool:
        return self.utility is None or self.utility == utility

    def acting_for(self, utility: str | None) -> str:
        """The utility a write goes to: the key's own; an operator key must name one. ``ValueError`` else."""
        if self.utility is None:
            if not utility:
                raise ValueError("an operator key must say which utility (utility=...)")
            return check_utility(utility)
        if utility and utility != self.utility:
            raise ValueError(f"this key belongs to utility {self.utility}, not {utility[:40]}")
        return self.utility


def check_utility(name: str) -> str:
    if not UTILITY.match(name):
        raise ValueError("a utility is 1-32 lower-case letters, digits, '_' or '-'")
    return name


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(s: Session, name: str, scopes: list[str], utility: str | None = DEFAULT_UTILITY) -> str:
    """A new key for ``utility`` (None only for an operator key). Returns the key; store nothing else."""
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(scopes) or 'none'}")
    if ("operator" in scopes) != (utility is None):
        raise ValueError("an operator key belongs to no utility; every other key to exactly one")
    if utility is not None:
        check_utility(utility)
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    s.add(
        tables.ApiKey(
            id=key_id,
            name=name[:100],
            secret_hash=_hash(secret),
            scopes=" ".join(sorted(set(scopes))),
            utility=utility,
        )
    )
    return f"{PREFIX}_{key_id}_{secret}"


def list_keys(s: Session, utility: str | None = None) -> list[tables.ApiKey]:
    """Keys of one utility (or all, for ``None``), newest first; revoked ones too."""
    q = select(tables.ApiKey).order_by(tables.ApiKey.created_at.desc())
    if utility is not None:
        q = q.where(tables.ApiKey.utility == utility)
    return list(s.scalars(q))


def revoke(s: Session, key_id: str, utility: str | None = None) -> bool:
    """Revoke a key now (``utility``: only if it is that utility's). False if there is no such key."""
    row = s.get(tables.ApiKey, key_id)
    if row is None or (utility is not None and row.utility != utility):
        return False
    if row.revoked_at is None:
        row.revoked_at = tables.utcnow()
    return True


def authenticate(s: Session, key: str) -> Principal | None:
    try:
        prefix, key_id, secret = key.split("_", 2)
    except ValueError:
        return None
    if prefix != PREFIX or len(key_id) > 16:
        return None
    row = s.get(tables.ApiKey, key_id)
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    return Principal(row.id, row.name, frozenset(row.scopes.split()), row.utility)
