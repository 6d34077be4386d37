"""The lucky draw for analysts: the commitment (published before the window), the frozen entries, the report,
and every submission of the month for an audit. Each utility sees its own draw."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, PlainTextResponse

import draw
from draw.page import to_html

from ... import draws
from ..deps import AnalystKey, ServiceDep, acting_for, error
from ..schemas import DrawOut

router = APIRouter(prefix="/v1/draws", tags=["lucky draw"])
MonthPath = Annotated[str, Path(pattern=r"^20\d\d-(0[1-9]|1[0-2])$", description="YYYY-MM")]
UtilityQuery = Annotated[str | None, Query(max_length=32, description="Operator keys only: whose draw")]
_404 = {404: {"description": "No draw for that month (or not yet at that stage)"}}


def _draw(svc, key, utility: str | None, month: str):
    row = draws.get(svc, acting_for(key, utility), month)
    if row is None:
        raise error(404, "not_found", f"no draw committed for {month}")
    return row


@router.get("/{month}", response_model=DrawOut, responses=_404)
def get_draw(month: MonthPath, svc: ServiceDep, key: AnalystKey, utility: UtilityQuery = None) -> DrawOut:
    """The draw's state: the commitment from the start; the entries' hash once closed; the report once run."""
    row = _draw(svc, key, utility, month)
    return DrawOut(
        utility=row.utility,
        month=row.month,
        commitment=row.commitment,
        statement=row.statement,
        committed_at=row.committed_at,
        window_opens=row.window_opens,
        entries_sha256=row.entries_sha256,
        closed_at=row.closed_at.isoformat() if row.closed_at else None,
        report=row.report,
    )


@router.get("/{month}/entries", response_class=PlainTextResponse, responses=_404)
def draw_entries(month: MonthPath, svc: ServiceDep, key: AnalystKey, utility: UtilityQuery = None) -> str:
    """The frozen entries file (canonical CSV), as hashed into the report."""
    row = _draw(svc, key, utility, month)
    if row.entries_csv is None:
        raise error(404, "not_closed", f"the {month} draw is not closed yet")
    return PlainTextResponse(row.entries_csv, media_type="text/csv")


@router.get("/{month}/entries-public", response_class=PlainTextResponse, responses=_404)
def draw_entries_public(
    month: MonthPath, svc: ServiceDep, key: AnalystKey, utility: UtilityQuery = None
) -> str:
    """The public entries file (v2): hashed receipt ids, the file the draw runs over; to publish."""
    row = _draw(svc, key, utility, month)
    if row.entries_public is None:
        raise error(404, "not_closed", f"the {month} draw is not closed yet (or follows procedure v1)")
    return PlainTextResponse(row.entries_public, media_type="text/csv")


@router.get("/{month}/report.html", response_class=HTMLResponse, responses=_404)
def draw_page(
    month: MonthPath,
    svc: ServiceDep,
    key: AnalystKey,
    utility: UtilityQuery = None,
    public: Annotated[bool, Query(description="For publication: entries by hashed receipt id only")] = True,
) -> HTMLResponse:
    """The report as a page: public (numbers masked) or full, for analysts."""
    row = _draw(svc, key, utility, month)
    if row.report is None:
        raise error(404, "not_run", f"the {month} draw has not been run yet")
    if row.statement is None:  # a v1 draw
        return HTMLResponse(draw.to_html(draw.Report.from_dict(row.report), public=public))
    tz = svc.utility_config(row.utility).window.tz
    consumers = None if public else draws.consumers_by_entry(row)
    return HTMLResponse(to_html(draw.v2.Report.from_dict(row.report), tz, consumers))


@router.get("/{month}/submissions", response_class=PlainTextResponse)
def month_submissions(
    month: MonthPath, svc: ServiceDep, key: AnalystKey, utility: UtilityQuery = None
) -> str:
    """Every decided submission of the month as CSV: consumer, area, day, channel, status, who decided,
    lucky-draw eligibility and the reason, the decision's reason codes."""
    return PlainTextResponse(
        draws.submissions_csv(svc, acting_for(key, utility), month), media_type="text/csv"
    )
