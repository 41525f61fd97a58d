"""Forecasting on real series: statsmodels' bundled data sets, with a fixed holdout.

``source="statsmodels"`` for the ``regression`` task. Each series in
:data:`SERIES` is one real record that statsmodels ships in its wheel (BSD-3
code; the data are public domain, the text of each data set's own COPYRIGHT
and SOURCE notes is in ``ds.rnnzoo_metadata``):

- ``"sunspots"``: yearly sunspot numbers (``SUNACTIVITY``), 1700-2008, 309
  values; seasonal period 11 (the solar cycle, for a seasonal-naive baseline).
- ``"co2"``: Mauna Loa atmospheric CO2 (ppm), weekly flask samples 1958-2001,
  **averaged per calendar month** (526 months, 1958-03 to 2001-12); the 5
  months without any weekly value are filled by linear interpolation between
  their neighbours. Seasonal period 12.
- ``"elnino"``: Niño 1+2 sea-surface temperature (degrees Celsius), monthly
  1950-2010, 732 values. Seasonal period 12.
- ``"nile"``: yearly flow of the Nile at Aswan (10^8 m^3), 1871-1970, 100
  values; no seasonality (period 1).

The holdout is fixed and chronological: the last :data:`TEST_FRACTION`
(15%, rounded) of the record is ``"test"``, the 15% before it
``"validation"``, the rest ``"train"`` (:func:`holdout_sizes`). Windows are cut
exactly as :mod:`rnnzoo.data.regression` cuts the built-in series
(:func:`rnnzoo.data.regression.make_windows`: ``sequence_length`` input
steps, the next ``horizon`` values as targets, or targets after every step
with ``return_sequences=True``), and never across a boundary the wrong way:
every target of a split's windows lies inside that split, while a window's
inputs may reach back into the preceding history (the first test window reads
the end of the validation part, as a forecaster would). Shuffling (train only)
mixes windows of the train part only. :func:`raw_splits` gives the three parts
as plain arrays for classical baselines on the same holdout.
"""

from __future__ import annotations

import numpy as np

from rnnzoo._validation import check_bool, check_choice, check_positive_int, check_seed
from rnnzoo.data import check_batch_size, check_split, import_optional
from rnnzoo.data.regression import make_windows

__all__ = [
    "SERIES",
    "TEST_FRACTION",
    "VALIDATION_FRACTION",
    "load_series",
    "holdout_sizes",
    "raw_splits",
    "load",
]

SOURCE = "statsmodels"
TEST_FRACTION = 0.15
VALIDATION_FRACTION = 0.15

