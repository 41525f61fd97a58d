"""Measurement: one gradient pass on a batch, reduced to norms and per-step curves.

:func:`measure_gradients` runs the model forward in inference mode
(``training=False``: dropout off) with every recurrent layer traced
(:mod:`rnnzoo.callbacks.tracing`), computes the loss the model was compiled
with (``model.compute_loss``, so regularisation losses in ``model.losses``
count as in training) and differentiates it once, with respect to the
trainable weights and to every probe. It reports:

* ``grad_norm``: the L2 norm of the whole weight gradient; ``grad_norm/<layer>``
  per layer (a nested model's layers get their own entries) and, with
  ``per_weight=True``, ``grad_norm/<weight path>``;
* per recurrent layer, the curve ``||dL/dh_t||``, ``t = 1..T`` in the order the
  layer processes the steps (for the backward half of a ``Bidirectional``
  layer ``t = 1`` is the last input position), the norm taken over the batch
  and the hidden units; :func:`retention` summarises it as
  ``||dL/dh_1|| / ||dL/dh_T||``.

Measuring leaves the model as it was: a stateful layer's states and any
metric the loss computation updates (the per-output loss trackers of a
multi-output model) are restored (on JAX the pass runs in a
``keras.StatelessScope`` and changes nothing in the first place).

Norms do not underflow: gradients are float32, but every norm is taken as
``m * sqrt(sum((g / m) ** 2))`` with ``m = max |g|`` and combined in float64,
so a ``||dL/dh_t||`` of 1e-30 is reported as such (squaring it in float32
would give 0). Only a gradient below float32's smallest normal number
(about 1.2e-38; TensorFlow and XLA flush smaller ones to zero on CPU) reads 0.

Backends: the differentiation itself is :mod:`rnnzoo.callbacks.autodiff`'s
(TensorFlow, JAX or PyTorch); everything here is ``keras.ops``.

Example:

```python
result = measure_gradients(model, x, y)
result["norms"]["grad_norm/rnn_1"], result["curves"]["rnn_1"], result["loss"]
retention(result["curves"]["rnn_1"])
```
"""

from __future__ import annotations

import inspect
import math

import keras
import numpy as np
from keras import ops

from rnnzoo.callbacks import autodiff
from rnnzoo.callbacks.tracing import Tracer, recurrent_layers

__all__ = [
    "weight_groups",
    "check_compiled",
    "gradient_pass",
    "measure_gradients",
    "retention",
    "log10",
]


def weight_groups(model) -> list[tuple[str, list]]:
    """Per-layer groups of trainable weights: ``[(name, [variables])]``.

    Layers are the model's own layers; nested models are opened so an
    encoder's and a decoder's layers get their own entries. Weights held by
    no layer (the model's own) form a last group named after the model.
    """
    groups: list[tuple[str, list]] = []
    covered: set[int] = set()

    def visit(container, prefix):
        for layer in getattr(container, "layers", []):
            if isinstance(layer, keras.Model) and getattr(layer, "layers", None):
                visit(layer, f"{prefix}{layer.name}/")
                continue
            weights = [w for w in layer.trainable_weights if id(w) not in covered]
            if weights:
                covered.update(id(w) for w in weights)
                groups.append((f"{prefix}{layer.name}", weights))

    visit(model, "")
    rest = [w for w in model.trainable_weights if id(w) not in covered]
    if rest:
        groups.append((model.name, rest))
    return groups


def check_compiled(model) -> None:
    """Raises ``ValueError`` unless ``model`` has a loss to differentiate."""
    if model.loss is None and not model.losses:
        raise ValueError(
            "`model` must be compiled with a loss before its gradients can be measured. "
            f"Received: model={model.name!r} without a loss; call model.compile(loss=...)."
        )


def _compute_loss(model, x, y, y_pred, sample_weight):
    # Keras' public loss hook (overridable by the user's model); `training` exists
    # since Keras 3.3, so an older override may not take it.
    kwargs = {}
    if "training" in inspect.signature(model.compute_loss).parameters:
        kwargs["training"] = False
    return model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, **kwargs)


