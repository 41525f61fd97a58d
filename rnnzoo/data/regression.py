"""Data for the ``regression`` task: a built-in multi-scale series and a TFDS series.

Built-in ("multi-scale sensor"): a deterministic multivariate series, one
long record split in time (first 70% train, next 15% validation, last 15%
test, as forecasters are evaluated). Every channel is the sum of

- a fast triangle wave (period 8),
- a medium sine (period 32),
- a slow triangle wave (period 128),
- a slowly wandering AR(1) level (the part only the recent past predicts),
- a little white noise,

around a channel offset of about 10 units, each channel with its own
amplitudes and phases (drawn from ``seed``). The structure at several time
scales is what the Clockwork RNN is built for, and it is what makes the
naive last-value (persistence) forecast poor: the fast wave turns every 4
steps and changes the series by about half a unit per step, predictably.

Windows are made with ``keras.utils.timeseries_dataset_from_array``: an input
window of ``sequence_length`` steps of all ``num_features`` channels, and as
target the next ``horizon`` values of the first ``num_outputs`` channels
(many-to-one), or for ``return_sequences=True`` the next ``horizon`` values
after *every* step of the window (many-to-many). Target shapes follow the
model: ``(num_outputs,)`` / ``(sequence_length, num_outputs)`` when
``horizon == 1``, else ``(horizon, num_outputs)`` /
``(sequence_length, horizon, num_outputs)``.
"""

from __future__ import annotations

import numpy as np

from rnnzoo.data import check_batch_size, check_split

__all__ = [
    "BUILTIN",
    "PERIODS",
    "generate_series",
    "split_series",
    "make_windows",
    "load_builtin",
    "load_tfds",
    "persistence_forecast",
    "target_statistics",
]

# Defaults of the built-in dataset; the task's defaults read these.
BUILTIN = {
    "num_features": 1,
    "num_outputs": 1,
    "horizon": 1,
    "sequence_length": 32,
    "length": 12000,
    "seed": 2024,
}
PERIODS = (8, 32, 128)
_FRACTIONS = {"train": (0.0, 0.7), "validation": (0.7, 0.85), "test": (0.85, 1.0)}


