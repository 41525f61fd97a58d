"""The UCR/UEA loader on the data sets aeon ships in its wheel, and on aeon's cache path."""

import numpy as np
import pytest

pytest.importorskip("aeon")

from rnnzoo.data import ucr  # noqa: E402

# The archive's official TRAIN/TEST sizes (timeseriesclassification.com).
OFFICIAL = {
    ("ucr", "ArrowHead"): (36, 175, 251, 1, 3),
    ("ucr", "GunPoint"): (50, 150, 150, 1, 2),
    ("ucr", "ItalyPowerDemand"): (67, 1029, 24, 1, 2),
    ("ucr", "PickupGestureWiimoteZ"): (50, 50, 361, 1, 10),
    ("uea", "BasicMotions"): (40, 40, 100, 6, 4),
    ("uea", "JapaneseVowels"): (270, 370, 29, 12, 9),
}


@pytest.mark.parametrize("archive,name", sorted(OFFICIAL))
def test_official_split_sizes_and_shapes(archive, name):
    n_train, n_test, length, channels, classes = OFFICIAL[(archive, name)]
    parts = {s: ucr.load_arrays(name, s, archive=archive) for s in ("train", "validation", "test")}
    assert len(parts["test"].labels) == n_test
    # validation is 20% of the official TRAIN (rounded), the rest is "train"
    assert len(parts["validation"].labels) == round(0.2 * n_train)
    assert len(parts["train"].labels) + len(parts["validation"].labels) == n_train
    for part in parts.values():
        assert part.inputs.shape[1:] == (length, channels) and part.inputs.dtype == np.float32
        assert part.labels.dtype == np.int32 and part.labels.min() >= 0
        assert len(part.class_names) == classes
    assert set(parts["test"].labels) == set(range(classes))


def test_validation_is_disjoint_stratified_and_seeded():
    train = ucr.load_arrays("JapaneseVowels", "train", archive="uea")
    val = ucr.load_arrays("JapaneseVowels", "validation", archive="uea")
    # no series of validation is in train (compare the raw series, padding included)
    train_rows = {x.tobytes() for x in train.inputs}
    assert not any(x.tobytes() in train_rows for x in val.inputs)
    # 30 utterances per speaker in TRAIN: 6 per speaker to validation
    np.testing.assert_array_equal(np.bincount(val.labels), [6] * 9)
    again = ucr.load_arrays("JapaneseVowels", "validation", archive="uea")
    other = ucr.load_arrays("JapaneseVowels", "validation", archive="uea", seed=1)
    np.testing.assert_array_equal(again.inputs, val.inputs)
    assert not np.array_equal(other.inputs, val.inputs)
    # a class with a single TRAIN example never loses it
    rows = ucr._validation_rows(np.array([0, 0, 0, 0, 0, 1]), 0.5, seed=0)
    assert len(rows) == 3 and 5 not in rows


def test_variable_length_padded_at_the_end_never_truncated():
    import os

    import aeon.datasets
    from aeon.datasets import load_classification

    bundled = os.path.join(os.path.dirname(aeon.datasets.__file__), "data")
    raw, _ = load_classification("JapaneseVowels", split="test", extract_path=bundled)
    assert isinstance(raw, list)  # aeon's own reading: a list of (12, T_i) arrays
    arrays = ucr.load_arrays("JapaneseVowels", "test", archive="uea")
    assert arrays.inputs.shape == (370, 29, 12)
    np.testing.assert_array_equal(arrays.lengths, [s.shape[1] for s in raw])
    assert arrays.lengths.min() == 7 and arrays.lengths.max() == 29
    for series, x, n in zip(raw, arrays.inputs, arrays.lengths):
        np.testing.assert_allclose(x[:n], series.T.astype(np.float32))  # every real step kept
        assert np.all(x[n:] == ucr.PADDING_VALUE)  # padding only after the end
    wiimote = ucr.load_arrays("PickupGestureWiimoteZ", "train")
    assert wiimote.lengths.min() < wiimote.lengths.max() == wiimote.inputs.shape[1]


def test_labels_follow_the_archive_header_order():
    arrays = ucr.load_arrays("BasicMotions", "test", archive="uea")
    assert arrays.class_names == ("standing", "running", "walking", "badminton")
    wiimote = ucr.load_arrays("PickupGestureWiimoteZ", "test")
    # numeric order, not string order ("10" last, not after "1")
    assert wiimote.class_names == tuple(str(i) for i in range(1, 11))


