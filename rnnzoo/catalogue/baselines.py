"""The baselines beside each preset's metric, on the same split, with where each number comes from.

- UCR (univariate classification): the resample-0 test accuracies of
  InceptionTime, HIVE-COTE 2, WEASEL 2.0 and FreshPRINCE that aeon ships in
  ``aeon/testing/example_results_files/classification/accuracy/*.csv``
  (resample 0 is the archive's official TRAIN/TEST split);
- UEA (multivariate): the archive paper's benchmark, 1-nearest-neighbour
  classifiers (Bagnall et al. 2018, "The UEA multivariate time series
  classification archive, 2018", arXiv:1811.00075), recomputed here on the
  official split with aeon's distances (Euclidean, DTW dependent and
  independent, full window, series zero-padded to the longest), beside the
  paper's figure where it was checked;
- forecasting: seasonal naive, and an ARIMA and an ETS model of statsmodels
  whose form is chosen on the validation part (as the network's options are),
  refitted on train + validation and forecasting every test value one step
  ahead with their parameters fixed, as the network does;
- text: a unigram model and an interpolated Kneser-Ney character n-gram model
  of the training plays (order chosen on the validation plays), on the test
  plays' tokens (:mod:`rnnzoo.catalogue.ngram`).

Every function returns ``[{"name", "value", "source"}]``.
"""

from __future__ import annotations

import csv
import itertools
import os
import warnings

import numpy as np

from rnnzoo.catalogue import ngram
from rnnzoo.catalogue.table import PRESETS
from rnnzoo.data import series, shakespeare, ucr

__all__ = [
    "AEON_CLASSIFIERS",
    "UEA_PAPER",
    "ucr_published",
    "nearest_neighbour",
    "uea",
    "forecasting",
    "language_model",
    "for_preset",
]

AEON_CLASSIFIERS = ("InceptionTime", "HC2", "WEASEL-2.0", "FreshPRINCE")
PAPER = ("Bagnall et al. 2018, The UEA multivariate time series classification archive, "
         "arXiv:1811.00075")
#: Figures of the archive paper's benchmark table used beside our numbers. Only figures
#: that :func:`nearest_neighbour` reproduces on the same split are listed.
UEA_PAPER = {
    "JapaneseVowels": {"1-NN DTW_D (paper)": 0.949},
}


def _aeon_results_dir() -> str:
    import aeon

    return os.path.join(os.path.dirname(aeon.__file__), "testing", "example_results_files",
                        "classification", "accuracy")


def ucr_published(name: str) -> list[dict]:
    """The four classifiers' resample-0 accuracies on UCR data set ``name`` (aeon's files)."""
    folder = _aeon_results_dir()
    rows = []
    for clf in AEON_CLASSIFIERS:
        path = os.path.join(folder, f"{clf}_accuracy.csv")
        with open(path, newline="", encoding="utf-8") as f:
            for line in csv.reader(f):
                if line and line[0] == name:
                    rows.append({"name": clf, "value": round(float(line[1]), 4),
                                 "source": f"aeon {os.path.relpath(path, os.path.dirname(folder))}"
                                           " (resample 0 = the official split)"})
                    break
    if not rows:
        raise ValueError(f"aeon's results files have no row for {name!r}.")
    return rows


