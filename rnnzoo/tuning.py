"""keras-tuner HyperModels for every registered task.

Each task declares its search space and tuning objective next to its builder
(``search_space`` and ``objective`` in its :func:`rnnzoo.registry.register`
entry). :func:`hypermodel` turns that declaration into a
``keras_tuner.HyperModel`` whose ``build(hp)`` calls :func:`rnnzoo.build`, so
every tuner of keras-tuner works on every task without task-specific code:

```python
import keras_tuner
import rnnzoo

hm = rnnzoo.tuning.hypermodel("classification", num_classes=4)   # fixed: not searched
tuner = keras_tuner.Hyperband(hm, objective=hm.objective, max_epochs=9,
                              directory="runs/tune", project_name="cls")
tuner.search(train_ds, validation_data=val_ds)
best = tuner.get_best_models(1)[0]
```

Searched cell values are restricted, when a model is built, to the cells
registered at that time (:func:`rnnzoo.layers.available_cells`), so a search
space may name cells that a given installation does not provide.

Distributed tuning is keras-tuner's own chief/worker mode: start the same
search on every machine with ``KERASTUNER_TUNER_ID`` (``chief`` on the oracle
machine, ``tuner0``, ``tuner1``, ... on the workers), ``KERASTUNER_ORACLE_IP``
and ``KERASTUNER_ORACLE_PORT`` set; the chief serves trials over gRPC and the
workers train them (see README, "Scaling out").

keras-tuner is imported only when a function of this module is called.
"""

from __future__ import annotations

import os
from typing import Any

from rnnzoo import _compat, layers, registry
from rnnzoo._validation import suggest
from rnnzoo.factory import build

__all__ = ["hypermodel", "objective", "make_tuner", "TUNERS", "is_distributed_worker"]

#: The tuner names :func:`make_tuner` and ``rnnzoo tune --tuner`` accept.
TUNERS = ("random", "bayesian", "hyperband")

_SPEC_TYPES = ("choice", "int", "float", "boolean")


def objective(name: str):
    """The task's tuning objective as a ``keras_tuner.Objective``.

    Args:
        name: a registered task name.

    Returns:
        ``keras_tuner.Objective(metric, direction)`` read from the registry,
        for example ``Objective("val_accuracy", "max")`` for classification.

    Example:

    >>> rnnzoo.tuning.objective("classification").name
    'val_accuracy'
    """
    import keras_tuner

    metric, direction = registry.get(name).objective
    return keras_tuner.Objective(metric, direction=direction)


def _check_entry(task: str, option: str, entry: Any) -> None:
    if not isinstance(entry, dict) or entry.get("type") not in _SPEC_TYPES:
        raise ValueError(
            f"`search_space['{option}']` of task '{task}' must be a dict with 'type' in "
            f"{list(_SPEC_TYPES)}. Received: {entry!r}"
        )
    if entry["type"] == "choice" and not entry.get("values"):
        raise ValueError(
            f"`search_space['{option}']` of task '{task}' is a choice without 'values'. "
            f"Received: {entry!r}"
        )
    if entry["type"] in ("int", "float") and ("min" not in entry or "max" not in entry):
        raise ValueError(
            f"`search_space['{option}']` of task '{task}' needs 'min' and 'max'. "
            f"Received: {entry!r}"
        )


def _searched(spec, fixed: dict) -> dict[str, dict]:
    """The search-space entries that are actually searched, in declaration order."""
    searched = {}
    for option, entry in spec.search_space.items():
        _check_entry(spec.name, option, entry)
        if option not in spec.options:
            raise ValueError(
                f"`search_space` of task '{spec.name}' names `{option}`, which is not one of "
                f"its options {sorted(spec.options)}."
            )
        if option in fixed:
            continue
        if option == "bidirectional" and not spec.allows_bidirectional:
            continue
        searched[option] = entry
    return searched


def _choice_values(spec, option: str, values: list) -> list:
    if option != "cell":
        return list(values)
    cells = layers.available_cells()  # read at call time: cells registered later count
    kept = [v for v in values if v in cells]
    if not kept:
        raise ValueError(
            f"`search_space['cell']` of task '{spec.name}' lists no available cell: "
            f"values={list(values)}, available cells: {list(cells)}."
        )
    return kept