def test_dataset_batches_build_options_and_metadata():
    ds = ucr.load_uea("train", 16, name="JapaneseVowels")
    x, y = next(iter(ds))
    assert x.shape == (16, 29, 12) and x.dtype.name == "float32" and y.dtype.name == "int32"
    assert ds.rnnzoo_build_options == {"num_features": 12, "num_classes": 9}
    assert ds.rnnzoo_class_names == tuple(str(i) for i in range(1, 10))
    meta = ds.rnnzoo_metadata
    assert meta["official_sizes"] == {"train": 270, "test": 370}
    assert meta["num_examples"] == 216 and meta["equal_length"] is False
    assert meta["padding"] == "end, value 0.0" and meta["real_all_zero_steps"] == 0
    test = ucr.load_uea("test", 1000, name="JapaneseVowels")
    (tx, ty), = list(test)  # not shuffled: the official order
    np.testing.assert_array_equal(ty.numpy(), ucr.load_arrays(
        "JapaneseVowels", "test", archive="uea").labels)


def test_name_errors():
    with pytest.raises(ValueError, match="UEA archive.*source='uea'"):
        ucr.load_ucr("train", 8, name="JapaneseVowels")
    with pytest.raises(ValueError, match="`name` must be the name of a UCR data set"):
        ucr.load_ucr("train", 8)
    with pytest.raises(ValueError, match="validation_fraction"):
        ucr.load_arrays("ArrowHead", validation_fraction=1.0)


def _write_ts(path, name, rows, labels, classes, channels):
    """A data set in the archive's .ts format, as the archive's zips hold it."""
    equal = len({len(r[0]) for r in rows}) == 1
    header = [f"@problemName {name}", "@timeStamps false",
              f"@missing {'true' if any('NaN' in str(r) for r in rows) else 'false'}",
              f"@univariate {'true' if channels == 1 else 'false'}",
              f"@dimensions {channels}", f"@equalLength {'true' if equal else 'false'}",
              f"@seriesLength {len(rows[0][0])}" if equal else "",
              f"@classLabel true {' '.join(classes)}", "@data"]
    body = [":".join(",".join(str(v) for v in ch) for ch in r) + f":{lab}"
            for r, lab in zip(rows, labels)]
    path.write_text("\n".join(h for h in header if h) + "\n" + "\n".join(body) + "\n")


def _toy_archive(root, name="RnnzooToy", nan=False):
    rng = np.random.default_rng(0)
    folder = root / name
    folder.mkdir(parents=True)
    for split, n in (("TRAIN", 10), ("TEST", 6)):
        rows, labels = [], []
        for i in range(n):
            t = int(rng.integers(3, 9))
            series = np.round(rng.normal(size=(2, t)) + 5.0, 3).tolist()
            if nan and i == 0:
                series[0][1] = "NaN"
            rows.append(series)
            labels.append("up" if i % 2 else "down")
        _write_ts(folder / f"{name}_{split}.ts", name, rows, labels, ["up", "down"], 2)
    return root


def test_cache_dir_path_reads_prepared_archive_files(tmp_path):
    # aeon 1.6 downloads from a fixed https Zenodo address that cannot be pointed at a local
    # server, so the download itself is not exercised here; this is the path it fills.
    _toy_archive(tmp_path)
    train = ucr.load_arrays("RnnzooToy", "train", archive="uea", cache_dir=tmp_path,
                            validation_fraction=0.2)
    test = ucr.load_arrays("RnnzooToy", "test", archive="uea", cache_dir=tmp_path)
    assert len(train.labels) == 8 and len(test.labels) == 6
    assert train.class_names == ("up", "down")
    assert train.inputs.shape[2] == 2 and train.lengths.min() >= 3
    n = int(test.lengths[0])
    assert np.all(test.inputs[0, n:] == 0.0) and np.all(test.inputs[0, :n] > 0.0)


def test_bundled_sets_create_no_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AEON_DATA", str(tmp_path / "cache"))
    ucr.load_arrays("GunPoint", "test", seed=3)
    ucr._CACHE.clear()
    ucr.load_arrays("GunPoint", "test")
    assert not (tmp_path / "cache").exists()  # read in place from aeon's wheel


def test_aeon_default_cache_is_read(tmp_path, monkeypatch):
    _toy_archive(tmp_path, name="RnnzooCached")
    monkeypatch.setenv("AEON_DATA", str(tmp_path))
    test = ucr.load_arrays("RnnzooCached", "test")
    assert test.inputs.shape[0] == 6 and test.inputs.shape[2] == 2


def test_missing_files_and_missing_values_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match="RnnzooAbsent.*cache_dir=<that folder>"):
        ucr.load_arrays("RnnzooAbsent", "test", cache_dir=tmp_path)
    _toy_archive(tmp_path, name="RnnzooNaN", nan=True)
    with pytest.raises(ValueError, match="missing values.*no_missing=True"):
        ucr.load_arrays("RnnzooNaN", "test", cache_dir=tmp_path)
