"""The register ranker learns where the register is from photos whose register is marked, and is served through
its gate (issue 20, items 3 and 4, at test scale; ``python -m bench.locator_loop`` runs the whole loop)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meterdata.synth import generate
from meterdata.synth.meter_type import MeterType
from serving.served_models import ServedModels, read_served, write_served
from training import ranker_gate, testsets
from training.data.regions import look_at
from training.train_ranker import fit
from vision.rank import FEATURES, Ranker

# Its serial has as many digits as its register and is printed larger: only what each is tells them apart.
BIG_SERIAL = MeterType(name="big-serial", digits=6, decimals=1, serial_scale=1.6)


@pytest.fixture(scope="module")
def big_serial(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("big-serial")
    for name, n, seed in (("train", 40, 63), ("test", 30, 64)):
        generate(
            n,
            seed,
            root / name,
            size=(1024, 768),
            split=name,
            workers=1,
            progress=False,
            meter_type=BIG_SERIAL,
        )
    return look_at(root / "train", None, 1, "train"), look_at(root / "test", None, 1, "test")


def test_learned_weights_put_the_register_above_a_larger_serial(big_serial) -> None:
    train, test = big_serial
    hand = Ranker(None).weights
    learned = fit(train, hand, l2=0.05, steps=300, lr=0.1)
    before = ranker_gate.top_right(test, hand).mean()
    after = ranker_gate.top_right(test, learned).mean()
    assert before < 0.8  # the hand weights favour the tallest text: the serial
    assert after >= 0.9, (before, after)


def test_the_gate_serves_better_weights_and_every_process_picks_them_up(big_serial, tmp_path: Path) -> None:
    train, test = big_serial
    candidate = tmp_path / "ranker.json"
    Ranker.save(candidate, fit(train, Ranker(None).weights, 0.05, 300, 0.1), version="r-test")
    table = ranker_gate.compare(None, candidate, {"type:big-serial": test})
    assert table["type:big-serial"].candidate > table["type:big-serial"].served
    assert not testsets.refusals(table)
    hand = tmp_path / "hand.json"  # once the learned weights are served, the hand ones are refused
    Ranker.save(hand, Ranker(None).weights, version="hand")
    assert testsets.refusals(ranker_gate.compare(candidate, hand, {"type:big-serial": test})) == [
        "type:big-serial"
    ]

    models = tmp_path / "models"
    ranker_gate.install(candidate, models, "r-test")
    entry = read_served(models)["ranker"]
    assert entry["version"] == "r-test" and Path(entry["path"]).is_file()
    assert ServedModels(models).reader.locator.ranker.version == "r-test"

    served = read_served(models)  # a file changed after its promotion is not served
    Path(served["ranker"]["path"]).write_text(json.dumps({"weights": dict.fromkeys(FEATURES, 0.0)}))
    write_served(models, served)
    assert ServedModels(models).reader.locator.ranker.version != "r-test"
