"""API keys: a utility's admin manages its own keys; an operator key manages every utility's."""

from __future__ import annotations

from fastapi import APIRouter

from ... import keys, tables
from ..deps import AdminKey, SessionDep, acting_for, error
from ..schemas import KeyIn, KeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"])


def _out(row: tables.ApiKey, key: str | None = None) -> KeyOut:
    return KeyOut(
        id=row.id,
        name=row.name,
        scopes=row.scopes.split(),
        utility=row.utility,
        created_at=row.created_at.isoformat(),
        revoked_at=row.revoked_at.isoformat() if row.revoked_at else None,
        key=key,
    )


@router.post("", status_code=201, response_model=KeyOut, responses={422: {"description": "Bad scopes"}})
def create_key(body: KeyIn, session: SessionDep, key: AdminKey) -> KeyOut:
    """A new key for the caller's utility (an operator key names the utility, or makes another operator
    key). The key is in the answer once; only its hash is kept."""
    if "operator" in body.scopes:
        if key.utility is not None:
            raise error(403, "forbidden", "only an operator key can create operator keys")
        utility = None
    else:
        utility = acting_for(key, body.utility)
    try:
        made = keys.create_key(session, body.name, body.scopes, utility)
    except ValueError as e:
        raise error(422, "bad_scopes", str(e)[:200]) from None
    session.commit()
    return _out(session.get(tables.ApiKey, made.split("_")[1]), made)


@router.get("", response_model=list[KeyOut])
def list_keys(session: SessionDep, key: AdminKey) -> list[KeyOut]:
    """The utility's keys (an operator key: every key), newest first, revoked ones too; never the secrets."""
    return [_out(row) for row in keys.list_keys(session, key.utility)]


@router.delete("/{key_id}", status_code=204, responses={404: {"description": "No such key"}})
def revoke_key(key_id: str, session: SessionDep, key: AdminKey) -> None:
    """Revoke a key: it stops working with the next request."""
    if len(key_id) > 16 or not keys.revoke(session, key_id, key.utility):
        raise error(404, "not_found", "no such key")
    session.commit()
