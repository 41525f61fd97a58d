"""``rnnzoo.build``: resolves a task's options and weights and calls its builder.

The registry (:mod:`rnnzoo.registry`) only declares tasks; this module sits
above the tasks and the weights and puts them together (timm's
``_registry.py`` / ``_factory.py`` split). Importing it registers every task.

```python
model = rnnzoo.build("classification", cell="gru", depth=2)
model = rnnzoo.build("classification", weights="pretrained", num_classes=6)
```
"""

from __future__ import annotations

from typing import Any

import rnnzoo.tasks  # noqa: F401  (registers every task)
from rnnzoo import registry, weights as weights_module
from rnnzoo._validation import check_bool

__all__ = ["build"]


def build(name: str, *, weights: Any = None, strategy: Any = None, freeze_encoder: bool = False,
          **overrides: Any):
    """Builds the compiled Keras model of a registered task.

    Args:
        name: a registered task name (see :func:`rnnzoo.list_models`).
        weights: ``None`` for random initialisation, ``"pretrained"`` for the
            published weights (options not given then default to the published
            model's), or a path to a ``.keras`` / ``.weights.h5`` file; see
            :mod:`rnnzoo.weights`.
        freeze_encoder: with ``weights``, freeze every loaded layer except the
            output head (transfer learning).
        strategy: an optional ``tf.distribute.Strategy``; the model is built and
            compiled inside ``strategy.scope()``.
        **overrides: task options (see ``describe(name)["options"]``); every one
            is validated before anything is built.

    Returns:
        A compiled ``keras.Model`` ready for ``model.fit``.

    Raises:
        ValueError: for an unknown task or an invalid option, naming the option,
            the value received and what is allowed.

    Example:

    >>> model = rnnzoo.build("classification", cell="gru", units=32, depth=2)
    """
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
    if isinstance(weights, str) and weights == "pretrained":
        overrides = {**weights_module.published_options(name), **overrides}
    config = spec.resolve(overrides)
    if strategy is None:
        return _build(spec, config, weights, freeze_encoder)
    with strategy.scope():
        return _build(spec, config, weights, freeze_encoder)


def _build(spec, config: dict, weights: Any, freeze_encoder: bool):
    model = spec.builder(**config)
    if weights is None:
        return model
    return weights_module.load_into(model, spec, config, weights, freeze_encoder=freeze_encoder)