def _scaled_square(g, axes):
    """``(m, s)`` with ``sum(g ** 2) == m ** 2 * s`` over ``axes``, free of underflow.

    ``m`` is the largest ``|g|`` and ``s = sum((g / m) ** 2)`` lies in ``[1, size]``:
    squaring a float32 gradient of 1e-20 (or 1e20) directly gives 0 (or inf), so the
    caller combines ``m ** 2 * s`` in float64 instead (:func:`_squares`).
    """
    g = ops.abs(g)
    m = ops.max(g, axis=axes, keepdims=True)
    safe = ops.where(m > 0, m, ops.ones_like(m))
    s = ops.sum(ops.square(g / safe), axis=axes)
    return ops.squeeze(m, axis=axes), s


def gradient_pass(model, x, y, sample_weight, layers, variables, want_grads):
    """One forward and backward pass on a batch, with ``layers`` traced step by step.

    Returns:
        ``(loss, (scale, scaled squared sum) per variable, dense gradients or [], per
        layer (scale, scaled squared sum) of dL/dh_t per step in processing order)``;
        see :func:`_scaled_square`. A layer the pass did not call has empty arrays.
    """

    def forward(probes):
        with Tracer(probes, layers):
            y_pred = model(x, training=False)
        return _compute_loss(model, x, y, y_pred, sample_weight)

    loss, weight_grads, probe_grads = autodiff.value_and_gradients(
        forward, variables, state=autodiff.model_state(model))
    dense = [
        ops.zeros(v.shape, "float32") if g is None else ops.cast(autodiff.densify(g), "float32")
        for v, g in zip(variables, weight_grads)
    ]
    pairs = [_scaled_square(ops.reshape(g, [1, -1]), axes=(1,)) if math.prod(g.shape)
             else (ops.zeros([1]), ops.zeros([1])) for g in dense]
    weight_sq = (ops.concatenate([m for m, _ in pairs]) if pairs else ops.zeros([0]),
                 ops.concatenate([s for _, s in pairs]) if pairs else ops.zeros([0]))
    empty = (ops.zeros([0]), ops.zeros([0]))
    curves = []  # per layer: (scale, scaled squared norm) per processing step
    for name, layer in layers:
        g = probe_grads.get(name)
        if g is None:  # the layer was not called by this model's forward pass
            curves.append(empty)
            continue
        g = ops.cast(g, "float32")
        m, sq = _scaled_square(g, axes=(0, *range(2, len(g.shape))))
        curves.append((ops.flip(m, axis=0), ops.flip(sq, axis=0)) if layer.go_backwards
                      else (m, sq))
    return loss, weight_sq, dense if want_grads else [], curves


def _squares(scaled) -> np.ndarray:
    """``m ** 2 * s`` in float64 (inf where ``m`` is inf, NaN where a gradient was NaN)."""
    m, s = (np.asarray(a, dtype="float64") for a in scaled)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(np.isinf(m), np.inf, np.square(m) * s)


