"""The reviewers' work on the database: the queue, claims that expire, actions with an audit trail, reopening,
and the figures of the stats page."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

import verification as v
from serving import submissions, tables
from serving.service import Service
from serving.store import PhotoMissing

from .auth import Reviewer

CLAIM_S = 600  # a claimed item is the reviewer's for this long; then anyone may take it
REJECT_REASONS = {
    "unclear_photo": "the photo is not clear enough to read",
    "not_a_meter": "the photo does not show a meter",
    "wrong_meter": "the photo shows another meter",
    "reused_photo": "the photo was sent before",
    "tampering": "tampering suspected",
}


@dataclass(frozen=True)
class Filters:
    reason: str = ""
    area: str = ""
    meter: str = ""  # "<digits>+<decimals>", e.g. "6+1"

    def where(self, reviewer: Reviewer):
        clauses = [tables.Submission.utility == reviewer.utility, tables.Submission.status == v.NEEDS_REVIEW]
        if self.reason:
            clauses.append(tables.Submission.review_reasons.contains(f" {self.reason} "))
        if self.area:
            clauses.append(tables.Consumer.area == self.area)
        if self.meter:
            digits, _, decimals = self.meter.partition("+")
            if digits.isdigit() and decimals.isdigit():
                clauses += [
                    tables.Consumer.meter_digits == int(digits),
                    tables.Consumer.meter_decimals == int(decimals),
                ]
        return and_(*clauses)


def _joined(q):
    return q.join(tables.Consumer, tables.Consumer.number == tables.Submission.consumer_number)


def _free(reviewer: Reviewer, now: datetime):
    return or_(
        tables.Submission.claim_until.is_(None),
        tables.Submission.claim_until < now,
        tables.Submission.claimed_by == reviewer.username,
    )


def queue(
    s: Session, reviewer: Reviewer, filters: Filters, limit: int = 50
) -> list[tuple[tables.Submission, tables.Consumer]]:
    """The oldest items first, with their consumers."""
    q = _joined(select(tables.Submission, tables.Consumer)).where(filters.where(reviewer))
    return list(s.execute(q.order_by(tables.Submission.received_at).limit(limit)).all())


def counts(s: Session, reviewer: Reviewer) -> dict:
    """How many wait, by reason, area and meter kind, and the oldest one's age."""
    rows = s.execute(
        _joined(
            select(
                tables.Submission.review_reasons,
                tables.Consumer.area,
                tables.Consumer.meter_digits,
                tables.Consumer.meter_decimals,
                tables.Submission.received_at,
            )
        ).where(Filters().where(reviewer))
    ).all()
    by_reason: dict[str, int] = {}
    by_area: dict[str, int] = {}
    by_meter: dict[str, int] = {}
    oldest = None
    for reasons, area, digits, decimals, received in rows:
        for code in (reasons or "").split():
            by_reason[code] = by_reason.get(code, 0) + 1
        by_area[area or ""] = by_area.get(area or "", 0) + 1
        by_meter[f"{digits}+{decimals}"] = by_meter.get(f"{digits}+{decimals}", 0) + 1
        oldest = received if oldest is None or received < oldest else oldest
    return {"total": len(rows), "reason": by_reason, "area": by_area, "meter": by_meter, "oldest": oldest}


def claim_next(svc: Service, reviewer: Reviewer, filters: Filters) -> str | None:
    """Claim the oldest free item (not one this reviewer skipped); its id, or None when none is left."""
    now = tables.utcnow()
    for _ in range(5):  # another reviewer may take the same one first: try the next
        with svc.sessions() as s:
            candidate = s.scalar(
                _joined(select(tables.Submission.id))
                .where(filters.where(reviewer), _free(reviewer, now))
                .where(
                    or_(
                        tables.Submission.skipped_by.is_(None),
                        tables.Submission.skipped_by != reviewer.username,
                    )
                )
                .order_by(tables.Submission.received_at)
                .limit(1)
            )
        if candidate is None:
            return None
        if claim(svc, reviewer, candidate):
            return candidate
    return None


