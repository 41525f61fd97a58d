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

#: The real-data presets, keyed by name.
PRESETS: dict[str, dict] = {}
