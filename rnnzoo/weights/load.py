"""Loading weights into a freshly built model: matching, option diffing, transfer learning.

This is what ``rnnzoo.build(task, weights=...)`` calls (:func:`load_into`).
The file's weights are matched to the model's weights in order, by the last
two components of their path (owner and name, e.g. ``lstm_cell/kernel``) with
Keras' automatic ``_N`` suffixes removed:

* a different set of weights (another ``cell``, ``depth`` or ``bidirectional``)
  or a recurrent weight of another shape (``units``) is an incompatible
  architecture: ``ValueError`` naming the mismatch (and, for published weights,
  the options that differ); nothing is loaded;
* other weights whose shape differs (an embedding after a ``vocab_size`` change,
  a head after a ``num_classes`` change) keep their fresh initialisation; the
  result says exactly which were loaded and which were not
  (``model.rnnzoo_weights_report``, a :class:`LoadReport`) and a warning is
  logged on ``logging.getLogger("rnnzoo.weights")``.

``freeze_encoder=True`` then freezes every loaded layer except the output head
(the last layer with weights) and layers that were reinitialised, for transfer
learning.

Example:

```python
model = rnnzoo.build("classification", weights="pretrained", num_classes=6,
                     freeze_encoder=True)          # new head, frozen encoder
print(model.rnnzoo_weights_report.skipped)         # ['classifier/kernel', 'classifier/bias']
```
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import zipfile
from typing import Any

import keras

from rnnzoo._validation import check_bool
from rnnzoo.layers.walk import iter_layers, recurrent_layers
from rnnzoo.weights.cache import fetch
from rnnzoo.weights.registry import get_record, record_name

__all__ = ["FREE_OPTIONS", "LoadReport", "load_into", "load_model_file"]

logger = logging.getLogger("rnnzoo.weights")

#: Options that never change the weights (training-only).
FREE_OPTIONS = frozenset({"learning_rate", "dropout", "recurrent_dropout"})
_HEAD_OPTION = re.compile(
    r"(^|_)(num_classes|vocab_size|vocabulary|num_features|num_outputs|output_size)$"
)


@dataclasses.dataclass(frozen=True)
class LoadReport:
    """What :func:`load_into` did.

    Attributes:
        source: the file the weights came from.
        loaded: paths of the model weights that received the file's values.
        skipped: paths of the model weights kept at their fresh initialisation,
            with the shapes that differed in ``reasons``.
        reasons: ``{path: "file (a, b) vs model (c, d)"}`` for every skipped weight.
        frozen: names of the layers frozen by ``freeze_encoder=True``.

    Example:

    >>> report = rnnzoo.build("classification", weights="pretrained").rnnzoo_weights_report
    >>> report.complete
    True
    """

    source: str
    loaded: tuple[str, ...]
    skipped: tuple[str, ...]
    reasons: dict
    frozen: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """True when every weight of the model was loaded."""
        return not self.skipped

    def summary(self) -> str:
        """One sentence: how many weights were loaded, which were not and why, what froze."""
        text = f"Loaded {len(self.loaded)}/{len(self.loaded) + len(self.skipped)} weights " \
               f"from {self.source}."
        if self.skipped:
            text += " Reinitialised (shape differs): " + ", ".join(
                f"{p} [{self.reasons[p]}]" for p in self.skipped) + "."
        if self.frozen:
            text += f" Frozen layers: {', '.join(self.frozen)}."
        return text


def _normalise(path: str) -> str:
    """The owner and name of a weight, without Keras' automatic ``_N`` suffixes.

    Only the last two path components count (``lstm_cell/kernel``): outer scopes
    differ between a model built in code and one deserialised from a file
    (wrappers such as TimeDistributed name their inner layer differently).
    """
    return "/".join(re.sub(r"_\d+$", "", part) for part in path.split("/")[-2:])


def _recurrent_weight_ids(model) -> set[int]:
    return {id(var) for layer in recurrent_layers(model) for var in layer.weights}


def _source_model(spec, weights: Any):
    """Returns ``(reference_model, source_path, published_options_or_None)``."""
    if isinstance(weights, str) and weights == "pretrained":
        record = get_record(spec.name)
        path = fetch(spec.name)
        return _load_keras_file(path), str(path), record.get("options")
    if isinstance(weights, str) and record_name(weights) is not None:
        record = get_record(weights)
        if record.get("task", weights) != spec.name:
            raise ValueError(
                f"`weights` {weights!r} are published for task {record.get('task')!r}, not "
                f"{spec.name!r}. Received: weights={weights!r}. Build it with "
                f"rnnzoo.build(preset={weights!r})."
            )
        path = fetch(weights)
        return _load_keras_file(path), str(path), record.get("options")
    if isinstance(weights, (str, os.PathLike)):
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise ValueError(
                "`weights` must be None, 'pretrained', a published name (see "
                "rnnzoo.presets()), or the path of an existing .keras or .weights.h5 file. "
                f"Received: weights={weights!r} (no such file or published name)."
            )
        if path.endswith(".keras"):
            return _load_keras_file(path), path, None
        if path.endswith(".weights.h5"):
            return None, path, None
        raise ValueError(
            "`weights` must be None, 'pretrained', or a path ending in .keras or .weights.h5. "
            f"Received: weights={weights!r}"
        )
    raise ValueError(
        "`weights` must be None, 'pretrained', or a path to a .keras or .weights.h5 file. "
        f"Received: weights={weights!r}"
    )


def _load_keras_file(path) -> Any:
    return load_model_file(path, "weights")


def load_model_file(path: str | os.PathLike, argument: str = "filepath", *,
                    compile: bool = False) -> Any:
    """Loads a ``.keras`` file with ``safe_mode=True``, saying what is wrong with a bad one.

    Keras reports a truncated or corrupt archive as "File not found"; this
    checks the archive first and names the actual problem.

    Args:
        path: the ``.keras`` file.
        argument: the argument or flag that named the file, for messages.
        compile: restore the training configuration too.

    Returns:
        The ``keras.Model``.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the file is not a complete ``.keras`` archive
            (truncated, corrupt, not a zip, no model configuration), or Keras
            refuses or cannot rebuild its content; the message names the file.

    Example:

    >>> model = rnnzoo.weights.load_model_file("runs/cls/classification.keras")
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"`{argument}` must be an existing .keras file. Received: {argument}={path!r} "
            "(no such file)."
        )
    size = os.path.getsize(path)
    what = f"`{argument}` is not a complete .keras archive: {path} ({size} bytes)"
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{what} is truncated or not a zip file at all; save or download it "
                         "again.")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            broken = archive.testzip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{what} is corrupt ({exc}); save or download it again.") from None
    if broken is not None:
        raise ValueError(f"{what} is corrupt: its member {broken!r} fails its CRC check; save "
                         "or download it again.")
    if "config.json" not in names:
        raise ValueError(f"{what} holds no config.json, so it is not a Keras model archive.")
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - an unsafe, crafted or foreign file: one clear error
        reason = " ".join(str(exc).split())[:400]
        raise ValueError(
            f"`{argument}`: {path} could not be loaded as a Keras model (safe_mode=True): "
            f"{type(exc).__name__}: {reason}"
        ) from exc


