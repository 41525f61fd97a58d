"""Reporting: alert messages with advice, TensorBoard summaries and the BPTT plot.

Everything the gradient monitor tells the user is written here, from the
numbers :mod:`rnnzoo.callbacks.measure` gives:

* :func:`vanishing_message` and :func:`find_explosion` / :func:`explosion_message`
  say what went wrong, where, and the usual remedies;
* :class:`SummaryWriter` writes TensorBoard scalars (every norm) and histograms
  (each layer's gradients, ``log10 ||dL/dh_t||`` per recurrent layer) in the
  event format TensorBoard reads, with core TensorFlow (TensorBoard itself is
  not needed to log);
* :func:`plot_curves` draws ``log10 ||dL/dh_t||`` over time steps, one panel
  per recurrent layer and one line per epoch (matplotlib, an optional extra).

Example:

```python
message = vanishing_message("rnn_1", curve, epoch=0, threshold=1e-4, gated=False)
plot_curves(monitor.history, monitor.epochs, "bptt.png")
```
"""

from __future__ import annotations

import math
import os

import numpy as np
import tensorflow as tf

from rnnzoo._io import atomic_path
from rnnzoo.callbacks.measure import log10, retention

__all__ = [
    "REMEDIES_EXPLODE",
    "REMEDIES_VANISH",
    "REMEDIES_VANISH_GATED",
    "vanishing_message",
    "find_explosion",
    "explosion_message",
    "SummaryWriter",
    "matplotlib_classes",
    "save_figure",
    "plot_curves",
]

REMEDIES_EXPLODE = (
    "Usual remedies: clip gradients (e.g. keras.optimizers.Adam(clipnorm=1.0); rnnzoo "
    "models compile with clipnorm=1.0 by default), lower the learning rate, use a gated "
    "cell (cell='lstm' or 'gru') or a smaller recurrent initializer (e.g. 'orthogonal')."
)
REMEDIES_VANISH = (
    "The loss barely depends on the early steps, so they are hardly learned. Usual "
    "remedies: a gated cell (cell='lstm' or 'gru') or a Clockwork RNN (cell='clockwork'), "
    "an orthogonal or identity recurrent initializer, shorter sequences or truncated BPTT."
)
REMEDIES_VANISH_GATED = (
    "The loss barely depends on the early steps, so they are hardly learned. A gated cell "
    "usually starts forgetful (forget/update gates near 0.5-0.7 per step) and learns to "
    "keep its memory: keep training and watch the ratio grow; if it does not, use a larger "
    "forget-gate bias, a Clockwork RNN (cell='clockwork'), shorter sequences or truncated BPTT."
)


# --------------------------------------------------------------------------- alerts


def vanishing_message(name: str, curve: np.ndarray, *, epoch: int, threshold: float,
                      gated: bool) -> str:
    """The warning for a layer whose retention fell below ``threshold`` at ``epoch``."""
    return (
        f"GradientMonitor: vanishing gradient in recurrent layer '{name}' at epoch "
        f"{epoch + 1}: ||dL/dh_1|| / ||dL/dh_T|| = {retention(curve):.3g} over T={len(curve)} "
        f"steps (below vanish_threshold={threshold:g}). "
        f"{REMEDIES_VANISH_GATED if gated else REMEDIES_VANISH}"
    )


def find_explosion(result: dict, threshold: float | None) -> tuple[str, float, str] | None:
    """The first sign of an exploding gradient in a measurement, or None.

    A non-finite weight-gradient norm wins over a norm above ``threshold``; a
    non-finite ``||dL/dh_t||`` over a finite finding; a ``||dL/dh_t||`` above
    ``threshold`` counts when nothing else was found.

    Returns:
        ``(layer, value, reason)``; ``layer`` is ``"all weights"`` for ``grad_norm``.
    """
    bad = None
    for key, value in result["norms"].items():
        if not math.isfinite(value):
            bad = (key.partition("/")[2] or "all weights", value, "non-finite weight gradient")
            break
        if threshold is not None and value > threshold:
            bad = bad or (key.partition("/")[2] or "all weights", value,
                          f"weight-gradient norm above explode_threshold={threshold:g}")
    if bad is None or math.isfinite(bad[1]):
        for name, curve in result["curves"].items():
            if not np.all(np.isfinite(curve)):
                bad = (name, float(curve[~np.isfinite(curve)][0]), "non-finite ||dL/dh_t||")
                break
            peak = float(np.max(curve)) if curve.size else 0.0
            if bad is None and threshold is not None and peak > threshold:
                bad = (name, peak, f"||dL/dh_t|| above explode_threshold={threshold:g}")
    return bad


def explosion_message(layer: str, value: float, reason: str, *, epoch: int, where: str) -> str:
    """The warning (or error) for an exploding gradient found by :func:`find_explosion`."""
    return (
        f"GradientMonitor: exploding gradient in layer '{layer}' at epoch {epoch + 1} "
        f"({where}): {reason}, value {value:.4g}. {REMEDIES_EXPLODE}"
    )


