"""Training and evaluating a catalogue preset from its recipe (seeded, CPU minutes).

``tools/train_zoo.py`` (every preset, writes the weights and their record) and
``rnnzoo demo --real`` (one preset, end to end) both call :func:`train`;
the slow test re-scores the shipped weights with :func:`evaluate`.

A preset's data come from its entry in :data:`~rnnzoo.catalogue.table.PRESETS`:

- options derived from the data (``num_features``, ``num_classes``, a
  vocabulary, the image size, the normalization's ``adapt_data``) come from
  the loader (``ds.rnnzoo_build_options``), the rest from the entry;
- the options were chosen on the validation split (:func:`validate` scores
  candidates there); ``recipe["final_fit"] == "train+validation"`` then fits
  the chosen model on the whole official training set, for the recipe's
  fixed number of epochs, and the official test split is scored once.

Example:

```python
result = train("japanese_vowels_lstm", seed=0)
result.metrics["accuracy"], result.model
```
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import keras
import numpy as np

from rnnzoo import registry
from rnnzoo.catalogue.table import PRESETS
from rnnzoo.data import digits, series, shakespeare, ucr
from rnnzoo.tasks.captioning import evaluate_captions, most_frequent_caption_bleu

__all__ = ["Trained", "entry", "splits", "build", "train", "evaluate", "validate", "best",
           "RECIPE_KEYS", "SELECTION_RULE"]

#: Candidate keys that change the recipe rather than the build options.
RECIPE_KEYS = ("epochs", "batch_size")
#: How :func:`best` picks a candidate (stated before any test score is read).
SELECTION_RULE = ("the best validation value of the preset's metric (higher accuracy, lower "
                  "RMSE or perplexity); ties go to the lower validation loss, then to the "
                  "earlier candidate")
LOWER_IS_BETTER = ("rmse", "mae", "mse", "loss", "perplexity")


@dataclasses.dataclass
class Trained:
    """A trained preset: the model, its options and its test metrics."""

    name: str
    model: Any
    options: dict
    metrics: dict
    history: dict
    seconds: float
    epochs: int
    data: dict


def entry(name: str) -> dict:
    """The catalogue entry of a real-data preset; a ``ValueError`` naming them otherwise."""
    if name not in PRESETS:
        raise ValueError(f"`name` must be a real-data preset, one of {sorted(PRESETS)}. "
                         f"Received: name={name!r}")
    return PRESETS[name]


def _arrays(dataset: dict, split: str):
    return ucr.load_arrays(dataset["name"], split, archive=dataset["source"],
                           **dataset.get("loader", {}))


def splits(name: str, *, final_fit: bool = False, batch_size: int = 32,
           options: dict | None = None) -> dict:
    """The preset's data: ``{"fit", "validation", "test", "options", "info"}``.

    ``fit`` is the train split, or train + validation with ``final_fit``;
    ``options`` are the data-derived build options (the normalization's
    ``adapt_data`` when the build ``options``, default the entry's, normalize).
    """
    spec = entry(name)
    options_given = spec["options"] if options is None else options
    dataset = spec["dataset"]
    source, loader = dataset["source"], dict(dataset.get("loader", {}))
    if source in ("ucr", "uea"):
        train, val, test = (_arrays(dataset, s) for s in ("train", "validation", "test"))
        fit = train
        if final_fit:
            fit = ucr.SeriesArrays(np.concatenate([train.inputs, val.inputs]),
                                   np.concatenate([train.labels, val.labels]),
                                   np.concatenate([train.lengths, val.lengths]), train.class_names)
        options = {"num_features": int(fit.inputs.shape[2]), "num_classes": len(fit.class_names)}
        if options_given.get("normalize"):
            options["adapt_data"] = fit.inputs
        return {"fit": (fit.inputs, fit.labels), "validation": (val.inputs, val.labels),
                "test": (test.inputs, test.labels), "options": options,
                "info": {"sizes": {"fit": len(fit.labels), "validation": len(val.labels),
                                   "test": len(test.labels)}}}
    task = spec["task"]
    load = {"statsmodels": series.load, "shakespeare": shakespeare.load,
            "digits": digits.load}[source]
    extra = {"name": dataset["name"]} if source == "statsmodels" else {}
    parts = {s: load(s, batch_size, **extra, **loader) for s in ("train", "validation", "test")}
    fit = parts["train"].concatenate(parts["validation"]) if final_fit else parts["train"]
    options = dict(parts["train"].rnnzoo_build_options)
    info = {"metadata_keys": sorted(getattr(parts["test"], "rnnzoo_metadata", {}))}
    if task == "captioning":
        info["test_arrays"] = digits.load_arrays("test", **loader)
        info["train_arrays"] = digits.load_arrays("train", **loader)
    return {"fit": fit, "validation": parts["validation"], "test": parts["test"],
            "options": options, "info": info}


def build(name: str, data_options: dict, overrides: dict | None = None, *,
          base: dict | None = None):
    """The preset's compiled model (the registered builder; no weights).

    The options are ``base`` (default: the entry's chosen options), then the
    data-derived ones, then ``overrides``.
    """
    spec = entry(name)
    task = registry.get(spec["task"])
    base = spec["options"] if base is None else base
    config = task.resolve({**base, **data_options, **(overrides or {})})
    return task.builder(**config), config


def _callbacks(recipe: dict) -> list:
    plateau = recipe.get("reduce_lr_on_plateau")
    if not plateau:
        return []
    return [keras.callbacks.ReduceLROnPlateau(monitor="loss", verbose=0, **plateau)]


def _fit(model, data, recipe: dict, epochs: int, verbose: int, validation=None):
    kwargs = dict(epochs=epochs, verbose=verbose, callbacks=_callbacks(recipe),
                  validation_data=validation)
    if isinstance(data, tuple):
        history = model.fit(*data, batch_size=recipe.get("batch_size", 32), shuffle=True,
                            **kwargs)
    else:
        steps = recipe.get("steps_per_epoch")
        if validation is not None:
            kwargs["validation_steps"] = recipe.get("validation_steps")
        # A fixed number of steps per epoch walks on through the (shuffled) data.
        history = model.fit(data.repeat() if steps else data, steps_per_epoch=steps, **kwargs)
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def evaluate(name: str, model, data: dict | None = None) -> dict:
    """The preset's metrics on the official test split (``data`` from :func:`splits`)."""
    spec = entry(name)
    data = data or splits(name, batch_size=spec["recipe"].get("batch_size", 32))
    test = data["test"]
    if isinstance(test, tuple):
        results = model.evaluate(*test, batch_size=256, verbose=0, return_dict=True)
    else:
        results = model.evaluate(test, verbose=0, return_dict=True)
    metrics = {k: round(float(v), 6) for k, v in results.items()}
    if spec["task"] == "captioning":
        images, _, captions, _ = data["info"]["test_arrays"]
        _, _, train_captions, _ = data["info"]["train_arrays"]
        metrics["bleu"] = round(float(evaluate_captions(model, images, captions)["bleu"]), 6)
        common, value = most_frequent_caption_bleu(model.vocabulary, captions, train_captions)
        metrics["most_frequent_caption_bleu"] = round(float(value), 6)
    return metrics


def train(name: str, *, seed: int = 0, epochs: int | None = None, verbose: int = 0,
          overrides: dict | None = None) -> Trained:
    """Trains preset ``name`` by its recipe and scores it on the official test split.

    Args:
        name: a real-data preset.
        seed: ``keras.utils.set_random_seed`` before building (the data splits
            are fixed by the archives and the loaders).
        epochs: override the recipe's epochs (a quick run).
        verbose: Keras ``fit`` verbosity.
        overrides: build options on top of the entry's (experiments).

    Returns:
        A :class:`Trained` with the model, its options, the test metrics, the
        training history and the seconds spent fitting.
    """
    spec = entry(name)
    recipe = spec["recipe"]
    final = recipe.get("final_fit", "train") == "train+validation"
    data = splits(name, final_fit=final, batch_size=recipe.get("batch_size", 32))
    keras.utils.set_random_seed(seed)
    model, config = build(name, data["options"], overrides)
    epochs = epochs or recipe["epochs"]
    start = time.perf_counter()
    history = _fit(model, data["fit"], recipe, epochs, verbose,
                   validation=None if final else data["validation"])
    seconds = time.perf_counter() - start
    return Trained(name=name, model=model, options=config, metrics=evaluate(name, model, data),
                   history=history, seconds=seconds, epochs=epochs, data=data["info"])


def validate(name: str, candidates: list[dict], *, seed: int = 0, epochs: int | None = None,
             verbose: int = 0) -> list[dict]:
    """Scores candidate options on the validation split only (the test split is not read).

    A candidate holds build options (on top of the task's defaults, not of
    the entry's chosen options) and, optionally, the recipe's ``epochs`` and
    ``batch_size``. Each candidate gets freshly loaded data and the same seed,
    so the candidates differ only in what they declare.

    Returns:
        One row per candidate: ``{"options", "validation": {metric: value}}``.
    """
    spec = entry(name)
    rows = []
    for candidate in candidates:
        overrides = {k: v for k, v in candidate.items() if k not in RECIPE_KEYS}
        recipe = {**spec["recipe"], **{k: candidate[k] for k in RECIPE_KEYS if k in candidate}}
        data = splits(name, batch_size=recipe.get("batch_size", 32), options=overrides)
        keras.utils.set_random_seed(seed)
        model, _ = build(name, data["options"], overrides, base={})
        _fit(model, data["fit"], recipe, epochs or recipe["epochs"], verbose)
        val = data["validation"]
        results = (model.evaluate(*val, verbose=0, return_dict=True) if isinstance(val, tuple)
                   else model.evaluate(val, verbose=0, return_dict=True))
        rows.append({"options": candidate,
                     "validation": {k: round(float(v), 6) for k, v in results.items()}})
    return rows


def best(name: str, rows: list[dict]) -> int:
    """The index of the row :func:`validate` scored best, by :data:`SELECTION_RULE`."""
    metric = entry(name)["metric"]
    sign = 1.0 if metric in LOWER_IS_BETTER else -1.0

    def key(i):
        scores = rows[i]["validation"]
        return (sign * scores[metric], scores.get("loss", 0.0), i)

    return min(range(len(rows)), key=key)
