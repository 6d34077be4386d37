"""Typed dependencies, so a route's signature says what it needs: ``svc: ServiceDep, key: BillingKey``."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from ..keys import Principal, authenticate
from ..service import Service
from ..throttle import FailureWindow

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer mvk_...`")


def error(status: int, code: str, message: str, headers: dict | None = None) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message}, headers=headers)


def get_service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


def get_session(svc: ServiceDep) -> Iterator[Session]:
    with svc.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    unauthorized = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise error(401, "no_api_key", "send an API key: Authorization: Bearer <key>", unauthorized)
    guesses: FailureWindow = request.app.state.key_guesses
    address = request.client.host if request.client else "unknown"
    wait = guesses.wait_s(address)
    if wait:
        retry = str(math.ceil(wait))
        raise error(
            429,
            "too_many_attempts",
            f"too many unknown API keys from this address; try again in {retry} s",
            {"Retry-After": retry},
        )
    principal = authenticate(session, credentials.credentials)
    if principal is None:
        guesses.fail(address)
        raise error(401, "bad_api_key", "the API key is unknown or revoked", unauthorized)
    return principal


def scoped(*scopes: str) -> Callable[[Principal], Principal]:
    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not any(principal.allows(scope) for scope in scopes):
            raise error(403, "forbidden", f"this API key lacks the scope {' or '.join(scopes)}")
        return principal

    return check


# Every key acts for its own utility (an operator key for any): routes filter by ``key.sees(...)``.
BillingKey = Annotated[Principal, Depends(scoped("billing"))]
ReviewerKey = Annotated[Principal, Depends(scoped("reviewer"))]
AdminKey = Annotated[Principal, Depends(scoped("admin"))]
AnalystKey = Annotated[Principal, Depends(scoped("analyst"))]
ImportKey = Annotated[Principal, Depends(scoped("billing", "admin"))]
AnyKey = Annotated[Principal, Depends(scoped("billing", "reviewer", "analyst"))]


def acting_for(key: Principal, utility: str | None) -> str:
    """The utility a write goes to (see ``Principal.acting_for``), or a 422 that says why not."""
    try:
        return key.acting_for(utility)
    except ValueError as e:
        raise error(422, "bad_utility", str(e)) from None


async def single_valued_form(request: Request) -> None:
    """Refuse a form that repeats a field: which of two readings did the consumer mean?"""
    form = await request.form()  # parsed once; FastAPI reuses it for the route's own fields
    seen: set[str] = set()
    for name, _ in form.multi_items():
        if name in seen:
            raise error(422, "repeated_field", f"the form field {name[:40]!r} is sent more than once")
        seen.add(name)


SingleValuedForm = Depends(single_valued_form)

# Row ids in paths: positive and within the databases' 32-bit integer columns.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
