"""One door for a person's verdict: the API and the review UI take the same claim, write the same audit row,
record the same decision and wake the courier the same way (issue 22, finding 4)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from review_ui import work
from review_ui.auth import Reviewer, create_user
from serving import tables

from .conftest import embedded_settings, running_api
from .helpers import Receiver


def test_the_api_and_the_ui_review_alike(tmp_path: Path) -> None:
    receiver = Receiver().start()
    # The sweeper looks once a minute here: a webhook that arrives at once was sent because a door woke the courier.
    with running_api(embedded_settings(tmp_path, sweep_every_s=60)) as api:
        hook = api.client.post("/v1/webhooks", json={"url": receiver.url}, headers=api.admin)
        receiver.secret = hook.json()["secret"]
        ids = []
        for i in (0, 1):
            r = api.submit(api.photos[i].data, api.numbers[i], "1", key=f"typo-{i}")
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
            assert api.wait(ids[i])["status"] == "needs_review"
        with api.svc.sessions.begin() as s:
            user = create_user(s, "asha", "correct horse battery", "reviewer", "default")
            s.flush()
            asha = Reviewer(user.id, "asha", "reviewer", "default", "csrf")
        ui_item, api_item = ids

        # A reviewer holds an item in the UI: the API may not settle it under her.
        assert work.claim(api.svc, asha, ui_item)
        taken = api.client.post(f"/v1/submissions/{ui_item}/review", headers=api.reviewer,
                                json={"action": "accept", "reading": api.photos[0].value})  # fmt: skip
        assert taken.status_code == 409, taken.text
        assert taken.json()["detail"]["code"] == "claimed" and "asha" in taken.json()["detail"]["message"]

        # Each door settles its own item.
        work.act(api.svc, asha, ui_item, "correct", reading=api.photos[0].value)
        r = api.client.post(f"/v1/submissions/{api_item}/review", headers=api.reviewer,
                            json={"action": "accept", "reading": api.photos[1].value})  # fmt: skip
        assert r.status_code == 200, r.text

        # An item the API settled is no longer the UI's to take.
        assert not work.claim(api.svc, asha, api_item)

        with api.svc.sessions() as s:
            trail = {a.submission_id: a for a in s.scalars(select(tables.ReviewAction))}
            subs = {i: s.get(tables.Submission, i) for i in ids}
        assert set(trail) == set(ids)
        for sid, who, value in ((ui_item, "asha", api.photos[0].value), (api_item, "key:test reviewer", api.photos[1].value)):  # fmt: skip
            row = trail[sid]
            assert row.username == who and row.typed == "1"
            assert row.before == {"status": "needs_review", "verified_reading": None}
            assert row.after == {"status": "accepted", "verified_reading": value}
            assert subs[sid].status == "accepted" and subs[sid].decision["decided_by"] == who
            assert subs[sid].claimed_by is None

        deadline = time.monotonic() + 5
        while len(receiver.events) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        got = {e["data"]["id"]: e["data"] for e in receiver.events}
        assert set(got) == set(ids), f"webhooks after 5 s: {sorted(got)}"
        assert {got[i]["decided_by"] for i in ids} == {"asha", "key:test reviewer"}
    receiver.stop()


def test_a_reviewer_records_a_new_meter_through_the_api(tmp_path: Path) -> None:
    with running_api(embedded_settings(tmp_path)) as api:
        photo, number = api.photos[0], api.numbers[0]
        sid = api.submitted(photo.data, number, "1", key="new-meter")
        assert api.wait(sid)["status"] == "needs_review"
        review = f"/v1/submissions/{sid}/review"
        bad = api.client.post(review, headers=api.reviewer, json={"action": "accept", "reading": "12.3",
                                                                   "new_meter": {"digits": 2, "decimals": 0}})  # fmt: skip
        assert bad.status_code == 422 and bad.json()["detail"]["code"] == "bad_meter", bad.text
        # Below the last reading, and the old history says nothing of it: the first reading of a new meter.
        r = api.client.post(review, headers=api.reviewer, json={"action": "accept", "reading": "12.3",
                                                                 "new_meter": {"digits": 7, "decimals": 1}})  # fmt: skip
        assert r.status_code == 200 and r.json()["verified_reading"] == "12.3", r.text
        record = api.client.get(f"/v1/consumers/{number}/readings", headers=api.billing).json()
        assert (record["meter_digits"], record["meter_decimals"]) == (7, 1), record
        assert (
            record["readings"][-1]["reading"] == "12.3" and record["readings"][-1]["meter_replaced"] is True
        )
        with api.svc.sessions() as s:
            row = s.scalar(select(tables.ReviewAction).where(tables.ReviewAction.submission_id == sid))
        assert "new meter: 7 digits, 1 decimal(s)" in row.reason
