"""The review UI: reviewers clear flagged photos by keyboard, supervisors audit, reopen and clear flags; every
verdict goes through ``serving.submissions``' one door. Mounted at ``/review`` by ``meterverify.app``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from .pages import HERE, SignIn, router


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/review/static", StaticFiles(directory=HERE / "static"), name="review-static")

    async def sign_in(request: Request, exc: SignIn) -> RedirectResponse:
        return RedirectResponse("/review/login", status_code=303)

    app.add_exception_handler(SignIn, sign_in)
