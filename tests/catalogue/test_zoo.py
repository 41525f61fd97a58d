"""The real-data presets as shipped: every one published with an agreeing card, its figure
regenerated from the shipped weights on the official test split (slow), and the real demo."""

import pathlib
import sys

import pytest

import rnnzoo
from rnnzoo import cli, weights
from rnnzoo.catalogue import PRESETS

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import make_cards  # noqa: E402

RECORDS = weights.records()


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNNZOO_OFFLINE", "1")  # the bundled copies only


def test_the_catalogue_has_the_presets_the_issue_asks_for():
    by_task = {}
    for name, entry in PRESETS.items():
        by_task.setdefault(entry["task"], []).append(entry)
    archives = [e["dataset"]["source"] for e in by_task["classification"]]
    assert len(archives) >= 3 and "uea" in archives and "ucr" in archives
    assert any(e["dataset"]["name"] == "JapaneseVowels" for e in by_task["classification"])
    assert len(by_task["regression"]) >= 2 and len(by_task["text_prediction"]) >= 1
    assert len(by_task["captioning"]) >= 1


@pytest.mark.parametrize("name", sorted(n for n, e in PRESETS.items() if e.get("candidates")))
def test_options_are_the_candidate_the_validation_split_chose(name):
    """The catalogue holds what the committed selection chose by the stated rule."""
    import json

    from rnnzoo.catalogue import training

    path = ROOT / "tools" / "results" / f"selection_{name}.json"
    selection = json.loads(path.read_text(encoding="utf-8"))
    entry = PRESETS[name]
    assert [row["options"] for row in selection["rows"]] == json.loads(
        json.dumps(entry["candidates"]))
    chosen = selection["rows"][training.best(name, selection["rows"])]["options"]
    assert selection["chosen"] == chosen and selection["rule"] == training.SELECTION_RULE
    options = {k: v for k, v in chosen.items() if k not in training.RECIPE_KEYS}
    assert json.loads(json.dumps(entry["options"])) == options
    for key in training.RECIPE_KEYS:
        if key in chosen:
            assert entry["recipe"][key] == chosen[key]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_published_with_an_agreeing_card(name):
    assert name in RECORDS, f"{name} is not trained: python tools/train_zoo.py {name}"
    record = RECORDS[name]
    assert record["task"] == PRESETS[name]["task"] and record["preset"] == name
    path = make_cards.card_path(name)
    assert path.exists(), f"no card: python tools/make_cards.py {name}"
    text = path.read_text(encoding="utf-8")
    front = make_cards.parse_front_matter(text)
    for key in (*make_cards.FRONT_MATTER_FIELDS, *make_cards.PRESET_FIELDS):
        assert front[key] == record[key], f"zoo_cards/{name}.md disagrees on {key}"
    metric = record["primary_metric"]
    assert f"**{record['metrics']['test'][metric]:.4f}**" in text
    assert record["metrics"]["baselines"], name
    for baseline in record["metrics"]["baselines"]:
        assert f"| {baseline['name']} | {baseline['value']:.4f} |" in text
    assert record["recipe"]["command"] in text
    row = {r["name"]: r for r in rnnzoo.presets()}[name]
    assert row["metric"]["value"] == record["metrics"]["test"][metric]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_card_figure_is_regenerated_from_the_shipped_weights(name):
    """Re-scores the shipped weights on the official test split (no retraining)."""
    from rnnzoo.catalogue import training

    record = RECORDS[name]
    model = rnnzoo.build(preset=name)
    assert model.rnnzoo_weights_report.complete
    metrics = training.evaluate(name, model)
    metric = record["primary_metric"]
    assert metrics[metric] == pytest.approx(record["metrics"]["test"][metric], rel=2e-3, abs=1e-4)


def test_demo_real_trains_a_preset_and_prints_it_beside_its_baselines(capsys):
    assert cli.main(["demo", "--real", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "japanese_vowels_lstm on official TEST" in out
    assert "1-NN DTW_D" in out and "accuracy" in out
