"""``meterverify train ocr|detect|ranker`` and ``meterverify models list|promote|shadow|shadow-report``: new meter
types from data to a served model, tracked in MLflow (local ./mlflow.db unless MLFLOW_TRACKING_URI is set)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

train_app = typer.Typer(help="Train the models (needs the train extra: torch, MLflow).", no_args_is_help=True)
models_app = typer.Typer(
    help="Registered model versions: compare, promote (served without a restart), shadow.",
    no_args_is_help=True,
)


def _models_dir() -> Path:
    from serving.config import get_settings

    return get_settings().models_dir


@train_app.command("ocr")
def train_ocr(
    config: Annotated[
        Path | None, typer.Option(help="TOML: meter types and settings (see training/finetune_reader.py).")
    ] = None,
    data: Annotated[
        list[Path] | None, typer.Option(help="Dataset folder with display quads (repeatable).")
    ] = None,
    from_scratch: Annotated[
        bool, typer.Option(help="Random weights instead of the served reader's.")
    ] = False,
    out: Annotated[Path, typer.Option(help="Working folder for the run.")] = Path("runs/reader-finetune"),
    threads: Annotated[int, typer.Option(help="CPU threads.")] = 2,
    seed: Annotated[int, typer.Option(help="Training data seed.")] = 0,
) -> None:
    """Fine-tune the digit reader from the served weights on new meter types and data; log everything to
    MLflow and register a new version of meterverify-reader. Nothing is served until it is promoted."""
    from training import finetune_reader

    args = finetune_reader.get_args_parser().parse_args(
        [
            *(["--config", str(config)] if config else []),
            *[a for d in data or [] for a in ("--data", str(d))],
            *(["--from-scratch"] if from_scratch else []),
            "--out",
            str(out),
            "--threads",
            str(threads),
            "--seed",
            str(seed),
        ]
    )
    served = _served_easyocr()
    if served and not from_scratch:
        args.init = served
    finetune_reader.main(args)


def _served_easyocr() -> Path | None:
    """The easyocr weights of the promoted reader, if a version was promoted (else the shipped ones)."""
    from serving.served_models import read_served

    entry = read_served(_models_dir()).get("reader")
    path = Path(entry["onnx"]).parent / "easyocr" / "meterdigits.pth" if entry else None
    return path if path and path.is_file() else None


@train_app.command("detect")
def train_detect(
    synth_train: Annotated[Path, typer.Option(help="Dataset with display quads, for training.")],
    synth_val: Annotated[Path, typer.Option(help="Dataset with display quads, for validation.")],
    init: Annotated[
        Path | None, typer.Option(help="Checkpoint to fine-tune from (default: from scratch).")
    ] = None,
    epochs: Annotated[int, typer.Option()] = 8,
    out: Annotated[Path, typer.Option()] = Path("runs/detector"),
) -> None:
    """Train the display detector (CornerNet) on datasets with quads, tracked in MLflow (experiment detector)."""
    from training import train_detector

    argv = [
        "--synth-train",
        str(synth_train),
        "--synth-val",
        str(synth_val),
        "--epochs",
        str(epochs),
        "--out",
        str(out),
    ]
    if init:
        argv += ["--init", str(init)]
    train_detector.main(train_detector.get_args_parser().parse_args(argv))


@train_app.command("ranker")
def train_ranker_command(
    data: Annotated[
        list[Path] | None,
        typer.Option(help="Dataset with register quads, e.g. `meterverify data from-reviews` (repeatable)."),
    ] = None,
    synth_n: Annotated[int, typer.Option(help="Generic synthetic photos to learn from too.")] = 1500,
    serve: Annotated[
        bool, typer.Option(help="Through the gate, serve the weights (the service's models folder).")
    ] = False,
    out: Annotated[Path, typer.Option(help="Working folder for the run.")] = Path("runs/ranker"),
    workers: Annotated[int, typer.Option(help="Processes looking at photos.")] = 2,
) -> None:
    """Learn which region of a photo is the register from reviewers' marks and synthetic scenes (the ranker
    over text regions); tracked in MLflow (experiment ranker). With --serve, the gate compares it with the
    served ranker on frozen sets (the paired test) and serves it only if it is worse on none."""
    from training import train_ranker

    argv = ["--synth-n", str(synth_n), "--out", str(out), "--workers", str(workers)]
    argv += [a for d in data or [] for a in ("--data", str(d))]
    if serve:
        argv += ["--serve", str(_models_dir())]
    train_ranker.main(train_ranker.get_args_parser().parse_args(argv))


@models_app.command("list")
def models_list() -> None:
    """Registered reader versions with their accuracy on the frozen test sets; which one is served."""
    from serving.served_models import read_served
    from training.registry import versions

    served = read_served(_models_dir())
    now, shadow = served.get("reader", {}).get("version"), served.get("shadow", {}).get("version")
    for v in versions():
        marks = " ".join(m for m, on in (("SERVED", v.version == now), ("SHADOW", v.version == shadow)) if on)
        accs = ", ".join(
            f"{k.removeprefix('acc.')} {float(val):.1%}"
            for k, val in sorted(v.tags.items())
            if k.startswith("acc.")
        )
        typer.echo(f"v{v.version:<4} {marks:<7} {accs}")


@models_app.command("promote")
def models_promote(
    version: Annotated[str, typer.Argument(help="Registered version number (meterverify models list).")],
    alpha: Annotated[
        float, typer.Option(help="Refuse where the candidate is worse and a paired test gives p below this.")
    ] = 0.05,
) -> None:
    """Compare the version with the served reader on every frozen test set; serve it only if it is not worse
    on any (worse, and not by chance: McNemar's test on the strips they read differently). Running serve and
    worker processes switch to it within seconds, without a restart."""
    import tempfile

    from training import registry, testsets

    models_dir = _models_dir()
    candidate = registry.download(version, Path(tempfile.mkdtemp(prefix="meterverify-candidate-")))
    table = registry.compare(candidate, models_dir)
    refused = testsets.refusals(table, alpha)
    typer.echo(testsets.describe(table, refused))
    if refused:
        typer.echo(f"refused: version {version} is worse on {', '.join(refused)}", err=True)
        raise typer.Exit(1)
    registry.install(candidate, models_dir)
    registry.client().set_registered_model_alias(registry.NAME, "production", candidate.version)
    typer.echo(f"version {version} is served now (alias production); processes pick it up within seconds")


@models_app.command("shadow")
def models_shadow(
    version: Annotated[
        str | None, typer.Argument(help="Registered version to run beside the served reader.")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop shadowing.")] = False,
) -> None:
    """Run a candidate beside the served reader on live submissions; decisions never use it."""
    import tempfile

    from serving.served_models import read_served, write_served
    from training import registry

    models_dir = _models_dir()
    if off or version is None:
        served = read_served(models_dir)
        served.pop("shadow", None)
        write_served(models_dir, served)
        typer.echo("no shadow reader now")
        return
    candidate = registry.download(version, Path(tempfile.mkdtemp(prefix="meterverify-candidate-")))
    registry.install(candidate, models_dir, role="shadow")
    typer.echo(f"version {version} reads beside the served reader; see `meterverify models shadow-report`")


@models_app.command("shadow-report")
def models_shadow_report(
    out: Annotated[Path, typer.Option(help="Folder for report.html and the photos.")] = Path("shadow-report"),
    limit: Annotated[int, typer.Option(help="Most recent submissions to look at.")] = 5000,
) -> None:
    """Where the shadow reader and the served one disagree (with the photos), and how each did on the
    submissions reviewers settled."""
    from serving.config import get_settings
    from serving.service import Service
    from serving.shadow import report

    summary = report(Service.from_settings(get_settings()), out, limit)
    typer.echo(summary)
