"""The lucky draw on the service's own decisions: who gets an entry, commit/close/run, the analysts' API, the
audit notebook executed on the result."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

import draw
from serving import draws, keys, submissions, tables
from tests.draw.chain import TestChain
from tests.serving.helpers import consumers_csv
from verification import ALREADY_ENTERED

from .conftest import Api, bearer

EXE = str(Path(sys.executable).parent / "meterverify")
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "lucky_draw_audit.ipynb"


def _review(api: Api, sid: str, body: dict) -> None:
    assert api.wait(sid)["status"] == "needs_review"
    r = api.client.post(f"/v1/submissions/{sid}/review", headers=api.reviewer, json=body)
    assert r.status_code == 200, r.text


@pytest.fixture
def month(api: Api) -> dict[str, str]:
    """A month of decisions: accepted, reviewer-accepted, reviewer-rejected, sent outside the window, twice."""
    p, n = api.photos, api.numbers
    sid = {}
    sid["twice-1"] = api.submitted(p[0].data, n[0], p[0].value, key="t1")
    api.wait(sid["twice-1"])
    sid["twice-2"] = api.submitted(
        p[0].data, n[0], p[0].value, key="t2", submitted_at="2026-11-03T09:00:00+05:30"
    )
    sid["reviewed"] = api.submitted(p[1].data, n[1], "1", key="rv")
    sid["rejected"] = api.submitted(p[2].data, n[2], "1", key="rj")
    sid["late"] = api.submitted(
        p[3].data, n[3], p[3].value, key="late", submitted_at="2026-11-20T10:00:00+05:30"
    )
    sid["plain"] = api.submitted(p[4].data, n[4], p[4].value, key="ok")
    _review(api, sid["reviewed"], {"action": "accept", "reading": p[1].value})
    _review(api, sid["rejected"], {"action": "reject", "reason": "unclear photo"})
    second = api.wait(sid["twice-2"])
    if second["status"] == "needs_review":  # the same photo again: a reviewer lets it through
        _review(api, sid["twice-2"], {"action": "accept", "reading": p[0].value})
    for s in sid.values():
        api.wait(s)
    return sid


def test_entries_one_per_consumer_reviewed_in_rejected_and_late_out(api: Api, month: dict[str, str]) -> None:
    late = api.wait(month["late"])
    assert late["status"] == "accepted" and not late["lucky_draw_eligible"]
    assert api.wait(month["reviewed"])["lucky_draw_eligible"]
    with api.svc.sessions() as s:
        entries = draws.eligible(s, "default", "2026-11")
    assert [(e.consumer_number, e.submission_id) for e in entries] == [
        (api.numbers[0], month["twice-1"]),
        (api.numbers[1], month["reviewed"]),
        (api.numbers[4], month["plain"]),
    ]


COMMIT_AT = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)  # before the 2026-11 window opens


@pytest.fixture(scope="module")
def chain() -> TestChain:
    return TestChain()


def _close_time(row) -> datetime:
    return datetime.fromisoformat(row.statement["close_from"]) + timedelta(hours=1)


def _drawn(api: Api, chain: TestChain, winners: int = 2, reserves: int = 1):
    """Commit on time, close, run with the committed round of the test chain."""
    row = draws.commit(api.svc, "default", "2026-11", winners, reserves, chain=chain.chain, now=COMMIT_AT)
    row = draws.close(api.svc, "default", "2026-11", now=_close_time(row))
    report = draws.run(api.svc, "default", "2026-11", chain.round(row.statement["beacon"]["round"]))
    return draws.get(api.svc, "default", "2026-11"), report


def _verified(api: Api, chain: TestChain, row) -> list[str]:
    return [f.check for f in draw.verify(row.report, row.entries_public.encode(), row.commitment,
                                         row.entries_sha256, {chain.chain.chain_hash: chain.chain})]  # fmt: skip


def test_commit_close_run_and_the_analysts_api(
    api: Api, month: dict[str, str], chain: TestChain, tmp_path: Path
) -> None:
    with pytest.raises(draws.DrawError, match="window opened"):  # finding 5: a late commit is refused
        draws.commit(api.svc, "default", "2026-11", 2, 1, chain=chain.chain)
    with pytest.raises(draws.DrawError, match="no utility"):  # finding 10
        draws.commit(api.svc, "nosuchutility", "2026-11", 2, 1, chain=chain.chain, now=COMMIT_AT)
    row = draws.commit(api.svc, "default", "2026-11", 2, 1, chain=chain.chain, now=COMMIT_AT)
    with pytest.raises(draws.DrawError, match="already committed"):
        draws.commit(api.svc, "default", "2026-11", 2, 1, chain=chain.chain, now=COMMIT_AT)
    seen = api.client.get("/v1/draws/2026-11", headers=api.analyst).json()
    assert (
        seen["commitment"] == row.commitment and seen["statement"]["winners"] == 2 and seen["report"] is None
    )
    assert row.seed not in json.dumps(seen)  # secret until the draw
    with pytest.raises(draws.DrawError, match="close"):
        draws.run(api.svc, "default", "2026-11", chain.round(row.statement["beacon"]["round"]))
    opens = datetime.fromisoformat(row.statement["close_from"])
    with pytest.raises(
        draws.DrawError, match="may still arrive"
    ):  # finding 7: inside the submitted_at allowance
        draws.close(api.svc, "default", "2026-11", now=opens - timedelta(hours=1))
    with pytest.raises(draws.DrawError, match="too late"):  # the round might exist by then
        draws.close(
            api.svc,
            "default",
            "2026-11",
            now=datetime.fromisoformat(row.statement["close_by"]) + timedelta(seconds=1),
        )
    closed = draws.close(api.svc, "default", "2026-11", now=_close_time(row))
    with pytest.raises(draws.DrawError, match="fixed round"):  # another round, however valid, is not the one
        draws.run(api.svc, "default", "2026-11", chain.round(row.statement["beacon"]["round"] + 1))
    report = draws.run(api.svc, "default", "2026-11", chain.round(row.statement["beacon"]["round"]))
    with pytest.raises(draws.DrawError, match="already run"):
        draws.run(api.svc, "default", "2026-11", chain.round(row.statement["beacon"]["round"]))
    with api.svc.sessions.begin() as s:  # finding 4: a database edit clears the report; the run gives it back
        s.get(tables.Draw, closed.id).report = None
    again = draws.run(api.svc, "default", "2026-11", chain.round(row.statement["beacon"]["round"]))
    assert again.to_dict() == report.to_dict()
    public = api.client.get("/v1/draws/2026-11/entries-public", headers=api.analyst)
    assert public.status_code == 200 and hashlib.sha256(public.content).hexdigest() == closed.entries_sha256
    assert all(n not in public.text for n in api.numbers)  # finding 9: no consumer numbers in public files
    published = api.client.get("/v1/draws/2026-11", headers=api.analyst).json()
    assert draw.verify(published["report"], public.content, row.commitment, closed.entries_sha256,
                       {chain.chain.chain_hash: chain.chain}) == []  # fmt: skip
    page = api.client.get("/v1/draws/2026-11/report.html", headers=api.analyst).text
    assert all(n not in page for n in api.numbers) and "IST" in page  # the utility's time, UTC beside
    assert f"--commitment {row.commitment}" in page and f"--entries-sha256 {closed.entries_sha256}" in page
    assert api.client.get("/v1/draws/2026-11", headers=api.billing).status_code == 403
    with api.svc.sessions.begin() as s:
        other = bearer(keys.create_key(s, "north analyst", ["analyst"], "north"))
    assert api.client.get("/v1/draws/2026-11", headers=other).status_code == 404
    subs = api.client.get("/v1/draws/2026-11/submissions", headers=api.analyst).text.splitlines()
    assert subs[0].startswith("submission_id,consumer_number,area") and len(subs) == 1 + len(month)

    # A consumer checks their own receipt; the CLI needs the published values to call the draw ok.
    out = tmp_path / "public"
    out.mkdir()
    (out / "report.json").write_text(json.dumps(report.to_dict()))
    (out / "entries-public.csv").write_bytes(public.content)
    winner = next(sid for sid in month.values() if draw.v2.entry_id(sid) == report.standing()[0][0])
    said = _cli("draw", "check-entry", winner, "--report", str(out / "report.json"),
                "--entries-public", str(out / "entries-public.csv"))  # fmt: skip
    assert said.returncode == 0 and "winner 1" in said.stdout, said.stderr
    nobody = _cli("draw", "check-entry", "not-a-receipt", "--report", str(out / "report.json"),
                  "--entries-public", str(out / "entries-public.csv"))  # fmt: skip
    assert nobody.returncode == 1 and "not in the draw" in nobody.stdout
    (out / "chain.json").write_text(json.dumps(chain.chain.to_dict()))
    bare = _cli("draw", "verify", str(out / "report.json"), str(out / "entries-public.csv"),
                "--chain-info", str(out / "chain.json"))  # fmt: skip
    assert bare.returncode == 1 and "FAILED published_commitment" in bare.stderr  # finding 3
    full = _cli("draw", "verify", str(out / "report.json"), str(out / "entries-public.csv"), "--chain-info",
                str(out / "chain.json"), "--commitment", row.commitment, "--entries-sha256", closed.entries_sha256)  # fmt: skip
    assert full.returncode == 0 and full.stdout.startswith("ok: default 2026-11, 3 entries"), full.stderr


def test_after_close_no_decision_enters_and_a_rejected_winner_is_replaced(
    api: Api, month: dict[str, str], chain: TestChain
) -> None:
    row, report = _drawn(api, chain)
    # Finding 6: a consumer whose first entry is reopened and rejected keeps the entry of its second photo.
    with api.svc.sessions() as s:
        before = {e.consumer_number: e.submission_id for e in draws.eligible(s, "default", "2026-11")}
    assert before[api.numbers[0]] == month["twice-1"]
    submissions.reopen(api.svc, month["twice-1"], "chitra", "the reading looks wrong")
    _review(api, month["twice-1"], {"action": "reject", "reason": "wrong meter"})
    with api.svc.sessions() as s:
        after = {e.consumer_number: e.submission_id for e in draws.eligible(s, "default", "2026-11")}
    assert api.wait(month["twice-2"])["lucky_draw_reason"] == ALREADY_ENTERED
    assert after[api.numbers[0]] == month["twice-2"]
    # ... and if that first one had been drawn, it is disqualified and the next reserve moves up.
    row = draws.get(api.svc, "default", "2026-11")
    drawn = draw.v2.Report.from_dict(row.report)
    first_entry = draw.v2.entry_id(month["twice-1"])
    if first_entry in {p["entry"] for p in drawn.winners + drawn.reserves}:
        assert [d["entry"] for d in drawn.disqualified] == [first_entry]
        assert first_entry not in drawn.standing()[0]
    else:  # reopen and reject a winner for certain
        sid = next(s for s in month.values() if draw.v2.entry_id(s) == drawn.winners[0]["entry"])
        submissions.reopen(api.svc, sid, "chitra", "tampering reported")
        _review(api, sid, {"action": "reject", "reason": "tampering"})
        drawn = draw.v2.Report.from_dict(draws.get(api.svc, "default", "2026-11").report)
        assert drawn.disqualified[0]["entry"] == drawn.winners[0]["entry"]
        assert drawn.standing()[0] == [drawn.winners[1]["entry"], drawn.reserves[0]["entry"]]
    assert _verified(api, chain, draws.get(api.svc, "default", "2026-11")) == []
    # Finding 7's other half: a decision made after the close never enters that month.
    late = api.submitted(api.photos[5].data, api.numbers[5], api.photos[5].value, key="after-close")
    decided = api.wait(late)
    assert decided["status"] == "accepted" and not decided["lucky_draw_eligible"]
    assert decided["lucky_draw_reason"] == "decided after the month's draw closed"


def test_an_entry_rejected_between_close_and_run_is_listed_and_out(
    api: Api, month: dict[str, str], chain: TestChain
) -> None:
    row = draws.commit(api.svc, "default", "2026-11", 2, 1, chain=chain.chain, now=COMMIT_AT)
    row = draws.close(api.svc, "default", "2026-11", now=_close_time(row))
    with time_machine.travel(_close_time(row) + timedelta(hours=1), tick=True):  # after the close
        submissions.reopen(api.svc, month["plain"], "chitra", "the meter is not the consumer's")
        _review(api, month["plain"], {"action": "reject", "reason": "wrong meter"})
    report = draws.run(api.svc, "default", "2026-11", chain.round(row.statement["beacon"]["round"]))
    out = draw.v2.entry_id(month["plain"])  # three entries, two winners and a reserve: it was drawn
    assert out in report.reopened_before_run and [d["entry"] for d in report.disqualified] == [out]
    assert out not in report.standing()[0] + report.standing()[1]
    assert _verified(api, chain, draws.get(api.svc, "default", "2026-11")) == []


def test_another_consumers_photo_never_enters_whatever_the_reviewer_does(api: Api) -> None:
    # Finding 8.
    p, n = api.photos, api.numbers
    first = api.submitted(p[0].data, n[0], p[0].value, key="own")
    assert api.wait(first)["lucky_draw_eligible"]
    consumers, readings, (other,) = consumers_csv((p[0],), prefix="OTHER")  # a history that fits the photo
    r = api.client.post("/v1/consumers/import", headers=api.admin,
                        files={"consumers": ("c.csv", consumers), "readings": ("r.csv", readings)})  # fmt: skip
    assert r.status_code == 200, r.text
    copy = api.submitted(p[0].data, other, p[0].value, key="copy")
    _review(api, copy, {"action": "accept", "reading": p[0].value})
    decided = api.wait(copy)
    assert decided["status"] == "accepted" and not decided["lucky_draw_eligible"]
    assert decided["lucky_draw_reason"] == "the photo is like another consumer's"
    # Unless a supervisor clears the flag, with a reason, in the audit (the photos were of different meters).
    from review_ui import work
    from review_ui.auth import Reviewer

    consumers, readings, (third,) = consumers_csv((p[0],), prefix="THIRD")
    api.client.post("/v1/consumers/import", headers=api.admin,
                    files={"consumers": ("c.csv", consumers), "readings": ("r.csv", readings)})  # fmt: skip
    cleared = api.submitted(p[0].data, third, p[0].value, key="cleared")
    assert api.wait(cleared)["status"] == "needs_review"
    with pytest.raises(work.ActionRefused, match="only a supervisor"):
        work.clear_reuse(api.svc, Reviewer(1, "asha", "reviewer", "default", ""), cleared, "same meter? no")
    chitra = Reviewer(2, "chitra", "supervisor", "default", "")
    work.clear_reuse(api.svc, chitra, cleared, "two meters side by side on one board: different serials")
    _review(api, cleared, {"action": "accept", "reading": p[0].value})
    assert api.wait(cleared)["lucky_draw_eligible"]
    with api.svc.sessions() as s:
        (row,) = [a for a in work.audit(s, chitra, submission_id=cleared) if a.action == "clear_reuse"]
    assert row.username == "chitra" and "different serials" in row.reason


def _cli(*args: str) -> subprocess.CompletedProcess:
    exe = EXE if Path(EXE).exists() else shutil.which("meterverify")
    return subprocess.run([exe, *args], capture_output=True, text=True)


def test_the_audit_notebook_runs_on_the_month(
    api: Api, month: dict[str, str], chain: TestChain, tmp_path: Path
) -> None:
    import nbformat
    from nbclient import NotebookClient

    row, report = _drawn(api, chain)
    out = tmp_path / "export"
    out.mkdir()
    (out / "report.json").write_text(json.dumps(report.to_dict()))
    (out / "entries-public.csv").write_text(row.entries_public)
    (out / "entries.csv").write_text(row.entries_csv)
    (out / "submissions.csv").write_text(draws.submissions_csv(api.svc, "default", "2026-11"))
    (out / "chain.json").write_text(json.dumps(chain.chain.to_dict()))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env = {"DRAW_DIR": str(out), "DRAW_COMMITMENT": row.commitment, "DRAW_ENTRIES_SHA256": row.entries_sha256,
           "DRAW_CHAIN": str(out / "chain.json")}  # fmt: skip
    os.environ.update(env)
    try:
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
    finally:
        for k in env:
            del os.environ[k]
    text = "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "draw verified: all checks hold" in text and "0 to look at" in text
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # by day, by area, reasons / review share


def test_reviewer_corrections_become_a_dataset(api: Api, month: dict[str, str], tmp_path: Path) -> None:
    from meterdata.manifest import load_manifest
    from serving.review_export import export_reviews

    out = tmp_path / "reviews"
    by_people = {sid for sid in month.values() if api.wait(sid)["decided_by"] != "automatic"}
    assert export_reviews(api.svc, out) == len(by_people)
    samples = {s.extra["submission_id"]: s for s in load_manifest(out / "manifest.jsonl")}
    assert set(samples) == by_people  # the reviewer-accepted, the one rejected as unclear, perhaps the repeat
    reviewed = samples[month["reviewed"]]
    assert reviewed.value == api.photos[1].value and reviewed.readable and reviewed.quad is not None
    assert (out / reviewed.image).read_bytes() == api.photos[1].data
    assert api.numbers[1] not in (out / "manifest.jsonl").read_text()  # consumers are not named
    assert month["rejected"] in samples and not samples[month["rejected"]].readable  # rejected as unclear
