"""rnnzoo.tuning and `rnnzoo tune`: keras-tuner search spaces for every registered task.

Parametrized over the registry, so a new task's search space is tested without
new test code. The distributed test starts a keras-tuner chief (the oracle)
and two workers as processes on a free 127.0.0.1 port and stops them all.
"""

import json
import re

import keras
import keras_tuner
import numpy as np
import pytest

import rnnzoo
from rnnzoo import tuning
from rnnzoo.layers import available_cells

from tests._workers.processes import WORKERS, Processes, check_ok, clean_env, free_ports
from tests.conftest import TASKS, tiny_data, tiny_overrides


def _searched(task, fixed):
    spec = rnnzoo.registry.get(task)
    return [
        name for name in spec.search_space
        if name not in fixed and (name != "bidirectional" or spec.allows_bidirectional)
    ]


@pytest.mark.parametrize("task", TASKS)
def test_hypermodel_builds_every_task_from_its_search_space(task):
    spec = rnnzoo.registry.get(task)
    fixed = tiny_overrides(task)
    hm = tuning.hypermodel(task, **fixed)
    assert hm.objective.name == spec.objective[0]
    assert hm.objective.direction == spec.objective[1]
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    assert isinstance(model, keras.Model) and model.optimizer is not None  # compiled
    searched = _searched(task, fixed)
    assert set(hp.values) == set(searched)
    for required in ("cell", "depth", "dropout", "learning_rate"):
        assert required in spec.search_space, f"{task} does not search {required}"
    assert "units" in spec.search_space
    if spec.allows_bidirectional:
        assert "bidirectional" in spec.search_space
    # the values declared on hp are the values the model was built with
    if "learning_rate" in hp.values:
        lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        assert lr == pytest.approx(hp.values["learning_rate"], rel=1e-6)
    if "cell" in hp.values:
        cells = [c for c in spec.search_space["cell"]["values"] if c in available_cells()]
        assert hp.space[[p.name for p in hp.space].index("cell")].values == cells


@pytest.mark.parametrize("task", TASKS)
def test_hyperparameter_values_change_the_model_and_fixed_ones_win(task):
    fixed = tiny_overrides(task)
    hm = tuning.hypermodel(task, **fixed)
    sizes = []
    for depth in (1, 2):
        hp = keras_tuner.HyperParameters()
        hp.Fixed("depth", depth)  # a value already on hp is the one used
        model = hm.build(hp)
        assert hp.values["depth"] == depth
        sizes.append(model.count_params())
    assert sizes[1] > sizes[0]
    pinned = tuning.hypermodel(task, **fixed, depth=2, learning_rate=0.05)
    hp = keras_tuner.HyperParameters()
    model = pinned.build(hp)
    assert "depth" not in hp.values and "learning_rate" not in hp.values
    assert model.count_params() == sizes[1]
    lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    assert lr == pytest.approx(0.05)


def test_cell_values_are_limited_to_available_cells(monkeypatch):
    import rnnzoo.layers

    monkeypatch.setattr(rnnzoo.layers, "available_cells", lambda: ("gru", "lstm", "feedforward"))
    hm = tuning.hypermodel("classification", **tiny_overrides("classification"))
    hp = keras_tuner.HyperParameters()
    hm.build(hp)
    cell = hp.space[[p.name for p in hp.space].index("cell")]
    declared = rnnzoo.registry.get("classification").search_space["cell"]["values"]
    assert list(cell.values) == [c for c in declared if c in ("gru", "lstm")]
    monkeypatch.setattr(rnnzoo.layers, "available_cells", lambda: ("feedforward",))
    with pytest.raises(ValueError, match="lists no available cell"):
        hm.build(keras_tuner.HyperParameters())


def test_bidirectional_is_not_searched_where_the_task_forbids_it(monkeypatch):
    spec = rnnzoo.registry.get("classification")
    monkeypatch.setattr(spec, "allows_bidirectional", False)
    hm = tuning.hypermodel("classification", **tiny_overrides("classification"))
    hp = keras_tuner.HyperParameters()
    hm.build(hp)
    assert "bidirectional" not in hp.values and "cell" in hp.values