def _define(hp, spec, option: str, entry: dict):
    """Declares one hyperparameter on ``hp`` and returns its current value."""
    kind = entry["type"]
    if kind == "boolean":
        return hp.Boolean(option, default=entry.get("default", spec.options[option].default))
    if kind == "choice":
        values = _choice_values(spec, option, entry["values"])
        if set(values) <= {True, False} and all(isinstance(v, bool) for v in values):
            if len(values) == 2:
                return hp.Boolean(option, default=bool(spec.options[option].default))
            return hp.Fixed(option, values[0])
        if len(values) == 1:
            return hp.Fixed(option, values[0])
        default = spec.options[option].default
        return hp.Choice(option, values, default=default if default in values else None)
    number, declare = (int, hp.Int) if kind == "int" else (float, hp.Float)
    return declare(
        option,
        number(entry["min"]),
        number(entry["max"]),
        step=entry.get("step"),
        sampling=entry.get("sampling", "linear"),
    )


_HYPERMODEL_CLASS = None
_TUNER_CLASSES: dict = {}


def _tuner_class(kind: str):
    """keras-tuner's tuner class for ``kind``, recording the trials this process ran.

    ``trials_run`` lists the trial ids this tuner trained (in distributed
    tuning, a worker's share of the search).
    """
    if kind in _TUNER_CLASSES:
        return _TUNER_CLASSES[kind]
    import keras_tuner

    base = {"random": keras_tuner.RandomSearch, "bayesian": keras_tuner.BayesianOptimization,
            "hyperband": keras_tuner.Hyperband}[kind]

    class Tuner(_compat.tensorboard_only_when_used(base)):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.trials_run: list[str] = []

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            self.trials_run.append(trial.trial_id)

    Tuner.__name__ = Tuner.__qualname__ = base.__name__
    _TUNER_CLASSES[kind] = Tuner
    return Tuner


def _hypermodel_class():
    """Defines the HyperModel class on first use (keras-tuner is a lazy import)."""
    global _HYPERMODEL_CLASS
    if _HYPERMODEL_CLASS is not None:
        return _HYPERMODEL_CLASS
    import keras_tuner

    class TaskHyperModel(keras_tuner.HyperModel):
        """A ``keras_tuner.HyperModel`` over one registered task.

        Args:
            task: a registered task name.
            fixed: task options that are set, not searched.

        Attributes:
            task: the task name.
            fixed: the fixed options.
            objective: the task's ``keras_tuner.Objective``.
            search_space: the registry entries that ``build`` searches.
        """

        def __init__(self, task: str, fixed: dict[str, Any]):
            spec = registry.get(task)
            spec.resolve(fixed)  # a bad fixed option fails here, not in the first trial
            super().__init__(name=f"rnnzoo_{task}")
            self.task = task
            self.fixed = dict(fixed)
            self.objective = keras_tuner.Objective(spec.objective[0], spec.objective[1])
            self.search_space = _searched(spec, self.fixed)

        def build(self, hp):
            """Builds the compiled task model for the values ``hp`` holds.

            Args:
                hp: a ``keras_tuner.HyperParameters``; the searched options are
                    declared on it (a value already set there wins).

            Returns:
                The compiled ``keras.Model`` from :func:`rnnzoo.build`.
            """
            spec = registry.get(self.task)
            values = {
                option: _define(hp, spec, option, entry)
                for option, entry in self.search_space.items()
            }
            return build(self.task, **values, **self.fixed)

        def fit(self, hp, model, *args, **kwargs):
            """Trains ``model`` with ``model.fit`` (Hyperband's ``epochs`` and
            ``initial_epoch`` arrive in ``kwargs``) and returns its History."""
            return model.fit(*args, **kwargs)

    _HYPERMODEL_CLASS = TaskHyperModel
    return TaskHyperModel


