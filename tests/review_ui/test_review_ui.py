"""The review UI in real headless Chromium (Debian's, driven by Playwright): reviewers clear items by keyboard,
claims keep two reviewers apart, supervisors audit and reopen, sessions and CSRF hold."""

from __future__ import annotations

import time

import httpx

from tests.review_ui.conftest import PASSWORD, SCREENSHOTS, Site, sign_in
from tests.serving.helpers import clear_photos


def _typo_items(site: Site, indices: list[int]) -> list[str]:
    ids = [site.submit(i, "1", key=f"typo-{i}") for i in indices]  # typed "1": far from the photo
    for sid in ids:
        assert site.status(sid)["status"] == "needs_review"
    return ids


def test_a_reviewer_clears_three_items_with_the_keyboard_and_billing_gets_them(browser, site: Site) -> None:
    ids = _typo_items(site, [0, 1, 2])
    page = sign_in(browser, site, "asha")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)
    assert "3 waiting" in page.inner_text("h1")
    page.keyboard.press("n")
    page.wait_for_url("**/review/items/**")
    page.wait_for_function("document.getElementById('photo').naturalWidth > 0")
    page.screenshot(path=str(SCREENSHOTS / "item.png"), full_page=True)
    assert "Accept the reader's" in page.inner_text("#act")
    scale = "parseFloat(document.getElementById('frame').style.transform.match(/scale\\(([^)]+)\\)/)[1])"
    whole = page.evaluate(scale)
    page.keyboard.press("z")  # the outlined register fills the view
    assert page.evaluate(scale) > 2 * whole
    page.screenshot(path=str(SCREENSHOTS / "item-register.png"))
    page.keyboard.press("0")
    assert page.evaluate(scale) == whole
    page.set_viewport_size({"width": 1366, "height": 768})  # the actions in view without scrolling
    box = page.locator("button[value=accept_reader]").bounding_box()
    assert box["y"] + box["height"] <= 768, box
    page.screenshot(path=str(SCREENSHOTS / "item-1366x768.png"))
    for _ in range(3):  # one key per item: the reader is right
        current = page.url
        page.keyboard.press("a")
        page.wait_for_url(lambda url, current=current: url != current)
    assert "the queue is empty" in page.inner_text("main")
    decided = [site.status(sid) for sid in ids]
    photos = clear_photos()
    assert [d["status"] for d in decided] == ["accepted"] * 3
    assert [d["verified_reading"] for d in decided] == [photos[i].value for i in range(3)]
    assert all(d["decided_by"] == "asha" for d in decided)
    deadline = time.monotonic() + 15
    while len(site.receiver.events) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    got = {e["data"]["id"]: e["data"] for e in site.receiver.events}
    assert set(got) == set(ids) and all(got[i]["lucky_draw_eligible"] for i in ids)


def test_a_claimed_item_cannot_be_opened_by_a_second_reviewer(browser, site: Site) -> None:
    (sid,) = _typo_items(site, [3])
    first = sign_in(browser, site, "asha")
    first.keyboard.press("n")
    first.wait_for_url(f"**/review/items/{sid}")
    second = sign_in(browser, site, "bilal")
    response = second.goto(f"{site.base}/review/items/{sid}")
    assert response.status == 409 and "asha is working on this item" in second.inner_text("main")
    second.goto(f"{site.base}/review/")
    second.keyboard.press("n")  # nothing else is free
    second.wait_for_url("**/review/?**")
    assert "the queue is empty" in second.inner_text("main")
    # Another utility's reviewer does not even see it.
    north = sign_in(browser, site, "north-rev")
    assert north.goto(f"{site.base}/review/items/{sid}").status == 404


