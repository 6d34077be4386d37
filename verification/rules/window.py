"""The self-reading window: days of the month, in the utility's time zone."""

from __future__ import annotations

from datetime import date, datetime

from ..config import Window


def local_date(when: datetime, window: Window) -> date:
    if when.tzinfo is None:
        raise ValueError("submission times must be timezone-aware")
    return when.astimezone(window.tz).date()


def in_window(day: date, window: Window) -> bool:
    return window.first_day <= day.day <= window.last_day