# --------------------------------------------------------------------------- TensorBoard


class SummaryWriter:
    """Writes the monitor's measurements as TensorBoard event files in ``log_dir``.

    Args:
        log_dir: the folder of the event files (created if needed).

    Example:

    >>> writer = SummaryWriter("runs/tb")
    >>> writer.measurement(result, step=10)
    >>> writer.epoch(result["curves"], epoch=0)
    >>> writer.flush()
    """

    def __init__(self, log_dir: str | os.PathLike):
        self.log_dir = os.fspath(log_dir)
        self._writer = tf.summary.create_file_writer(self.log_dir)

    def measurement(self, result: dict, step: int) -> None:
        """Every norm as a scalar and, when present, every layer's gradients as a histogram."""
        with self._writer.as_default():
            for key, value in result["norms"].items():
                _scalar(key, value, step)
            for name, grads in result.get("gradients", {}).items():
                if grads:
                    flat = np.concatenate([np.ravel(np.asarray(g)) for g in grads])
                    _histogram(f"gradients/{name}", flat, step)

    def epoch(self, curves: dict, epoch: int) -> None:
        """Per recurrent layer: the retention ratio and a histogram of ``log10 ||dL/dh_t||``."""
        with self._writer.as_default():
            for name, curve in curves.items():
                _scalar(f"bptt_retention/{name}", retention(curve), epoch)
                _histogram(f"bptt_log10_dL_dh/{name}", log10(curve), epoch)

    def flush(self) -> None:
        """Writes everything buffered to disk."""
        self._writer.flush()


def _metadata(plugin: str):
    md = tf.compat.v1.SummaryMetadata
    return md(plugin_data=md.PluginData(plugin_name=plugin))


def _scalar(tag: str, value: float, step: int) -> None:
    # The event format TensorBoard's scalar dashboard reads.
    tf.summary.write(tag, tf.constant(value, "float32"), step=step, metadata=_metadata("scalars"))


def _histogram(tag: str, values: np.ndarray, step: int, buckets: int = 30) -> None:
    # TensorBoard's histogram format: a (buckets, 3) tensor of [left, right, count].
    values = np.asarray(values, dtype="float64").ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return
    counts, edges = np.histogram(values, bins=buckets)
    table = np.stack([edges[:-1], edges[1:], counts.astype("float64")], axis=1)
    tf.summary.write(tag, tf.constant(table, "float64"), step=step,
                     metadata=_metadata("histograms"))


# --------------------------------------------------------------------------- plot


def matplotlib_classes():
    """``(Figure, FigureCanvasAgg)``; ``ImportError`` saying how to install matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(
            "GradientMonitor.plot needs matplotlib, an optional extra of rnnzoo. "
            'Install it with: pip install "rnnzoo[plot]"'
        ) from err
    return Figure, FigureCanvasAgg


def save_figure(fig, path: str | os.PathLike) -> str:
    """Writes ``fig`` as a PNG to ``path`` atomically; returns the path as a string."""
    path = os.fspath(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def plot_curves(history: dict, epochs: list, path: str | os.PathLike, *,
                layers: list[str] | None = None, title: str | None = None) -> str:
    """Writes a PNG of ``log10 ||dL/dh_t||`` over time steps, per recurrent layer.

    One panel per recurrent layer, one line per epoch (light to dark).

    Args:
        history: ``{layer: [curve per epoch]}`` (``GradientMonitor.history``).
        epochs: the epoch index of each curve (``GradientMonitor.epochs``).
        path: the PNG file to write (written atomically).
        layers: the layers to draw (default: every layer in ``history``).
        title: an optional figure title.

    Returns:
        The path written, as a string.

    Raises:
        ImportError: when matplotlib is missing, saying how to install it.
        ValueError: when there is nothing to plot or a layer is unknown.

    Example:

    >>> plot_curves(monitor.history, monitor.epochs, "bptt.png", title="SimpleRNN")
    'bptt.png'
    """
    figure_cls, canvas_cls = matplotlib_classes()
    names = list(history) if layers is None else list(layers)
    unknown = [n for n in names if n not in history]
    if unknown:
        raise ValueError(
            f"`layers` must name traced recurrent layers {sorted(history)}. "
            f"Received: layers={layers!r}"
        )
    names = [n for n in names if history[n]]
    if not names:
        raise ValueError(
            "There is no ||dL/dh_t|| curve to plot: the model has no recurrent layer or "
            "was not trained with this monitor (trace=True) yet."
        )
    cols = min(len(names), 3)
    rows = math.ceil(len(names) / cols)
    fig = figure_cls(figsize=(4.5 * cols, 3.2 * rows), dpi=110)
    canvas_cls(fig)
    from matplotlib import cm

    for k, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, k + 1)
        curves = history[name]
        shown = epochs[-len(curves):]
        for e, curve in zip(shown, curves):
            shade = 0.25 + 0.75 * (shown.index(e) + 1) / len(curves)
            ax.plot(np.arange(1, len(curve) + 1), log10(curve),
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
    return save_figure(fig, path)