def measure_gradients(model, x, y=None, sample_weight=None, *, trace: bool = True,
                      per_weight: bool = False, want_grads: bool = False,
                      compiled: dict | None = None) -> dict:
    """Measures gradient norms and BPTT curves of ``model`` on one batch.

    Args:
        model: a compiled Keras model.
        x: a batch of inputs.
        y: its targets.
        sample_weight: optional sample weights.
        trace: also measure ``||dL/dh_t||`` for every recurrent layer.
        per_weight: also report the norm of every weight's gradient.
        want_grads: also return the dense gradients, per layer.
        compiled: a dict to keep compiled passes in: the pass is compiled on
            the first call and reused while ``model`` and the batch shapes stay
            the same; ``None`` runs it eagerly.

    Returns:
        ``{"norms": {"grad_norm": ..., "grad_norm/<layer>": ...},
        "curves": {layer: np.ndarray of ||dL/dh_t||, t = 1..T}, "loss": ...}``
        and, with ``want_grads``, ``"gradients": {layer: [tensors]}``.

    Raises:
        ValueError: when ``model`` has no loss.

    Example:

    >>> out = measure_gradients(model, x, y)
    >>> out["curves"]["rnn_1"][0] / out["curves"]["rnn_1"][-1]
    """
    check_compiled(model)
    autodiff.adapter()  # imported here, never while a compiled pass is being traced
    layers = recurrent_layers(model) if trace else []
    groups = weight_groups(model)
    variables = [w for _, ws in groups for w in ws]
    saved = _snapshot(_state_variables(layers) + _metric_variables(model))
    try:
        if compiled is not None:
            fn = _compiled_pass(compiled, model, layers, variables, want_grads)
            loss, sq, grads, curves_sq = fn(x, y, sample_weight)
        else:
            loss, sq, grads, curves_sq = gradient_pass(
                model, x, y, sample_weight, layers, variables, want_grads)
        sq = _squares(sq)
        curves_sq = [_squares(c) for c in curves_sq]
    finally:
        _restore_changed(saved)
    norms: dict[str, float] = {}
    weight_norms: dict[str, float] = {}
    i = 0
    for name, ws in groups:
        group_sq = sq[i: i + len(ws)]
        if per_weight:
            for w, value in zip(ws, group_sq):
                weight_norms[f"grad_norm/{w.path}"] = math.sqrt(value)
        norms[f"grad_norm/{name}"] = math.sqrt(float(np.sum(group_sq)))
        i += len(ws)
    norms = {"grad_norm": math.sqrt(float(np.sum(sq))), **norms, **weight_norms}
    curves = {name: np.sqrt(c) for (name, _), c in zip(layers, curves_sq) if c.size}
    result = {"norms": norms, "curves": curves, "loss": float(loss)}
    if want_grads:
        result["gradients"] = {}
        k = 0
        for name, ws in groups:
            result["gradients"][name] = list(grads[k: k + len(ws)])
            k += len(ws)
    return result


def _compiled_pass(cache: dict, model, layers, variables, want_grads):
    key = (id(model), tuple(id(layer) for _, layer in layers), len(variables), want_grads)
    if key not in cache:

        def run(x, y, sample_weight):
            return gradient_pass(model, x, y, sample_weight, layers, variables, want_grads)

        cache[key] = autodiff.compile(run, autodiff.model_state(model))
    return cache[key]


def _state_variables(layers) -> list:
    """The state variables of the stateful layers among ``layers``."""
    found = []
    for _, layer in layers:
        if getattr(layer, "stateful", False) and getattr(layer, "states", None) is not None:
            found += [v for v in keras.tree.flatten(layer.states) if isinstance(v, keras.Variable)]
    return found


def _metric_variables(model) -> list:
    """The variables of every metric of ``model`` (``compute_loss`` updates some of them)."""
    return [v for metric in model.metrics for v in metric.variables]


def _snapshot(variables) -> list:
    return [(v, v.numpy()) for v in variables]


def _restore_changed(snapshot) -> None:
    """Puts back every variable whose value changed since :func:`_snapshot`."""
    for v, value in snapshot:
        if not np.array_equal(v.numpy(), value, equal_nan=True):
            v.assign(value)


def retention(curve: np.ndarray) -> float:
    """``||dL/dh_1|| / ||dL/dh_T||`` of a curve: NaN when empty or 0/0, inf for x/0.

    Example:

    >>> retention(np.array([1e-6, 1e-3, 1.0]))
    1e-06
    """
    if curve.size == 0:
        return float("nan")
    first, last = float(curve[0]), float(curve[-1])
    if last == 0.0:
        return float("inf") if first > 0 else float("nan")
    return first / last


def log10(curve: np.ndarray) -> np.ndarray:
    """log10 of a curve; NaN where it is 0 (a gradient below float32's range).

    Example:

    >>> log10(np.array([1.0, 0.0, 100.0]))
    array([ 0., nan,  2.])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(curve > 0, np.log10(np.where(curve > 0, curve, 1.0)), np.nan)
