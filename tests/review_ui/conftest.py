"""The review UI's browser fixtures: a served embedded site with reviewers, consumers and a billing receiver,
and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from meterverify.app import create_app
from review_ui.auth import create_user
from serving import keys
from serving.database import upgrade
from serving.service import Service
from serving.tasks import make_queue
from tests.services.availability import in_ci
from tests.serving.conftest import bearer, embedded_settings
from tests.serving.helpers import IN_WINDOW, MeterPhoto, Receiver, clear_photos, consumers_csv

SCREENSHOTS = Path(
    os.environ.get("REVIEW_SCREENSHOTS", Path(__file__).resolve().parents[2] / "build" / "screenshots")
)
PASSWORD = "correct horse battery"


@dataclass
class Site:
    base: str
    svc: Service
    billing: dict
    admin: dict
    numbers: list[str]
    receiver: Receiver

    def submit(self, index: int, typed: str, key: str) -> str:
        return self.submit_photo(clear_photos()[index], self.numbers[index], typed, key)

    def submit_photo(self, photo: MeterPhoto, consumer: str, typed: str, key: str) -> str:
        r = httpx.post(f"{self.base}/v1/submissions", headers={**self.billing, "Idempotency-Key": key},
                       files={"photo": ("m.jpg", photo.data, "image/jpeg")},
                       data={"consumer_number": consumer, "typed_reading": typed, "submitted_at": IN_WINDOW},
                       timeout=30)  # fmt: skip
        assert r.status_code == 202, r.text
        return r.json()["id"]

    def add_consumers(self, photos: tuple[MeterPhoto, ...], prefix: str) -> list[str]:
        """A consumer per photo, its meter and history fitting the photo; their numbers."""
        consumers, readings, numbers = consumers_csv(photos, prefix)
        r = httpx.post(f"{self.base}/v1/consumers/import", headers=self.admin,
                       files={"consumers": ("c.csv", consumers), "readings": ("r.csv", readings)})  # fmt: skip
        assert r.status_code == 200, r.text
        return numbers

    def status(self, sid: str, until=("accepted", "needs_review", "rejected"), timeout=30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            body = httpx.get(f"{self.base}/v1/submissions/{sid}", headers=self.billing).json()
            if body["status"] in until or time.monotonic() > deadline:
                return body
            time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    svc = Service.from_settings(embedded_settings(tmp_path), make_queue)
    upgrade(svc.engine)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(svc.settings, service=svc), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    while not server.started:
        time.sleep(0.05)
    with svc.sessions.begin() as s:
        billing = bearer(keys.create_key(s, "billing", ["billing"]))
        admin = bearer(keys.create_key(s, "admin", ["admin"]))
        for name, role in (("asha", "reviewer"), ("bilal", "reviewer"), ("chitra", "supervisor")):
            create_user(s, name, PASSWORD, role, "default")
        create_user(s, "north-rev", PASSWORD, "reviewer", "north")
    consumers, readings, numbers = consumers_csv(clear_photos())
    r = httpx.post(f"{base}/v1/consumers/import", headers=admin,
                   files={"consumers": ("c.csv", consumers), "readings": ("r.csv", readings)})  # fmt: skip
    assert r.status_code == 200, r.text
    receiver = Receiver().start()
    hook = httpx.post(f"{base}/v1/webhooks", headers=admin, json={"url": receiver.url})
    receiver.secret = hook.json()["secret"]
    yield Site(base, svc, billing, admin, numbers, receiver)
    receiver.stop()
    server.should_exit = True
    thread.join(10)
    svc.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        if in_ci():
            pytest.fail(
                "Debian chromium is not installed (scripts/system-deps.sh installs it)", pytrace=False
            )
        pytest.skip("chromium is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-background-networking"]
        )
        yield b
        b.close()


def sign_in(browser, site: Site, username: str):
    """Sign in with the keyboard alone."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{site.base}/review/")
    assert page.url.endswith("/review/login")
    page.wait_for_function("document.activeElement && document.activeElement.name === 'username'")
    page.keyboard.type(username)  # the username field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.base}/review/")
    return page
