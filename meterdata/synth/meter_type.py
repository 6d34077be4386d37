"""A meter type as a small spec, so photos of a new meter need a TOML file, not code.

name = "acme-7-square"
digits = 7                 # digit cells on the register
decimals = 1               # of them after the point
decimal_marking = "point"  # point: a dot before the decimals; none: no mark (the spec still says how many)
segment_style = "rect"     # hex (pointed bars, most meters), rect (square bars), thin (hairline bars)
thickness = 0.12           # bar thickness, share of the digit height
slant = 0.0                # italic lean (0 upright, 0.2 strongly leaning)
digit_aspect = 0.55        # digit width / height
pitch = 1.3                # cell spacing / digit width
background = [150, 170, 158]  # RGB of the glass
ink = [30, 34, 30]            # RGB of lit segments
ghost = 0.05               # how visible unlit segments are (0-0.3)
leading_zeros = true       # false: leading zeros are blank
label = "kWh"
serial_scale = 0.0         # the serial number's height, in register digit heights (0: the usual small print)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from verification import meter_spec_ok

STYLES = ("hex", "rect", "thin")


@dataclass(frozen=True)
class MeterType:
    name: str
    digits: int = 7
    decimals: int = 1
    decimal_marking: str = "point"
    segment_style: str = "hex"
    thickness: float = 0.12
    slant: float = 0.0
    digit_aspect: float = 0.55
    pitch: float = 1.3
    background: tuple[int, int, int] = (150, 170, 158)
    ink: tuple[int, int, int] = (30, 34, 30)
    ghost: float = 0.05
    leading_zeros: bool = True
    label: str = "kWh"
    serial_scale: float = 0.0

    def __post_init__(self) -> None:
        problems = []
        if not meter_spec_ok(self.digits, self.decimals):  # the consumer record's rule
            problems.append("digits is 3-12, decimals 0 to digits-1")
        if self.decimal_marking not in ("point", "none"):
            problems.append("decimal_marking is point or none")
        if self.segment_style not in STYLES:
            problems.append(f"segment_style is one of {', '.join(STYLES)}")
        if not (
            0.03 <= self.thickness <= 0.25 and 0 <= self.slant <= 0.4 and 0.3 <= self.digit_aspect <= 0.9
        ):
            problems.append("thickness 0.03-0.25, slant 0-0.4, digit_aspect 0.3-0.9")
        if not (1.05 <= self.pitch <= 2.0 and 0 <= self.ghost <= 0.3):
            problems.append("pitch 1.05-2.0, ghost 0-0.3")
        if not (self.serial_scale == 0 or 0.3 <= self.serial_scale <= 3.0):
            problems.append("serial_scale 0 (usual print) or 0.3-3.0")
        for colour in (self.background, self.ink):
            if len(colour) != 3 or not all(0 <= c <= 255 for c in colour):
                problems.append("colours are [r, g, b], 0-255")
        if problems:
            raise ValueError(f"meter type {self.name!r}: " + "; ".join(problems))

    @classmethod
    def from_toml(cls, text: str) -> MeterType:
        data = tomllib.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown meter type keys {unknown}; known: {sorted(known)}")
        for key in ("background", "ink"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)

    @classmethod
    def load(cls, path: Path) -> MeterType:
        return cls.from_toml(Path(path).read_text())
