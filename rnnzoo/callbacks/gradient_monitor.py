"""``GradientMonitor``: backpropagation through time made visible.

The callback measures, on a fixed *probe batch* (by default the first
``probe_size`` training examples):

* every ``every_n_batches`` batches and at the end of every epoch, the L2 norm
  of the gradient of the loss with respect to the trainable weights, per layer
  (``grad_norm/<layer>``), in total (``grad_norm``) and, with
  ``per_weight=True``, per weight (``grad_norm/<weight path>``). The epoch's
  mean goes into the epoch logs, so it appears in ``History.history``;
* at the end of every epoch, for every recurrent layer of the model (Keras'
  ``SimpleRNN``/``LSTM``/``GRU``, rnnzoo's ABC and Clockwork RNNs, any
  ``keras.layers.RNN``; inside ``Bidirectional``, stacks and nested models
  included), the curve ``||dL/dh_t||`` for every time step ``t``: the norm of
  the *total* derivative of the loss with respect to the hidden state after
  step ``t``, through the layer's output at ``t`` and through every later
  step (backpropagation through time). The curves are kept on
  ``monitor.history`` and summarised by the retention ratio
  ``||dL/dh_1|| / ||dL/dh_T||`` (``bptt_retention/<layer>`` in the logs).

What exactly is measured:

* The probe runs in inference mode (``training=False``: dropout off), with
  the current weights, on the same examples every time, so the numbers of
  successive epochs compare.
* ``h_t`` is the first state of the cell after step ``t`` (``h`` for LSTM,
  whose ``[h, c]`` carries the cell state ``c`` too; ``h`` for Clockwork, whose
  second state is a step counter). It is measured by running the layer's cell
  one step at a time (a ``tf.while_loop`` in place of the layer's own loop)
  and adding a zero tensor ``eps_t`` to ``h_t`` (to the
  state carried to step ``t + 1`` and to the output of step ``t`` when the
  cell outputs its state); ``dL/deps_t`` is then exactly the total derivative
  ``dL/dh_t``. When a cell's output is a different tensor from its state (the
  ABC RNN with ``output_units``: ``y_t = h_t B + b_y``) the output is
  recomputed from the probed state with the cell's ``output_from_state(h)`` or
  ``project_outputs(h)`` (the ABC cell has the latter); a cell with neither
  gets only the path through later steps measured.
* ``t`` counts the steps in the order the layer processes them: for the
  backward half of a ``Bidirectional`` layer (``<name>/backward``), ``t = 1``
  is the last input position. Norms are over the whole probe batch and the
  hidden units. With masked (padded) inputs a padded step carries the state
  over unchanged, and ``h_t`` there is that carried state, so for a
  many-to-one model the curve is flat over the padding and ``h_T`` is every
  example's final state.
* Gradients are float32: a ``||dL/dh_t||`` below about 1e-38 is exactly 0
  (plots leave a gap there; a retention ratio of 0 means "below float32").
* Cost: the callback compiles its measurement once per ``fit`` (a
  ``tf.function``, about a second) and then runs it every ``every_n_batches``
  batches and at every epoch end on ``probe_size`` examples.

Example:

```python
monitor = rnnzoo.callbacks.GradientMonitor(every_n_batches=50, on_explode="stop")
history = model.fit(train_ds, epochs=5, callbacks=[monitor])
history.history["grad_norm/rnn_1"]          # one value per epoch
monitor.history["rnn_1"][-1]                # ||dL/dh_t||, t = 1..T, last epoch
monitor.summary()["rnn_1"]["retention"]     # ||dL/dh_1|| / ||dL/dh_T||
monitor.plot("bptt.png")
```
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import warnings
from typing import Any

import keras
import numpy as np

__all__ = ["GradientMonitor"]

_EXPLODE_ACTIONS = ("warn", "stop", "raise")
_REMEDIES_EXPLODE = (
    "Usual remedies: clip gradients (e.g. keras.optimizers.Adam(clipnorm=1.0); rnnzoo "
    "models compile with clipnorm=1.0 by default), lower the learning rate, use a gated "
    "cell (cell='lstm' or 'gru') or a smaller recurrent initializer (e.g. 'orthogonal')."
)
_REMEDIES_VANISH = (
    "The loss barely depends on the early steps, so they are hardly learned. Usual "
    "remedies: a gated cell (cell='lstm' or 'gru') or a Clockwork RNN (cell='clockwork'), "
    "an orthogonal or identity recurrent initializer, shorter sequences or truncated BPTT."
)
_REMEDIES_VANISH_GATED = (
    "The loss barely depends on the early steps, so they are hardly learned. A gated cell "
    "usually starts forgetful (forget/update gates near 0.5-0.7 per step) and learns to "
    "keep its memory: keep training and watch the ratio grow; if it does not, use a larger "
    "forget-gate bias, a Clockwork RNN (cell='clockwork'), shorter sequences or truncated BPTT."
)


def _tf():
    import tensorflow as tf

    return tf


def _check_positive_int(name: str, value: Any) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _check_threshold(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.floating, np.integer))
        or not value > 0
        or not math.isfinite(value)
    ):
        raise ValueError(
            f"`{name}` must be a positive finite number or None. Received: {name}={value!r}"
        )
    return float(value)


class _Tracer:
    """Replaces the time loop of recurrent layers by a loop with probes.

    While active, every traced layer's ``inner_loop`` (the method
    ``keras.layers.RNN.call`` runs the cell with) is an instance attribute that
    steps the cell one time step at a time (a ``tf.while_loop``: a Python loop
    when eager, a graph loop inside ``tf.function``) and adds ``eps[:, t]`` to
    the first state after every step, where ``eps`` is one watched zero tensor
    of shape ``(batch, T, units)`` per layer. ``probes[name]`` holds ``eps``;
    ``dL/deps[:, t]`` is ``dL/dh_t`` for input position ``t``.
    """

    def __init__(self, tape, layers: list[tuple[str, keras.layers.RNN]]):
        self.tape = tape
        self.layers = layers
        self.probes: dict[str, Any] = {name: None for name, _ in layers}

    def __enter__(self):
        for name, layer in self.layers:
            object.__setattr__(layer, "inner_loop", self._make_loop(name, layer))
        return self

    def __exit__(self, *exc):
        for _, layer in self.layers:
            if "inner_loop" in layer.__dict__:
                object.__delattr__(layer, "inner_loop")
        return False

    def _make_loop(self, name, layer):
        tf = _tf()
        tape = self.tape
        probes = self.probes
        cell = layer.cell
        cell_call_has_training = isinstance(cell, keras.layers.Layer) and getattr(
            cell, "_call_has_training_arg", False
        )
        # A cell whose step output is not its state, y_t = g(h_t), can say how g
        # is computed (rnnzoo's ABC cell: project_outputs), so that the probe also
        # reaches y_t; see the module docstring.
        readout = getattr(cell, "output_from_state", None) or getattr(
            cell, "project_outputs", None
        )

        def inner_loop(sequences, initial_state, mask, training=False):
            kwargs = {"training": training} if cell_call_has_training else {}
            states = list(initial_state) if keras.tree.is_nested(initial_state) else [
                initial_state
            ]
            first = keras.tree.flatten(sequences)[0]
            steps = first.shape[1] if first.shape[1] is not None else tf.shape(first)[1]
            h0 = keras.tree.flatten(states)[0]
            eps = tf.zeros(
                tf.concat([tf.shape(h0)[:1], [steps], tf.shape(h0)[1:]], axis=0), h0.dtype
            )
            tape.watch(eps)
            probes[name] = eps  # a layer called twice in one pass keeps its last call
            mask_b = None if mask is None else tf.cast(mask, "bool")

            def step(i, states, prev_output):
                t = steps - 1 - i if layer.go_backwards else i
                x_t = keras.tree.map_structure(lambda s: tf.gather(s, t, axis=1), sequences)
                output, new_states = cell(x_t, states, **kwargs)
                if not keras.tree.is_nested(new_states):
                    new_states = [new_states]
                flat_new = list(keras.tree.flatten(new_states))
                output_is_h = output is flat_new[0]
                if mask_b is not None:
                    m = tf.gather(mask_b, t, axis=1)
                    if prev_output is None:
                        prev_output = tf.zeros_like(output)
                    output = tf.where(_expand(m, output), output, prev_output)
                    flat_old = keras.tree.flatten(states)
                    flat_new = [
                        tf.where(_expand(m, s), s, old) for s, old in zip(flat_new, flat_old)
                    ]
                # The probe: h_t + eps_t is the state carried to step t + 1 and, when
                # the cell outputs its state, the output of step t; so dL/deps_t is
                # the total derivative dL/dh_t.
                eps_t = tf.gather(eps, t, axis=1)
                flat_new[0] = flat_new[0] + eps_t
                if output_is_h:
                    output = output + eps_t
                elif readout is not None:
                    new_output = readout(flat_new[0])
                    output = new_output if mask_b is None else tf.where(
                        _expand(m, new_output), new_output, prev_output
                    )
                return output, keras.tree.pack_sequence_as(states, flat_new)

            # The first step outside the loop gives the shapes of outputs and states.
            output, states = step(0, states, None)
            outputs = tf.TensorArray(output.dtype, size=steps, element_shape=output.shape)
            outputs = outputs.write(0, output)

            def body(i, flat_states, prev_output, outputs):
                current = keras.tree.pack_sequence_as(states, flat_states)
                output, new_states = step(i, current, prev_output)
                return i + 1, keras.tree.flatten(new_states), output, outputs.write(i, output)

            _, flat_states, last_output, outputs = tf.while_loop(
                lambda i, *_: i < steps,
                body,
                (tf.constant(1), keras.tree.flatten(states), output, outputs),
            )
            final_states = keras.tree.pack_sequence_as(states, flat_states)
            rank = len(output.shape) + 1
            stacked = tf.transpose(outputs.stack(), [1, 0, *range(2, rank)])
            if mask_b is not None and layer.zero_output_for_mask:
                mask_seq = tf.reverse(mask_b, axis=[1]) if layer.go_backwards else mask_b
                last_output = tf.where(
                    _expand(mask_seq[:, -1], last_output), last_output, tf.zeros_like(last_output)
                )
                stacked = tf.where(_expand(mask_seq, stacked), stacked, tf.zeros_like(stacked))
            return last_output, stacked, final_states

        return inner_loop


def _expand(mask, x):
    """``mask`` with trailing axes added to broadcast against ``x`` in ``tf.where``."""
    tf = _tf()
    while len(mask.shape) < len(x.shape):
        mask = tf.expand_dims(mask, -1)
    return mask


def _recurrent_layers(model) -> list[tuple[str, keras.layers.RNN]]:
    """Every recurrent layer of ``model`` as ``(path name, layer)``, in model order."""
    found: list[tuple[str, keras.layers.RNN]] = []
    seen: set[int] = set()

    def visit(layer, prefix):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        if isinstance(layer, keras.layers.Bidirectional):
            for direction, sub in (("forward", layer.forward_layer),
                                   ("backward", layer.backward_layer)):
                seen.add(id(sub))
                found.append((f"{prefix}{layer.name}/{direction}", sub))
            return
        if isinstance(layer, keras.layers.RNN):
            found.append((f"{prefix}{layer.name}", layer))
            return
        sub_prefix = prefix if layer is model else f"{prefix}{layer.name}/"
        for sub in layer._flatten_layers(include_self=False, recursive=False):
            visit(sub, sub_prefix)

    visit(model, "")
    return found


def _weight_groups(model) -> list[tuple[str, list]]:
    """Per-layer groups of trainable weights: ``[(name, [variables])]``.

    Layers are the model's own layers; nested models are opened so an
    encoder's and a decoder's layers get their own entries.
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


