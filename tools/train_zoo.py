"""Trains the zoo's published models and records them in the weights registry.

```bash
python tools/train_zoo.py                    # every registered task (the tutorial models)
python tools/train_zoo.py classification     # some tasks
python tools/train_zoo.py classification --epochs 5 --seed 0
python tools/train_zoo.py --presets          # every real-data preset of the catalogue
python tools/train_zoo.py japanese_vowels_lstm           # one preset
python tools/train_zoo.py japanese_vowels_lstm --select  # its candidates, validation only
```

A name of :data:`rnnzoo.catalogue.PRESETS` trains that real-data preset by its
recipe (:func:`rnnzoo.catalogue.training.train`: options chosen on the
validation split, the final fit, one score on the official test split), computes
or reads its baselines (:mod:`rnnzoo.catalogue.baselines`) and writes
``rnnzoo/assets/weights/<preset>-<sha256[:8]>.keras`` and its record under the
preset's name. ``--select`` scores the entry's ``candidates`` on the validation
split only and writes ``tools/results/selection_<preset>.json`` (the evidence
behind the options in the catalogue).

For each task: seeds everything, trains the task's default model (its registry
``demo`` settings: options, data, batch size; ``RECIPES`` below may add epochs)
on the built-in offline data on CPU, evaluates it on the test split, and writes

* ``rnnzoo/assets/weights/<task>-<sha256[:8]>.keras``: config, weights and any
  preprocessing assets (a vocabulary is part of the model's config) in one file;
  the previous file of the task is removed;
* the task's record in ``rnnzoo/weights_registry.json``: file name, sha256,
  size, URLs, licence, dataset, measured test metrics (and the demo's baseline),
  input/output spec, parameter count, options, and the recipe (epochs, batch
  size, optimizer, seed, versions of rnnzoo/keras/tensorflow/python, the command).

Then run ``python tools/make_cards.py`` to regenerate ``zoo_cards/``.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import pathlib
import platform
import re
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LICENSE = "Apache-2.0"
RAW_BASE = "https://raw.githubusercontent.com/rnnzoo/rnnzoo/v0.1.0/rnnzoo/assets/weights"

#: Per-task additions to the registry's demo settings (keep every task to minutes on CPU).
RECIPES: dict[str, dict] = {
    "classification": {"epochs": 6, "data": {"num_examples": 6000}},
    "regression": {"epochs": 6},
    "text_prediction": {"epochs": 6},
    "translation": {"epochs": 10},
    "captioning": {"epochs": 10},
    "video_classification": {"epochs": 3},
}


def _jsonable(value):
    if hasattr(value, "get_config") and not isinstance(value, type):
        return _jsonable(value.get_config())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _tensor_spec(tensors) -> list[dict]:
    import keras

    flat = keras.tree.flatten(tensors)
    return [
        {"name": getattr(t, "name", None), "shape": list(t.shape), "dtype": str(t.dtype)}
        for t in flat
    ]


def _io_spec(model, x, which: str) -> list[dict]:
    """The model's input or output tensors: from the functional graph, else from a batch."""
    import keras
    import numpy as np

    tensors = getattr(model, which, None) if getattr(model, "_is_graph_network", True) else None
    try:
        if tensors:
            return _output_spec(model) if which == "outputs" else _tensor_spec(tensors)
    except (AttributeError, ValueError):
        pass
    value = x if which == "inputs" else model.predict(x, verbose=0)
    names = list(value) if isinstance(value, dict) else None
    flat = keras.tree.flatten(value)
    return [
        {"name": names[i] if names else f"{which[:-1]}_{i}",
         "shape": [None, *np.shape(t)[1:]],  # a test batch's shape (subclassed model)
         "dtype": str(np.asarray(t).dtype)}
        for i, t in enumerate(flat)
    ]


def _round(value) -> float:
    import keras

    return float(f"{float(keras.ops.convert_to_numpy(value)):.6g}")


def _output_spec(model) -> list[dict]:
    rows = _tensor_spec(model.outputs)
    names = list(getattr(model, "output_names", None) or [])
    if len(names) == len(rows):
        for row, name in zip(rows, names):
            row["name"] = name
    return rows


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pin_assets(config: dict, model) -> tuple[dict, dict]:
    """Pins the preprocessing assets the model was built with into its options.

    An option left at ``None`` whose value the model carries (a task's default
    vocabulary, ``model.vocabulary``) is replaced by that object, so the record
    and ``build(task, weights="pretrained")`` use exactly the trained vocabulary
    even if the task's default changes. Returns ``(options, assets)``.
    """
    options, assets = dict(config), {}
    for name, value in config.items():
        carried = getattr(model, name, None)
        if value is None and hasattr(carried, "get_config") and not callable(carried):
            options[name] = carried
        value = options[name]
        if "vocab" in name and value is not None and hasattr(value, "__len__") \
                and not isinstance(value, (int, str)):
            level = getattr(value, "level", None)
            assets[name] = {"entries": len(value), **({"level": level} if level else {}),
                            "stored_in": ["the .keras file (model config)",
                                          f"this record's options.{name}"]}
    return options, assets