def nearest_neighbour(name: str, archive: str) -> list[dict]:
    """1-NN accuracies (ED, DTW_I, DTW_D; full window) on the official split, computed."""
    from aeon.distances import dtw_pairwise_distance, euclidean_pairwise_distance

    parts = [ucr.load_arrays(name, s, archive=archive) for s in ("train", "validation")]
    labels = np.concatenate([p.labels for p in parts])  # the whole official TRAIN file
    test = ucr.load_arrays(name, "test", archive=archive)
    a = np.transpose(test.inputs, (0, 2, 1)).astype(np.float64)  # aeon: (n, channels, time)
    b = np.transpose(np.concatenate([p.inputs for p in parts]), (0, 2, 1)).astype(np.float64)

    def accuracy(distances):
        return round(float(np.mean(labels[np.argmin(distances, axis=1)] == test.labels)), 4)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dtw_i = sum(dtw_pairwise_distance(a[:, c:c + 1], b[:, c:c + 1]) for c in range(a.shape[1]))
        found = {"1-NN ED": accuracy(euclidean_pairwise_distance(a, b)),
                 "1-NN DTW_I": accuracy(dtw_i),
                 "1-NN DTW_D": accuracy(dtw_pairwise_distance(a, b))}
    source = ("computed by rnnzoo.catalogue.baselines with aeon's distances on the official "
              f"split (the benchmark classifiers of {PAPER})")
    return [{"name": k, "value": v, "source": source} for k, v in found.items()]


def uea(name: str) -> list[dict]:
    """The archive paper's figures for ``name`` and their recomputation."""
    rows = [{"name": k, "value": v, "source": PAPER} for k, v in UEA_PAPER.get(name, {}).items()]
    return rows + nearest_neighbour(name, "uea")


def _one_step_rmse(prediction: np.ndarray, actual: np.ndarray) -> float:
    return round(float(np.sqrt(np.mean((np.asarray(prediction) - actual) ** 2))), 4)


def _arima_candidates(period: int) -> list[tuple]:
    """Standard ARIMA forms: AR/ARMA/IMA for yearly data, seasonal ones for a seasonal period."""
    if period > 1:
        seasonal = (0, 1, 1, period)
        return [((0, 1, 1), seasonal), ((1, 1, 1), seasonal), ((2, 1, 1), seasonal),
                ((1, 0, 0), (1, 0, 0, period))]
    none = (0, 0, 0, 0)
    return [((p, 0, 0), none) for p in (1, 2, 3, 9)] + [((2, 0, 1), none), ((0, 1, 1), none),
                                                        ((1, 1, 1), none)]


def _arima(values: np.ndarray, n_fit: int, n_train: int, period: int):
    """ARIMA chosen on the validation part, refitted on train+validation, one step ahead."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    def fit(order, seasonal, n):
        trend = "c" if order[1] == 0 and seasonal[1] == 0 else "n"
        return SARIMAX(values[:n], order=order, seasonal_order=seasonal, trend=trend).fit(
            disp=False)

    def one_step(res, start, stop):
        return res.apply(values[:stop]).predict(start=start, end=stop - 1)

    scores = {}
    for order, seasonal in _arima_candidates(period):
        try:
            res = fit(order, seasonal, n_train)
            scores[(order, seasonal)] = _one_step_rmse(one_step(res, n_train, n_fit),
                                                       values[n_train:n_fit])
        except (ValueError, np.linalg.LinAlgError):
            continue
    order, seasonal = min(scores, key=scores.get)
    prediction = one_step(fit(order, seasonal, n_fit), n_fit, len(values))
    label = f"ARIMA{order}" + (f"x{seasonal[:3]}[{seasonal[3]}]" if seasonal[3] else "")
    return label, prediction


def _ets(values: np.ndarray, n_fit: int, n_train: int, period: int):
    """Additive-error ETS chosen on the validation part, refitted, one step ahead."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    def one_step(kwargs, n_fitted, stop):
        res = ETSModel(values[:n_fitted], **kwargs).fit(disp=False)
        smoothed = ETSModel(values[:stop], **kwargs).smooth(res.params)
        return np.asarray(smoothed.fittedvalues)[n_fitted:stop]

    scores, forms = {}, []
    for (trend, damped), season in itertools.product(
            [(None, False), ("add", False), ("add", True)], [None, "add"] if period > 1 else [None]):
        kwargs = dict(error="add", trend=trend, damped_trend=damped, seasonal=season,
                      seasonal_periods=period if season else None)
        try:
            scores[len(forms)] = _one_step_rmse(one_step(kwargs, n_train, n_fit),
                                                values[n_train:n_fit])
            forms.append(kwargs)
        except (ValueError, np.linalg.LinAlgError):
            continue
    kwargs = forms[min(scores, key=scores.get)]
    label = "ETS(A,{}{},{})".format("A" if kwargs["trend"] else "N",
                                    "d" if kwargs["damped_trend"] else "",
                                    "A" if kwargs["seasonal"] else "N")
    return label, one_step(kwargs, n_fit, len(values))


