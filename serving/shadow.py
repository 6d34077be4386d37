"""The shadow report: a candidate reader ran beside the served one on live submissions (``reading.shadow``);
where they disagree, with the photos, and how each did where a reviewer settled the reading."""

from __future__ import annotations

import html
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select

from . import tables
from .service import Service
from .store import PhotoMissing, StoreUnavailable


def _thumb(svc: Service, digest: str, path: Path) -> bool:
    try:
        data = svc.store.get(digest)
    except (PhotoMissing, StoreUnavailable):
        return False
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return False
    scale = 480 / max(image.shape[:2])
    cv2.imwrite(str(path), cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
    return True


def report(svc: Service, out: Path, limit: int = 5000) -> str:
    """Write ``out/report.html`` (and thumbnails); returns a one-paragraph summary."""
    (out / "photos").mkdir(parents=True, exist_ok=True)
    with svc.sessions() as s:
        rows = s.scalars(
            select(tables.Submission)
            .where(tables.Submission.decided_at.is_not(None))
            .order_by(tables.Submission.decided_at.desc())
            .limit(limit)
        ).all()
    compared = [r for r in rows if (r.reading or {}).get("shadow")]
    disagree, settled = [], {"served": 0, "shadow": 0, "n": 0}
    for sub in compared:
        served, shadow = sub.reading.get("value"), sub.reading["shadow"].get("value")
        by_person = (sub.decision or {}).get(
            "decided_by", "automatic"
        ) != "automatic" and sub.verified_reading
        if by_person:
            settled["n"] += 1
            settled["served"] += served == sub.verified_reading
            settled["shadow"] += shadow == sub.verified_reading
        if served != shadow:
            disagree.append(sub)
    versions = sorted({sub.reading["shadow"]["version"] for sub in compared})
    rate = lambda k: f"{settled[k] / settled['n']:.0%}" if settled["n"] else "n/a"  # noqa: E731
    summary = (
        f"{len(compared)} submissions read by both (shadow version {', '.join(versions) or '-'}); "
        f"{len(disagree)} disagree. On {settled['n']} settled by reviewers: served right {rate('served')}, "
        f"shadow right {rate('shadow')}. Report: {out / 'report.html'}"
    )
    rows_html = []
    for sub in disagree[:300]:
        name = f"photos/{sub.id}.jpg"
        img = (
            f'<img src="{name}" width="240">'
            if _thumb(svc, sub.photo_sha256, out / name)
            else "(photo missing)"
        )
        truth = sub.verified_reading if (sub.decision or {}).get("decided_by") != "automatic" else ""
        rows_html.append(
            f"<tr><td>{img}</td><td><code>{html.escape(sub.id[:8])}</code></td><td>{html.escape(sub.typed_reading)}</td>"
            f"<td>{html.escape(str(sub.reading.get('value')))}</td><td>{html.escape(str(sub.reading['shadow'].get('value')))}</td>"
            f"<td>{html.escape(truth or '')}</td></tr>"
        )
    (out / "report.html").write_text(
        "<!doctype html><meta charset=utf-8><title>Shadow reader report</title>"
        "<style>body{font:14px system-ui;margin:2rem}td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}</style>"
        f"<h1>Shadow reader</h1><p>{html.escape(summary)}</p>"
        "<table><tr><th>photo</th><th>submission</th><th>typed</th><th>served read</th><th>shadow read</th>"
        f"<th>reviewer</th></tr>{''.join(rows_html)}</table>"
    )
    return summary
