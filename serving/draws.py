"""Running a utility's monthly lucky draw on the service's data: commit, close, run, disqualify (the ``draw``
package is the procedure, v2; this module keeps its state in the ``draws`` table)."""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import re
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, or_, select

import draw
from draw.beacon import DEFAULT as LEAGUE_OF_ENTROPY_DEFAULT
from draw.beacon import Beacon, BeaconError, Chain, randomness
from verification import ALREADY_ENTERED, UtilityConfig

from . import tables
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


def _get(s, utility: str, month: str) -> tables.Draw | None:
    return s.scalar(select(tables.Draw).where(tables.Draw.utility == utility, tables.Draw.month == month))


def _utility_exists(s, utility: str) -> bool:
    return bool(
        s.scalar(select(tables.Consumer.number).where(tables.Consumer.utility == utility).limit(1))
        or s.scalar(select(tables.ApiKey.id).where(tables.ApiKey.utility == utility).limit(1))
    )


def commit(
    svc: Service,
    utility: str,
    month: str,
    winners: int,
    reserves: int = 0,
    chain: Chain = LEAGUE_OF_ENTROPY_DEFAULT,
    now: datetime | None = None,
) -> tables.Draw:
    """Keep a new secret seed and record the statement to publish (procedure v2). Only before the month's
    window opens: a late commit is refused (anyone could then know the entries before committing)."""
    now = now or datetime.now(UTC)
    opens, closes = window(svc.utility_config(utility), month)
    if now >= opens:
        raise DrawError(
            f"the {month} window opened at {opens.isoformat()}: a draw is committed before it opens"
        )
    close_from = closes + timedelta(hours=svc.settings.submitted_at_max_age_h)
    close_by = close_from + timedelta(hours=svc.settings.draw_close_within_h)
    try:
        c = draw.v2.commit(utility, month, now, opens, close_from, close_by, winners, reserves, chain)
    except ValueError as e:
        raise DrawError(str(e)) from None
    with svc.sessions.begin() as s:
        if not _utility_exists(s, utility):
            raise DrawError(f"there is no utility {utility[:32]!r} (no consumers, no API keys)")
        if _get(s, utility, month) is not None:
            raise DrawError(f"the {month} draw of {utility} is already committed")
        row = tables.Draw(
            utility=utility,
            month=month,
            seed=c.seed,
            commitment=c.digest,
            statement=c.statement,
            committed_at=c.statement["committed_at"],
            window_opens=c.statement["window_opens"],
        )
        s.add(row)
    return row


def eligible(s, utility: str, month: str) -> list[draw.Entry]:
    """The month's entries: one per consumer, its first eligible decision. A decision refused only because
    the consumer had entered already counts too: if the earlier one was later rejected, this one enters."""
    rows = s.execute(
        select(tables.Submission.consumer_number, tables.Submission.id, tables.Submission.decided_at).where(
            tables.Submission.utility == utility,
            tables.Submission.month == month,
            tables.Submission.status == "accepted",
            or_(
                tables.Submission.lucky_draw_eligible.is_(True),
                tables.Submission.decision["lucky_draw_reason"].as_string() == ALREADY_ENTERED,
            ),
        )
    ).all()
    return draw.pick_entries(rows, utility, month)


def _statement(row: tables.Draw) -> dict:
    if row.statement is None:
        raise DrawError(f"the {row.month} draw follows procedure v1: this version only verifies its report")
    return row.statement


def close(svc: Service, utility: str, month: str, now: datetime | None = None) -> tables.Draw:
    """Freeze the month's entries: the private list (consumers) and the public file (hashed receipt ids),
    whose hash is published now, before the drand round exists. Only between the statement's ``close_from``
    and ``close_by``, and with no submission of the month awaiting a decision or a reviewer."""
    now = now or datetime.now(UTC)
    with svc.sessions.begin() as s:
        row = _get(s, utility, month)
        if row is None:
            raise DrawError(f"commit the {month} draw first")
        st = _statement(row)
        if row.closed_at is not None:
            raise DrawError(f"the {month} draw is already closed")
        if now < datetime.fromisoformat(st["close_from"]):
            raise DrawError(f"submissions of {month} may still arrive: close from {st['close_from']}")
        if now > datetime.fromisoformat(st["close_by"]):
            raise DrawError(
                f"the statement fixed closing by {st['close_by']}; it is too late to close this draw"
            )
        waiting = s.scalar(
            select(func.count()).where(
                tables.Submission.utility == utility,
                tables.Submission.month == month,
                tables.Submission.status.in_(("received", "processing", "needs_review")),
            )
        )
        if waiting and not svc.settings.draw_allow_pending:
            raise DrawError(f"{waiting} submission(s) of {month} are not decided yet (some await review)")
        entries = eligible(s, utility, month)
        public = draw.v2.public_entries([e.submission_id for e in entries])
        row.entries_csv = draw.canonical_csv(entries).decode()
        row.entries_public = public.decode()
        row.entries_sha256 = hashlib.sha256(public).hexdigest()
        row.closed_at = now
    return row


def is_closed(s, utility: str, month: str) -> bool:
    """Whether the month's entries are frozen: a decision made now cannot enter that draw."""
    return bool(
        s.scalar(
            select(func.count()).where(
                tables.Draw.utility == utility, tables.Draw.month == month, tables.Draw.closed_at.is_not(None)
            )
        )
    )