def forecasting(name: str) -> list[dict]:
    """Seasonal naive, ARIMA and ETS one-step RMSE on the test part of statsmodels series ``name``.

    The test values are those the ``regression`` preset forecasts with
    ``horizon=1`` (:func:`rnnzoo.data.series.raw_splits`).
    """
    parts = series.raw_splits(name)
    values = np.concatenate([parts["train"], parts["validation"], parts["test"]]).astype(
        np.float64)
    n_fit = len(values) - len(parts["test"])
    n_train = len(parts["train"])
    actual = values[n_fit:]
    period = int(series.SERIES[name]["seasonal_period"])
    fitted = ("form chosen by one-step RMSE on the validation part, refitted on train+validation, "
              "one-step forecasts of the test part with the parameters fixed")
    rows = [{"name": f"seasonal naive (period {period})" if period > 1 else "naive (last value)",
             "value": _one_step_rmse(values[n_fit - period:len(values) - period], actual),
             "source": "computed: y[t] = y[t - period]"}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fit in (_arima, _ets):
            label, prediction = fit(values, n_fit, n_train, period)
            rows.append({"name": label, "value": _one_step_rmse(prediction, actual),
                         "source": f"computed with statsmodels, {fitted}"})
    return rows


def language_model(vocabulary, train, validation, test, orders=range(2, 9)) -> list[dict]:
    """Unigram and Kneser-Ney n-gram perplexity on the test texts (order chosen on validation)."""
    limit = int(62 // np.log2(1 << int(np.ceil(np.log2(max(len(vocabulary), 2))))))
    orders = [o for o in orders if o <= limit]
    scores = {o: ngram.kneser_ney_perplexity(vocabulary, train, validation, order=o)
              for o in orders}
    best = min(scores, key=scores.get)
    return [
        {"name": "unigram (train frequencies, add-one)",
         "value": round(ngram.unigram_perplexity(vocabulary, train, test), 4),
         "source": "computed on the test plays' tokens"},
        {"name": f"{best}-gram interpolated Kneser-Ney",
         "value": round(ngram.kneser_ney_perplexity(vocabulary, train, test, order=best), 4),
         "source": "computed on the test plays' tokens; order chosen on the validation plays "
                   f"({', '.join(f'{o}: {v:.3f}' for o, v in scores.items())})"},
    ]


def for_preset(name: str, trained) -> list[dict]:
    """The baselines of catalogue preset ``name`` on its test split.

    Args:
        name: a real-data preset.
        trained: its :class:`~rnnzoo.catalogue.training.Trained` result (the
            vocabulary of a language model; the blind caption baseline, which
            :func:`~rnnzoo.catalogue.training.evaluate` measured, is moved
            from its metrics to the baselines).
    """
    entry = PRESETS[name]
    kind, dataset = entry["baselines"], entry["dataset"]
    if kind == "ucr":
        return ucr_published(dataset["name"])
    if kind == "uea":
        return uea(dataset["name"])
    if kind == "forecasting":
        return forecasting(dataset["name"])
    if kind == "language_model":
        plays = [list(shakespeare.plays(s).values()) for s in ("train", "validation", "test")]
        return language_model(trained.model.vocabulary, *plays)
    if kind == "captioning":
        return [{"name": "most frequent training caption (BLEU-4)",
                 "value": trained.metrics.pop("most_frequent_caption_bleu"),
                 "source": "computed on the test images' references"}]
    raise ValueError(f"`baselines` of preset {name!r} must be one of 'ucr', 'uea', "
                     f"'forecasting', 'language_model', 'captioning'. Received: {kind!r}")