def _take_examples(data, n: int):
    """The first ``n`` examples of a dataset or of array-likes, as a structure of tensors."""
    tf = _tf()
    if isinstance(data, tf.data.Dataset):
        parts, count = [], 0
        for batch in data:
            parts.append(batch)
            count += int(keras.tree.flatten(batch)[0].shape[0])
            if count >= n:
                break
        if not parts:
            raise ValueError("`probe` must be a non-empty dataset. Received an empty one.")
        batch = keras.tree.map_structure(lambda *xs: tf.concat(xs, axis=0), *parts)
    else:
        batch = data
    return keras.tree.map_structure(
        lambda a: tf.convert_to_tensor(a)[:n] if a is not None else None, batch
    )


class GradientMonitor(keras.callbacks.Callback):
    """Logs gradient norms and backpropagation-through-time curves, and flags trouble.

    Args:
        every_n_batches: measure the per-layer weight-gradient norms every this
            many training batches (and always at the end of an epoch).
        probe: the data the gradients are measured on: a ``tf.data.Dataset``
            of ``(x, y)`` or ``(x, y, sample_weight)`` batches, or a tuple
            ``(x, y)`` / ``(x, y, sample_weight)`` of arrays, tensors or dicts
            of them. ``None`` takes the first ``probe_size`` examples of the
            training data passed to ``fit`` (a ``tf.data.Dataset`` or arrays;
            for a Python generator or ``PyDataset`` pass ``probe``).
        probe_size: number of probe examples.
        per_weight: also log the norm of every weight's gradient
            (``grad_norm/<weight path>``).
        trace: measure ``||dL/dh_t||`` for every recurrent layer at the end of
            every epoch.
        vanish_threshold: warn when a layer's retention ratio
            ``||dL/dh_1|| / ||dL/dh_T||`` falls below it (``None``: never).
        explode_threshold: a weight-gradient norm or a ``||dL/dh_t||`` above it
            is an explosion, as is any non-finite gradient (``None``: only
            non-finite values count).
        on_explode: ``"warn"`` (a ``RuntimeWarning``), ``"stop"`` (stop
            training at once; the epoch is still logged) or ``"raise"`` (stop at
            once, log the epoch, then raise ``RuntimeError`` from ``fit``, so
            ``model.history`` keeps the logged norms).
        log_dir: also write TensorBoard scalars (every norm) and histograms
            (the gradients of every layer, and ``log10 ||dL/dh_t||`` per
            recurrent layer) to this directory.
        verbose: 1 prints a one-line BPTT summary per epoch.

    Attributes:
        history: ``{layer: [curve per epoch]}``; a curve is a float array of
            ``||dL/dh_t||``, ``t = 1..T``.
        epochs: the epoch index of each curve.
        batch_history: every weight-gradient measurement, as a dict with
            ``"epoch"``, ``"step"`` and the ``grad_norm...`` values.
        alerts: every detected problem, as dicts with ``"kind"``
            (``"vanishing"``/``"exploding"``), ``"layer"``, ``"epoch"``,
            ``"value"`` and ``"message"``.

    Example:

    >>> monitor = rnnzoo.callbacks.GradientMonitor(on_explode="stop")
    >>> history = model.fit(train_ds, epochs=3, callbacks=[monitor])
    >>> monitor.summary()["rnn_1"]["retention"]
    """

    def __init__(
        self,
        every_n_batches: int = 50,
        probe: Any = None,
        probe_size: int = 32,
        per_weight: bool = False,
        trace: bool = True,
        vanish_threshold: float | None = 1e-4,
        explode_threshold: float | None = 1e3,
        on_explode: str = "warn",
        log_dir: str | os.PathLike | None = None,
        verbose: int = 0,
    ):
        super().__init__()
        self.every_n_batches = _check_positive_int("every_n_batches", every_n_batches)
        self.probe = probe
        self.probe_size = _check_positive_int("probe_size", probe_size)
        if not isinstance(per_weight, bool):
            raise ValueError(
                f"`per_weight` must be True or False. Received: per_weight={per_weight!r}"
            )
        self.per_weight = per_weight
        if not isinstance(trace, bool):
            raise ValueError(f"`trace` must be True or False. Received: trace={trace!r}")
        self.trace = trace
        self.vanish_threshold = _check_threshold("vanish_threshold", vanish_threshold)
        self.explode_threshold = _check_threshold("explode_threshold", explode_threshold)
        if on_explode not in _EXPLODE_ACTIONS:
            raise ValueError(
                f"`on_explode` must be one of {list(_EXPLODE_ACTIONS)}. "
                f"Received: on_explode={on_explode!r}"
            )
        self.on_explode = on_explode
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        if verbose not in (0, 1):
            raise ValueError(f"`verbose` must be 0 or 1. Received: verbose={verbose!r}")
        self.verbose = verbose
        self.history: dict[str, list[np.ndarray]] = {}
        self.epochs: list[int] = []
        self.batch_history: list[dict] = []
        self.alerts: list[dict] = []
        self._probe_batch = None
        self._step = 0
        self._epoch = 0
        self._epoch_norms: list[dict] = []
        self._warned: set = set()
        self._raise_message: str | None = None
        self._writer = None
        self._use_compiled = True
        self._compiled: dict = {}

    # ------------------------------------------------------------------ public

    @property
    def recurrent_layers(self) -> list[str]:
        """The names of the recurrent layers traced (empty before training)."""
        return [name for name, _ in _recurrent_layers(self.model)] if self.model else []

    def measure(self, model: keras.Model, x: Any, y: Any = None, sample_weight: Any = None,
                *, trace: bool = True, compiled: bool = False) -> dict:
        """Measures gradient norms and BPTT curves of ``model`` on one batch.

        The same computation the callback runs on its probe batch, available
        for any compiled model and batch (no training needed).

        Args:
            model: a compiled Keras model.
            x, y, sample_weight: one batch of inputs, targets and optional weights.
            trace: also measure ``||dL/dh_t||`` for every recurrent layer.
            compiled: run the pass as a ``tf.function``, compiled on the first
                call and reused while ``model`` and the batch shapes stay the
                same (what the callback does); ``False`` runs it eagerly.

        Returns:
            ``{"norms": {"grad_norm": ..., "grad_norm/<layer>": ...},
            "curves": {layer: np.ndarray of ||dL/dh_t||, t = 1..T}, "loss": ...}``.

        Example:

        >>> out = GradientMonitor().measure(model, x, y)
        >>> out["curves"]["rnn_1"][0] / out["curves"]["rnn_1"][-1]
        """
        if getattr(model, "_compile_loss", None) is None and not model.losses:
            raise ValueError(
                "`model` must be compiled with a loss before its gradients can be measured. "
                f"Received: model={model.name!r} without a loss; call model.compile(loss=...)."
            )
        layers = _recurrent_layers(model) if trace else []
        groups = _weight_groups(model)
        variables = [w for _, ws in groups for w in ws]
        want_grads = self.log_dir is not None
        saved = _save_states(model, layers)
        snapshot = _snapshot_loss_metrics(model)
        try:
            if compiled:
                fn = self._compiled_pass(model, layers, variables, want_grads)
                loss, sq, grads, curves_sq = fn(x, y, sample_weight)
            else:
                loss, sq, grads, curves_sq = _gradient_pass(
                    model, x, y, sample_weight, layers, variables, want_grads
                )
            sq = np.asarray(sq, dtype="float64")
            curves_sq = [np.asarray(c, dtype="float64") for c in curves_sq]
        finally:
            _restore_loss_metrics(snapshot)
            _restore_states(saved)
        norms: dict[str, float] = {}
        per_weight: dict[str, float] = {}
        i = 0
        for name, ws in groups:
            group_sq = sq[i: i + len(ws)]
            if self.per_weight:
                for w, value in zip(ws, group_sq):
                    per_weight[f"grad_norm/{w.path}"] = math.sqrt(value)
            norms[f"grad_norm/{name}"] = math.sqrt(float(np.sum(group_sq)))
            i += len(ws)
        norms = {"grad_norm": math.sqrt(float(np.sum(sq))), **norms, **per_weight}
        curves = {name: np.sqrt(c) for (name, _), c in zip(layers, curves_sq) if c.size}
        result = {"norms": norms, "curves": curves, "loss": float(loss)}
        if want_grads:
            result["gradients"] = {
                name: list(grads[k: k + len(ws)]) for (name, ws), k in zip(groups, _offsets(groups))
            }
        return result

    def _compiled_pass(self, model, layers, variables, want_grads):
        key = (id(model), tuple(id(layer) for _, layer in layers), len(variables), want_grads)
        cache = self._compiled
        if key not in cache:
            tf = _tf()

            def run(x, y, sample_weight):
                return _gradient_pass(model, x, y, sample_weight, layers, variables, want_grads)

            cache[key] = tf.function(run)
        return cache[key]

    def summary(self) -> dict:
        """Per recurrent layer: the last epoch's curve summarised.

        Returns:
            ``{layer: {"retention": ||dL/dh_1|| / ||dL/dh_T|| (last epoch),
            "retention_per_epoch": [...], "steps": T, "first": ||dL/dh_1||,
            "last": ||dL/dh_T||, "max": max_t ||dL/dh_t||}}``.
        """
        out = {}
        for name, curves in self.history.items():
            if not curves:
                continue
            curve = curves[-1]
            out[name] = {
                "retention": _retention(curve),
                "retention_per_epoch": [_retention(c) for c in curves],
                "steps": int(curve.shape[0]),
                "first": float(curve[0]),
                "last": float(curve[-1]),
                "max": float(np.max(curve)),
            }
        return out

    def plot(self, path: str | os.PathLike, *, layers: list[str] | None = None,
             title: str | None = None) -> str:
        """Writes a PNG of ``log10 ||dL/dh_t||`` over time steps, per recurrent layer.

        One panel per recurrent layer, one line per epoch (light to dark).

        Args:
            path: the PNG file to write (written atomically).
            layers: the layers to draw (default: every traced layer).
            title: an optional figure title.

        Returns:
            The path written, as a string.

        Raises:
            ImportError: when matplotlib is missing, saying how to install it.
            ValueError: when there is nothing to plot or a layer is unknown.
        """
        figure_cls, canvas_cls = _matplotlib()
        names = list(self.history) if layers is None else list(layers)
        unknown = [n for n in names if n not in self.history]
        if unknown:
            raise ValueError(
                f"`layers` must name traced recurrent layers {sorted(self.history)}. "
                f"Received: layers={layers!r}"
            )
        names = [n for n in names if self.history[n]]
        if not names:
            raise ValueError(
                "There is no ||dL/dh_t|| curve to plot: the model has no recurrent layer or "
                "was not trained with this monitor (trace=True) yet."
            )
        cols = min(len(names), 3)
        rows = math.ceil(len(names) / cols)
        fig = figure_cls(figsize=(4.5 * cols, 3.2 * rows), dpi=110)
        canvas_cls(fig)
        import matplotlib.cm as cm

        for k, name in enumerate(names):
            ax = fig.add_subplot(rows, cols, k + 1)
            curves = self.history[name]
            epochs = self.epochs[-len(curves):]
            for e, curve in zip(epochs, curves):
                shade = 0.25 + 0.75 * (epochs.index(e) + 1) / len(curves)
                ax.plot(np.arange(1, len(curve) + 1), _log10(curve),
                        color=cm.viridis(1 - shade), label=f"epoch {e + 1}")
            ax.set_title(name, fontsize=9)
            ax.set_xlabel("time step t")
            ax.set_ylabel("log10 ||dL/dh_t||")
            ax.grid(alpha=0.3)
            if len(curves) <= 6:
                ax.legend(fontsize=7)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        return _save_figure(fig, path)

    # --------------------------------------------------------------- callbacks

    def on_train_begin(self, logs=None):
        self._step = 0
        self._warned = set()
        self._raise_message = None
        self._probe_batch = self._resolve_probe()
        self._use_compiled = True
        self._compiled = {}  # the model may have changed since the last fit
        if self.trace and not _recurrent_layers(self.model):
            warnings.warn(
                f"GradientMonitor: model {self.model.name!r} has no recurrent layer to trace; "
                "only the per-layer gradient norms are reported.",
                UserWarning,
                stacklevel=2,
            )
        if self.log_dir is not None and self._writer is None:
            self._writer = _tf().summary.create_file_writer(self.log_dir)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_norms = []

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._probe_batch is None or self._step % self.every_n_batches:
            return
        result = self._measure()
        self._check_explosion(result, where=f"batch {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        if self._probe_batch is None:
            return
        result = self._measure()
        if logs is not None:
            keys = self._epoch_norms[0].keys()
            for key in keys:
                logs[key] = float(np.mean([m[key] for m in self._epoch_norms]))
        curves = result["curves"]
        for name, curve in curves.items():
            self.history.setdefault(name, []).append(curve)
            if logs is not None:
                logs[f"bptt_retention/{name}"] = _retention(curve)
        if curves:
            self.epochs.append(epoch)
        self._write_epoch_summaries(epoch, result)
        self._check_vanishing(curves, epoch)
        self._check_explosion(result, where="end of epoch")
        if self.verbose and curves:
            parts = ", ".join(f"{n}: {_retention(c):.2e}" for n, c in curves.items())
            print(f"GradientMonitor epoch {epoch + 1}: retention ||dL/dh_1||/||dL/dh_T|| {parts}")

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()
        if self._raise_message is not None:
            message, self._raise_message = self._raise_message, None
            raise RuntimeError(message)

    # ----------------------------------------------------------------- helpers

    def _resolve_probe(self):
        data = self.probe
        if data is None:
            data = _fit_training_data(self.model)
            if data is None:
                warnings.warn(
                    "GradientMonitor: could not take a probe batch from the training data "
                    "(a Python generator or PyDataset can only be read once); pass "
                    "GradientMonitor(probe=(x, y)) to measure gradients.",
                    UserWarning,
                    stacklevel=3,
                )
                return None
        batch = _take_examples(data, self.probe_size)
        if not isinstance(batch, (tuple, list)):
            raise ValueError(
                "`probe` must give (x, y) or (x, y, sample_weight) batches. "
                f"Received a single structure: {type(batch).__name__}"
            )
        x, y, sw = keras.utils.unpack_x_y_sample_weight(tuple(batch))
        return x, y, sw

    def _measure(self) -> dict:
        x, y, sw = self._probe_batch
        if self._use_compiled:
            try:
                result = self.measure(self.model, x, y, sw, trace=self.trace, compiled=True)
            except Exception as err:  # noqa: BLE001 - fall back to the eager pass below
                self._use_compiled = False
                warnings.warn(
                    f"GradientMonitor: the compiled gradient pass failed ({type(err).__name__}: "
                    f"{err}); measuring eagerly from now on (slower).",
                    RuntimeWarning,
                    stacklevel=3,
                )
        if not self._use_compiled:
            result = self.measure(self.model, x, y, sw, trace=self.trace)
        record = {"epoch": self._epoch, "step": self._step, **result["norms"]}
        self.batch_history.append(record)
        self._epoch_norms.append(result["norms"])
        if self._writer is not None:
            with self._writer.as_default():
                for key, value in result["norms"].items():
                    _summary_scalar(key, value, self._step)
                for name, grads in result.get("gradients", {}).items():
                    if grads:
                        flat = np.concatenate([np.ravel(_dense(g).numpy()) for g in grads])
                        _summary_histogram(f"gradients/{name}", flat, self._step)
        return result

    def _write_epoch_summaries(self, epoch, result):
        if self._writer is None:
            return
        with self._writer.as_default():
            for name, curve in result["curves"].items():
                _summary_scalar(f"bptt_retention/{name}", _retention(curve), epoch)
                _summary_histogram(f"bptt_log10_dL_dh/{name}", _log10(curve), epoch)

    def _alert(self, kind, layer, epoch, value, message):
        self.alerts.append(
            {"kind": kind, "layer": layer, "epoch": epoch, "value": value, "message": message}
        )

    def _check_vanishing(self, curves, epoch):
        if self.vanish_threshold is None:
            return
        layers = dict(_recurrent_layers(self.model))
        for name, curve in curves.items():
            gated = isinstance(layers.get(name), (keras.layers.LSTM, keras.layers.GRU))
            ratio = _retention(curve)
            if not (ratio < self.vanish_threshold) or ("vanish", name) in self._warned:
                continue
            self._warned.add(("vanish", name))
            message = (
                f"GradientMonitor: vanishing gradient in recurrent layer '{name}' at epoch "
                f"{epoch + 1}: ||dL/dh_1|| / ||dL/dh_T|| = {ratio:.3g} over T={len(curve)} "
                f"steps (below vanish_threshold={self.vanish_threshold:g}). "
                f"{_REMEDIES_VANISH_GATED if gated else _REMEDIES_VANISH}"
            )
            self._alert("vanishing", name, epoch, ratio, message)
            warnings.warn(message, RuntimeWarning, stacklevel=3)

    def _check_explosion(self, result, where):
        bad = None  # (layer, value, reason)
        for key, value in result["norms"].items():
            if not math.isfinite(value):
                bad = (key.partition("/")[2] or "all weights", value, "non-finite weight gradient")
                break
            if self.explode_threshold is not None and value > self.explode_threshold:
                bad = bad or (key.partition("/")[2] or "all weights", value,
                              f"weight-gradient norm above explode_threshold="
                              f"{self.explode_threshold:g}")
        if bad is None or math.isfinite(bad[1]):
            for name, curve in result["curves"].items():
                finite = np.all(np.isfinite(curve))
                if not finite:
                    bad = (name, float(curve[~np.isfinite(curve)][0]), "non-finite ||dL/dh_t||")
                    break
                peak = float(np.max(curve)) if curve.size else 0.0
                if bad is None and self.explode_threshold is not None and \
                        peak > self.explode_threshold:
                    bad = (name, peak,
                           f"||dL/dh_t|| above explode_threshold={self.explode_threshold:g}")
        if bad is None:
            return
        layer, value, reason = bad
        message = (
            f"GradientMonitor: exploding gradient in layer '{layer}' at epoch {self._epoch + 1} "
            f"({where}): {reason}, value {value:.4g}. {_REMEDIES_EXPLODE}"
        )
        self._alert("exploding", layer, self._epoch, value, message)
        if self.on_explode == "warn":
            if ("explode", layer) not in self._warned:
                self._warned.add(("explode", layer))
                warnings.warn(message, RuntimeWarning, stacklevel=3)
            return
        self.model.stop_training = True
        if self.on_explode == "raise" and self._raise_message is None:
            self._raise_message = message
        elif self.on_explode == "stop" and ("explode", layer) not in self._warned:
            self._warned.add(("explode", layer))
            warnings.warn(message + " Training stopped (on_explode='stop').", RuntimeWarning,
                          stacklevel=3)


# ---------------------------------------------------------------------- helpers


def _gradient_pass(model, x, y, sample_weight, layers, variables, want_grads):
    """One forward and backward pass on a batch, with ``layers`` traced step by step.

    Returns:
        ``(loss, squared norm per variable, dense gradients or [], per layer the
        squared norm of dL/dh_t per step in processing order)``.
    """
    tf = _tf()
    with tf.GradientTape() as tape:
        with _Tracer(tape, layers) as tracer:
            y_pred = model(x, training=False)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                  training=False)
    probes = [tracer.probes[name] for name, _ in layers]
    present = [p for p in probes if p is not None]
    grads = tape.gradient(loss, [*variables, *present])
    weight_grads, probe_grads = grads[: len(variables)], iter(grads[len(variables):])
    dense = [
        tf.zeros(v.shape, "float32") if g is None else tf.cast(_dense(g), "float32")
        for v, g in zip(variables, weight_grads)
    ]
    weight_sq = (tf.stack([tf.reduce_sum(tf.square(g)) for g in dense]) if variables
                 else tf.zeros([0]))
    curves = []  # per layer: squared norm per processing step
    for (name, layer), eps in zip(layers, probes):
        if eps is None:  # the layer was not called by this model's forward pass
            curves.append(tf.zeros([0]))
            continue
        g = next(probe_grads)
        g = tf.zeros_like(eps) if g is None else tf.cast(g, "float32")
        axes = [0, *range(2, len(eps.shape))]
        sq = tf.reduce_sum(tf.square(g), axis=axes)
        curves.append(tf.reverse(sq, [0]) if layer.go_backwards else sq)
    return loss, weight_sq, dense if want_grads else [], curves