def test_bad_arguments_fail_fast_with_named_values(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match=r"Unknown option `unitz`.*Did you mean 'units'"):
        tuning.hypermodel("classification", unitz=3)
    with pytest.raises(ValueError, match=r"`units` must be an integer >= 1. Received: units=0"):
        tuning.hypermodel("classification", units=0)
    with pytest.raises(ValueError, match="Unknown task"):
        tuning.hypermodel("clasification")
    with pytest.raises(ValueError, match=r"`tuner` must be one of .*Received: tuner='grid'"):
        tuning.make_tuner("classification", "grid", directory=tmp_path)
    with pytest.raises(ValueError, match=r"`max_trials` must be an integer >= 1"):
        tuning.make_tuner("classification", max_trials=0, directory=tmp_path)
    spec = rnnzoo.registry.get("classification")
    monkeypatch.setattr(spec, "search_space", {"units": {"type": "normal"}})
    with pytest.raises(ValueError, match=r"`search_space\['units'\]` of task 'classification'"):
        tuning.hypermodel("classification")
    monkeypatch.setattr(spec, "search_space", {"width": {"type": "int", "min": 1, "max": 2}})
    with pytest.raises(ValueError, match="names `width`, which is not one of its options"):
        tuning.hypermodel("classification")


def test_objective_helper_reads_the_registry():
    for task in TASKS:
        objective = tuning.objective(task)
        assert (objective.name, objective.direction) == rnnzoo.registry.get(task).objective


def _tiny_search(tmp_path, kind, monkeypatch, **kwargs):
    calls = []
    fit = keras.Model.fit

    def recording_fit(self, *args, **kw):
        history = fit(self, *args, **kw)
        calls.append((kw.get("epochs"), kw.get("initial_epoch", 0), len(history.epoch)))
        return history

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    tuner = tuning.make_tuner("classification", kind, directory=tmp_path, overwrite=True,
                              **tiny_overrides("classification"), **kwargs)
    tuner.search(tiny_data("classification"), validation_data=tiny_data("classification",
                                                                        "validation"),
                 epochs=1, verbose=0)
    return tuner, calls


@pytest.mark.slow
@pytest.mark.parametrize("kind", tuning.TUNERS)
def test_every_keras_tuner_searches_the_space(kind, tmp_path, monkeypatch):
    if kind == "hyperband":
        # max_epochs=2, factor=2: two 1-epoch trials, then the better one continues to epoch 2
        tuner, calls = _tiny_search(tmp_path, kind, monkeypatch, max_trials=3, max_epochs=2,
                                    factor=2)
    else:
        # Bayesian: two random initial points, then one trial proposed by its Gaussian process
        max_trials = 3 if kind == "bayesian" else 2
        tuner, calls = _tiny_search(tmp_path, kind, monkeypatch, max_trials=max_trials)
    trials = [tuner.oracle.trials[t] for t in tuner.oracle.start_order]
    assert len(trials) == (2 if kind == "random" else 3)
    assert tuner.trials_run == [t.trial_id for t in trials]
    assert all(t.status == "COMPLETED" and t.score is not None for t in trials)
    cells = set(available_cells())
    for trial in trials:
        values = trial.hyperparameters.values
        assert values["cell"] in cells and 1 <= values["depth"] <= 3
        assert 1e-4 <= values["learning_rate"] <= 1e-2
    if kind == "hyperband":
        # Hyperband's epoch handling reaches model.fit: epochs/initial_epoch from the trial
        for trial, (epochs, initial, ran) in zip(trials, calls):
            values = trial.hyperparameters.values
            assert (epochs, initial) == (values["tuner/epochs"], values["tuner/initial_epoch"])
            assert ran == epochs - initial
        assert [c[:2] for c in calls] == [(1, 0), (1, 0), (2, 1)]
    else:
        assert all(c[:2] == (1, 0) for c in calls)
    # the best model is the best trial's: the best score of all, reproduced on the same
    # validation data by the model keras-tuner returns, whose architecture is that trial's
    best_trial = tuner.oracle.get_best_trials(1)[0]
    assert best_trial.score == max(t.score for t in trials)  # objective: val_accuracy, max
    best = tuner.get_best_models(1)[0]
    accuracy = best.evaluate(tiny_data("classification", "validation"), verbose=0,
                             return_dict=True)["accuracy"]
    assert accuracy == pytest.approx(best_trial.score, abs=1e-6)
    values = {k: v for k, v in best_trial.hyperparameters.values.items()
              if not k.startswith("tuner/")}
    rebuilt = rnnzoo.build("classification", **tiny_overrides("classification", **values))
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in best.weights]
    assert type(best.get_layer("rnn_1")) is type(rebuilt.get_layer("rnn_1"))