def claim(svc: Service, reviewer: Reviewer, submission_id: str) -> bool:
    """Take the item for ``CLAIM_S`` seconds; False if another reviewer holds it (or it is not in review)."""
    now = tables.utcnow()
    with svc.sessions.begin() as s:
        return bool(
            s.execute(
                update(tables.Submission)
                .where(tables.Submission.id == submission_id, tables.Submission.utility == reviewer.utility)
                .where(tables.Submission.status == v.NEEDS_REVIEW, _free(reviewer, now))
                .values(claimed_by=reviewer.username, claim_until=now + timedelta(seconds=CLAIM_S))
            ).rowcount
        )


class ActionRefused(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def act(
    svc: Service,
    reviewer: Reviewer,
    submission_id: str,
    action: str,
    reading: str = "",
    reason: str = "",
    rollover: bool = False,
    new_meter: tuple[int, int] | None = None,
) -> None:
    """Do one reviewer action on a claimed item, and log it. ``ActionRefused`` (nothing changed) if it
    cannot be done: another holds the item, the reading does not fit, the reason is unknown."""
    with svc.sessions() as s:
        sub = _held(s, reviewer, submission_id)
        reader_value = submissions.reader_reading(sub)
        typed = sub.typed_reading
    before = {"status": v.NEEDS_REVIEW, "verified_reading": None}
    if action == "skip":
        with svc.sessions.begin() as s:
            s.execute(
                update(tables.Submission)
                .where(tables.Submission.id == submission_id)
                .values(claimed_by=None, claim_until=None, skipped_by=reviewer.username)
            )
            _log(s, reviewer, submission_id, "skip", before, before, reason)
        return
    if action == "reject":
        if reason not in REJECT_REASONS:
            raise ActionRefused("bad_reason", f"a rejection needs one of: {', '.join(REJECT_REASONS)}")
        value, why = None, REJECT_REASONS[reason]
    else:
        text = {"accept_reader": reader_value, "accept_typed": typed, "correct": reading}.get(action)
        if action not in ("accept_reader", "accept_typed", "correct"):
            raise ActionRefused("bad_action", f"unknown action {action[:20]!r}")
        if not text:
            raise ActionRefused("no_reading", "there is no reading to accept")
        try:
            value, why = v.Reading.parse(text), ""
        except ValueError:
            raise ActionRefused("malformed_reading", f"{text[:24]!r} is not a meter reading") from None
    try:
        submissions.settle(
            svc,
            submission_id,
            reviewer.username,
            value,
            why,
            rollover,
            utility=reviewer.utility,
            action=action,
            own_claim=True,
            new_meter=new_meter,
        )
    except v.ReviewRefused as e:
        raise ActionRefused(e.code, str(e)) from None
    except LookupError:
        raise ActionRefused("not_found", "no such item") from None
    except submissions.ItemClaimed as e:
        raise ActionRefused("not_claimed", str(e)) from None
    except ValueError as e:  # settled by someone else meanwhile, or the claim expired
        raise ActionRefused("not_in_review", str(e)) from None


def _held(s: Session, reviewer: Reviewer, submission_id: str) -> tables.Submission:
    """The item, in review and claimed by this reviewer; else ``ActionRefused``."""
    sub = s.get(tables.Submission, submission_id)
    if sub is None or sub.utility != reviewer.utility:
        raise ActionRefused("not_found", "no such item")
    if sub.status != v.NEEDS_REVIEW:
        raise ActionRefused("not_in_review", f"the item is {sub.status} already")
    if sub.claimed_by != reviewer.username or sub.claim_until is None or sub.claim_until < tables.utcnow():
        raise ActionRefused("not_claimed", "open the item first (or another reviewer holds it)")
    return sub


def regions(reading: dict | None) -> list[list]:
    """The quads a reviewer can pick as the register: the reader's choice first, then the next best, then the
    one the reviewer marked, if any."""
    reading = reading or {}
    first = (reading.get("display") or {}).get("quad")
    marked = reading.get("picked") or {}
    return (
        ([first] if first else [])
        + [o["quad"] for o in reading.get("others") or []]
        + ([marked["quad"]] if marked.get("marked") else [])
    )


def pick_region(
    svc: Service, reviewer: Reviewer, submission_id: str, k: int | None = None, marked: list | None = None
) -> None:
    """The reviewer says region ``k`` of ``regions`` shows the register (0: the reader's own choice), or marks
    where it is (``marked``: a quad in photo pixels, when no region offered was right): the reader reads it
    there, and that reading is what A offers. Logged with the quad: a marked register is training data."""
    if marked is not None:
        try:
            marked = [[round(float(x), 1), round(float(y), 1)] for x, y in marked]
        except (TypeError, ValueError):
            raise ActionRefused("bad_region", "a region is four points [x, y]") from None
    with svc.sessions() as s:
        sub = _held(s, reviewer, submission_id)
        quads = regions(sub.reading)
        if marked is not None:  # a new mark takes the place of an earlier one
            quads = [q for q in quads if not _is_marked(sub.reading, q)]
            k, quads = len(quads), [*quads, marked]
        elif k is None or not 0 <= k < len(quads):
            raise ActionRefused("bad_region", "there is no such region")
        was_marked = marked is not None or _is_marked(sub.reading, quads[k])
        read_again = k > 0 or marked is not None  # region 0 is the reader's own choice, unless it is a mark
        consumer = s.get(tables.Consumer, sub.consumer_number)
        digest = sub.photo_sha256
    try:
        picked = submissions.read_region(svc, digest, quads[k], consumer) if read_again else None
    except PhotoMissing:
        raise ActionRefused("photo_missing", "the photo is missing from the store") from None
    except ValueError as e:  # a marked quad outside the photo, or too small to hold a register
        raise ActionRefused("bad_region", str(e)) from None
    with svc.sessions.begin() as s:
        sub = s.get(tables.Submission, submission_id)
        reading = {key: value for key, value in (sub.reading or {}).items() if key != "picked"}
        if picked is not None:
            where = {"region": k, "quad": quads[k], "by": reviewer.username, "marked": was_marked}
            reading["picked"] = {**picked, **where}
        sub.reading = reading
        state = {"status": v.NEEDS_REVIEW, "verified_reading": None}
        offered = picked.get("offered") if picked else submissions.reader_reading(sub)
        what = f"marked the register at {_quad_words(marked)}" if marked is not None else f"region {k}"
        _log(
            s,
            reviewer,
            submission_id,
            "mark_region" if marked is not None else "pick_region",
            state,
            {**state, "quad": quads[k]} if read_again else state,
            f"{what}: the reader offers {offered}",
            reader_value=offered,
            typed=sub.typed_reading,
        )


def _is_marked(reading: dict | None, quad: list) -> bool:
    marked = (reading or {}).get("picked") or {}
    return bool(marked.get("marked")) and marked.get("quad") == quad


def _quad_words(quad: list) -> str:
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    return f"x {min(xs):.0f}-{max(xs):.0f}, y {min(ys):.0f}-{max(ys):.0f}"


def clear_reuse(svc: Service, supervisor: Reviewer, submission_id: str, why: str) -> None:
    """A supervisor clears the "another consumer's photo" flag of an item in review, with a reason; logged."""
    if not supervisor.supervisor:
        raise ActionRefused("forbidden", "only a supervisor can clear a reused-photo flag")
    if not why.strip():
        raise ActionRefused("no_reason", "say why the flag is cleared")
    with svc.sessions() as s:
        sub = s.get(tables.Submission, submission_id)
        if sub is None or sub.utility != supervisor.utility:
            raise ActionRefused("not_found", "no such item")
    try:
        submissions.clear_reuse(svc, submission_id, supervisor.username, why)
    except ValueError as e:
        raise ActionRefused("not_in_review", str(e)) from None
    state = {"status": v.NEEDS_REVIEW, "verified_reading": None}
    with svc.sessions.begin() as s:
        _log(s, supervisor, submission_id, "clear_reuse", state, state, why)


def reopen(svc: Service, supervisor: Reviewer, submission_id: str, why: str) -> None:
    """A supervisor sends a decided item back to review; billing is told the decision is withdrawn."""
    if not supervisor.supervisor:
        raise ActionRefused("forbidden", "only a supervisor can reopen a decision")
    with svc.sessions() as s:
        sub = s.get(tables.Submission, submission_id)
        if sub is None or sub.utility != supervisor.utility:
            raise ActionRefused("not_found", "no such item")
        before = {"status": sub.status, "verified_reading": sub.verified_reading}
    try:
        submissions.reopen(svc, submission_id, supervisor.username, why)
    except ValueError as e:
        raise ActionRefused("not_decided", str(e)) from None
    with svc.sessions.begin() as s:
        _log(
            s,
            supervisor,
            submission_id,
            "reopen",
            before,
            {"status": v.NEEDS_REVIEW, "verified_reading": None},
            why,
        )


def _log(
    s: Session,
    who: Reviewer,
    submission_id: str,
    action: str,
    before: dict,
    after: dict,
    reason: str = "",
    reader_value: str | None = None,
    typed: str | None = None,
) -> None:
    s.add(
        tables.ReviewAction(
            submission_id=submission_id,
            utility=who.utility,
            username=who.username,
            action=action,
            before=before,
            after=after,
            reason=reason[:500],
            reader_value=reader_value,
            typed=typed,
        )
    )


def audit(
    s: Session,
    reviewer: Reviewer,
    submission_id: str | None = None,
    username: str | None = None,
    limit: int = 200,
) -> list[tables.ReviewAction]:
    q = select(tables.ReviewAction).where(tables.ReviewAction.utility == reviewer.utility)
    if submission_id:
        q = q.where(tables.ReviewAction.submission_id == submission_id)
    if username:
        q = q.where(tables.ReviewAction.username == username)
    return list(s.scalars(q.order_by(tables.ReviewAction.at.desc()).limit(limit)))


def stats(s: Session, reviewer: Reviewer, since: datetime) -> dict:
    """Per reviewer: items cleared, per hour of their active time, agreement with the reader; and the queue."""
    rows = s.execute(
        select(
            tables.ReviewAction.username,
            tables.ReviewAction.action,
            tables.ReviewAction.at,
            tables.ReviewAction.after,
            tables.ReviewAction.reader_value,
        )
        .where(tables.ReviewAction.utility == reviewer.utility, tables.ReviewAction.at >= since)
        .order_by(tables.ReviewAction.at)
    ).all()
    people: dict[str, dict] = {}
    for username, action, at, after, reader_value in rows:
        p = people.setdefault(username, {"cleared": 0, "agree": 0, "accepted": 0, "times": []})
        if action in ("skip", "reopen"):
            continue
        p["cleared"] += 1
        p["times"].append(at)
        if after.get("status") == v.ACCEPTED:
            p["accepted"] += 1
            p["agree"] += int(after.get("verified_reading") == reader_value)
    out = []
    for username, p in sorted(people.items()):
        if not p["cleared"]:
            continue
        span_h = (
            max((p["times"][-1] - p["times"][0]).total_seconds() / 3600, 1 / 60)
            if len(p["times"]) > 1
            else 1 / 60
        )
        out.append(
            {
                "reviewer": username,
                "cleared": p["cleared"],
                "per_hour": p["cleared"] / span_h,
                "agreement": p["agree"] / p["accepted"] if p["accepted"] else None,
            }
        )
    waiting = s.scalars(
        select(tables.Submission.received_at).where(
            tables.Submission.utility == reviewer.utility, tables.Submission.status == v.NEEDS_REVIEW
        )
    ).all()
    now = tables.utcnow()
    ages = sorted((now - r).total_seconds() / 3600 for r in waiting)
    return {
        "reviewers": out,
        "waiting": len(ages),
        "oldest_h": ages[-1] if ages else 0,
        "median_h": statistics.median(ages) if ages else 0,
    }
