"""The draw: reproducible, uniform, and every tampering named by the verifier."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from scipy.stats import chisquare

from draw import Entry, canonical_csv, commit, mask, parse_entries, pick_entries, run, to_html, verify
from draw.verify import FIELDS


def _entries(n: int = 30) -> list[Entry]:
    return [Entry(f"C{i:05d}", f"sub-{i}", "msedcl", "2026-11") for i in range(n)]


def _report(n: int = 30, winners: int = 3, reserves: int = 2, public: str = "lottery 2026-12-06: 48213"):
    c = commit("msedcl", "2026-11", "2026-10-30T12:00:00+00:00", "2026-10-31T18:30:00+00:00")
    entries = _entries(n)
    return run(c, entries, winners, reserves, public), canonical_csv(entries), c


def test_a_fair_draw_verifies_and_is_reproducible() -> None:
    report, data, c = _report()
    assert verify(report.to_dict(), data, published_commitment=c.digest) == []
    again = run(c, list(reversed(parse_entries(data))), 3, 2, report.public_value)
    assert again == report  # the same seed, entries and public value: the same winners
    assert len({p["consumer_number"] for p in report.winners + report.reserves}) == 5
    assert report.committed_before_window


def _tampered(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return (value[:-1] + ("0" if value[-1:] != "0" else "1")) if value else "x"
    if isinstance(value, list):
        return (
            value[::-1]
            if len(value) > 1
            else value + [{"rank": 9, "consumer_number": "C00001", "submission_id": "s"}]
        )
    raise TypeError(value)


@pytest.mark.parametrize("field", FIELDS)
def test_tampering_with_any_field_of_the_report_is_named(field: str) -> None:
    report, data, c = _report()
    changed = report.to_dict()
    changed[field] = _tampered(changed[field])
    failures = verify(changed, data, published_commitment=c.digest)
    assert failures, f"changing {field} went unnoticed"


@pytest.mark.parametrize("part", ["consumer_number", "submission_id"])
def test_changing_one_winner_is_named(part: str) -> None:
    report, data, _ = _report()
    changed = report.to_dict()
    changed["winners"][1][part] = "C99999" if part == "consumer_number" else "forged"
    assert [f.check for f in verify(changed, data, report.commitment)] == ["winners"]


def test_a_seed_that_does_not_match_its_commitment_is_named() -> None:
    report, data, c = _report()
    other = run(commit("msedcl", "2026-11", c.committed_at, c.window_opens), parse_entries(data), 3, 2)
    forged = {**other.to_dict(), "commitment": report.commitment}  # a new seed under the old commitment
    assert "commitment" in [f.check for f in verify(forged, data, c.digest)]
    # A complete forgery (new seed, its own commitment): only the published commitment tells it apart.
    assert [f.check for f in verify(other.to_dict(), data, None)] == ["published_commitment"]
    assert [f.check for f in verify(other.to_dict(), data, c.digest)] == ["published_commitment"]


def test_tampering_with_the_entries_file_is_named() -> None:
    report, data, _ = _report()
    lines = data.decode().splitlines(keepends=True)
    added = canonical_csv([*_entries(30), Entry("C99999", "sneaky", "msedcl", "2026-11")])
    removed = "".join(lines[:5] + lines[6:]).encode()
    changed = data.replace(b"sub-7", b"sub-8")
    for name, bad in (("added", added), ("removed", removed), ("changed", changed)):
        checks = [f.check for f in verify(report.to_dict(), bad, report.commitment)]
        assert "entries_sha256" in checks, name
    unsorted = b"".join([lines[0].encode(), *[ln.encode() for ln in reversed(lines[1:])]])
    assert "entries_file" in [f.check for f in verify(report.to_dict(), unsorted, report.commitment)]


def test_every_entry_wins_equally_often() -> None:
    n, draws, wins = 20, 4000, Counter()
    entries = _entries(n)
    for i in range(draws):
        c = commit("msedcl", "2026-11", "t", "w", seed=f"{i:064x}")
        for p in run(c, entries, winners=1).winners:
            wins[p["consumer_number"]] += 1
    counts = [wins[e.consumer_number] for e in entries]
    assert chisquare(counts).pvalue > 0.001, counts
    ranks = Counter()  # and the rank-3 pick is uniform too (no bias from removal order)
    for i in range(draws):
        c = commit("msedcl", "2026-11", "t", "w", seed=f"{i + 10**6:064x}")
        ranks[run(c, entries, winners=3).winners[2]["consumer_number"]] += 1
    assert chisquare([ranks[e.consumer_number] for e in entries]).pvalue > 0.001


def test_one_entry_per_consumer_the_first_decided() -> None:
    t = datetime(2026, 11, 2, tzinfo=UTC)
    eligible = [("C2", "b", t + timedelta(hours=2)), ("C1", "a", t), ("C2", "c", t + timedelta(hours=1))]
    assert pick_entries(eligible, "msedcl", "2026-11") == [
        Entry("C1", "a", "msedcl", "2026-11"),
        Entry("C2", "c", "msedcl", "2026-11"),
    ]


def test_the_public_page_masks_consumer_numbers() -> None:
    report, _, _ = _report()
    public, full = to_html(report), to_html(report, public=False)
    winner = report.winners[0]["consumer_number"]
    assert winner not in public and mask(winner) in public and report.seed in public
    assert winner in full and report.winners[0]["submission_id"] in full


def test_a_report_missing_a_field_is_refused() -> None:
    report, data, _ = _report()
    broken = copy.deepcopy(report.to_dict())
    del broken["seed"]
    assert [f.check for f in verify(broken, data, report.commitment)] == ["report_fields"]
