"""The lucky draw on the service's own decisions: who gets an entry, commit/close/run, the analysts' API, the
audit notebook executed on the result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import draw
from serving import draws, keys

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


def test_commit_close_run_and_the_analysts_api(api: Api, month: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(draws.DrawError, match="window opened"):
        draws.commit(api.svc, "default", "2026-11")  # the 2026-11 window is long open
    row = draws.commit(api.svc, "default", "2026-11", allow_late=True)
    with pytest.raises(draws.DrawError, match="already committed"):
        draws.commit(api.svc, "default", "2026-11", allow_late=True)
    seen = api.client.get("/v1/draws/2026-11", headers=api.analyst).json()
    assert seen["commitment"] == row.commitment and seen["report"] is None
    assert "seed" not in json.dumps(seen)  # secret until the draw
    with pytest.raises(draws.DrawError, match="close"):
        draws.run(api.svc, "default", "2026-11", winners=1)
    closed = draws.close(api.svc, "default", "2026-11")
    report = draws.run(api.svc, "default", "2026-11", winners=2, reserves=1, public_value="48213")
    entries = api.client.get("/v1/draws/2026-11/entries", headers=api.analyst)
    assert entries.status_code == 200 and draw.entries_sha256(entries.content) == closed.entries_sha256
    published = api.client.get("/v1/draws/2026-11", headers=api.analyst).json()
    assert draw.verify(published["report"], entries.content, published_commitment=row.commitment) == []
    assert report.committed_before_window is False  # said openly: committed late
    page = api.client.get("/v1/draws/2026-11/report.html", headers=api.analyst).text
    assert (
        report.winners[0]["consumer_number"] not in page
        and draw.mask(report.winners[0]["consumer_number"]) in page
    )
    assert api.client.get("/v1/draws/2026-11", headers=api.billing).status_code == 403
    with api.svc.sessions.begin() as s:
        other = bearer(keys.create_key(s, "north analyst", ["analyst"], "north"))
    assert api.client.get("/v1/draws/2026-11", headers=other).status_code == 404
    subs = api.client.get("/v1/draws/2026-11/submissions", headers=api.analyst).text.splitlines()
    assert subs[0].startswith("submission_id,consumer_number,area") and len(subs) == 1 + len(month)


def _verify_cli(report: Path, entries: Path) -> subprocess.CompletedProcess:
    exe = EXE if Path(EXE).exists() else shutil.which("meterverify")
    return subprocess.run([exe, "draw", "verify", str(report), str(entries)], capture_output=True, text=True)


def test_the_audit_notebook_runs_on_the_month(api: Api, month: dict[str, str], tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    draws.commit(api.svc, "default", "2026-11", allow_late=True)
    draws.close(api.svc, "default", "2026-11")
    report = draws.run(api.svc, "default", "2026-11", winners=2, reserves=1)
    out = tmp_path / "export"
    out.mkdir()
    row = draws.get(api.svc, "default", "2026-11")
    (out / "report.json").write_text(json.dumps(report.to_dict()))
    (out / "entries.csv").write_text(row.entries_csv)
    (out / "submissions.csv").write_text(draws.submissions_csv(api.svc, "default", "2026-11"))
    ok = _verify_cli(out / "report.json", out / "entries.csv")
    assert ok.returncode == 0 and ok.stdout.startswith("ok: default 2026-11, 3 entries"), ok.stderr
    tampered = json.loads((out / "report.json").read_text())
    tampered["winners"][0]["consumer_number"] = "X-1"
    (tmp_path / "bad.json").write_text(json.dumps(tampered))
    bad = _verify_cli(tmp_path / "bad.json", out / "entries.csv")
    assert bad.returncode == 1 and "FAILED winners" in bad.stderr

    nb = nbformat.read(NOTEBOOK, as_version=4)
    os.environ["DRAW_DIR"] = str(out)
    try:
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
    finally:
        del os.environ["DRAW_DIR"]
    text = "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "draw verified: all checks hold" in text
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