def _canonical(value: Any) -> Any:
    """A comparable form of an option value (objects such as vocabularies by config)."""
    if hasattr(value, "get_config"):
        return _canonical(value.get_config())
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _option_diff(spec, published: dict | None, config: dict) -> list[str]:
    if not published:
        return []
    resolved = spec.resolve({k: v for k, v in published.items() if k in spec.options})
    return [
        f"{name}: published {_short(resolved[name])}, requested {_short(config[name])}"
        for name in spec.options
        if name not in FREE_OPTIONS
        and _canonical(resolved.get(name)) != _canonical(config.get(name))
    ]


def _is_head_option(spec, name: str) -> bool:
    head = spec.extra.get("head_options")
    if head is not None:
        return name in head
    return bool(_HEAD_OPTION.search(name))


def load_into(model, spec, config: dict, weights: Any, *, freeze_encoder: bool = False):
    """Loads ``weights`` into ``model`` (built from ``spec`` with ``config``).

    This is the hook ``rnnzoo.build(..., weights=...)`` calls; see the module
    docstring for the matching rules.

    Args:
        model: the freshly built, compiled model.
        spec: the task's :class:`rnnzoo.registry.TaskSpec`.
        config: the resolved options ``model`` was built with.
        weights: ``"pretrained"`` or a path to a ``.keras`` / ``.weights.h5`` file.
        freeze_encoder: freeze every loaded layer except the output head.

    Returns:
        ``model``, with ``model.rnnzoo_weights_report`` set to a :class:`LoadReport`.

    Raises:
        ValueError: for an unsupported ``weights`` value, a missing file, or an
            incompatible architecture (naming the mismatch); nothing is loaded then.
        WeightsError: when published weights cannot be fetched.

    Example:

    >>> spec = rnnzoo.registry.get("classification")
    >>> config = spec.resolve({})
    >>> load_into(spec.builder(**config), spec, config, "my_model.keras")
    """
    freeze_encoder = check_bool("freeze_encoder", freeze_encoder)
    reference, source, published = _source_model(spec, weights)
    if reference is None:  # a .weights.h5 file: no config inside, exact architecture only
        try:
            model.load_weights(source)
        except Exception as exc:
            raise ValueError(
                f"The weights in {source} do not fit this {spec.name!r} model: {exc}. A "
                ".weights.h5 file holds no configuration, so it must come from a model built "
                "with the same options; to load into a different head (num_classes, "
                "vocab_size), save the trained model as .keras and pass that path."
            ) from exc
        paths = tuple(v.path for v in model.weights)
        report = LoadReport(source=source, loaded=paths, skipped=(), reasons={})
        return _finish(model, report, freeze_encoder)

    src_vars, dst_vars = list(reference.weights), list(model.weights)
    diff = _option_diff(spec, published, config)
    explain = f" Options that differ: {'; '.join(diff)}." if diff else ""
    if len(src_vars) != len(dst_vars) or any(
        _normalise(a.path) != _normalise(b.path) for a, b in zip(src_vars, dst_vars)
    ):
        first = next(
            (f"#{i}: file {a.path} vs model {b.path}"
             for i, (a, b) in enumerate(zip(src_vars, dst_vars))
             if _normalise(a.path) != _normalise(b.path)),
            "",
        )
        raise ValueError(
            f"Incompatible architecture: the weights in {source} do not fit this "
            f"{spec.name!r} model (file: {len(src_vars)} weights, model: {len(dst_vars)}; "
            f"first difference {first or 'in the number of weights'}).{explain} Only the head "
            "and embeddings may differ (num_classes, vocab_size); build the model with the "
            "file's cell, units, depth and bidirectional, or use weights=None."
        )
    recurrent = _recurrent_weight_ids(model)
    loaded, skipped, reasons, pairs = [], [], {}, []
    for src, dst in zip(src_vars, dst_vars):
        if tuple(src.shape) == tuple(dst.shape):
            pairs.append((src, dst))
            loaded.append(dst.path)
        else:
            skipped.append(dst.path)
            reasons[dst.path] = f"file {tuple(src.shape)} vs model {tuple(dst.shape)}"
    bad = [p for p, d in zip(src_vars, dst_vars) if id(d) in recurrent and d.path in reasons]
    blocking = [d for d in diff if not _is_head_option(spec, d.split(":")[0])]
    if bad or (skipped and blocking):
        names = [d.path for d in dst_vars if d.path in reasons and id(d) in recurrent] or skipped
        raise ValueError(
            f"Incompatible architecture: recurrent or encoder weights of {source} have other "
            f"shapes than this {spec.name!r} model's: "
            + ", ".join(f"{n} [{reasons[n]}]" for n in names[:4])
            + f".{explain} Only the head and embeddings may differ (num_classes, vocab_size)."
        )
    for src, dst in pairs:
        dst.assign(src.numpy() if hasattr(src, "numpy") else src)
    _finalize(model)
    report = LoadReport(source=source, loaded=tuple(loaded), skipped=tuple(skipped),
                        reasons=dict(reasons))
    if skipped:
        logger.warning("%s", report.summary())
    elif diff:
        logger.warning(
            "Every weight of %s fits, but options differ from the published model's (%s); "
            "check that this is intended.", source, "; ".join(diff))
    else:
        logger.info("%s", report.summary())
    return _finish(model, report, freeze_encoder)


def _finalize(model) -> None:
    """Lets layers rebuild what they derive from their variables (``Layer.finalize_state``).

    A ``keras.layers.Normalization`` computes the tensors it normalises with
    from its ``mean``/``variance`` variables when it is adapted or loaded by
    Keras (its public ``finalize_state``, what Keras' own loading calls); after
    a plain ``assign`` it would keep the statistics it was built with.
    """
    for layer in iter_layers(model):
        finalize = getattr(layer, "finalize_state", None)
        if layer.built and callable(finalize):
            finalize()


def _finish(model, report: LoadReport, freeze_encoder: bool):
    if freeze_encoder:
        layers = [layer for layer in model.layers if layer.weights]
        head = layers[-1] if layers else None
        skipped = set(report.skipped)
        frozen = []
        for layer in layers:
            if layer is head or any(v.path in skipped for v in layer.weights):
                continue
            layer.trainable = False
            frozen.append(layer.name)
        report = dataclasses.replace(report, frozen=tuple(frozen))
    model.rnnzoo_weights_report = report
    return model