def run(
    svc: Service, utility: str, month: str, beacon: Beacon, now: datetime | None = None
) -> draw.v2.Report:
    """Verify the committed drand round's signature and draw. Every input was fixed before: running again
    (even after the stored report is cleared) gives the same report."""
    now = now or datetime.now(UTC)
    with svc.sessions.begin() as s:
        row = _get(s, utility, month)
        if row is None or row.closed_at is None:
            raise DrawError(f"commit and close the {month} draw first")
        st = _statement(row)
        if row.report is not None:
            raise DrawError(f"the {month} draw was already run")
        chain = Chain.from_dict({k: v for k, v in st["beacon"].items() if k not in ("round", "round_time")})
        try:
            value = randomness(chain, beacon)
        except BeaconError as e:
            raise DrawError(str(e)) from None
        reopened = s.scalars(  # by any door: the UI, the API, a script
            select(tables.Event.submission_id).where(
                tables.Event.utility == utility,
                tables.Event.type == tables.EVENT_REOPENED,
                tables.Event.created_at > row.closed_at,
            )
        ).all()
        commitment = draw.v2.Commitment(st, row.seed)
        try:
            report = draw.v2.run(
                commitment,
                row.closed_at,
                row.entries_public.encode(),
                beacon,
                value,
                [draw.v2.entry_id(r) for r in reopened],
            )
        except ValueError as e:
            raise DrawError(str(e)) from None
        row.report, row.run_at = report.to_dict(), now
        # A drawn entry reopened and rejected since the close is out already, by the rule that applies after.
        entries = entries_by_id(row)
        drawn = [entries[p["entry"]].submission_id for p in report.winners + report.reserves]
        rejected = s.scalars(
            select(tables.Submission.id)
            .where(tables.Submission.id.in_(drawn), tables.Submission.status == "rejected")
            .order_by(tables.Submission.id)
        )
        for sid in rejected:
            _disqualify(
                row,
                draw.v2.entry_id(sid),
                "the draw run",
                "its decision was reopened and rejected before the draw ran",
                now,
            )
        return draw.v2.Report.from_dict(row.report)


def disqualify(s, sub: tables.Submission, by: str, why: str) -> bool:
    """A drawn entry whose decision was reopened and rejected after the run loses its place (the next
    reserve moves up, by the procedure's rule); the record is added to the report. True if it was drawn."""
    row = _get(s, sub.utility, sub.month or "")
    if row is None or row.report is None or row.statement is None:
        return False
    return _disqualify(row, draw.v2.entry_id(sub.id), by, why, tables.utcnow())


def _disqualify(row: tables.Draw, entry: str, by: str, why: str, at: datetime) -> bool:
    report = draw.v2.Report.from_dict(copy.deepcopy(row.report))  # a new value: the JSON column sees it
    drawn = {p["entry"] for p in report.winners + report.reserves}
    if entry not in drawn or entry in {d["entry"] for d in report.disqualified}:
        return False
    report.disqualified.append(
        {"entry": entry, "why": why[:200], "at": at.isoformat(timespec="seconds"), "by": by[:64]}
    )
    row.report = report.to_dict()
    return True


def entries_by_id(row: tables.Draw) -> dict[str, draw.Entry]:
    """Entry (hashed receipt id) -> the private entry behind it (consumer, submission): for analysts only."""
    entries = draw.parse_entries(row.entries_csv.encode()) if row.entries_csv else []
    return {draw.v2.entry_id(e.submission_id): e for e in entries}


def consumers_by_entry(row: tables.Draw) -> dict[str, str]:
    """Entry (hashed receipt id) -> consumer number."""
    return {entry: e.consumer_number for entry, e in entries_by_id(row).items()}


def get(svc: Service, utility: str, month: str) -> tables.Draw | None:
    with svc.sessions() as s:
        return _get(s, utility, month)


SUBMISSION_COLUMNS = (
    "submission_id",
    "consumer_number",
    "area",
    "submitted_at",
    "local_day",
    "channel",
    "status",
    "decided_by",
    "lucky_draw_eligible",
    "lucky_draw_reason",
    "reasons",
)


def submissions_csv(svc: Service, utility: str, month: str) -> str:
    """Every decided submission of the month, for analysts: who, where, when, how decided, why (not) eligible."""
    config = svc.utility_config(utility)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUBMISSION_COLUMNS)
    with svc.sessions() as s:
        rows = s.execute(
            select(tables.Submission, tables.Consumer.area)
            .join(tables.Consumer, tables.Consumer.number == tables.Submission.consumer_number)
            .where(tables.Submission.utility == utility, tables.Submission.month == month)
            .order_by(tables.Submission.submitted_at)
        ).all()
        for sub, area in rows:
            decision = sub.decision or {}
            writer.writerow(
                (
                    sub.id,
                    sub.consumer_number,
                    area or "",
                    sub.submitted_at.isoformat(),
                    sub.submitted_at.astimezone(config.window.tz).day,
                    sub.channel,
                    sub.status,
                    (decision.get("decided_by") or ""),
                    sub.lucky_draw_eligible,
                    decision.get("lucky_draw_reason") or "",
                    " ".join(r["code"] for r in decision.get("reasons", [])),
                )
            )
    return out.getvalue()
