"""Time-series classification on the UCR/UEA archive, through aeon.

The UCR archive (univariate, Dau et al. 2019) and the UEA archive
(multivariate, Bagnall et al. 2018) are the field's benchmark for
time-series classification; every published accuracy uses their official
TRAIN/TEST split. This module reads them with aeon
(``aeon.datasets.load_classification``, BSD-3-Clause; the data sets are
published by the archives' maintainers for research use, see
timeseriesclassification.com):

- ``"test"`` is the archive's official TEST file, untouched;
- ``"validation"`` is carved from the official TRAIN file: a seeded,
  class-stratified :data:`VALIDATION_FRACTION` (20% by default), each class
  keeping at least one training example;
- ``"train"`` is TRAIN minus validation.

Series are kept as the archive has them: never truncated, resampled or
normalised. Inputs are float32 ``(batch, time, channels)``; variable-length
series are padded **at the end** with :data:`PADDING_VALUE` (``0.0``) up to
the longest series of the data set (both official files), so every batch has
the same shape and a model that masks ``0.0`` reads only the real steps. The
true lengths are in :func:`load_arrays`' result and ``ds.rnnzoo_metadata``
(which also counts the real steps whose channels are all exactly 0.0, that
such a mask would hide as well). Labels are mapped to ``0..K-1`` in the order
the archive's header declares them; the names are ``ds.rnnzoo_class_names``.

Data sets aeon ships inside its wheel load offline: ArrowHead, GunPoint,
ItalyPowerDemand, OSULeaf, ACSF1, PickupGestureWiimoteZ (variable length),
BasicMotions and JapaneseVowels (multivariate, variable length). The others
download on a connected machine into aeon's cache (``cache_dir``, default
aeon's: the ``AEON_DATA`` environment variable or ``~/aeon_data``); on an
offline machine put ``<cache_dir>/<name>/<name>_TRAIN.ts`` and ``_TEST.ts``
there by hand.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from rnnzoo._validation import check_bool, check_choice, check_float, check_seed
from rnnzoo.data import check_batch_size, check_split, import_optional

__all__ = [
    "ARCHIVES",
    "BUNDLED",
    "PADDING_VALUE",
    "VALIDATION_FRACTION",
    "SeriesArrays",
    "load_arrays",
    "load",
    "load_ucr",
    "load_uea",
]

ARCHIVES = ("ucr", "uea")
# Shipped inside aeon's wheel (aeon 1.6): these load without a network.
BUNDLED = {
    "ucr": ("ArrowHead", "GunPoint", "ItalyPowerDemand", "OSULeaf", "ACSF1",
            "PickupGestureWiimoteZ"),
    "uea": ("BasicMotions", "JapaneseVowels"),
}
PADDING_VALUE = 0.0
VALIDATION_FRACTION = 0.2
_CACHE: dict = {}


class SeriesArrays(NamedTuple):
    """One split of an archive data set as numpy arrays.

    Attributes:
        inputs: float32 ``(N, T, C)``, padded at the end with ``PADDING_VALUE``.
        labels: int32 ``(N,)`` in ``0..K-1``.
        lengths: int32 ``(N,)``: the real steps of each series.
        class_names: the archive's label of each class id, in id order.
    """

    inputs: np.ndarray
    labels: np.ndarray
    lengths: np.ndarray
    class_names: tuple


def _archive_lists(datasets):
    """aeon's lists of the archives' data sets (used for a helpful error only)."""
    return {"ucr": set(datasets.univariate), "uea": set(datasets.multivariate)}


def _check_name(name, archive: str, tsc_datasets) -> str:
    lists = _archive_lists(tsc_datasets)
    if not isinstance(name, str) or not name:
        examples = ", ".join(repr(n) for n in BUNDLED[archive])
        raise ValueError(
            f"`name` must be the name of a {archive.upper()} data set, for example {examples} "
            f"(shipped with aeon). Received: name={name!r}"
        )
    other = "uea" if archive == "ucr" else "ucr"
    if name not in lists[archive] and name in lists[other]:
        raise ValueError(
            f"`name` {name!r} is a data set of the {other.upper()} archive, not the "
            f"{archive.upper()} archive: use source={other!r}. Received: name={name!r}"
        )
    return name


def _aeon_root(name: str, cache_dir, datasets) -> str | None:
    """The folder aeon reads ``name`` from: its wheel for bundled sets, else the cache."""
    if cache_dir is not None:
        return os.fspath(cache_dir)
    bundled = os.path.join(os.path.dirname(datasets.__file__), "data")
    if os.path.isfile(os.path.join(bundled, name, f"{name}_TRAIN.ts")):
        return bundled  # read in place: no cache folder is created
    return None  # aeon's cache: AEON_DATA or ~/aeon_data, downloaded there if missing


def _pad(series_list, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(channels, time_i) arrays -> (N, length, channels) float32 padded at the end."""
    channels = series_list[0].shape[0]
    out = np.full((len(series_list), length, channels), PADDING_VALUE, np.float32)
    lengths = np.zeros(len(series_list), np.int32)
    for i, s in enumerate(series_list):
        s = np.asarray(s, np.float32)
        if s.shape[0] != channels:
            raise ValueError(f"Series {i} has {s.shape[0]} channels, expected {channels}.")
        out[i, : s.shape[1]] = s.T
        lengths[i] = s.shape[1]
    return out, lengths


