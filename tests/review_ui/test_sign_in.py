"""Guessing is slow: review sign-ins throttled per account and per address (audited, shown to supervisors),
each sign-in form used once, API keys throttled per address."""

from __future__ import annotations

import re
import time
from pathlib import Path

from fastapi.testclient import TestClient

from review_ui.auth import create_user
from tests.serving.conftest import embedded_settings, running_api

PASSWORD = "correct horse battery"


def _form(client: TestClient) -> str:
    page = client.get("/review/login")
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf" value="([^"]+)"', page.text)[1]


def _sign_in(client: TestClient, username: str, password: str, token: str | None = None):
    token = token or _form(client)
    data = {"username": username, "password": password, "csrf": token}
    return client.post("/review/login", data=data, follow_redirects=False)


def test_wrong_passwords_lock_the_account_then_it_opens_again(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path, sign_in_failures_per_account=3, sign_in_lockout_min=0.05)
    with running_api(settings) as api:
        with api.svc.sessions.begin() as s:
            create_user(s, "asha", PASSWORD, "reviewer", "default")
            create_user(s, "chitra", PASSWORD, "supervisor", "default")
        client = api.client
        for _ in range(3):
            r = _sign_in(client, "asha", "guess-guess-guess")
            assert r.status_code == 303 and r.headers["location"].endswith("error=wrong"), r.headers
        locked = _sign_in(client, "asha", PASSWORD)  # the right password, but too many wrong ones before it
        assert locked.status_code == 303 and "error=locked" in locked.headers["location"], locked.headers
        assert "mv_review" not in locked.cookies
        shown = client.get(locked.headers["location"]).text
        assert "Too many wrong sign-ins" in shown

        # A supervisor of the utility sees every attempt and that the account is locked now.
        other = TestClient(client.app)
        assert _sign_in(other, "chitra", PASSWORD).headers["location"] == "/review/"
        page = other.get("/review/sign-ins").text
        assert page.count("<td>wrong password</td>") == 3 and "refused: too many wrong tries" in page
        assert "Locked now" in page and "<strong>asha</strong>" in page

        time.sleep(3.2)  # the lockout (0.05 min) is over
        assert _sign_in(client, "asha", PASSWORD).headers["location"] == "/review/"


def test_wrong_passwords_from_one_address_lock_every_account_from_it(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path, sign_in_failures_per_address=3)
    with running_api(settings) as api:
        with api.svc.sessions.begin() as s:
            create_user(s, "asha", PASSWORD, "reviewer", "default")
        for name in ("bilal", "chitra", "no-such-user"):  # spread over accounts, all from one address
            assert "error=wrong" in _sign_in(api.client, name, "guess-guess-guess").headers["location"]
        assert "error=locked" in _sign_in(api.client, "asha", PASSWORD).headers["location"]


def test_a_sign_in_form_is_used_once(tmp_path: Path) -> None:
    with running_api(embedded_settings(tmp_path)) as api:
        with api.svc.sessions.begin() as s:
            create_user(s, "asha", PASSWORD, "reviewer", "default")
        token = _form(api.client)
        assert "error=wrong" in _sign_in(api.client, "asha", "guess-guess-guess", token).headers["location"]
        again = _sign_in(api.client, "asha", PASSWORD, token)
        assert again.status_code == 403, again.text


def test_the_sign_in_page_shows_no_text_from_the_address(tmp_path: Path) -> None:
    with running_api(embedded_settings(tmp_path)) as api:
        page = api.client.get("/review/login", params={"error": "Your account is suspended: call 555-0100"})
        assert page.status_code == 200 and "555-0100" not in page.text


def test_api_key_guessing_is_throttled_per_address(tmp_path: Path) -> None:
    with running_api(embedded_settings(tmp_path, api_key_failures_per_minute=5)) as api:
        for i in range(5):
            r = api.client.get("/v1/verified", headers={"Authorization": f"Bearer mvk_guess{i}"})
            assert r.status_code == 401, r.text
        r = api.client.get("/v1/verified", headers={"Authorization": "Bearer mvk_guess5"})
        assert r.status_code == 429 and r.json()["detail"]["code"] == "too_many_attempts", r.text
        assert 0 < int(r.headers["retry-after"]) <= 60
        # Refused before the key is looked at: a right key from this address waits too (no oracle).
        assert api.client.get("/v1/verified", headers=api.billing).status_code == 429
