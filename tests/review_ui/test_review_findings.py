"""Issue 19's findings, each reproduced in the browser with a synthetic photo made to show it
(``finding_photos``): no correct reading rejected unseen, A never offers a reading the reader did not see
whole, reasons in words, rows aligned by register position, the register's other regions a key away, reuse
said as it is, and 20 items cleared by keyboard with the keys and seconds counted."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from serving import tables
from tests.review_ui.conftest import SCREENSHOTS, Site, sign_in
from tests.review_ui.finding_photos import finding_photos, one_digit_typo
from tests.serving.helpers import clear_photos
from verification import Reading
from verification.words import REASON_WORDS

RAW_CODE = re.compile(r"\b(" + "|".join(re.escape(c) for c in REASON_WORDS if "_" in c) + r")\b")


def _no_raw_codes(page) -> None:
    """Every reason a reviewer reads is in words: no rule's code shows on the page."""
    assert not RAW_CODE.findall(page.inner_text("main")), page.inner_text("main")


def _open_next(page, sid: str) -> None:
    page.keyboard.press("n")
    page.wait_for_url(f"**/review/items/{sid}")
    page.wait_for_function("document.getElementById('photo').naturalWidth > 0")


def _screenshot(page, name: str) -> None:
    """The page as a reviewer at 1366x768 sees it, for people to look at (``build/screenshots``)."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.wait_for_function("document.getElementById('region-image')?.complete ?? true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def _reader_row(page) -> list[dict]:
    return page.eval_on_selector_all(
        ".compare > div:first-child .digits .d",
        "els => els.map(e => ({char: e.textContent, differs: e.classList.contains('differs')}))",
    )


def test_a_kwh_register_the_reader_takes_for_another_screen_reaches_a_reviewer(browser, site: Site) -> None:
    # Finding 1: the reader's guess of the screen (history, MD, date) rejected correct readings unseen.
    f = finding_photos()["other_screen"]
    (number,) = site.add_consumers((f.photo,), "S")
    sid = site.submit_photo(f.photo, number, f.photo.value, "screen")
    assert site.status(sid)["status"] == "needs_review"  # not rejected: a person looks
    page = sign_in(browser, site, "asha")
    _no_raw_codes(page)
    _open_next(page, sid)
    _screenshot(page, "item-lcd-1366x768.png")
    assert "the reader thinks the display shows" in page.inner_text(".reasons")
    # Unsure of the screen, not of the digits: the reader's reading is offered; the reviewer sees the screen.
    assert f"Accept the reader's {f.photo.value}" in page.inner_text("#act")
    _no_raw_codes(page)
    page.keyboard.press("t")  # the consumer typed what the photo shows
    page.wait_for_url("**/review/?**")
    decided = site.status(sid)
    assert decided["status"] == "accepted" and decided["verified_reading"] == f.photo.value


def test_a_dropped_red_drum_is_not_offered_as_a_reading_and_only_its_position_differs(
    browser, site: Site
) -> None:
    # Findings 2 and 4: A offered 134359 for 13435.9; a missing digit outlined every digit as different.
    f = finding_photos()["dropped_drum"]
    (number,) = site.add_consumers((f.photo,), "D")
    sid = site.submit_photo(f.photo, number, f.photo.value, "drum")
    assert site.status(sid)["status"] == "needs_review"
    page = sign_in(browser, site, "asha")
    _open_next(page, sid)
    _screenshot(page, "item-drum-1366x768.png")
    row = _reader_row(page)
    assert sum(d["differs"] for d in row) == 1  # the red drum's position alone, left empty
    assert row[-1]["differs"] and not row[-1]["char"].strip()
    accept = page.locator("button[value=accept_reader]")
    shown_without_drum = str(Reading.from_digits(f.blind_digits, 0))
    assert accept.is_disabled() and shown_without_drum not in accept.inner_text()
    assert "did not read the whole register" in page.inner_text(".refused")
    _no_raw_codes(page)
    page.keyboard.press("c")  # the correction starts from the typed value: Enter saves it
    page.keyboard.press("Enter")
    page.wait_for_url("**/review/?**")
    assert site.status(sid)["verified_reading"] == f.photo.value


def test_a_label_read_instead_of_the_register_is_fixed_by_picking_another_region(browser, site: Site) -> None:
    # Finding 5: the reader chose a label or rating; the register was readable only in the small photo.
    f = finding_photos()["label_read"]
    (number,) = site.add_consumers((f.photo,), "L")
    typo = one_digit_typo(f.photo.value)
    sid = site.submit_photo(f.photo, number, typo, "label")
    assert site.status(sid)["status"] == "needs_review"
    page = sign_in(browser, site, "asha")
    _open_next(page, sid)
    assert page.locator("#regions button.region").count() >= 2
    natural = page.eval_on_selector("#region-image", "img => img.complete && img.naturalHeight")
    assert natural >= 96  # cut from the full-resolution photo, not the 48-pixel strip the reader used
    for _ in range(f.region):  # G outlines the next region; the straightened view follows
        page.keyboard.press("g")
    assert page.eval_on_selector("#regions .highlighted", "b => b.value") == str(f.region)
    page.keyboard.press("Enter")  # the reader reads the register there
    page.wait_for_selector(f"#regions button.current[value='{f.region}']")
    _screenshot(page, "item-region-picked-1366x768.png")
    assert f"Accept the reader's {f.photo.value}" in page.inner_text("#act")
    page.keyboard.press("a")
    page.wait_for_url("**/review/?**")
    assert site.status(sid)["verified_reading"] == f.photo.value
    with site.svc.sessions() as s:
        actions = s.scalars(
            select(tables.ReviewAction.action).where(tables.ReviewAction.submission_id == sid)
        ).all()
    assert actions.count("pick_region") == 1 and "accept_reader" in actions  # the marked register is kept


def test_a_reused_photo_is_said_as_it_is_beside_the_earlier_one(browser, site: Site) -> None:
    # Finding 6: "the same photo was sent before" without the earlier reading, consumer or date.
    photo = clear_photos()[0]
    first = site.submit_photo(photo, site.numbers[0], photo.value, "first")
    assert site.status(first)["status"] == "accepted"
    (other,) = site.add_consumers((photo,), "R")
    again = site.submit_photo(photo, other, photo.value, "again")
    assert site.status(again)["status"] == "needs_review"
    page = sign_in(browser, site, "asha")
    _open_next(page, again)
    said = page.inner_text(".viewer .note")
    assert site.numbers[0] in said and photo.value in said and "same photo file" in said
    assert page.eval_on_selector("img.earlier", "img => img.complete && img.naturalWidth > 0")
    _screenshot(page, "item-reused-1366x768.png")
    _no_raw_codes(page)


def test_twenty_items_cleared_by_keyboard(browser, site: Site) -> None:
    # Finding 7 and the target: the actions in view at 1366x768, few keys per item. Each photo's consumer
    # typed a wrong figure; the reader reads the photo right, so A (one key) settles it.
    photos = clear_photos(20)
    numbers = site.add_consumers(photos, "K")
    ids = [site.submit_photo(p, n, one_digit_typo(p.value), f"k{i}") for i, (p, n) in
           enumerate(zip(photos, numbers, strict=True))]  # fmt: skip
    assert [site.status(sid)["status"] for sid in ids] == ["needs_review"] * 20
    page = sign_in(browser, site, "bilal")
    page.set_viewport_size({"width": 1366, "height": 768})
    keys, started = 0, time.monotonic()
    page.keyboard.press("n")
    keys += 1
    page.wait_for_url("**/review/items/**")
    for _ in range(20):
        box = page.locator("button[value=accept_reader]").bounding_box()
        assert box["y"] + box["height"] <= 768, box  # in view without scrolling
        assert "supports the typed value" not in page.inner_text(".verdict")  # the typed one is wrong
        current = page.url
        assert page.locator("button[value=accept_reader]").is_enabled(), page.inner_text(".facts")
        page.keyboard.press("a")
        keys += 1
        page.wait_for_url(lambda url, current=current: url != current)
    seconds = time.monotonic() - started
    assert "the queue is empty" in page.inner_text("main")
    assert [site.status(sid)["verified_reading"] for sid in ids] == [p.value for p in photos]
    figures = f"20 items: {keys / 20:.2f} keys and {seconds / 20:.2f} s per item (headless Chromium)\n"
    (SCREENSHOTS / "clearing.txt").write_text(figures)
    print(figures)