def _class_order(meta: dict, y_train, y_test) -> tuple:
    declared = [str(c) for c in meta.get("class_values") or []]
    seen = set(map(str, y_train)) | set(map(str, y_test))
    if declared and seen <= set(declared):
        return tuple(declared)

    def key(v):  # numeric labels in numeric order, others after, alphabetically
        try:
            return (0, float(v), "")
        except ValueError:
            return (1, 0.0, v)

    return tuple(sorted(seen, key=key))


def _read(name: str, archive: str, cache_dir, no_missing: bool):
    key = (name, archive, None if cache_dir is None else os.fspath(cache_dir), no_missing)
    if key in _CACHE:
        return _CACHE[key]
    source = archive
    datasets = import_optional("aeon.datasets", source, "aeon")
    tsc_datasets = import_optional("aeon.datasets.tsc_datasets", source, "aeon")
    _check_name(name, archive, tsc_datasets)
    root = _aeon_root(name, cache_dir, datasets)
    parts = {}
    meta = {}
    for split in ("train", "test"):
        try:
            x, y, meta = datasets.load_classification(
                name, split=split, extract_path=root, return_metadata=True,
                load_equal_length=False, load_no_missing=no_missing,
            )
        except ValueError as error:
            where = root or "aeon's cache (AEON_DATA or ~/aeon_data)"
            raise ValueError(
                f"Could not load the {archive.upper()} data set {name!r} from {where} or "
                f"download it ({error}). On an offline machine, put {name}/{name}_TRAIN.ts and "
                f"{name}/{name}_TEST.ts in a folder and pass cache_dir=<that folder>."
            ) from error
        series = [np.asarray(s) for s in x]  # numpy3D (N, C, T) or a list of (C, T_i)
        parts[split] = (series, np.asarray(y).astype(str))
    length = max(s.shape[1] for part in parts.values() for s in part[0])
    class_names = _class_order(meta, parts["train"][1], parts["test"][1])
    index = {c: i for i, c in enumerate(class_names)}
    out = {}
    for split, (series, y) in parts.items():
        inputs, lengths = _pad(series, length)
        if np.isnan(inputs).any():
            raise ValueError(
                f"The {archive.upper()} data set {name!r} has missing values (NaN). Pass "
                "no_missing=True to load the archive's own version with missing values "
                "imputed (the <name>_nmv files)."
            )
        labels = np.array([index[v] for v in y], np.int32)
        out[split] = (inputs, labels, lengths)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[key] = (out, class_names)
    return _CACHE[key]


