"""A reviewer marks where the register is when no region offered shows it: a drag (or the keys) on the photo,
the reader reads it there, A offers that reading, and the mark is kept (audit) and exported as training data
for the locator (issue 20, item 4)."""

from __future__ import annotations

import cv2
import numpy as np
from sqlalchemy import select

from meterdata.manifest import load_manifest
from review_ui import work
from review_ui.auth import Reviewer, create_user
from serving import tables
from serving.review_export import export_reviews
from tests.review_ui.conftest import Site, sign_in
from tests.review_ui.finding_photos import finding_photos, one_digit_typo
from tests.serving.conftest import embedded_settings, running_api
from training.data.detect import load_photos


def _to_screen(page, x: float, y: float) -> tuple[float, float]:
    """A point of the photo (its pixels) where it is on the screen now."""
    box = page.eval_on_selector(
        "#photo",
        "img => { const r = img.getBoundingClientRect();"
        " return [r.left, r.top, r.width / img.naturalWidth, r.height / img.naturalHeight]; }",
    )
    return box[0] + x * box[2], box[1] + y * box[3]


def _marking_points(page) -> str:
    return page.get_attribute("#overlay polygon.marking", "points") or ""


def test_a_register_marked_by_a_drag_is_read_offered_kept_and_exported(browser, site: Site, tmp_path) -> None:
    f = finding_photos()["label_read"]  # the reader chose a label, not the register
    (number,) = site.add_consumers((f.photo,), "M")
    typed = one_digit_typo(f.photo.value)  # the photo reaches a reviewer; the register shows the truth
    sid = site.submit_photo(f.photo, number, typed, "mark")
    assert site.status(sid)["status"] == "needs_review"
    page = sign_in(browser, site, "asha")
    page.keyboard.press("n")
    page.wait_for_url(f"**/review/items/{sid}")
    page.wait_for_function("document.getElementById('photo').naturalWidth > 0")
    page.keyboard.press("0")  # the whole photo in view

    page.keyboard.press("m")
    assert page.is_visible("#mark-help")
    before = _marking_points(page)
    page.keyboard.press("ArrowRight")  # the keys move the box ...
    moved = _marking_points(page)
    assert moved and moved != before
    page.keyboard.press("Shift+ArrowDown")  # ... and size it
    assert _marking_points(page) != moved
    page.keyboard.press("Escape")  # and cancel: nothing is sent
    assert not page.is_visible("#mark-help") and not _marking_points(page)

    x0, y0, x1, y1 = f.register
    page.keyboard.press("m")
    page.mouse.move(*_to_screen(page, x0, y0))
    page.mouse.down()
    page.mouse.move(*_to_screen(page, x1, y1), steps=5)
    page.mouse.up()
    page.keyboard.press("Enter")  # the reader reads the register there
    page.wait_for_selector(".note >> text=the register asha marked")
    assert f"Accept the reader's {f.photo.value}" in page.inner_text("#act")
    page.keyboard.press("a")
    page.wait_for_url("**/review/?**")
    assert site.status(sid)["verified_reading"] == f.photo.value

    with site.svc.sessions() as s:
        sub = s.get(tables.Submission, sid)
        marked = sub.reading["picked"]
        rows = s.execute(
            select(tables.ReviewAction.action, tables.ReviewAction.after).where(
                tables.ReviewAction.submission_id == sid
            )
        ).all()
    assert marked["marked"] and marked["by"] == "asha"
    xs, ys = [p[0] for p in marked["quad"]], [p[1] for p in marked["quad"]]
    slack = 0.05 * (x1 - x0)  # where the mouse landed, to a screen pixel or two
    assert abs(min(xs) - x0) < slack and abs(max(xs) - x1) < slack
    assert abs(min(ys) - y0) < slack and abs(max(ys) - y1) < slack
    assert [action for action, _ in rows].count("mark_region") == 1
    assert dict(rows)["mark_region"]["quad"] == marked["quad"]  # the audit keeps where it was marked

    out = tmp_path / "from-reviews"
    assert export_reviews(site.svc, out) == 1
    (sample,) = load_manifest(out)
    assert sample.quad == marked["quad"] and sample.extra["register_from"] == "marked"
    assert sample.digits == f.photo.digits and (sample.width, sample.height) == (1024, 768)
    images, quads, present = load_photos(out, sample.split, workers=1)  # what the detector trains on
    assert present.tolist() == [True]
    assert np.allclose(quads[0], np.array(sample.quad) / (1024, 768), atol=1e-4)


def test_a_mark_off_the_photo_is_refused_in_words(browser, site: Site) -> None:
    f = finding_photos()["label_read"]
    (number,) = site.add_consumers((f.photo,), "O")
    sid = site.submit_photo(f.photo, number, one_digit_typo(f.photo.value), "off")
    assert site.status(sid)["status"] == "needs_review"
    page = sign_in(browser, site, "asha")
    page.keyboard.press("n")
    page.wait_for_url(f"**/review/items/{sid}")
    page.eval_on_selector(
        "#mark",
        "(f) => { f.elements.quad.value = '[[5000,5000],[6000,5000],[6000,5100],[5000,5100]]'; f.submit(); }",
    )
    page.wait_for_selector(".error")
    assert "outside the photo" in page.inner_text(".error")
    with site.svc.sessions() as s:
        assert "picked" not in (s.get(tables.Submission, sid).reading or {})


def test_a_register_marked_where_the_reader_found_none_is_read_there(tmp_path) -> None:
    with running_api(embedded_settings(tmp_path)) as api:
        blank = cv2.imencode(".jpg", np.full((600, 800, 3), 128, np.uint8))[1].tobytes()
        sid = api.submit(blank, api.numbers[0], "1", key="blank").json()["id"]
        assert api.wait(sid)["status"] == "needs_review"
        with api.svc.sessions.begin() as s:
            user = create_user(s, "asha", "correct horse battery", "reviewer", "default")
            s.flush()
            asha = Reviewer(user.id, "asha", "reviewer", "default", "csrf")
            assert work.regions(s.get(tables.Submission, sid).reading) == []  # nothing outlined
        assert work.claim(api.svc, asha, sid)
        box = [[100.0, 200.0], [500.0, 200.0], [500.0, 280.0], [100.0, 280.0]]
        work.pick_region(api.svc, asha, sid, marked=box)
        with api.svc.sessions() as s:
            reading = s.get(tables.Submission, sid).reading
        assert reading["picked"]["marked"] and reading["picked"]["quad"] == box  # read there, kept
        assert work.regions(reading) == [box]
