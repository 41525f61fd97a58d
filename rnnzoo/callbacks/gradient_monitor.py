"""``GradientMonitor``: backpropagation through time made visible.

This module is the ``keras.callbacks.Callback`` that runs the measurement
during ``fit`` and acts on it; the work itself is done by
:mod:`~rnnzoo.callbacks.probe` (the probe batch),
:mod:`~rnnzoo.callbacks.tracing` (the per-step probe of ``h_t``),
:mod:`~rnnzoo.callbacks.measure` (the gradient pass and its norms) and
:mod:`~rnnzoo.callbacks.report` (warnings, TensorBoard, the plot).

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
  one step at a time (a ``tf.while_loop`` or ``jax.lax.scan`` in place of
  the layer's own loop, see :mod:`~rnnzoo.callbacks.tracing`) and adding a
  zero tensor ``eps_t`` to ``h_t`` (to the state carried to step ``t + 1``
  and to the output of step ``t`` when the cell outputs its state);
  ``dL/deps_t`` is then exactly the total derivative ``dL/dh_t``. When a
  cell's output is a different tensor from its state (the ABC RNN with ``output_units``: ``y_t = h_t B + b_y``) the output is
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
* Gradients are float32, norms are computed without underflow (scaled by the
  largest entry, combined in float64): a ``||dL/dh_t||`` of 1e-30 is reported
  as 1e-30. Only a gradient below float32's smallest normal number (about
  1e-38) reads 0 (plots leave a gap there; a retention ratio of 0 means
  "below float32").
* Every backend: the same numbers on TensorFlow (``tf.GradientTape``), JAX
  (``jax.value_and_grad``) and PyTorch (``torch.autograd``), see
  :mod:`~rnnzoo.callbacks.autodiff`.
* Cost: the callback compiles its measurement once per ``fit`` (a
  ``tf.function`` or ``jax.jit``, about a second) and then runs it every
  ``every_n_batches`` batches and at every epoch end on ``probe_size`` examples.

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

import os
import warnings
from typing import Any

import keras
import numpy as np

from rnnzoo import _validation as v
from rnnzoo.callbacks import probe, report
from rnnzoo.callbacks.measure import measure_gradients, retention
from rnnzoo.callbacks.tracing import recurrent_layers

__all__ = ["GradientMonitor"]

_EXPLODE_ACTIONS = ("warn", "stop", "raise")


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
        self.every_n_batches = v.check_positive_int("every_n_batches", every_n_batches)
        self.probe = probe
        self.probe_size = v.check_positive_int("probe_size", probe_size)
        self.per_weight = v.check_bool("per_weight", per_weight)
        self.trace = v.check_bool("trace", trace)
        self.vanish_threshold = v.check_float("vanish_threshold", vanish_threshold, low=0,
                                              low_inclusive=False, allow_none=True)
        self.explode_threshold = v.check_float("explode_threshold", explode_threshold, low=0,
                                               low_inclusive=False, allow_none=True)
        self.on_explode = v.check_choice("on_explode", on_explode, _EXPLODE_ACTIONS)
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.verbose = v.check_choice("verbose", verbose, (0, 1))
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
        self._writer: report.SummaryWriter | None = None
        self._use_compiled = True
        self._compiled: dict = {}

    # ------------------------------------------------------------------ public

    @property
    def recurrent_layers(self) -> list[str]:
        """The names of the recurrent layers traced (empty before training)."""
        return [name for name, _ in recurrent_layers(self.model)] if self.model else []

    def measure(self, model: keras.Model, x: Any, y: Any = None, sample_weight: Any = None,
                *, trace: bool = True, compiled: bool = False) -> dict:
        """Measures gradient norms and BPTT curves of ``model`` on one batch.

        The same computation the callback runs on its probe batch, available
        for any compiled model and batch (no training needed):
        :func:`rnnzoo.callbacks.measure.measure_gradients` with this monitor's
        ``per_weight``.

        Args:
            model, x, y, sample_weight, trace: as in ``measure_gradients``.
            compiled: run the pass as one compiled function (``tf.function``,
                ``jax.jit``), compiled on the first call and reused while
                ``model`` and the batch shapes stay the same (what the callback
                does); ``False`` runs it eagerly.

        Returns:
            ``measure_gradients``' result (``"gradients"`` too when the
            monitor has a ``log_dir``).

        Raises:
            ValueError: when ``model`` is not compiled with a loss.

        Example:

        >>> out = GradientMonitor().measure(model, x, y)
        >>> out["curves"]["rnn_1"][0] / out["curves"]["rnn_1"][-1]
        """
        return measure_gradients(
            model, x, y, sample_weight, trace=trace, per_weight=self.per_weight,
            want_grads=self.log_dir is not None, compiled=self._compiled if compiled else None)

    def summary(self) -> dict:
        """Per recurrent layer: the last epoch's curve summarised.

        Returns:
            ``{layer: {"retention": ||dL/dh_1|| / ||dL/dh_T|| (last epoch),
            "retention_per_epoch": [...], "steps": T, "first": ||dL/dh_1||,
            "last": ||dL/dh_T||, "max": max_t ||dL/dh_t||}}``.

        Example:

        >>> monitor.summary()["rnn_1"]["retention"]
        """
        out = {}
        for name, curves in self.history.items():
            if not curves:
                continue
            curve = curves[-1]
            out[name] = {
                "retention": retention(curve),
                "retention_per_epoch": [retention(c) for c in curves],
                "steps": int(curve.shape[0]),
                "first": float(curve[0]),
                "last": float(curve[-1]),
                "max": float(np.max(curve)),
            }
        return out

    def plot(self, path: str | os.PathLike, *, layers: list[str] | None = None,
             title: str | None = None) -> str:
        """Writes a PNG of ``log10 ||dL/dh_t||`` over time steps, per recurrent layer.

        :func:`rnnzoo.callbacks.report.plot_curves` of this monitor's
        ``history`` and ``epochs``.

        Args:
            path, layers, title: as in ``plot_curves`` (``layers`` default:
                every traced layer).

        Returns:
            The path written, as a string.

        Example:

        >>> monitor.plot("bptt.png")
        'bptt.png'
        """
        return report.plot_curves(self.history, self.epochs, path, layers=layers, title=title)

    # --------------------------------------------------------------- callbacks

    def on_train_begin(self, logs=None):
        self._step = 0
        self._warned = set()
        self._raise_message = None
        self._probe_batch = self._resolve_probe()
        self._use_compiled = True
        self._compiled = {}  # the model may have changed since the last fit
        if self.trace and not recurrent_layers(self.model):
            warnings.warn(
                f"GradientMonitor: model {self.model.name!r} has no recurrent layer to trace; "
                "only the per-layer gradient norms are reported.",
                UserWarning,
                stacklevel=2,
            )
        if self.log_dir is not None and self._writer is None:
            self._writer = report.SummaryWriter(self.log_dir)

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
            for key in self._epoch_norms[0].keys():
                logs[key] = float(np.mean([m[key] for m in self._epoch_norms]))
        curves = result["curves"]
        for name, curve in curves.items():
            self.history.setdefault(name, []).append(curve)
            if logs is not None:
                logs[f"bptt_retention/{name}"] = retention(curve)
        if curves:
            self.epochs.append(epoch)
        if self._writer is not None:
            self._writer.epoch(curves, epoch)
        self._check_vanishing(curves, epoch)
        self._check_explosion(result, where="end of epoch")
        if self.verbose and curves:
            parts = ", ".join(f"{n}: {retention(c):.2e}" for n, c in curves.items())
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
            data = probe.training_data(self.model)
            if data is None:
                warnings.warn(
                    "GradientMonitor: could not take a probe batch from the training data "
                    "(a Python generator or PyDataset can only be read once); pass "
                    "GradientMonitor(probe=(x, y)) to measure gradients.",
                    UserWarning,
                    stacklevel=3,
                )
                return None
        return probe.probe_batch(data, self.probe_size)

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
        self.batch_history.append({"epoch": self._epoch, "step": self._step, **result["norms"]})
        self._epoch_norms.append(result["norms"])
        if self._writer is not None:
            self._writer.measurement(result, self._step)
        return result

    def _alert(self, kind, layer, epoch, value, message):
        self.alerts.append(
            {"kind": kind, "layer": layer, "epoch": epoch, "value": value, "message": message}
        )

    def _check_vanishing(self, curves, epoch):
        if self.vanish_threshold is None:
            return
        layers = dict(recurrent_layers(self.model))
        for name, curve in curves.items():
            ratio = retention(curve)
            if not (ratio < self.vanish_threshold) or ("vanish", name) in self._warned:
                continue
            self._warned.add(("vanish", name))
            gated = isinstance(layers.get(name), (keras.layers.LSTM, keras.layers.GRU))
            message = report.vanishing_message(name, curve, epoch=epoch,
                                               threshold=self.vanish_threshold, gated=gated)
            self._alert("vanishing", name, epoch, ratio, message)
            warnings.warn(message, RuntimeWarning, stacklevel=3)

    def _check_explosion(self, result, where):
        found = report.find_explosion(result, self.explode_threshold)
        if found is None:
            return
        layer, value, reason = found
        message = report.explosion_message(layer, value, reason, epoch=self._epoch, where=where)
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