def train_task(task: str, *, seed: int = 0, epochs: int | None = None, verbose: int = 2,
               folder: pathlib.Path | None = None, recipe: dict | None = None) -> dict:
    """Trains, evaluates and saves one task's published model; returns its record.

    Args:
        task: a registered task.
        seed: the seed of ``keras.utils.set_random_seed``.
        epochs: overrides the recipe's epochs.
        verbose: Keras ``fit`` verbosity.
        folder: where the weight file goes (default: the package's weights folder).
        recipe: ``{"epochs", "batch_size", "data", "eval_data", "overrides"}`` on top of
            the task's demo settings (default: ``RECIPES[task]``).
    """
    import keras
    import tensorflow as tf

    import rnnzoo
    from rnnzoo import weights

    spec = rnnzoo.registry.get(task)
    demo = dict(spec.demo)
    recipe = RECIPES.get(task, {}) if recipe is None else recipe
    data_kwargs = {**demo.get("data", {}), **recipe.get("data", {})}
    eval_kwargs = {**demo.get("eval_data", {}), **recipe.get("eval_data", {})}
    overrides = {**demo.get("overrides", {}), **recipe.get("overrides", {})}
    batch_size = recipe.get("batch_size", demo.get("batch_size", 64))
    epochs = epochs or recipe.get("epochs", demo.get("epochs", 2))

    keras.utils.set_random_seed(seed)
    train = rnnzoo.data.load(task, "train", batch_size, **data_kwargs)
    val = rnnzoo.data.load(task, "validation", batch_size, **eval_kwargs)
    test = rnnzoo.data.load(task, "test", batch_size, **eval_kwargs)
    model = rnnzoo.build(task, **overrides)
    config = spec.resolve(overrides)
    print(f"== {task}: {model.count_params():,} parameters, {epochs} epochs ==", flush=True)
    start = time.perf_counter()
    history = model.fit(train, validation_data=val, epochs=epochs, verbose=verbose)
    train_seconds = time.perf_counter() - start
    results = model.evaluate(test, verbose=0, return_dict=True)
    report = demo["report"](model, test) if demo.get("report") else {}

    folder = pathlib.Path(folder or weights.BUNDLED_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{task}.tmp-{os.getpid()}.keras"
    # Publish the weights without the optimizer state: a freshly built (compiled,
    # optimizer not yet built) twin receives the trained weights and is saved.
    export = rnnzoo.build(task, **overrides)
    export.set_weights(model.get_weights())
    try:
        export.save(tmp)
        sha = _sha256(tmp)
        file_name = f"{task}-{sha[:8]}.keras"
        target = folder / file_name
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    for old in folder.iterdir():
        if re.fullmatch(rf"{re.escape(task)}-[0-9a-f]{{8}}\.keras", old.name) and old != target:
            old.unlink()

    # The file must load back to the same predictions (what users will get).
    reloaded = rnnzoo.build(task, weights=str(target), **overrides)
    x, _ = next(iter(test))
    import numpy as np

    for a, b in zip(keras.tree.flatten(model.predict(x, verbose=0)),
                    keras.tree.flatten(reloaded.predict(x, verbose=0))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)

    optimizer = model.optimizer
    options, assets = _pin_assets(config, model)
    metrics = {"test": {k: round(float(v), 6) for k, v in results.items()}}
    generation = {k: round(float(v), 6) for k, v in report.items()
                  if k not in ("baseline_value", "value") and isinstance(v, (int, float))
                  and not isinstance(v, bool)}
    if generation:  # e.g. BLEU of generated outputs, from the task's demo report
        metrics["generation"] = generation
        if "metric" in report:  # the headline the demo report measured, e.g. "BLEU (greedy)"
            metrics["generation_headline"] = str(report["metric"])
    if "baseline" in report:
        metrics["baseline"] = {"name": report["baseline"],
                               "value": _jsonable(report.get("baseline_value"))}
    record = {
        "task": task,
        "file_name": file_name,
        "format": "keras",
        "sha256": sha,
        "size": target.stat().st_size,
        "urls": [f"{weights.DEFAULT_BASE_URL}/{file_name}", f"{RAW_BASE}/{file_name}"],
        "license": LICENSE,
        "dataset": {
            "name": f"rnnzoo built-in '{task}' data",
            "source": "builtin",
            "loader": {"train": _jsonable(data_kwargs), "eval": _jsonable(eval_kwargs)},
            "splits": ["train", "validation", "test"],
            "tfds_equivalent": spec.tfds_name,
        },
        "pattern": spec.pattern,
        "metrics": metrics,
        "primary_metric": spec.metrics[0] if spec.metrics[0] in results else "loss",
        "input_spec": _io_spec(model, x, "inputs"),
        "output_spec": _io_spec(model, x, "outputs"),
        "params": int(model.count_params()),
        "options": _jsonable(options),
        "assets": _jsonable(assets),
        "recipe": {
            "command": f"python tools/train_zoo.py {task} --seed {seed}"
                       + (f" --epochs {epochs}" if epochs != recipe.get(
                           "epochs", demo.get("epochs", 2)) else ""),
            "epochs": epochs,
            "batch_size": batch_size,
            "optimizer": {"name": type(optimizer).__name__,
                          "learning_rate": _round(optimizer.learning_rate),
                          "clipnorm": getattr(optimizer, "clipnorm", None)},
            "loss": getattr(model.loss, "name", None) or str(model.loss),
            "seed": seed,
            "device": "CPU",
            "train_seconds": round(train_seconds, 1),
            "final_epoch": {k: round(float(v[-1]), 6) for k, v in history.history.items()},
            "versions": {"rnnzoo": rnnzoo.__version__, "keras": keras.__version__,
                         "tensorflow": tf.__version__, "python": platform.python_version()},
            "date": datetime.date.today().isoformat(),
        },
    }
    return _jsonable(record)


def _publish(model, name: str, folder: pathlib.Path) -> tuple[pathlib.Path, str]:
    """Saves ``model`` as ``<name>-<sha[:8]>.keras`` in ``folder``; removes older files."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp-{os.getpid()}.keras"
    try:
        model.save(tmp)
        sha = _sha256(tmp)
        target = folder / f"{name}-{sha[:8]}.keras"
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    for old in folder.iterdir():
        if re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{8}}\.keras", old.name) and old != target:
            old.unlink()
    return target, sha


def train_preset(name: str, *, seed: int = 0, epochs: int | None = None, verbose: int = 2,
                 folder: pathlib.Path | None = None) -> dict:
    """Trains a catalogue preset by its recipe, publishes its weights, returns its record."""
    import keras
    import numpy as np
    import tensorflow as tf

    import rnnzoo
    from rnnzoo import registry, weights
    from rnnzoo.catalogue import PRESETS, baselines, training
    from rnnzoo.catalogue.folder import portable_options

    entry = PRESETS[name]
    spec = registry.get(entry["task"])
    print(f"== {name} ({entry['task']}, {entry['dataset']}) ==", flush=True)
    trained = training.train(name, seed=seed, epochs=epochs, verbose=verbose)
    options = portable_options(spec, trained.model, trained.options)
    twin = spec.builder(**spec.resolve(options))  # no optimizer state in the file
    twin.set_weights(trained.model.get_weights())
    target, sha = _publish(twin, name, pathlib.Path(folder or weights.BUNDLED_DIR))
    reloaded = keras.saving.load_model(target, compile=False, safe_mode=True)
    test = training.splits(name, batch_size=8)["test"]
    x = test[0][:8] if isinstance(test, tuple) else next(iter(test))[0]
    for a, b in zip(keras.tree.flatten(trained.model.predict(x, verbose=0)),
                    keras.tree.flatten(reloaded.predict(x, verbose=0))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)
    found = baselines.for_preset(name, trained)
    recipe = entry["recipe"]
    optimizer = trained.model.optimizer
    record = {
        "task": entry["task"],
        "preset": name,
        "file_name": target.name,
        "format": "keras",
        "sha256": sha,
        "size": target.stat().st_size,
        "urls": [f"{weights.DEFAULT_BASE_URL}/{target.name}", f"{RAW_BASE}/{target.name}"],
        "license": entry["license"],
        "dataset": {**_jsonable(entry["dataset"]), "split": entry["split"],
                    "sizes": _jsonable(trained.data.get("sizes", {}))},
        "pattern": spec.pattern,
        "description": entry["description"],
        "architecture": entry["architecture"],
        "metrics": {"test": trained.metrics, "headline": entry["metric"], "baselines": found},
        "primary_metric": entry["metric"],
        "input_spec": _io_spec(trained.model, x, "inputs"),
        "output_spec": _io_spec(trained.model, x, "outputs"),
        "params": int(trained.model.count_params()),
        "options": _jsonable(options),
        "recipe": {
            "command": f"python tools/train_zoo.py {name} --seed {seed}"
                       + (f" --epochs {epochs}" if epochs else ""),
            **_jsonable(recipe),
            "epochs": trained.epochs,
            "optimizer": {"name": type(optimizer).__name__,
                          "learning_rate": _round(spec.resolve(options)["learning_rate"]),
                          "clipnorm": getattr(optimizer, "clipnorm", None)},
            "seed": seed,
            "device": "CPU",
            "train_seconds": round(trained.seconds, 1),
            "final_epoch": {k: round(v[-1], 6) for k, v in trained.history.items()},
            "options_chosen_on": (f"the validation split (tools/results/selection_{name}.json)"
                                  if entry.get("candidates") else
                                  "nothing: fixed in advance, no search"),
            "versions": {"rnnzoo": rnnzoo.__version__, "keras": keras.__version__,
                         "tensorflow": tf.__version__, "python": platform.python_version()},
            "date": datetime.date.today().isoformat(),
        },
    }
    return _jsonable(record)


def select(name: str, *, seed: int = 0, epochs: int | None = None) -> list[dict]:
    """Scores the preset's ``candidates`` on the validation split; writes the results file."""
    from rnnzoo._io import atomic_write_json
    from rnnzoo.catalogue import PRESETS, training

    candidates = PRESETS[name].get("candidates") or [{}]
    rows = []
    for overrides in candidates:  # one at a time: the rows stream out as they finish
        row = training.validate(name, [overrides], seed=seed, epochs=epochs)[0]
        print(f"{name} {json.dumps(overrides)}: validation {row['validation']}", flush=True)
        rows.append(row)
    chosen = rows[training.best(name, rows)]["options"]
    print(f"{name}: chosen {json.dumps(chosen)}", flush=True)
    atomic_write_json(ROOT / "tools" / "results" / f"selection_{name}.json", {
        "preset": name, "seed": seed, "epochs": epochs or PRESETS[name]["recipe"]["epochs"],
        "command": f"python tools/train_zoo.py {name} --select --seed {seed}",
        "rule": training.SELECTION_RULE, "rows": rows, "chosen": chosen})
    return rows


def write_record(record: dict, path: pathlib.Path | None = None) -> None:
    """Merges ``record`` into the registry file atomically."""
    from rnnzoo import weights

    path = pathlib.Path(path or weights.REGISTRY_PATH)
    data = {"format_version": 1, "base_url": weights.DEFAULT_BASE_URL, "models": {}}
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
    data.setdefault("models", {})[record.get("preset", record["task"])] = record
    data["models"] = dict(sorted(data["models"].items()))
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv=None) -> int:
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # the recipe is CPU, for reproducibility
    import rnnzoo

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tasks", nargs="*",
                        help="tasks or presets to train (default: every registered task)")
    parser.add_argument("--presets", action="store_true",
                        help="train every real-data preset of the catalogue")
    parser.add_argument("--select", action="store_true",
                        help="score each preset's candidates on the validation split only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--verbose", type=int, default=2, choices=[0, 1, 2])
    parser.add_argument("--scratch", default=None, metavar="DIR",
                        help="trial run: write the weights and a registry file to DIR instead "
                             "of the package")
    args = parser.parse_args(argv)
    from rnnzoo.catalogue import PRESETS

    tasks = args.tasks or (list(PRESETS) if args.presets or args.select else rnnzoo.list_models())
    for task in tasks:
        if task not in PRESETS:
            rnnzoo.registry.get(task)  # fail fast on a typo
    for task in tasks:
        scratch = pathlib.Path(args.scratch) if args.scratch else None
        if task in PRESETS:
            if args.select:
                select(task, seed=args.seed, epochs=args.epochs)
                continue
            record = train_preset(task, seed=args.seed, epochs=args.epochs,
                                  verbose=args.verbose, folder=scratch)
            write_record(record, scratch / "weights_registry.json" if scratch else None)
            print(f"{task}: {record['file_name']} {record['size']:,} bytes; test "
                  f"{record['primary_metric']}={record['metrics']['test'][record['primary_metric']]}"
                  f"; baselines " + "; ".join(f"{b['name']} {b['value']}"
                                             for b in record["metrics"]["baselines"])
                  + f"; {record['recipe']['train_seconds']} s", flush=True)
            continue
        scratch = pathlib.Path(args.scratch) if args.scratch else None
        record = train_task(task, seed=args.seed, epochs=args.epochs, verbose=args.verbose,
                            folder=scratch)
        write_record(record, scratch / "weights_registry.json" if scratch else None)
        test = ", ".join(f"{k}={v:.4f}" for k, v in record["metrics"]["test"].items())
        print(f"{task}: {record['file_name']} {record['size']:,} bytes; test {test}; "
              f"{record['recipe']['train_seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
