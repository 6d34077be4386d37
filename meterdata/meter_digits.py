"""Import the meter-digits crops (real digits from real meters) as a dataset with a meter-disjoint test split.

Source layout: ``<meter kind>/<manufacturer>/<contributor>/.../<label>_<id>.jpg``. A label ``d`` is a
settled digit; ``d.f`` a drum rolling from ``d`` towards ``d+1``, ``f`` tenths of the way; ``10`` a drum
rolling from 9 to 0 (fraction unknown, recorded as 0.5). Identical files are imported once.

Splits hold out whole meters: every crop of a meter group (manufacturer folder, or contributor folder when
the manufacturer is unknown) lands in one split, so test digits come from meters never seen in training.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections import Counter
from pathlib import Path

from .manifest import MANIFEST_NAME, Sample, write_manifest

# Meter groups held out for testing and validation: several makers per meter kind, chosen so that each
# kind keeps most of its data for training. Everything else, including the unsorted ``new/`` folder, trains.
TEST_GROUPS = frozenset(
    {
        "powermeter/landis-gyr-mm2600jh",
        "powermeter/unknown-japander",
        "powermeter/itron-c114u-2",
        "powermeter/heliowatt",
        "watermeter/altair",
        "watermeter/jvi",
        "watermeter/watermeter-lcd",
        "gasmeter/rockberte",
        "lcd/digital-italic",
        "lcd2/root",
    }
)
VAL_GROUPS = frozenset(
    {"powermeter/landisgyrt330-c", "powermeter/unknown-timm", "watermeter/integra", "watermeter/oovw"}
)
LCD_GROUPS = ("lcd/", "lcd2/", "watermeter/watermeter-lcd")

_LABEL = re.compile(r"^(\d+)(?:\.(\d))?$")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-") or "root"


def meter_group(rel: Path) -> str:
    """The meter a crop comes from, as ``kind/group`` (e.g. ``powermeter/unknown-timm``)."""
    parts = rel.parts[:-1]
    kind = parts[0]
    if len(parts) == 1:
        return f"{kind}/root"
    maker = parts[1]
    if maker.lower() == "unknown" and len(parts) > 2:
        return f"{kind}/{_slug('unknown-' + parts[2])}"
    if maker.lower().startswith("iskra"):  # the same meter, collected twice under two spellings
        return f"{kind}/iskra-t3f-01s1"
    return f"{kind}/{_slug(maker)}"


def parse_label(name: str) -> tuple[str, float, str | None] | None:
    """``(digit, roll, second annotator's label)`` from a file name, or None if it carries no label."""
    fields = name.rsplit(".", 1)[0].split("_")
    m = _LABEL.match(fields[0])
    if not m:
        return None
    whole, tenth = int(m.group(1)), int(m.group(2) or 0)
    if whole == 10:
        return "9", 0.5, None
    if whole > 9:
        return None
    second = fields[1] if len(fields) > 1 and _LABEL.match(fields[1]) else None
    return str(whole), tenth / 10, second


def import_meter_digits(src: str | Path, out: str | Path) -> list[Sample]:
    """Copy the crops under ``src`` into ``out/images`` and write the manifest, card and licence."""
    src, out = Path(src), Path(out)
    if not (src / "README.md").is_file():
        raise FileNotFoundError(f"{src}: not a meter-digits folder (no README.md)")
    samples: list[Sample] = []
    seen: set[str] = set()
    skipped = Counter()
    for path in sorted(src.rglob("*.jpg")):
        rel = path.relative_to(src)
        label = parse_label(path.name)
        if label is None:
            skipped["no label"] += 1
            continue
        data = path.read_bytes()
        digest = hashlib.sha1(data).hexdigest()
        if digest in seen:
            skipped["duplicate file"] += 1
            continue
        seen.add(digest)
        group = meter_group(rel)
        split = "test" if group in TEST_GROUPS else "val" if group in VAL_GROUPS else "train"
        image = f"images/{group}/{digest[:16]}.jpg"
        target = out / image
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        digit, roll, second = label
        extra = {"source": str(rel)}
        if second is not None:
            extra["label2"] = second
        samples.append(
            Sample(
                image=image,
                digits=digit,
                decimals=0,
                quad=None,
                kind="lcd7seg" if group.startswith(LCD_GROUPS) else "drum",
                readable=True,
                split=split,
                roll=[roll],
                meter=group,
                extra=extra,
            )
        )
    write_manifest(out / MANIFEST_NAME, samples)
    if (src / "LICENSE").is_file():
        shutil.copyfile(src / "LICENSE", out / "LICENSE")
    (out / "README.md").write_text(_card(samples, skipped))
    return samples


def _card(samples: list[Sample], skipped: Counter) -> str:
    def count(split: str, pred=lambda s: True) -> int:
        return sum(1 for s in samples if s.split == split and pred(s))

    groups = {
        split: sorted({s.meter for s in samples if s.split == split}) for split in ("train", "val", "test")
    }
    settled = lambda s: not s.roll or s.roll[0] == 0  # noqa: E731
    rows = "\n".join(
        f"| {split} | {count(split)} | {count(split, settled)} | {len(groups[split])} |"
        for split in ("train", "val", "test")
    )
    return f"""# meter-digits: real digit crops from real meters

Single digit windows cut from real gas, water and electricity meter photos: drum counters and seven-segment
LCDs, with real printing, wear, dirt, glass and lighting. Used to train and test the digit reader.

- **Source**: collected by the users of the AI-on-the-edge-device project, published in the repository
  haverland/Tenth-of-step-of-a-meter-digit (commit ebf9b2b, 2025-10-27, folder images/collected).
- **Licence**: Apache License 2.0, see `LICENSE` in this folder. Keep this attribution with any copy or
  derived set.
- **How made here**: `meterverify data import-digits SRC --out datasets/meter-digits` (code:
  `meterdata/meter_digits.py`). Files are renamed by content hash; {skipped.get("duplicate file", 0)} byte-identical
  duplicates and {skipped.get("no label", 0)} unlabelled files were dropped. The original path is kept in each line's `source`.
- **Labels**: `digits` is the digit shown (the lower one while a drum rolls), `roll` how far the drum has
  turned to the next digit (0 = settled). `label2` is a second annotator's value where the source has one.
- **Meter kinds**: `drum` {sum(s.kind == "drum" for s in samples)}, `lcd7seg` {sum(s.kind == "lcd7seg" for s in samples)}.

## Splits: whole meters held out

Every crop of one meter group (manufacturer folder, or contributor folder when the maker is unknown) is in
one split, so test digits come from meters the reader never saw in training. The unsorted `new/` folder of
the source has no meter identity; it is used for training only.

| split | crops | settled digits | meter groups |
|---|---|---|---|
{rows}

Test meters: {", ".join(groups["test"])}.

Validation meters: {", ".join(groups["val"])}.
"""