def test_a_reviewer_types_a_correction_and_rejects_by_keyboard(browser, site: Site) -> None:
    correct_id, reject_id = _typo_items(site, [4, 5])
    page = sign_in(browser, site, "bilal")
    page.keyboard.press("n")
    page.wait_for_url(f"**/review/items/{correct_id}")
    page.keyboard.press("c")  # the field starts from the typed value, its first differing figure selected
    field = page.locator("#reading")
    assert field.input_value() == "1"
    shown = field.get_attribute("data-reader") or ""
    first = 1 if shown.startswith("1") else 0  # the typed "1" against the reader's figures
    assert page.evaluate("[document.activeElement.selectionStart, document.activeElement.selectionEnd]") == [
        first,
        1,
    ]
    page.keyboard.press("Control+A")
    page.keyboard.type(clear_photos()[4].value)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/review/items/{reject_id}")
    page.keyboard.press("r")
    page.keyboard.press("1")  # unclear photo
    page.wait_for_url("**/review/?**")
    assert site.status(correct_id)["verified_reading"] == clear_photos()[4].value
    rejected = site.status(reject_id)
    assert rejected["status"] == "rejected" and not rejected["lucky_draw_eligible"]


def test_a_supervisor_sees_the_audit_trail_and_reopens(browser, site: Site) -> None:
    (sid,) = _typo_items(site, [0])
    reviewer = sign_in(browser, site, "asha")
    reviewer.keyboard.press("n")
    reviewer.wait_for_url(f"**/review/items/{sid}")
    reviewer.keyboard.press("t")  # accept the typed value: wrong, but it fits the meter and the history? no:
    reviewer.wait_for_load_state()
    if (
        site.status(sid)["status"] == "needs_review"
    ):  # "1" is below the last reading: refused, so accept the reader's
        assert "below the last verified reading" in reviewer.inner_text(".error")
        reviewer.keyboard.press("a")
        reviewer.wait_for_url("**/review/?**")
    assert site.status(sid)["status"] == "accepted"

    supervisor = sign_in(browser, site, "chitra")
    supervisor.goto(f"{site.base}/review/audit?reviewer=asha")
    trail = supervisor.inner_text("table.trail")
    assert sid[:8] in trail and "accept_reader" in trail
    supervisor.goto(f"{site.base}/review/items/{sid}")
    supervisor.screenshot(path=str(SCREENSHOTS / "item-supervisor.png"), full_page=True)
    supervisor.fill("form.reopen input[name=reason]", "the reading looks one digit off")
    supervisor.click("form.reopen button")
    supervisor.wait_for_load_state()
    assert site.status(sid)["status"] == "needs_review"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(
        e["type"] == "submission.reopened" for e in site.receiver.events
    ):
        time.sleep(0.1)
    assert [e["type"] for e in site.receiver.events if e["data"]["id"] == sid] == [
        "submission.decided",
        "submission.reopened",
    ]
    assert "reopen" in supervisor.inner_text("table.trail")
    assert supervisor.goto(f"{site.base}/review/stats").status == 200
    assert "asha" in supervisor.inner_text("table.trail")
    assert reviewer.goto(f"{site.base}/review/audit").status == 403  # reviewers do not audit


def test_no_session_and_a_forged_csrf_token_are_refused(browser, site: Site) -> None:
    (sid,) = _typo_items(site, [1])
    anonymous = httpx.post(
        f"{site.base}/review/items/{sid}/act", data={"action": "accept_reader", "csrf": "x"}
    )
    assert anonymous.status_code == 401
    assert httpx.get(f"{site.base}/review/").status_code == 303
    assert httpx.get(f"{site.base}/review/items/{sid}/photo").status_code == 303
    page = sign_in(browser, site, "asha")
    page.goto(f"{site.base}/review/items/{sid}")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = httpx.post(f"{site.base}/review/items/{sid}/act", cookies=cookies,
                        data={"action": "accept_reader", "csrf": "forged-token"})  # fmt: skip
    assert forged.status_code == 403
    no_token = httpx.post(
        f"{site.base}/review/items/{sid}/act", cookies=cookies, data={"action": "accept_reader"}
    )
    assert no_token.status_code == 403
    assert site.status(sid)["status"] == "needs_review"  # nothing happened
    login = httpx.post(
        f"{site.base}/review/login", data={"username": "asha", "password": PASSWORD, "csrf": "x"}
    )
    assert login.status_code == 403  # the sign-in form has its own token
    # Signing out ends the session everywhere: the old cookie no longer works.
    page.goto(f"{site.base}/review/")
    page.click("header form button")
    assert httpx.get(f"{site.base}/review/", cookies=cookies).status_code == 303
