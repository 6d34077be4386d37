"""The ``meterverify`` command: one entry point, one sub-command per job."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="meterverify: checks the kWh meter photos consumers send with their self-reading.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
data_app = typer.Typer(
    help="Datasets: make synthetic meter photos, import real digits, check and look at them.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")

from meterverify import service_commands as _service  # noqa: E402  (the service's commands)

app.command("serve")(_service.serve)
app.command("worker")(_service.worker)
app.add_typer(_service.db_app, name="db")
app.add_typer(_service.keys_app, name="keys")
app.add_typer(_service.consumers_app, name="consumers")
app.add_typer(_service.users_app, name="users")

from meterverify.draw_commands import draw_app  # noqa: E402
from meterverify.model_commands import models_app, train_app  # noqa: E402

app.add_typer(draw_app, name="draw")
app.add_typer(train_app, name="train")
app.add_typer(models_app, name="models")


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise typer.BadParameter("expected WIDTHxHEIGHT, e.g. 1280x960") from None
    if not (16 <= w <= 8000 and 16 <= h <= 8000):
        raise typer.BadParameter("each side must be 16 to 8000 pixels")
    return w, h


@data_app.command("synth")
def data_synth(
    out: Annotated[
        Path, typer.Option("--out", help="Dataset folder to write (images/, manifest.jsonl, README.md).")
    ],
    n: Annotated[int, typer.Option("--n", min=1, help="How many photos.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed and --n, same bytes.")] = 0,
    size: Annotated[
        str | None,
        typer.Option(
            "--size", help="Fix every photo to WIDTHxHEIGHT (default: mixed, 640x480 to 4000x3000)."
        ),
    ] = None,
    split: Annotated[
        str, typer.Option("--split", help="train, val, test, or auto (80/10/10 by index).")
    ] = "auto",
    max_side: Annotated[
        int | None,
        typer.Option(
            "--max-side",
            help="With mixed sizes, none wider or taller than this (e.g. 1600 for training sets).",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=0, help="Processes (0: one per core). Does not change the output.")
    ] = 0,
    meter_type: Annotated[
        Path | None,
        typer.Option(
            "--type", help="A meter type spec (TOML, see meterdata/synth/meter_type.py): only that meter."
        ),
    ] = None,
) -> None:
    """Render synthetic photos of Indian kWh meters (LCD and drum) with exact labels.

    Each photo gets its manifest line: reading as displayed, decimals, display quad, digit boxes, meter kind,
    display mode, readable flag. Negatives (no meter, unreadable display) are included.
    """
    from meterdata.synth import generate

    if split not in ("train", "val", "test", "auto"):
        raise typer.BadParameter("expected train, val, test or auto", param_hint="--split")
    start = time.perf_counter()
    from meterdata.synth.meter_type import MeterType

    try:
        spec = MeterType.load(meter_type) if meter_type else None
    except (OSError, ValueError) as e:
        raise typer.BadParameter(str(e), param_hint="--type") from None
    samples = generate(
        n, seed, out, _parse_size(size), split, workers or None, max_side=max_side, meter_type=spec
    )
    took = time.perf_counter() - start
    readable = sum(s.readable for s in samples)
    typer.echo(
        f"wrote {len(samples)} photos ({readable} readable) to {out} in {took:.1f} s ({len(samples) / took:.1f} photos/s)"
    )


@data_app.command("show")
def data_show(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder holding manifest.jsonl.")],
    out: Annotated[Path, typer.Option("--out", help="Picture to write (.png or .jpg).")] = Path("sheet.png"),
    n: Annotated[int, typer.Option("--n", min=1, help="How many images.")] = 48,
    cols: Annotated[int, typer.Option("--cols", min=1, help="Thumbnails per row.")] = 8,
    split: Annotated[str | None, typer.Option("--split", help="Only this split.")] = None,
) -> None:
    """Draw a contact sheet: thumbnails with display quads (green, red when unreadable), digit boxes and readings."""
    from meterdata.manifest import ManifestError
    from meterdata.sheet import write_contact_sheet

    try:
        path = write_contact_sheet(dataset, out, n=n, cols=cols, split=split)
    except (ManifestError, ValueError, FileNotFoundError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"contact sheet: {path}")


@data_app.command("check")
def data_check(dataset: Annotated[Path, typer.Argument(help="Dataset folder or manifest.jsonl.")]) -> None:
    """Validate a manifest; names the first bad line and field."""
    from collections import Counter

    from meterdata.manifest import ManifestError, load_manifest

    try:
        samples = load_manifest(dataset)
    except (ManifestError, FileNotFoundError) as e:
        typer.echo(f"invalid: {e}", err=True)
        raise typer.Exit(1) from None
    splits = Counter(s.split for s in samples)
    kinds = Counter(s.kind for s in samples)
    typer.echo(f"ok: {len(samples)} images; splits {dict(splits)}; kinds {dict(kinds)}")


@data_app.command("import-digits")
def data_import_digits(
    src: Annotated[
        Path, typer.Argument(help="The meter-digits folder (as published, with README.md and LICENSE).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Dataset folder to write.")] = Path(
        "datasets/meter-digits"
    ),
) -> None:
    """Import the real meter-digits crops with a test split that holds out whole meters."""
    from meterdata.meter_digits import import_meter_digits

    samples = import_meter_digits(src, out)
    typer.echo(f"imported {len(samples)} crops into {out}")


@data_app.command("import")
def data_import(
    photos: Annotated[Path, typer.Argument(help="Folder of the photos.", exists=True, file_okay=False)],
    readings: Annotated[
        Path,
        typer.Option(
            help="CSV: image,reading[,meter_digits][,quad][,kind][,meter][,split].",
            exists=True,
            dir_okay=False,
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Dataset folder to write, e.g. datasets/acme-photos.")],
) -> None:
    """Turn a folder of real photos and a CSV of their readings (optional display quads) into a dataset."""
    from meterdata.importer import import_photos

    try:
        samples = import_photos(photos, readings, out)
    except ValueError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"imported {len(samples)} photos ({sum(s.readable for s in samples)} readable) into {out}")


@data_app.command("from-reviews")
def data_from_reviews(
    out: Annotated[
        Path, typer.Option("--out", help="Dataset folder to write, e.g. datasets/reviews-2026-11.")
    ],
    utility: Annotated[str | None, typer.Option(help="Only this utility's reviews.")] = None,
) -> None:
    """Write the photos reviewers settled (with the detected quad and the confirmed reading) as a dataset."""
    from serving.config import get_settings
    from serving.review_export import export_reviews
    from serving.service import Service

    count = export_reviews(Service.from_settings(get_settings()), out, utility)
    typer.echo(f"{count} reviewed photos written to {out}")


@app.command("read")
def read_photos(
    photos: Annotated[list[Path], typer.Argument(help="Photo files (JPEG, PNG, WebP, HEIC).")],
    json_out: Annotated[
        bool, typer.Option("--json", help="One JSON object per photo per line (stable contract).")
    ] = False,
    debug: Annotated[
        Path | None,
        typer.Option(
            "--debug", help="Write each photo annotated (quad, reading) and its rectified display here."
        ),
    ] = None,
) -> None:
    """Read kWh meter photos: digits as displayed, decimals, value, calibrated confidence, display quad, quality.

    JSON fields: path, digits, decimals, value, confidence (probability the whole reading is right),
    digit_confidences, rolling, display {quad: 4 x [x, y] in original pixels, clockwise from top-left} or null,
    mode, quality (flags), readable, reason, ms. The models load once for all photos.
    """
    import json

    from vision.reader import default_reader

    reader = default_reader()
    failed = False
    for path in photos:
        try:
            data = path.read_bytes()
        except OSError as e:
            typer.echo(
                json.dumps({"path": str(path), "error": str(e)})
                if json_out
                else f"{path}: cannot read ({e.strerror})",
                err=not json_out,
            )
            failed = True
            continue
        reading = reader.read(data)
        record = {"path": str(path), **reading.to_dict()}
        if json_out:
            typer.echo(json.dumps(record))
        else:
            state = (
                f"{reading.value}  (confidence {reading.confidence:.2f})"
                if reading.readable
                else f"unreadable: {reading.reason}"
            )
            extra = f"  [{', '.join(reading.quality)}]" if reading.quality else ""
            typer.echo(f"{path}: {state}{extra}  {reading.ms:.0f} ms")
        if debug is not None:
            _write_debug(debug, path, data, reading)
    if failed:
        raise typer.Exit(1)


@app.command("verify")
def verify_photos(
    pairs: Annotated[
        list[str],
        typer.Argument(
            help="PHOTO=TYPED[@N.D]: a photo, the reading the consumer typed, and optionally the meter as the "
            "consumer record knows it (N digit positions, D of them decimals: @7.1 for 0134149 = 13414.9)."
        ),
    ],
    json_out: Annotated[
        bool, typer.Option("--json", help="One JSON object per pair per line (stable contract).")
    ] = False,
    debug: Annotated[
        Path | None, typer.Option("--debug", help="Write each photo annotated and its display here.")
    ] = None,
) -> None:
    """Does each photo show the reading the consumer typed? Never confirms a typing mistake.

    Prints the read fields (as `meterverify read --json`) plus typed, typed_probability (the probability that
    the display shows the typed value rather than a reading one typing mistake away) and typed_verdict
    (matches, differs, unsure). Without @N.D the display alone decides where the decimals are. The models load
    once for all pairs. Exit status 1 if any pair could not be checked (bad argument, unreadable file).
    """
    import json
    import re

    from vision import Meter
    from vision.reader import default_reader

    reader = default_reader()
    failed = False
    for pair in pairs:
        m = re.fullmatch(r"(.+)=([^=@]+?)(?:@(\d+(?:\.\d+)?))?", pair)
        try:
            if not m:
                raise ValueError(f"expected PHOTO=TYPED[@N.D], got {pair!r}")
            path, typed, spec = Path(m.group(1)), m.group(2), m.group(3)
            meter = Meter.parse(spec) if spec else None
            data = path.read_bytes()
            result = reader.verify(data, typed, meter)
        except (ValueError, OSError) as e:
            message = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            typer.echo(
                json.dumps({"pair": pair, "error": message}) if json_out else f"{pair}: {message}",
                err=not json_out,
            )
            failed = True
            continue
        record = {"path": str(path), **result.to_dict()}
        if json_out:
            typer.echo(json.dumps(record))
        else:
            typer.echo(
                f"{path}: typed {typed} {result.typed_verdict} (p={result.typed_probability:.3f}; "
                f"{result.typed_reason}); read {result.reading.value or '-'}  {result.reading.ms:.0f} ms"
            )
        if debug is not None:
            _write_debug(debug, path, data, result.reading)
    if failed:
        raise typer.Exit(1)


def _write_debug(folder: Path, path: Path, data: bytes, reading) -> None:
    import cv2

    from vision.debug import annotate

    folder.mkdir(parents=True, exist_ok=True)
    shown, strip = annotate(data, reading)
    if shown is not None:
        cv2.imwrite(str(folder / f"{path.stem}.annotated.jpg"), shown)
    if strip is not None:
        cv2.imwrite(str(folder / f"{path.stem}.display.png"), strip)


@app.command("demo")
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the demo photos, contact sheet and annotated readings.")
    ] = Path("var/demo"),
    n: Annotated[int, typer.Option("--n", min=1, help="How many photos.")] = 12,
) -> None:
    """Make synthetic meter photos (seed 2026, never trained on), read each one, and draw what was read."""
    from meterdata.sheet import write_contact_sheet
    from meterdata.synth import generate
    from vision.reader import default_reader

    samples = generate(n, seed=2026, out=out, size=(1280, 960), workers=1, progress=False)
    sheet = write_contact_sheet(out, out / "contact-sheet.png", n=n, cols=6)
    reader = default_reader()
    right = 0
    for sample in samples:
        path = out / sample.image
        data = path.read_bytes()
        reading = reader.read(data)
        truth = (
            sample.value
            if sample.readable and sample.mode == "kwh"
            else f"not a reading ({sample.extra.get('unreadable_reason') or sample.mode})"
        )
        got = (
            f"{reading.value} ({reading.confidence:.2f})"
            if reading.readable
            else f"unreadable: {reading.reason}"
        )
        typer.echo(f"{path.name}: read {got:<28} truth {truth}  {reading.ms:.0f} ms")
        right += reading.readable == (sample.readable and sample.mode == "kwh") and (
            not reading.readable or reading.value == sample.value
        )
        _write_debug(out / "read", path, data, reading)
    typer.echo(
        f"{right} of {len(samples)} as labelled; labelled contact sheet: {sheet}; annotated readings: {out / 'read'}"
    )


def main() -> None:
    """The console entry point: a setting that cannot be right is one line, not a traceback."""
    from serving.config import SettingsError

    try:
        app()
    except SettingsError as e:
        typer.echo(f"meterverify: {e}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