def hypermodel(name: str, **fixed: Any):
    """Returns a ``keras_tuner.HyperModel`` that searches a task's registered space.

    ``build(hp)`` declares on ``hp`` every option of the task's ``search_space``
    that is not in ``fixed`` (at least ``cell``, ``units``, ``depth``,
    ``bidirectional`` where the task allows it, ``dropout`` and
    ``learning_rate``) and calls :func:`rnnzoo.build` with those values and
    ``fixed``. ``cell`` values are limited to the cells available when the
    model is built. The objective comes from the registry and is on the
    returned object as ``.objective``.

    Args:
        name: a registered task name.
        **fixed: task options that are set to these values and not searched.

    Returns:
        A ``keras_tuner.HyperModel`` with ``.task``, ``.fixed``, ``.objective``
        and ``.search_space``.

    Raises:
        ValueError: for an unknown task or a fixed option the task rejects.

    Example:

    >>> hm = rnnzoo.tuning.hypermodel("classification", cell="gru")
    >>> tuner = keras_tuner.RandomSearch(hm, objective=hm.objective, max_trials=5)
    """
    return _hypermodel_class()(name, fixed)


def is_distributed_worker() -> bool:
    """Whether this process is a keras-tuner worker (``KERASTUNER_*`` set, not chief)."""
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "")
    return "KERASTUNER_ORACLE_IP" in os.environ and "chief" not in tuner_id


def make_tuner(
    name: str,
    tuner: str = "random",
    *,
    max_trials: int = 10,
    max_epochs: int = 3,
    factor: int = 3,
    directory: str | os.PathLike = "runs/tune",
    project_name: str | None = None,
    overwrite: bool = False,
    seed: int | None = 0,
    distribution_strategy: Any = None,
    **fixed: Any,
):
    """Returns a keras-tuner tuner over a task's registered search space.

    Args:
        name: a registered task name.
        tuner: ``"random"`` (``RandomSearch``), ``"bayesian"``
            (``BayesianOptimization``) or ``"hyperband"`` (``Hyperband``).
        max_trials: the most trials to run (for Hyperband, a cap on its
            brackets' trials).
        max_epochs: Hyperband's ``max_epochs`` (ignored by the others, which
            train for the ``epochs`` given to ``search``).
        factor: Hyperband's reduction factor.
        directory: where trials and checkpoints are written; in distributed
            tuning every chief and worker must see the same folder.
        project_name: subfolder of ``directory`` (default: the task name).
        overwrite: start afresh instead of resuming a search found there.
        seed: the oracle's random seed.
        distribution_strategy: an optional ``tf.distribute.Strategy`` every
            trial's model is built and trained under.
        **fixed: task options that are not searched.

    Returns:
        A ``keras_tuner`` tuner of the chosen class; its ``.hypermodel`` is
        :func:`hypermodel`'s and ``.trials_run`` lists the trials this process ran.

    Raises:
        ValueError: for an unknown tuner name, bad counts or task options.

    Example:

    >>> tuner = rnnzoo.tuning.make_tuner("classification", "hyperband", max_epochs=4)
    >>> tuner.search(train_ds, validation_data=val_ds)
    """
    if tuner not in TUNERS:
        raise ValueError(
            f"`tuner` must be one of {list(TUNERS)}. Received: tuner={tuner!r}."
            f"{suggest(tuner, TUNERS)}"
        )
    for arg, value, low in (("max_trials", max_trials, 1), ("max_epochs", max_epochs, 1),
                            ("factor", factor, 2)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"`{arg}` must be an integer >= {low}. Received: {arg}={value!r}")
    if tuner == "bayesian":
        try:
            import scipy  # noqa: F401
            import sklearn  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                "tuner='bayesian' (keras_tuner.BayesianOptimization) needs scikit-learn and "
                "scipy: pip install 'rnnzoo[bayesian]'"
            ) from exc
    hm = hypermodel(name, **fixed)
    common = dict(
        objective=hm.objective,
        seed=seed,
        directory=os.fspath(directory),
        project_name=project_name or name,
        overwrite=overwrite,
        distribution_strategy=distribution_strategy,
    )
    cls = _tuner_class(tuner)
    if tuner == "random":
        return cls(hm, max_trials=max_trials, **common)
    if tuner == "bayesian":
        return cls(hm, max_trials=max_trials, num_initial_points=min(2, max_trials), **common)
    result = cls(hm, max_epochs=max_epochs, factor=factor, **common)
    # Hyperband sizes its brackets from max_epochs and factor; max_trials caps them.
    result.oracle.max_trials = max_trials
    return result