# name -> what the series is; "sequence_length" is the loader's default window.
SERIES = {
    "sunspots": {
        "title": "Yearly sunspot numbers (SUNACTIVITY), 1700-2008",
        "frequency": "yearly",
        "seasonal_period": 11,
        "units": "sunspot number",
        "sequence_length": 22,
    },
    "co2": {
        "title": "Mauna Loa atmospheric CO2, monthly means of weekly flask samples, "
                 "1958-03 to 2001-12",
        "frequency": "monthly",
        "seasonal_period": 12,
        "units": "ppm",
        "sequence_length": 24,
    },
    "elnino": {
        "title": "El Nino: Nino 1+2 sea-surface temperature, monthly, 1950-2010",
        "frequency": "monthly",
        "seasonal_period": 12,
        "units": "degrees Celsius",
        "sequence_length": 24,
    },
    "nile": {
        "title": "Flow of the river Nile at Aswan, yearly, 1871-1970",
        "frequency": "yearly",
        "seasonal_period": 1,
        "units": "10^8 m^3",
        "sequence_length": 10,
    },
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_CACHE: dict = {}


def _read(name: str):
    """(values float64 (T,), time labels (T,) str, notes str, module) of one series."""
    datasets = import_optional(f"statsmodels.datasets.{name}", SOURCE, "statsmodels")
    frame = datasets.load_pandas().data
    if name == "sunspots":
        values = frame["SUNACTIVITY"].to_numpy(np.float64)
        times = [str(int(y)) for y in frame["YEAR"]]
        notes = "as published"
    elif name == "nile":
        values = frame["volume"].to_numpy(np.float64)
        times = [str(int(y)) for y in frame["year"]]
        notes = "as published"
    elif name == "elnino":
        values = frame[list(_MONTHS)].to_numpy(np.float64).reshape(-1)  # row = year
        times = [f"{int(y)}-{m:02d}" for y in frame["YEAR"] for m in range(1, 13)]
        notes = "the 12 monthly columns of each year read in calendar order"
    else:  # co2: weekly, with gaps
        monthly = frame["co2"].resample("MS").mean()
        values = monthly.to_numpy(np.float64).copy()
        missing = ~np.isfinite(values)
        index = np.arange(len(values))
        values[missing] = np.interp(index[missing], index[~missing], values[~missing])
        times = [t.strftime("%Y-%m") for t in monthly.index]
        notes = (f"weekly values averaged per calendar month; {int(missing.sum())} months "
                 "without any weekly value filled by linear interpolation")
    return values, times, notes, datasets


def _check_name(name) -> str:
    if not isinstance(name, str) or name not in SERIES:
        check_choice("name", name, tuple(SERIES))
    return name


def load_series(name: str) -> tuple[np.ndarray, dict]:
    """One whole series and what it is.

    Args:
        name: one of :data:`SERIES` (``"sunspots"``, ``"co2"``, ``"elnino"``, ``"nile"``).

    Returns:
        ``(values, info)``: float32 ``(T,)`` and a dict with ``title``,
        ``frequency``, ``seasonal_period``, ``units``, ``times`` (a label per
        value: ``"1700"`` or ``"1958-03"``), ``preprocessing``, ``licence`` and
        ``data_source`` (statsmodels' COPYRIGHT and SOURCE notes for the data set).

    Example:

    >>> values, info = load_series("sunspots")
    >>> len(values), info["times"][0], info["seasonal_period"]
    (309, '1700', 11)
    """
    _check_name(name)
    if name not in _CACHE:
        values, times, notes, module = _read(name)
        info = {
            **SERIES[name],
            "name": name,
            "times": tuple(times),
            "preprocessing": notes,
            "licence": " ".join(str(module.COPYRIGHT).split()),
            "data_source": " ".join(str(module.SOURCE).split()),
            "package": "statsmodels.datasets." + name,
        }
        _CACHE[name] = (values.astype(np.float32), info)
    values, info = _CACHE[name]
    return values.copy(), dict(info)


def holdout_sizes(length: int) -> dict:
    """Sizes of the chronological parts of a series of ``length`` values.

    Returns:
        ``{"train": n_train, "validation": n_val, "test": n_test}``, with
        ``n_test = round(TEST_FRACTION * length)`` and
        ``n_val = round(VALIDATION_FRACTION * length)``.
    """
    length = check_positive_int("length", length)
    n_test = int(round(TEST_FRACTION * length))
    n_val = int(round(VALIDATION_FRACTION * length))
    return {"train": length - n_val - n_test, "validation": n_val, "test": n_test}


def _bounds(length: int) -> dict:
    sizes = holdout_sizes(length)
    a = sizes["train"]
    b = a + sizes["validation"]
    return {"train": (0, a), "validation": (a, b), "test": (b, length)}


def raw_splits(name: str) -> dict:
    """The train, validation and test parts of a series, consecutive and disjoint.

    These are the values the windows of :func:`load` forecast, split by
    split; fit classical baselines (seasonal naive, ARIMA/ETS) on ``"train"``
    (or train + validation) and score them on ``"test"``.

    Returns:
        ``{"train": float32 (n_train,), "validation": ..., "test": ...}``;
        their concatenation is the whole series.
    """
    values, _ = load_series(name)
    return {s: values[a:b] for s, (a, b) in _bounds(len(values)).items()}


def load(
    split: str = "train",
    batch_size: int = 64,
    *,
    name: str | None = None,
    sequence_length: int | None = None,
    num_outputs: int = 1,
    horizon: int = 1,
    return_sequences: bool = False,
    stride: int = 1,
    seed: int = 0,
    shuffle: bool | None = None,
):
    """A statsmodels series as batched forecasting windows for ``regression``.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``: the split whose
            values the targets are (see the module docstring).
        batch_size: windows per batch.
        name: one of :data:`SERIES`.
        sequence_length: input steps per window (default: the series'
            ``SERIES[name]["sequence_length"]``, two seasonal periods).
        num_outputs: forecast channels; the series have one.
        horizon: future steps forecast.
        return_sequences: a forecast after every input step (many-to-many).
        stride: steps between window starts.
        seed: the train split's shuffle seed.
        shuffle: shuffle windows every epoch (default: only the train split).

    Returns:
        A dataset of ``(inputs float32 (B, sequence_length, 1), targets
        float32)`` with the targets shaped as in :mod:`rnnzoo.data.regression`,
        and ``ds.rnnzoo_build_options`` (``num_features``, ``num_outputs``,
        ``horizon``, ``return_sequences``, ``adapt_data``, the train part,
        for the model's normalisation, and ``mask_value=None``: the windows
        are never padded and a real value may be 0.0) and ``ds.rnnzoo_metadata``.

    Example:

    >>> ds = rnnzoo.data.load("regression", source="statsmodels", name="sunspots")
    >>> model = rnnzoo.build("regression", **ds.rnnzoo_build_options)
    """
    import tensorflow as tf

    check_split(split)
    check_batch_size(batch_size)
    _check_name(name)
    if sequence_length is None:
        sequence_length = SERIES[name]["sequence_length"]
    sequence_length = check_positive_int("sequence_length", sequence_length)
    horizon = check_positive_int("horizon", horizon)
    return_sequences = check_bool("return_sequences", return_sequences)
    seed = check_seed("seed", seed)
    values, info = load_series(name)
    bounds = _bounds(len(values))
    start, stop = bounds[split]
    # The steps before the first target: many-to-one reads sequence_length of history,
    # many-to-many forecasts from the first input step on, so one step of history.
    context = 1 if return_sequences else sequence_length
    part = values[max(0, start - context):stop, None]
    ds = make_windows(part, sequence_length=sequence_length, num_outputs=num_outputs,
                      horizon=horizon, return_sequences=return_sequences, stride=stride)
    if shuffle if shuffle is not None else split == "train":
        count = (len(part) - sequence_length - horizon) // stride + 1
        ds = ds.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    train = values[slice(*bounds["train"]), None]
    ds.rnnzoo_build_options = {
        "num_features": 1,
        "num_outputs": 1,
        "horizon": horizon,
        "return_sequences": return_sequences,
        "adapt_data": (train, train),
        "mask_value": None,  # windows are never padded; a real value may be exactly 0.0
    }
    times = info.pop("times")
    ds.rnnzoo_metadata = {
        **info,
        "source": SOURCE,
        "split": split,
        "sizes": holdout_sizes(len(values)),
        "periods": {s: (times[a], times[b - 1]) for s, (a, b) in bounds.items()},
        "sequence_length": sequence_length,
    }
    return ds
