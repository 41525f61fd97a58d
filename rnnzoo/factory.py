"""``rnnzoo.build``: resolves a task's options, presets and weights and calls its builder.

The registry (:mod:`rnnzoo.registry`) only declares tasks; this module sits
above the tasks, the weights and the presets catalogue and puts them together
(timm's ``_registry.py`` / ``_factory.py`` split). Importing it registers
every task.

```python
model = rnnzoo.build("classification", cell="gru", depth=2)
model = rnnzoo.build("classification", weights="pretrained", num_classes=6)
model = rnnzoo.build(preset="classification_tutorial")   # or a folder, or hf://owner/repo
```
"""

from __future__ import annotations

from typing import Any

import keras

import rnnzoo.tasks  # noqa: F401  (registers every task)
from rnnzoo import catalogue, registry, weights as weights_module
from rnnzoo._validation import check_bool
from rnnzoo.catalogue.folder import portable_options

__all__ = ["build"]


def build(name: str | None = None, *, preset: Any = None, weights: Any = None,
          strategy: Any = None, freeze_encoder: bool = False, **overrides: Any):
    """Builds the compiled Keras model of a registered task, or of a preset.

    Args:
        name: a registered task name (see :func:`rnnzoo.list_models`); may be
            left out with ``preset``, whose task it then is.
        preset: a preset to build with its options and weights: a catalogue
            name (see :func:`rnnzoo.presets`), a folder written by
            :func:`rnnzoo.save_preset`, or ``"hf://owner/repo[@revision]"``.
            Options passed as keywords override the preset's (only the head
            may change shape). Exclusive with ``weights``.
        weights: ``None`` for random initialisation, ``"pretrained"`` for the
            task's published tutorial weights, a published name (a catalogue
            preset or ``"<task>_tutorial"``; options not given then default to
            the published model's), or a path to a ``.keras`` /
            ``.weights.h5`` file; see :mod:`rnnzoo.weights`.
        freeze_encoder: with ``weights`` or ``preset``, freeze every loaded
            layer except the output head (transfer learning).
        strategy: an optional ``tf.distribute.Strategy``; the model is built and
            compiled inside ``strategy.scope()``.
        **overrides: task options (see ``describe(name)["options"]``); every one
            is validated before anything is built.

    Returns:
        A compiled ``keras.Model`` ready for ``model.fit``; its
        ``rnnzoo_preset`` attribute (``{"task", "options"}``) is what
        :func:`rnnzoo.save_preset` stores.

    Raises:
        ValueError: for an unknown task or preset, an invalid option, naming
            the option, the value received and what is allowed; or a preset
            whose files do not match their sha256.

    Example:

    >>> model = rnnzoo.build("classification", cell="gru", units=32, depth=2)
    >>> model = rnnzoo.build(preset="classification_tutorial")
    """
    if preset is not None:
        if weights is not None:
            raise ValueError(
                "`preset` brings its own weights: pass either `preset` or `weights`. "
                f"Received: preset={preset!r}, weights={weights!r}"
            )
        resolved = catalogue.resolve(preset)
        if name is not None and name != resolved.task:
            raise ValueError(
                f"`preset` {preset!r} is a {resolved.task!r} model, not a {name!r} model. "
                f"Received: name={name!r}, preset={preset!r}"
            )
        name = resolved.task
        overrides = {**resolved.options, **overrides}
        weights = resolved.weights
    if name is None:
        raise ValueError(
            "`name` must be a registered task (rnnzoo.list_models()) unless `preset` is "
            "given. Received: name=None, preset=None"
        )
    spec = registry.get(name)
    check_bool("freeze_encoder", freeze_encoder)
    if strategy is not None and not callable(getattr(strategy, "scope", None)):
        raise TypeError(
            "`strategy` must be a tf.distribute.Strategy (an object with a .scope() method) or "
            f"None. Received: strategy={strategy!r}. For a strategy by name use "
            "rnnzoo.distribute.get_strategy(name)."
        )
    if freeze_encoder and weights is None:
        raise ValueError("`freeze_encoder=True` needs weights to freeze. Received: weights=None.")
    if isinstance(weights, str) and preset is None and (
            weights == "pretrained" or weights_module.record_name(weights) is not None):
        published = name if weights == "pretrained" else weights
        task = weights_module.get_record(published).get("task", published)
        if task != name:
            raise ValueError(
                f"`weights` {weights!r} are published for task {task!r}, not {name!r}. "
                f"Received: weights={weights!r}. Build it with rnnzoo.build(preset={weights!r})."
            )
        overrides = {**weights_module.published_options(published), **overrides}
    config = spec.resolve(overrides)
    if strategy is None:
        return _build(spec, config, weights, freeze_encoder)
    with strategy.scope():
        return _build(spec, config, weights, freeze_encoder)


def _build(spec, config: dict, weights: Any, freeze_encoder: bool):
    model = spec.builder(**config)
    if isinstance(model, keras.Model):  # a plugin builder may return anything
        model.rnnzoo_preset = {"task": spec.name,
                               "options": portable_options(spec, model, config)}
    if weights is None:
        return model
    return weights_module.load_into(model, spec, config, weights, freeze_encoder=freeze_encoder)
