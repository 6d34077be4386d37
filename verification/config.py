"""Verification thresholds per utility, from TOML, with documented defaults (``default.toml``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

DEFAULTS = Path(__file__).with_name("default.toml")


@dataclass(frozen=True)
class Window:
    first_day: int = 1
    last_day: int = 5
    timezone: str = "Asia/Kolkata"

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.timezone)


@dataclass(frozen=True)
class ReaderLimits:
    min_digit_confidence: float = 0.9
    min_reading_confidence: float = 0.9


@dataclass(frozen=True)
class HistoryLimits:
    max_load_factor: float = 1.0
    band_factor: float = 3.0
    band_factor_short: float = 6.0
    long_history: int = 6
    min_history_for_band: int = 2
    band_floor_kwh_per_day: float = 0.5
    zero_cycles: int = 3


@dataclass(frozen=True)
class PhotoLimits:
    reuse_max_distance: int = 6
    exif_max_age_hours: float = 72
    exif_max_ahead_minutes: float = 60


@dataclass(frozen=True)
class LuckyDraw:
    entries_per_month: int = 1


@dataclass(frozen=True)
class UtilityConfig:
    name: str = "default"
    window: Window = Window()
    reader: ReaderLimits = ReaderLimits()
    history: HistoryLimits = HistoryLimits()
    photo: PhotoLimits = PhotoLimits()
    lucky_draw: LuckyDraw = LuckyDraw()

    @classmethod
    def from_toml(cls, text: str, name: str = "default") -> UtilityConfig:
        """Parse a utility's TOML; unknown sections or keys are errors (a typo must not silently keep a default)."""
        data = tomllib.loads(text)
        sections = {f.name: f.type for f in fields(cls) if f.name != "name"}
        kwargs = {}
        for section, values in data.items():
            if section not in sections:
                raise ValueError(f"unknown section [{section}]; expected one of {', '.join(sections)}")
            klass = type(getattr(cls(), section))
            known = {f.name for f in fields(klass)}
            unknown = set(values) - known
            if unknown:
                raise ValueError(f"[{section}]: unknown key(s) {', '.join(sorted(unknown))}")
            kwargs[section] = klass(**values)
        config = cls(name=name, **kwargs)
        config.validate()
        return config

    def validate(self) -> None:
        w = self.window
        if not (1 <= w.first_day <= w.last_day <= 31):
            raise ValueError("[window]: need 1 <= first_day <= last_day <= 31")
        _zone(w.timezone)
        for limit in (self.reader.min_digit_confidence, self.reader.min_reading_confidence):
            if not 0 <= limit <= 1:
                raise ValueError("[reader]: confidences are between 0 and 1")
        if self.history.band_factor < 1 or self.history.band_factor_short < 1:
            raise ValueError("[history]: band factors are at least 1")


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@cache
def default_config() -> UtilityConfig:
    return UtilityConfig.from_toml(DEFAULTS.read_text())