def _validation_rows(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Seeded, class-stratified rows of TRAIN for validation (sorted).

    Each class gives ``floor(fraction * n_c)`` rows, then the classes with the
    largest remainders give one more until ``round(fraction * N)`` rows are
    taken; a class never gives its last example.
    """
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    want = int(round(fraction * len(labels)))
    quota = np.minimum(np.floor(fraction * counts).astype(int), counts - 1)
    remainder = fraction * counts - np.floor(fraction * counts)
    for c in np.argsort(-remainder, kind="stable"):
        if quota.sum() >= want:
            break
        if quota[c] < counts[c] - 1:
            quota[c] += 1
    rows = [rng.permutation(np.flatnonzero(labels == k))[:q] for k, q in zip(classes, quota)]
    return np.sort(np.concatenate(rows)) if rows else np.zeros(0, int)


def load_arrays(
    name: str,
    split: str = "train",
    *,
    archive: str = "ucr",
    cache_dir: str | os.PathLike | None = None,
    validation_fraction: float = VALIDATION_FRACTION,
    seed: int = 0,
    no_missing: bool = False,
) -> SeriesArrays:
    """One split of a UCR/UEA data set as numpy arrays (see the module docstring).

    Args:
        name: the archive's data set name (``"ArrowHead"``, ``"JapaneseVowels"``).
        split: ``"train"``, ``"validation"`` (both from the official TRAIN file)
            or ``"test"`` (the official TEST file).
        archive: ``"ucr"`` or ``"uea"``; only used to check the name.
        cache_dir: the folder holding ``<name>/<name>_TRAIN.ts`` (and where
            aeon downloads to); default: aeon's wheel for the bundled sets,
            else aeon's cache.
        validation_fraction: share of TRAIN held out for validation, in (0, 1).
        seed: seed of the validation draw; equal seeds give equal splits.
        no_missing: load the archive's imputed ``_nmv`` version of a data set
            with missing values.

    Returns:
        A :class:`SeriesArrays` ``(inputs, labels, lengths, class_names)``.

    Example:

    >>> arrays = load_arrays("JapaneseVowels", "test", archive="uea")
    >>> arrays.inputs.shape, int(arrays.lengths.max())
    ((370, 29, 12), 29)
    """
    check_split(split)
    check_choice("archive", archive, ARCHIVES)
    validation_fraction = check_float("validation_fraction", validation_fraction, low=0.0,
                                      high=1.0, low_inclusive=False, high_inclusive=False)
    seed = check_seed("seed", seed)
    no_missing = check_bool("no_missing", no_missing)
    out, class_names = _read(name, archive, cache_dir, no_missing)
    if split == "test":
        inputs, labels, lengths = out["test"]
    else:
        inputs, labels, lengths = out["train"]
        rows = _validation_rows(labels, validation_fraction, 0 if seed is None else seed)
        if split == "train":
            rows = np.setdiff1d(np.arange(len(labels)), rows)
        inputs, labels, lengths = inputs[rows], labels[rows], lengths[rows]
    return SeriesArrays(inputs.copy(), labels.copy(), lengths.copy(), class_names)


def load(
    split: str = "train",
    batch_size: int = 64,
    *,
    name: str | None = None,
    archive: str = "ucr",
    cache_dir: str | os.PathLike | None = None,
    validation_fraction: float = VALIDATION_FRACTION,
    seed: int = 0,
    no_missing: bool = False,
    shuffle: bool | None = None,
):
    """A UCR/UEA data set as batched ``(inputs, labels)`` for ``classification``.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (see the module docstring).
        batch_size: series per batch.
        name, archive, cache_dir, validation_fraction, seed, no_missing: see
            :func:`load_arrays`.
        shuffle: shuffle every epoch (default: only the train split), seeded by ``seed``.

    Returns:
        A dataset of ``(inputs float32 (B, T, C), labels int32 (B,))``, with
        ``ds.rnnzoo_build_options = {"num_features": C, "num_classes": K}``,
        ``ds.rnnzoo_class_names`` and ``ds.rnnzoo_metadata`` (archive, name,
        split sizes, lengths, padding value).

    Example:

    >>> ds = rnnzoo.data.load("classification", source="uea", name="JapaneseVowels")
    >>> model = rnnzoo.build("classification", **ds.rnnzoo_build_options)
    """
    import tensorflow as tf

    check_batch_size(batch_size)
    arrays = load_arrays(name, split, archive=archive, cache_dir=cache_dir,
                         validation_fraction=validation_fraction, seed=seed,
                         no_missing=no_missing)
    out, _ = _read(name, archive, cache_dir, no_missing)
    all_steps = np.concatenate([x[np.arange(x.shape[1])[None, :] < n[:, None]]
                                for x, _, n in out.values()])
    ds = tf.data.Dataset.from_tensor_slices((arrays.inputs, arrays.labels))
    if shuffle if shuffle is not None else split == "train":
        ds = ds.shuffle(len(arrays.labels), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    num_classes = len(arrays.class_names)
    ds.rnnzoo_build_options = {"num_features": int(arrays.inputs.shape[2]),
                               "num_classes": num_classes}
    ds.rnnzoo_class_names = arrays.class_names
    ds.rnnzoo_metadata = {
        "source": archive,
        "name": name,
        "split": split,
        "num_examples": int(len(arrays.labels)),
        "official_sizes": {"train": int(len(out["train"][1])), "test": int(len(out["test"][1]))},
        "validation_fraction": validation_fraction,
        "class_names": arrays.class_names,
        "padded_length": int(arrays.inputs.shape[1]),
        "lengths": arrays.lengths,
        "equal_length": bool(all((n == arrays.inputs.shape[1]).all() for *_, n in out.values())),
        "padding": f"end, value {PADDING_VALUE}",
        "real_all_zero_steps": int(np.all(all_steps == PADDING_VALUE, axis=-1).sum()),
        "licence": "UCR/UEA archive, published for research use (timeseriesclassification.com); "
                   "read with aeon (BSD-3-Clause)",
    }
    return ds


def load_ucr(split: str = "train", batch_size: int = 64, *, name: str | None = None, **kwargs):
    """``source="ucr"``: :func:`load` with ``archive="ucr"`` (univariate data sets)."""
    return load(split, batch_size, name=name, archive="ucr", **kwargs)


def load_uea(split: str = "train", batch_size: int = 64, *, name: str | None = None, **kwargs):
    """``source="uea"``: :func:`load` with ``archive="uea"`` (multivariate data sets)."""
    return load(split, batch_size, name=name, archive="uea", **kwargs)
