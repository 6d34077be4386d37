"""Fine-tune the digit reader (MeterCRNN) for new meter types, from the weights being served, tracked and
registered in MLflow.

    meterverify train ocr --config new-type.toml [--data datasets/acme-photos] [--from-scratch]

New data: strips of each meter type in the config (rendered on the fly) and of each ``--data`` dataset (its
train split, cut along the display quads: imported photos, reviewer corrections). Replayed with it, so the
reader does not forget: real meter-digits counters and the generator's random LCD styles (``replay`` share).
Every epoch is evaluated on the frozen test sets (``training.testsets``); at the end the exported ONNX is
evaluated as served, and MLflow gets the parameters, per-set metrics, the per-digit confusion matrix, a sheet
of sample errors, the ONNX file, the easyocr package and the specs, and a new version of the registered model
``meterverify-reader``, tagged with its per-set accuracy. ``meterverify models promote VERSION`` serves it.

Config (TOML; every key optional):

    epochs = 5
    per_epoch = 2000      # strips per epoch (the epoch kept is chosen on validation sets: choice_merit)
    batch_size = 64
    lr = 1e-3
    replay = 0.7          # share of replayed (old) strips: the reader is small, it forgets what it does not see
    real_share = 0.7      # of the replayed strips, real meter-digits counters (the rest random LCD styles)
    meter_types = ["acme-7-square.toml"]   # paths, relative to the config file
"""

from __future__ import annotations

import argparse
import json
import random
import time
import tomllib
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from meterdata.synth.meter_type import MeterType
from training import testsets
from training.data.ocr import collate
from training.loop import ctc_over_frames, freeze_batch_norm, step
from training.models.crnn import Model
from training.tracking import tracked_run
from vision.ocr.charset import CHARS, MODES, text_to_labels

