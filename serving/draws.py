"""Running a utility's monthly lucky draw on the service's data: commit, close, run (the ``draw`` package does
the procedure; this module keeps its state in the ``draws`` table)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

import draw
from verification import UtilityConfig

from . import db
from .service import Service

MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")


class DrawError(ValueError):
    pass


def _month(month: str) -> tuple[int, int]:
    m = MONTH.match(month)
    if not m:
        raise DrawError("month is YYYY-MM, e.g. 2026-11")
    return int(m.group(1)), int(m.group(2))


def window(config: UtilityConfig, month: str) -> tuple[datetime, datetime]:
    """When the month's self-reading window opens and closes, in UTC."""
    year, mon = _month(month)
    w = config.window
    opens = datetime.combine(datetime(year, mon, w.first_day).date(), time(), w.tz)
    closes = datetime.combine(datetime(year, mon, w.last_day).date(), time(), w.tz) + timedelta(days=1)
    return opens.astimezone(UTC), closes.astimezone(UTC)


def _get(s, utility: str, month: str) -> db.Draw | None:
    return s.scalar(select(db.Draw).where(db.Draw.utility == utility, db.Draw.month == month))


def commit(svc: Service, utility: str, month: str, allow_late: bool = False) -> db.Draw:
    """Keep a new secret seed and record its commitment. Before the window opens; ``allow_late`` commits
    after (the report then says so, for everyone to see)."""
    opens, _ = window(svc.utility_config(utility), month)
    now = datetime.now(UTC)
    if now >= opens and not allow_late:
        raise DrawError(f"the {month} window opened at {opens.isoformat()}: commit before it opens")
    c = draw.commit(utility, month, now.isoformat(timespec="seconds"), opens.isoformat(timespec="seconds"))
    with svc.sessions.begin() as s:
        if _get(s, utility, month) is not None:
            raise DrawError(f"the {month} draw of {utility} is already committed")
        row = db.Draw(utility=utility, month=month, seed=c.seed, commitment=c.digest,
                      committed_at=c.committed_at, window_opens=c.window_opens)  # fmt: skip
        s.add(row)
    return row


def eligible(s, utility: str, month: str) -> list[draw.Entry]:
    rows = s.execute(
        select(db.Submission.consumer_number, db.Submission.id, db.Submission.decided_at).where(
            db.Submission.utility == utility,
            db.Submission.month == month,
            db.Submission.status == "accepted",
            db.Submission.lucky_draw_eligible.is_(True),
        )
    ).all()
    return draw.pick_entries(rows, utility, month)


def close(svc: Service, utility: str, month: str, allow_pending: bool = False) -> db.Draw:
    """Freeze the month's entries. Refused before the window has closed, and while submissions of the month
    still wait for a decision or a reviewer (``allow_pending`` closes anyway: they miss the draw)."""
    _, closes = window(svc.utility_config(utility), month)
    if datetime.now(UTC) < closes:
        raise DrawError(f"the {month} window closes at {closes.isoformat()}: close the draw after it")
    with svc.sessions.begin() as s:
        row = _get(s, utility, month)
        if row is None:
            raise DrawError(f"commit the {month} draw first")
        if row.closed_at is not None:
            raise DrawError(f"the {month} draw is already closed")
        waiting = s.scalar(
            select(func.count()).where(
                db.Submission.utility == utility,
                db.Submission.month == month,
                db.Submission.status.in_(("received", "processing", "needs_review")),
            )
        )
        if waiting and not allow_pending:
            raise DrawError(f"{waiting} submission(s) of {month} are not decided yet (some await review)")
        data = draw.canonical_csv(eligible(s, utility, month))
        row.entries_csv, row.entries_sha256 = data.decode(), draw.entries_sha256(data)
        row.closed_at = db.utcnow()
    return row


def run(
    svc: Service, utility: str, month: str, winners: int, reserves: int = 0, public_value: str = ""
) -> draw.Report:
    """Reveal the seed and draw from the frozen entries; the report is kept."""
    with svc.sessions.begin() as s:
        row = _get(s, utility, month)
        if row is None or row.closed_at is None:
            raise DrawError(f"commit and close the {month} draw first")
        if row.report is not None:
            raise DrawError(f"the {month} draw was already run")
        entries = draw.parse_entries(row.entries_csv.encode())
        if winners < 1 or reserves < 0 or winners + reserves > len(entries):
            raise DrawError(
                f"cannot draw {winners} winners and {reserves} reserves from {len(entries)} entries"
            )
        c = draw.Commitment(draw.PROCEDURE, utility, month, row.committed_at, row.window_opens, row.seed)
        report = draw.run(c, entries, winners, reserves, public_value)
        if report.commitment != row.commitment or report.entries_sha256 != row.entries_sha256:
            raise DrawError("the stored draw does not match its commitment or entries")  # never expected
        row.report, row.run_at = report.to_dict(), db.utcnow()
    return report


def get(svc: Service, utility: str, month: str) -> db.Draw | None:
    with svc.sessions() as s:
        return _get(s, utility, month)


SUBMISSION_COLUMNS = (
    "submission_id", "consumer_number", "area", "submitted_at", "local_day", "channel", "status", "decided_by",
    "lucky_draw_eligible", "lucky_draw_reason", "reasons",
)  # fmt: skip


def submissions_csv(svc: Service, utility: str, month: str) -> str:
    """Every decided submission of the month, for analysts: who, where, when, how decided, why (not) eligible."""
    config = svc.utility_config(utility)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUBMISSION_COLUMNS)
    with svc.sessions() as s:
        rows = s.execute(
            select(db.Submission, db.Consumer.area)
            .join(db.Consumer, db.Consumer.number == db.Submission.consumer_number)
            .where(db.Submission.utility == utility, db.Submission.month == month)
            .order_by(db.Submission.submitted_at)
        ).all()
        for sub, area in rows:
            decision = sub.decision or {}
            writer.writerow((
                sub.id, sub.consumer_number, area or "", sub.submitted_at.isoformat(),
                sub.submitted_at.astimezone(config.window.tz).day, sub.channel, sub.status,
                (decision.get("decided_by") or ""), sub.lucky_draw_eligible, decision.get("lucky_draw_reason") or "",
                " ".join(r["code"] for r in decision.get("reasons", [])),
            ))  # fmt: skip
    return out.getvalue()
