"""Demo data for the embedded service: consumers with a reading history, matching photos, and API keys.

The photos are synthetic (seed 2026, never trained on) and land in ``var/demo/photos/<consumer>.jpg``; each
consumer's history ends a month before the reading on its photo, with plausible daily use. The last two are
photos the shipped models cannot read with confidence, so a demo shows the review path too.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from meterdata.synth.scene import render_photo
from serving import consumers, keys, tables
from serving.service import Service
from verification import Reading

DEMO_SEED = 2026
DEMO_UTILITY = keys.DEFAULT_UTILITY


@dataclass
class Demo:
    billing_key: str
    admin_key: str
    reviewer_key: str
    photos: list[tuple[str, str, str]]  # (path, consumer number, reading on the photo)
    review_password: str = ""  # of demo-reviewer and demo-supervisor, new at every start


def _history_csv(rows: list[tuple[str, Reading]], today: datetime) -> str:
    lines = ["consumer_number,date,reading"]
    for number, reading in rows:
        step = 10**reading.decimals
        for months_ago, used_kwh in ((3, 700), (2, 480), (1, 240)):  # about 8 kWh a day
            units = max(0, reading.units - used_kwh * step)
            day = (today - timedelta(days=30 * months_ago)).date()
            lines.append(f"{number},{day.isoformat()},{Reading(units, reading.decimals)}")
    return "\n".join(lines) + "\n"


def seed(svc: Service, n: int = 8) -> Demo:
    folder = svc.settings.var_dir / "demo" / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    # Mostly photos the shipped models read clearly (they are accepted when typed right), and a few they
    # do not (they go to review), so the demo shows both paths.
    clear, unclear = [], []
    for index in range(200):
        if len(clear) >= n - 2 and len(unclear) >= 2:
            break
        data, sample = render_photo(DEMO_SEED, index, size=(1280, 960), split="test")
        if not (sample.readable and sample.mode == "kwh" and sample.digits) or float(sample.value) < 1000:
            continue  # big enough for a few months of history below it
        reading = svc.reader.read(data)
        is_clear = (
            reading.readable
            and reading.value == sample.value
            and reading.confidence >= 0.9
            and not reading.quality
        )
        (clear if is_clear else unclear).append((data, sample.digits, sample.value))
    chosen = clear[: n - 2] + unclear[:2]
    found = [(f"DEMO-{i + 1:04d}", *photo) for i, photo in enumerate(chosen)]
    consumers_csv = "consumer_number,meter_digits,meter_decimals,sanctioned_load_kw\n" + "".join(
        f"{number},{len(digits)},{Reading.parse(value).decimals},5\n" for number, _, digits, value in found
    )
    history = _history_csv(
        [(number, Reading.parse(value)) for number, _, _, value in found], datetime.now(UTC)
    )
    photos = []
    for number, data, _, value in found:
        path = folder / f"{number}.jpg"
        path.write_bytes(data)
        photos.append((str(path), number, value))
    consumers.import_csv(
        svc.sessions, DEMO_UTILITY, io.StringIO(consumers_csv), io.StringIO(history), svc.decision_lock
    )
    with svc.sessions.begin() as s:
        # Fresh keys each start; the last start's demo keys stop working rather than pile up.
        s.execute(
            update(tables.ApiKey)
            .where(tables.ApiKey.name.startswith("demo "), tables.ApiKey.revoked_at.is_(None))
            .values(revoked_at=tables.utcnow())
        )
        made = {
            scope: keys.create_key(s, f"demo {scope}", [scope], DEMO_UTILITY)
            for scope in ("billing", "admin", "reviewer")
        }
        password = secrets.token_urlsafe(12)
        _demo_users(s, password)
    return Demo(made["billing"], made["admin"], made["reviewer"], photos, password)


def _demo_users(s, password: str) -> None:
    """Review UI accounts for the demo, with a fresh password (old sessions end)."""
    from review_ui.auth import create_user, hash_password

    for name, role in (("demo-reviewer", "reviewer"), ("demo-supervisor", "supervisor")):
        user = s.scalar(select(tables.User).where(tables.User.username == name))
        if user is None:
            create_user(s, name, password, role, DEMO_UTILITY)
        else:
            user.password_hash, user.session_epoch = hash_password(password), user.session_epoch + 1