REPO = Path(__file__).resolve().parents[1]
BASE_WEIGHTS = REPO / "training" / "easyocr" / "meterdigits.pth"
REGISTERED = "meterverify-reader"
DEFAULTS = {
    "epochs": 5,
    "per_epoch": 2000,
    "batch_size": 64,
    "lr": 1e-3,
    "replay": 0.7,
    "real_share": 0.7,
    "meter_types": [],
}


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, help="TOML: meter types and training settings")
    p.add_argument(
        "--data", type=Path, action="append", default=[], help="dataset folder with quads (repeatable)"
    )
    p.add_argument(
        "--from-scratch", action="store_true", help="start from random weights, not the served ones"
    )
    p.add_argument("--init", type=Path, help="easyocr .pth to start from (default: the weights being served)")
    p.add_argument("--out", type=Path, default=Path("runs/reader-finetune"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (training is CPU-bound)")
    p.add_argument("--experiment", default="reader-finetune", help="MLflow experiment")
    p.add_argument("--register", default=REGISTERED, help="registered model name ('' to skip)")
    return p


def load_config(path: Path | None) -> tuple[dict, list[MeterType]]:
    config = dict(DEFAULTS)
    if path is not None:
        given = tomllib.loads(path.read_text())
        unknown = sorted(set(given) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"{path}: unknown keys {unknown}; known: {sorted(DEFAULTS)}")
        config.update(given)
    base = path.parent if path else Path(".")
    types = [MeterType.load(base / p) for p in config["meter_types"]]
    return config, types


def load_weights(model: Model, path: Path) -> None:
    """An easyocr package's ``module.``-prefixed state dict into the model."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(OrderedDict((k.removeprefix("module."), v) for k, v in state.items()))


class StripSource:
    """Draws training strips: new ones (meter types, datasets' train splits) and replayed old ones."""

    def __init__(
        self, types: list[MeterType], data: list[Path], replay: float, real_share: float, seed: int
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.types, self.replay, self.real_share, self.seed = types, replay, real_share, seed
        self.data = [s for folder in data for s in testsets.dataset_strips(folder, "train")]
        from meterdata.strips import DigitCrops

        self.digits = DigitCrops(testsets.METER_DIGITS, "train", testsets.INPUT_HEIGHT, progress=False)
        self.count = 0
        from training.train_reader import augmenter

        self.augment = augmenter(seed)

    def _panel(self, spec: MeterType | None) -> testsets.Strip:
        # Seeds far from the test seed: training never draws a test panel.
        self.count += 1
        return testsets.panel_strips(1, self.seed + 1000, spec, offset=self.count * 7919)[0]

    def draw(self) -> tuple[np.ndarray, str, bool]:
        """(augmented strip, text, whether it is replayed old data)."""
        replayed = self.rng.random() < self.replay or not (self.types or self.data)
        if replayed:
            if self.rng.random() < self.real_share:
                image, text = self.digits.strip(self.rng)
                strip = testsets.Strip(image, text)
            else:
                strip = self._panel(None)
        elif self.data and (not self.types or self.rng.random() < 0.5):
            strip = self.data[int(self.rng.integers(0, len(self.data)))]
        else:
            strip = self._panel(self.types[int(self.rng.integers(0, len(self.types)))])
        image = self.augment(image=strip.image)["image"]
        return image, strip.text, replayed


def train_one_epoch(
    model, source: StripSource, optimizer, scheduler, config: dict, epoch: int, fine_tune: bool
) -> dict:
    model.train()
    if fine_tune:
        freeze_batch_norm(model)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    kwh = MODES.index("kwh")
    total = seen = 0.0
    steps = max(1, config["per_epoch"] // config["batch_size"])
    for _ in tqdm(range(steps), desc=f"epoch {epoch}", unit="batch", leave=False):
        batch = [source.draw() for _ in range(config["batch_size"])]
        images, targets, lengths, _ = collate([(im, text_to_labels(t), kwh) for im, t, _ in batch])
        logits, _ = model.forward_with_mode(images)
        loss = ctc_over_frames(ctc, logits.log_softmax(2), targets, lengths)
        step(model, optimizer, scheduler, loss)
        total += loss.item() * len(batch)
        seen += len(batch)
    return {"train_loss": total / seen}


@torch.no_grad()
def evaluate(model, sets: dict[str, list[testsets.Strip]]) -> dict[str, float]:
    from training.train_reader import predict

    out = {}
    for name, strips in sets.items():
        texts, _ = predict(model, [s.image for s in strips])
        out[f"acc_{name}"] = float(np.mean([t == s.text for t, s in zip(texts, strips, strict=True)]))
    return out


def choice_merit(scores: dict[str, float], before: dict[str, float], scratch: bool) -> tuple[bool, float]:
    """How good an epoch is on the validation sets: first whether every old set (meter-digits, random LCDs)
    kept its accuracy within half a point of the starting weights, then the new sets' mean accuracy."""
    new = [k for k in scores if k.startswith(("acc_type:", "acc_data:"))]
    old = [k for k in scores if k not in new]
    kept = scratch or all(scores[k] >= before[k] - 0.005 for k in old)
    return kept, float(np.mean([scores[k] for k in (new or old)]))


def confusion(onnx: Path, sets: dict[str, list[testsets.Strip]]) -> tuple[np.ndarray, list[tuple]]:
    """Per-digit confusion (truth x read, over strips read with the right length) and the misread strips."""
    from vision.ocr.model import DigitReader

    reader = DigitReader(onnx)
    matrix = np.zeros((10, 10), int)
    errors = []
    for name, strips in sets.items():
        for s in strips:
            read = reader.read(s.image).text
            if read != s.text:
                errors.append((name, s, read))
            truth, got = s.text.replace(".", ""), read.replace(".", "")
            if len(truth) == len(got):
                for t, g in zip(truth, got, strict=True):
                    matrix[int(t), int(g)] += 1
    return matrix, errors


def confusion_png(matrix: np.ndarray, path: Path) -> None:
    from matplotlib.figure import Figure  # no pyplot: a notebook's own plotting backend stays as it is

    rates = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    fig = Figure(figsize=(5, 4.3))
    ax = fig.subplots()
    im = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set(
        xticks=range(10), yticks=range(10), xlabel="read as", ylabel="true digit", title="Per-digit confusion"
    )
    for t in range(10):
        for g in range(10):
            if matrix[t, g] and t != g:
                ax.text(g, t, matrix[t, g], ha="center", va="center", fontsize=7, color="#b23a1f")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def errors_png(errors: list[tuple], path: Path, n: int = 24) -> None:
    """A contact sheet of misread strips, a few from every set: the strip, then 'set: truth -> read'."""
    rows = []
    per_set: dict[str, int] = {}
    sets = {name for name, _, _ in errors}
    for name, strip, read in errors:
        per_set[name] = per_set.get(name, 0) + 1
        if per_set[name] > max(1, n // max(len(sets), 1)):
            continue
        img = cv2.cvtColor(
            cv2.resize(strip.image, (min(360, strip.image.shape[1] * 2), 64)), cv2.COLOR_GRAY2BGR
        )
        canvas = np.full((64, 760, 3), 255, np.uint8)
        canvas[:, : img.shape[1]] = img
        cv2.putText(
            canvas,
            f"{name}: {strip.text} -> {read or '(nothing)'}",
            (370, 40),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (40, 40, 200),
            1,
            cv2.LINE_AA,
        )
        rows.append(canvas)
    sheet = np.vstack(rows) if rows else np.full((64, 760, 3), 255, np.uint8)
    cv2.imwrite(str(path), sheet)


def main(args: argparse.Namespace) -> dict:
    """Train, export, log and register. Returns {"version", "run_id", "onnx", "accuracy": {set: acc}}."""
    torch.set_num_threads(args.threads)
    # Every source of randomness seeded (albumentations draws from ``random`` and NumPy's global generator):
    # the same config and seed train the same model.
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    config, types = load_config(args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    model = Model(len(CHARS) + 1, width=16, hidden=48, num_modes=len(MODES))
    init = None if args.from_scratch else (args.init or BASE_WEIGHTS)
    if init is not None:
        load_weights(model, init)
    source = StripSource(types, args.data, config["replay"], config["real_share"], args.seed)
    sets = testsets.frozen_sets(types, args.data)
    val_sets = testsets.frozen_sets(types, args.data, split="val")
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["lr"], weight_decay=1e-4)
    steps = config["epochs"] * max(1, config["per_epoch"] // config["batch_size"])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, config["lr"], total_steps=steps, pct_start=0.1)
    params = {
        **{k: str(v) for k, v in config.items()},
        "init": str(init or "scratch"),
        "data": str(args.data),
        "meter_types": ",".join(t.name for t in types),
        "seed": args.seed,
    }
    with tracked_run(args.experiment, params) as log:
        before = evaluate(model, val_sets)
        log(before, step=0)
        best, best_state = None, None
        for epoch in range(config["epochs"]):
            start = time.time()
            metrics = train_one_epoch(model, source, optimizer, scheduler, config, epoch, init is not None)
            scores = evaluate(model, val_sets)
            metrics.update(scores)
            metrics["epoch_seconds"] = time.time() - start
            log(metrics, step=epoch + 1)
            print(f"epoch {epoch}: " + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
            merit = choice_merit(scores, before, init is None)
            if best is None or merit > best:
                best, best_state = merit, {k: v.clone() for k, v in model.state_dict().items()}
        model.load_state_dict(best_state)
        log({"chosen_epoch_kept_old_sets": float(best[0])}, step=config["epochs"])
        from training.export import export_easyocr, export_reader

        package = args.out / "model"
        package.mkdir(parents=True, exist_ok=True)
        onnx = export_reader(model, package / "reader.onnx")
        export_easyocr(model, {"width": 16, "hidden": 48}, package / "easyocr")
        matrix, errors = confusion(onnx, sets)
        wrong = {name: sum(e[0] == name for e in errors) for name in sets}
        accuracy = {name: 1 - wrong[name] / len(strips) for name, strips in sets.items()}
        (package / "eval.json").write_text(
            json.dumps({"accuracy": accuracy, "confusion": matrix.tolist()}, indent=2)
        )
        types_dir = package / "meter_types"
        types_dir.mkdir(exist_ok=True)
        for spec, path in zip(types, config["meter_types"], strict=True):
            (types_dir / f"{spec.name}.toml").write_text((args.config.parent / path).read_text())
        confusion_png(matrix, args.out / "confusion.png")
        errors_png(errors, args.out / "errors.png")
        log({f"final_acc_{k}": v for k, v in accuracy.items()}, step=config["epochs"])
        for path in (args.out / "confusion.png", args.out / "errors.png"):
            log.artifact(path)
        log.artifacts(package, "model")
        version = (
            log.register(args.register, "model", {f"acc.{k}": f"{v:.4f}" for k, v in accuracy.items()})
            if args.register
            else None
        )
    print("frozen test sets (exported ONNX): " + ", ".join(f"{k} {v:.1%}" for k, v in accuracy.items()))
    if version:
        print(
            f"registered {args.register} version {version}; serve it with: meterverify models promote {version}"
        )
    return {"version": version, "onnx": onnx, "accuracy": accuracy}


if __name__ == "__main__":
    main(get_args_parser().parse_args())