@pytest.mark.slow
def test_cli_tune_hyperband_reports_and_saves_the_best_trial(tmp_path, capsys):
    from rnnzoo.cli import main

    data = ["num_examples=384", "sequence_length=12", "min_length=6"]
    args = ["tune", "classification", "--tuner", "hyperband", "--max-trials", "3",
            "--epochs", "4", "--batch-size", "32", "--units", "16", "--set", "embedding_dim=8",
            "--data", *data, "--out", str(tmp_path), "--verbose", "0"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    record = json.loads((tmp_path / "classification_best.json").read_text())
    scores = {t["trial_id"]: t["score"] for t in record["trials"]}
    assert len(scores) == 3
    assert record["objective"] == {"name": "val_accuracy", "direction": "max"}
    assert record["best_score"] == max(scores.values()) == scores[record["best_trial"]]
    assert record["best_score"] > min(scores.values())  # the best beats the worst
    config = record["best_configuration"]
    assert config["units"] == 16 and config["embedding_dim"] == 8  # fixed options kept
    assert not any(k.startswith("tuner/") for k in config)
    assert f"best configuration: {json.dumps(config)}" in printed
    # the saved model is the best trial's: it scores the reported value on the same data
    model = keras.saving.load_model(tmp_path / "classification_best.keras", safe_mode=True)
    val = rnnzoo.data.load("classification", "validation", 32,
                           **{k: int(v) for k, v in (d.split("=") for d in data)})
    accuracy = model.evaluate(val, verbose=0, return_dict=True)["accuracy"]
    assert accuracy == pytest.approx(record["best_score"], abs=1e-6)
    # rebuilding from the printed configuration gives the same architecture
    rebuilt = rnnzoo.build("classification", **config)
    assert rebuilt.count_params() == model.count_params()


@pytest.mark.slow
def test_distributed_tuning_shares_trials_between_workers(tmp_path):
    out = tmp_path / "shared"
    port = free_ports(1)[0]
    args = [WORKERS / "cli_worker.py", "tune", "classification", "--tuner", "random",
            "--max-trials", "4", "--epochs", "1", "--batch-size", "32", "--units", "8",
            "--set", "embedding_dim=8", "--data", "num_examples=128", "sequence_length=12",
            "min_length=6", "--out", out, "--verbose", "0"]
    oracle = dict(KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=port)
    with Processes(tmp_path) as procs:
        procs.start("chief", args, clean_env(KERASTUNER_TUNER_ID="chief", **oracle))
        for i in range(2):
            procs.start(f"tuner{i}", args, clean_env(KERASTUNER_TUNER_ID=f"tuner{i}", **oracle))
        for name in ("tuner0", "tuner1", "chief"):
            check_ok(procs, name)
        logs = {name: procs.log(name) for name in ("chief", "tuner0", "tuner1")}
    ran = {}
    for name in ("tuner0", "tuner1"):
        match = re.search(rf"^{name} ran trials: (.*)$", logs[name], re.M)
        assert match, logs[name][-2000:]
        ran[name] = match.group(1).split()
    record = json.loads((out / "classification_best.json").read_text())
    all_trials = {t["trial_id"] for t in record["trials"]}
    assert len(all_trials) == 4
    # every trial ran exactly once, on one of the workers, and both workers took some
    assert sorted(ran["tuner0"] + ran["tuner1"]) == sorted(all_trials)
    assert ran["tuner0"] and ran["tuner1"]
    # the chief reports the best of all the workers' trials
    scores = {t["trial_id"]: t["score"] for t in record["trials"]}
    assert record["best_score"] == max(scores.values())
    assert f"best trial {record['best_trial']} of 4: val_accuracy=" in logs["chief"]
    assert (out / "classification_best.keras").exists()
    assert np.isfinite(record["best_score"])