def _check_int(name: str, value, low: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
        raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    return int(value)


def generate_series(
    length: int = BUILTIN["length"],
    num_features: int = BUILTIN["num_features"],
    *,
    seed: int = BUILTIN["seed"],
) -> np.ndarray:
    """Generates the built-in multi-scale series as a numpy array.

    Args:
        length: number of time steps.
        num_features: number of channels.
        seed: the random seed; equal arguments give equal arrays.

    Returns:
        A float32 array of shape ``(length, num_features)``.

    Example:

    >>> generate_series(1000, 2).shape
    (1000, 2)
    """
    length = _check_int("length", length, 2)
    num_features = _check_int("num_features", num_features, 1)
    rng = np.random.default_rng(seed)
    t = np.arange(length, dtype=np.float64)[:, None]
    f = num_features
    fast_p, mid_p, slow_p = PERIODS
    phase = rng.uniform(0.0, 1.0, size=(3, f))
    amp = rng.uniform(0.8, 1.2, size=(3, f)) * np.array([[1.0], [1.5], [2.0]])
    # triangle waves in [-1, 1]: period 8 and period 128
    fast = 4.0 * np.abs((t / fast_p + phase[0]) % 1.0 - 0.5) - 1.0
    mid = np.sin(2.0 * np.pi * (t / mid_p + phase[1]))
    slow = 4.0 * np.abs((t / slow_p + phase[2]) % 1.0 - 0.5) - 1.0
    # a wandering level: AR(1) with coefficient 0.98 (stationary std ~0.5)
    innovations = rng.normal(0.0, 0.1, size=(length, f))
    level = np.empty((length, f))
    level[0] = innovations[0] / np.sqrt(1.0 - 0.98**2)
    for i in range(1, length):  # a scalar recursion; vectorised over channels
        level[i] = 0.98 * level[i - 1] + innovations[i]
    noise = rng.normal(0.0, 0.1, size=(length, f))
    offset = rng.uniform(8.0, 12.0, size=(1, f))
    series = offset + amp[0] * fast + amp[1] * mid + amp[2] * slow + level + noise
    return series.astype(np.float32)


def split_series(series: np.ndarray, split: str) -> np.ndarray:
    """Returns the chronological ``split`` of a series (70% / 15% / 15%)."""
    check_split(split)
    start, stop = _FRACTIONS[split]
    n = len(series)
    return series[int(round(start * n)) : int(round(stop * n))]


def _check_window_args(num_features, num_outputs, horizon, sequence_length):
    num_features = _check_int("num_features", num_features, 1)
    num_outputs = _check_int("num_outputs", num_outputs, 1)
    horizon = _check_int("horizon", horizon, 1)
    sequence_length = _check_int("sequence_length", sequence_length, 1)
    if num_outputs > num_features:
        raise ValueError(
            f"`num_outputs` must be <= num_features={num_features} (the targets are the first "
            f"num_outputs channels of the series). Received: num_outputs={num_outputs}"
        )
    return num_features, num_outputs, horizon, sequence_length


def make_windows(
    series: np.ndarray,
    *,
    sequence_length: int,
    num_outputs: int = 1,
    horizon: int = 1,
    return_sequences: bool = False,
    stride: int = 1,
):
    """Cuts a series into unbatched ``(inputs, targets)`` windows with tf.data.

    Windowing uses ``keras.utils.timeseries_dataset_from_array`` (windows of
    ``sequence_length + horizon`` steps), then each window is split into the
    inputs (the first ``sequence_length`` steps, every channel) and the
    targets (the first ``num_outputs`` channels after the inputs).

    Args:
        series: an array ``(time, features)`` (or ``(time,)`` for one channel).
        sequence_length: input steps per window.
        num_outputs: target channels (the first ones of the series).
        horizon: future steps to forecast.
        return_sequences: targets after every input step (many-to-many).
        stride: steps between the starts of consecutive windows.

    Returns:
        An unbatched ``tf.data.Dataset`` of ``(inputs float32 (T, F), targets)``.

    Raises:
        ValueError: if the series is shorter than one window.
    """
    import keras
    import tensorflow as tf

    series = np.asarray(series, dtype=np.float32)
    if series.ndim == 1:
        series = series[:, None]
    if series.ndim != 2:
        raise ValueError(
            f"`series` must have shape (time, features). Received: series.shape={series.shape}"
        )
    _, num_outputs, horizon, sequence_length = _check_window_args(
        series.shape[1], num_outputs, horizon, sequence_length
    )
    stride = _check_int("stride", stride, 1)
    window = sequence_length + horizon
    if len(series) < window:
        raise ValueError(
            f"The series has {len(series)} steps, fewer than one window of sequence_length + "
            f"horizon = {window} steps. Received: sequence_length={sequence_length}, "
            f"horizon={horizon}"
        )
    ds = keras.utils.timeseries_dataset_from_array(
        series, None, sequence_length=window, sequence_stride=stride, batch_size=None
    )

    num_features = series.shape[1]
    if return_sequences:
        y_shape = (sequence_length, num_outputs) if horizon == 1 else (
            sequence_length, horizon, num_outputs)
    else:
        y_shape = (num_outputs,) if horizon == 1 else (horizon, num_outputs)

    def split_window(w):
        w = tf.ensure_shape(w, (window, num_features))
        x = w[:sequence_length]
        if return_sequences:
            # y[t, h, k] = w[t + 1 + h, k]
            y = tf.signal.frame(w[1:, :num_outputs], horizon, 1, axis=0)
            y = y[:, 0, :] if horizon == 1 else y
        else:
            y = w[sequence_length:, :num_outputs]
            y = y[0] if horizon == 1 else y
        # static shapes: every window has the same length
        return x, tf.ensure_shape(y, y_shape)

    return ds.map(split_window, num_parallel_calls=tf.data.AUTOTUNE)


_SERIES_CACHE: dict = {}


def _builtin_series(length: int, num_features: int, seed: int) -> np.ndarray:
    key = (length, num_features, seed)
    if key not in _SERIES_CACHE:
        if len(_SERIES_CACHE) > 8:
            _SERIES_CACHE.clear()
        _SERIES_CACHE[key] = generate_series(length, num_features, seed=seed)
    return _SERIES_CACHE[key]


def target_statistics(
    num_features: int = BUILTIN["num_features"],
    num_outputs: int = BUILTIN["num_outputs"],
    *,
    length: int = BUILTIN["length"],
    seed: int = BUILTIN["seed"],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean and variance of the built-in training split, per channel.

    Returns:
        ``(input_mean, input_variance, target_mean, target_variance)``, float32
        arrays of shapes ``(num_features,)`` and ``(num_outputs,)``.
    """
    num_features, num_outputs, _, _ = _check_window_args(num_features, num_outputs, 1, 1)
    train = split_series(_builtin_series(length, num_features, seed), "train")
    mean, var = train.mean(axis=0), train.var(axis=0)
    return mean, var, mean[:num_outputs], var[:num_outputs]


def load_builtin(
    split: str = "train",
    batch_size: int = 64,
    *,
    num_features: int = BUILTIN["num_features"],
    num_outputs: int = BUILTIN["num_outputs"],
    horizon: int = BUILTIN["horizon"],
    return_sequences: bool = False,
    sequence_length: int = BUILTIN["sequence_length"],
    length: int = BUILTIN["length"],
    stride: int = 1,
    seed: int = BUILTIN["seed"],
    shuffle: bool | None = None,
):
    """The built-in multi-scale series as batched forecasting windows.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``: consecutive,
            non-overlapping stretches of one series (70% / 15% / 15%).
        batch_size: windows per batch.
        num_features: channels of the series (the model's ``num_features``).
        num_outputs: forecast channels, the first ``num_outputs`` ones.
        horizon: future steps forecast.
        return_sequences: a forecast after every input step (many-to-many).
        sequence_length: input steps per window.
        length: total length of the series before splitting.
        stride: steps between window starts (2 halves the windows).
        seed: the series' seed.
        shuffle: shuffle windows every epoch (default: only the train split).

    Returns:
        A dataset of ``(inputs float32 (B, sequence_length, num_features),
        targets float32)``; see the module docstring for target shapes.

    Example:

    >>> ds = load_builtin("train", 64, horizon=4)   # targets (64, 4, 1)
    """
    import tensorflow as tf

    check_split(split)
    check_batch_size(batch_size)
    num_features, num_outputs, horizon, sequence_length = _check_window_args(
        num_features, num_outputs, horizon, sequence_length
    )
    part = split_series(_builtin_series(_check_int("length", length, 2), num_features, seed),
                        split)
    ds = make_windows(
        part,
        sequence_length=sequence_length,
        num_outputs=num_outputs,
        horizon=horizon,
        return_sequences=bool(return_sequences),
        stride=stride,
    )
    if shuffle if shuffle is not None else split == "train":
        count = (len(part) - sequence_length - horizon) // stride + 1
        ds = ds.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def persistence_forecast(
    inputs, num_outputs: int = 1, horizon: int = 1, return_sequences: bool = False
) -> np.ndarray:
    """The naive last-value forecast, shaped like the model's output.

    Many-to-one: the last input value of each target channel, repeated
    ``horizon`` times. Many-to-many: at every step, that step's value.

    Args:
        inputs: ``(batch, time, features)`` inputs (raw, not normalized).
        num_outputs: target channels (the first ones).
        horizon: forecast steps.
        return_sequences: many-to-many.

    Returns:
        A numpy array of the model's output shape.
    """
    x = np.asarray(inputs)[..., :num_outputs]
    if not return_sequences:
        x = x[:, -1]  # (B, K)
        axis = 1
    else:
        axis = 2  # (B, T, K) -> (B, T, H, K)
    if horizon == 1:
        return x
    return np.repeat(np.expand_dims(x, axis), horizon, axis=axis)


def _fill_missing(series: np.ndarray) -> np.ndarray:
    """Fills NaNs in each channel by linear interpolation (edges: nearest value)."""
    series = series.copy()
    index = np.arange(len(series))
    for c in range(series.shape[1]):
        column = series[:, c]
        known = np.isfinite(column)
        if not known.any():
            raise ValueError(f"Channel {c} of the series has no finite value.")
        if not known.all():
            series[:, c] = np.interp(index, index[known], column[known])
    return series


def load_tfds(
    split: str = "train",
    batch_size: int = 64,
    *,
    name: str = "cherry_blossoms",
    feature_keys: tuple | list = ("temp", "doy"),
    time_key: str | None = "year",
    sequence_length: int = 32,
    num_outputs: int = 1,
    horizon: int = BUILTIN["horizon"],
    return_sequences: bool = False,
    stride: int = 1,
    data_dir: str | None = None,
    download: bool = False,
):
    """A real time series from TensorFlow Datasets, windowed like the built-in one.

    The default is ``cherry_blossoms``: 1216 years (812-2015 CE) of the
    reconstructed March temperature at Kyoto (``temp``, the forecast target)
    and the day of year of the first cherry bloom (``doy``). The TFDS dataset
    must hold one time step per example as a dict of scalar numeric
    features: the examples are sorted by ``time_key`` (TFDS does not keep the
    order), missing values (NaN) are filled by linear interpolation, and the
    record is split in time 70% / 15% / 15% like the built-in series. Only
    the selected channels are held in memory (a float per step and channel).
    Build the model with ``num_features=len(feature_keys)``.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        batch_size: windows per batch.
        name: the TFDS dataset name.
        feature_keys: the features used as channels, in order; the first
            ``num_outputs`` are forecast.
        time_key: the feature that orders the examples in time, or ``None``
            to keep TFDS' order.
        sequence_length, num_outputs, horizon, return_sequences, stride: see
            :func:`load_builtin`.
        data_dir: TFDS data directory.
        download: whether TFDS may download the dataset.

    Returns:
        A dataset of ``(inputs float32 (B, sequence_length, len(feature_keys)),
        targets)`` batches.

    Example:

    >>> ds = load_tfds("train", 32)                       # cherry_blossoms
    >>> model = rnnzoo.build("regression", num_features=2)
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    check_split(split)
    check_batch_size(batch_size)
    keys = tuple(feature_keys or ())
    ds = tfds.load(name, split="train", shuffle_files=False, data_dir=data_dir,
                   download=download)
    spec = ds.element_spec
    numeric = sorted(
        k for k, s in (spec.items() if isinstance(spec, dict) else ())
        if isinstance(s, tf.TensorSpec) and s.shape.rank == 0
        and (s.dtype.is_floating or s.dtype.is_integer)
    )
    missing = [k for k in (*keys, *([time_key] if time_key else [])) if k not in numeric]
    if missing or not keys:
        raise ValueError(
            f"`feature_keys` and `time_key` must name scalar numeric features of {name!r}: "
            f"{numeric}. Received: feature_keys={feature_keys!r}, time_key={time_key!r}"
        )
    order_keys = keys + ((time_key,) if time_key else ())
    columns = ds.map(lambda ex: tf.stack([tf.cast(ex[k], tf.float64) for k in order_keys]))
    table = np.concatenate(list(columns.batch(4096).as_numpy_iterator()), axis=0)
    if time_key:
        table = table[np.argsort(table[:, -1], kind="stable")][:, :-1]
    series = _fill_missing(table).astype(np.float32)
    part = split_series(series, split)
    out = make_windows(
        part,
        sequence_length=sequence_length,
        num_outputs=num_outputs,
        horizon=horizon,
        return_sequences=return_sequences,
        stride=stride,
    )
    if split == "train":
        out = out.shuffle(len(part), seed=0, reshuffle_each_iteration=True)
    return out.batch(batch_size).prefetch(tf.data.AUTOTUNE)
