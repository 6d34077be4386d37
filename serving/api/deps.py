"""Typed dependencies, so a route's signature says what it needs: ``svc: ServiceDep, key: BillingKey``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from ..keys import Principal, authenticate
from ..service import Service

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
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    unauthorized = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise error(401, "no_api_key", "send an API key: Authorization: Bearer <key>", unauthorized)
    principal = authenticate(session, credentials.credentials)
    if principal is None:
        raise error(401, "bad_api_key", "the API key is unknown or revoked", unauthorized)
    return principal


def scoped(*scopes: str) -> Callable[[Principal], Principal]:
    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not any(principal.allows(scope) for scope in scopes):
            raise error(403, "forbidden", f"this API key lacks the scope {' or '.join(scopes)}")
        return principal

    return check


BillingKey = Annotated[Principal, Depends(scoped("billing"))]
ReviewerKey = Annotated[Principal, Depends(scoped("reviewer"))]
AdminKey = Annotated[Principal, Depends(scoped("admin"))]
ImportKey = Annotated[Principal, Depends(scoped("billing", "admin"))]
AnyKey = Annotated[Principal, Depends(scoped("billing", "reviewer", "analyst"))]

# Row ids in paths: positive and within the databases' 32-bit integer columns.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