def _offsets(groups):
    k, out = 0, []
    for _, ws in groups:
        out.append(k)
        k += len(ws)
    return out


def _dense(g):
    tf = _tf()
    return tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g


def _retention(curve: np.ndarray) -> float:
    if curve.size == 0:
        return float("nan")
    first, last = float(curve[0]), float(curve[-1])
    if last == 0.0:
        return float("inf") if first > 0 else float("nan")
    return first / last


def _log10(curve: np.ndarray) -> np.ndarray:
    """log10 of a curve; NaN where it is 0 (a float32 gradient that underflowed)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(curve > 0, np.log10(np.where(curve > 0, curve, 1.0)), np.nan)


def _summary_metadata(plugin: str):
    tf = _tf()
    md = tf.compat.v1.SummaryMetadata
    return md(plugin_data=md.PluginData(plugin_name=plugin))


def _summary_scalar(tag: str, value: float, step: int) -> None:
    # The event format TensorBoard's scalar dashboard reads, written with core
    # TensorFlow so that TensorBoard itself is not needed to log.
    tf = _tf()
    tf.summary.write(tag, tf.constant(value, "float32"), step=step,
                     metadata=_summary_metadata("scalars"))


def _summary_histogram(tag: str, values: np.ndarray, step: int, buckets: int = 30) -> None:
    # TensorBoard's histogram format: a (buckets, 3) tensor of [left, right, count].
    tf = _tf()
    values = np.asarray(values, dtype="float64").ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return
    counts, edges = np.histogram(values, bins=buckets)
    table = np.stack([edges[:-1], edges[1:], counts.astype("float64")], axis=1)
    tf.summary.write(tag, tf.constant(table, "float64"), step=step,
                     metadata=_summary_metadata("histograms"))


def _snapshot_loss_metrics(model):
    compile_loss = getattr(model, "_compile_loss", None)
    metrics = list(getattr(compile_loss, "metrics", []) or []) if compile_loss else []
    return [(v, v.numpy()) for m in metrics for v in m.variables]


def _restore_loss_metrics(snapshot):
    for v, value in snapshot:
        v.assign(value)


def _save_states(model, layers):
    saved = []
    for _, layer in layers:
        if getattr(layer, "stateful", False) and getattr(layer, "states", None) is not None:
            for v in keras.tree.flatten(layer.states):
                if isinstance(v, keras.Variable):
                    saved.append((v, v.numpy()))
    return saved


def _restore_states(saved):
    for v, value in saved:
        v.assign(value)


def _fit_training_data(model):
    """The ``x``/``y``/``sample_weight`` given to the running ``model.fit``, or None.

    Keras does not hand callbacks the training data, so the monitor looks for
    the ``fit`` frame of its model on the call stack. Only data that can be
    read again without consuming it (a ``tf.data.Dataset``, arrays, tensors)
    is used.
    """
    tf = _tf()
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "fit" and frame.f_locals.get("self") is model:
            local = frame.f_locals
            x, y, sw = local.get("x"), local.get("y"), local.get("sample_weight")
            if isinstance(x, tf.data.Dataset):
                return x
            if x is None or isinstance(x, keras.utils.PyDataset) or _is_iterator(x):
                return None
            leaves = keras.tree.flatten((x, y))
            if not leaves or not all(hasattr(leaf, "shape") for leaf in leaves):
                return None  # e.g. a distributed dataset: ask for an explicit probe
            return (x, y) if sw is None else (x, y, sw)
        frame = frame.f_back
    return None


def _is_iterator(x) -> bool:
    import types

    return isinstance(x, types.GeneratorType) or (hasattr(x, "__next__") and hasattr(x, "__iter__"))


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(
            "GradientMonitor.plot needs matplotlib, an optional extra of rnnzoo. "
            'Install it with: pip install "rnnzoo[plot]"'
        ) from err
    return Figure, FigureCanvasAgg


def _save_figure(fig, path) -> str:
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".png", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path
