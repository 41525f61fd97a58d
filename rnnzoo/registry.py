"""The task registry: every task declares itself here, next to its builder.

A task file calls :func:`register` as a decorator on its builder function and
declares, in the same place, its pattern, options (with defaults and allowed
values), metrics, datasets, search space and tuning objective. Everything else
(``rnnzoo.build``, ``rnnzoo.describe``, the CLI, the tuner, the cards and the
tests) reads the registry, so adding a task is one new file.

Example:

```python
from rnnzoo import registry
from rnnzoo.registry import Option

@registry.register(
    "my_task",
    pattern="many-to-one",
    description="...",
    inputs="...", outputs="...",
    options=[*registry.recurrent_options(), Option("num_classes", 2, int, low=2)],
    metrics=["accuracy"],
    datasets={"builtin": my_loader},
)
def build_my_task(*, cell, units, depth, bidirectional, dropout, learning_rate, num_classes):
    ...
```
"""

from __future__ import annotations

import dataclasses
import difflib
import numbers
from typing import Any, Callable, Iterable, Mapping, Sequence

__all__ = [
    "Option",
    "TaskSpec",
    "register",
    "get",
    "list_models",
    "build",
    "describe",
    "recurrent_options",
    "recurrent_search_space",
    "suggest",
]

_MISSING = object()


def suggest(value: Any, allowed: Iterable[str]) -> str:
    """Returns a " Did you mean 'x'?" hint for a misspelt name, or ''."""
    if not isinstance(value, str):
        return ""
    matches = difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.6)
    return f" Did you mean '{matches[0]}'?" if matches else ""


@dataclasses.dataclass(frozen=True)
class Option:
    """One validated option of a task.

    Args:
        name: the keyword argument name.
        default: the value used when the option is not given.
        type: the Python type of the value (``int``, ``float``, ``bool``,
            ``str``, ``tuple``), or a tuple of types.
        choices: allowed values; a callable returning them is evaluated at
            validation time (so registries such as the cell registry can grow).
        low, high: numeric bounds; ``low_inclusive``/``high_inclusive`` say
            whether the bound itself is allowed.
        allow_none: whether ``None`` is an accepted value.
        validator: an extra callable ``value -> value`` that normalises the
            value or raises ``ValueError`` with a complete message.
        help: a one-line description shown by ``describe`` and the CLI.
        tunable: whether the option may appear in a search space.
    """

    name: str
    default: Any
    type: Any = None
    choices: Any = None
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    allow_none: bool = False
    validator: Callable[[Any], Any] | None = None
    help: str = ""

    def allowed_choices(self) -> tuple | None:
        if self.choices is None:
            return None
        choices = self.choices() if callable(self.choices) else self.choices
        return tuple(choices)

    def allowed(self) -> str:
        """A human description of the allowed values."""
        choices = self.allowed_choices()
        if choices is not None:
            text = f"one of {list(choices)}"
        else:
            types = self.type if isinstance(self.type, tuple) else (self.type,)
            names = {
                int: "an integer",
                float: "a number",
                bool: "a boolean (True or False)",
                str: "a string",
                tuple: "a tuple",
                list: "a list",
            }
            text = " or ".join(names.get(t, getattr(t, "__name__", str(t))) for t in types if t)
            text = text or "any value"
            if self.low is not None and self.high is not None:
                lo = "[" if self.low_inclusive else "("
                hi = "]" if self.high_inclusive else ")"
                text += f" in {lo}{self.low}, {self.high}{hi}"
            elif self.low is not None:
                text += f" {'>=' if self.low_inclusive else '>'} {self.low}"
            elif self.high is not None:
                text += f" {'<=' if self.high_inclusive else '<'} {self.high}"
        if self.allow_none:
            text += ", or None"
        return text

    def error(self, value: Any, extra: str = "") -> ValueError:
        return ValueError(
            f"`{self.name}` must be {self.allowed()}. Received: {self.name}={value!r}.{extra}"
        )

    def validate(self, value: Any) -> Any:
        """Returns the normalised value, or raises ``ValueError``."""
        if value is None:
            if self.allow_none:
                return None
            raise self.error(value)
        choices = self.allowed_choices()
        if choices is not None:
            if isinstance(value, str) and value not in choices and value.lower() in choices:
                value = value.lower()
            if value not in choices:
                names = [c for c in choices if isinstance(c, str)]
                raise self.error(value, suggest(value, names))
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        if self.type is not None and choices is None:
            value = self._coerce(value, types)
        if self.low is not None or self.high is not None:
            self._check_bounds(value)
        if self.validator is not None:
            value = self.validator(value)
        return value

    def _coerce(self, value: Any, types: tuple) -> Any:
        # bool is an int subclass in Python; never accept it as a number.
        if bool in types:
            if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):
                return bool(value)
            raise self.error(value)
        if isinstance(value, bool):
            raise self.error(value)
        if int in types and isinstance(value, numbers.Integral):
            return int(value)
        if float in types and isinstance(value, numbers.Real):
            return float(value)
        if int in types and float not in types and isinstance(value, numbers.Real):
            if float(value).is_integer():
                return int(value)
            raise self.error(value)
        if tuple in types and isinstance(value, (tuple, list)):
            return tuple(value)
        if list in types and isinstance(value, (tuple, list)):
            return list(value)
        for t in types:
            if t in (int, float, tuple, list):
                continue
            if t is not None and isinstance(value, t):
                return value
        raise self.error(value)

    def _check_bounds(self, value: Any) -> None:
        if not isinstance(value, numbers.Real):
            return
        if self.low is not None:
            if value < self.low or (value == self.low and not self.low_inclusive):
                raise self.error(value)
        if self.high is not None:
            if value > self.high or (value == self.high and not self.high_inclusive):
                raise self.error(value)

    def describe(self) -> dict:
        return {"default": self.default, "allowed": self.allowed(), "help": self.help}


@dataclasses.dataclass
class TaskSpec:
    """Everything the package knows about one task.

    Attributes:
        name: the registered name (``rnnzoo.build(name)``).
        builder: ``builder(**options) -> keras.Model``, compiled.
        pattern: ``"many-to-one"``, ``"many-to-many"``, ``"one-to-many"``, ...
        description: one paragraph on what the task is.
        inputs, outputs: human descriptions of the model's tensors.
        options: the validated options, by name.
        metrics: the metric names the compiled model reports.
        datasets: ``{"builtin": loader, "tfds": loader}``; a loader is
            ``loader(split=..., batch_size=..., **kwargs) -> tf.data.Dataset``.
        tfds_name: the TFDS dataset the ``"tfds"`` loader reads.
        search_space: ``{option: spec}`` for keras-tuner; a spec is
            ``{"type": "choice", "values": [...]}``,
            ``{"type": "int", "min": a, "max": b, "step": s}`` or
            ``{"type": "float", "min": a, "max": b, "sampling": "log"}``.
        objective: ``(metric_name, "min" | "max")`` used for tuning.
        demo: settings ``rnnzoo demo`` uses (``epochs``, ``data`` kwargs,
            ``overrides``) and an optional ``report(model, test_ds) -> dict``.
        allows_bidirectional: whether ``bidirectional=True`` is meaningful.
        tiny: the smallest useful configuration, for fast tests and smoke
            runs: ``{"overrides": {...build options...}, "data": {...loader
            kwargs...}}``. The registry-parametrized tests use it.
        extra: free-form metadata other modules may read.
    """

    name: str
    builder: Callable[..., Any]
    pattern: str
    description: str
    inputs: str
    outputs: str
    options: dict[str, Option]
    metrics: list[str]
    datasets: dict[str, Callable[..., Any]]
    tfds_name: str | None = None
    search_space: dict[str, dict] = dataclasses.field(default_factory=dict)
    objective: tuple[str, str] = ("val_loss", "min")
    demo: dict = dataclasses.field(default_factory=dict)
    allows_bidirectional: bool = True
    tiny: dict = dataclasses.field(default_factory=dict)
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def defaults(self) -> dict[str, Any]:
        return {name: opt.default for name, opt in self.options.items()}

    def resolve(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Validates ``overrides`` and returns the full option dict."""
        unknown = [k for k in overrides if k not in self.options]
        if unknown:
            key = unknown[0]
            raise ValueError(
                f"Unknown option `{key}` for task '{self.name}'. Received: {key}={overrides[key]!r}. "
                f"Allowed options: {sorted(self.options)}.{suggest(key, self.options)}"
            )
        config = {}
        for name, opt in self.options.items():
            value = overrides[name] if name in overrides else opt.default
            config[name] = opt.validate(value)
        if config.get("bidirectional") and not self.allows_bidirectional:
            raise ValueError(
                f"`bidirectional` must be False for task '{self.name}' ({self.pattern}: the "
                f"model generates step by step). Received: bidirectional=True."
            )
        return config

    def describe(self) -> dict:
        return {
            "name": self.name,
            "pattern": self.pattern,
            "description": self.description,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "defaults": self.defaults,
            "options": {name: opt.describe() for name, opt in self.options.items()},
            "metrics": list(self.metrics),
            "datasets": {
                "builtin": "generated offline data shipped with rnnzoo",
                **({"tfds": self.tfds_name} if self.tfds_name else {}),
            },
            "objective": {"name": self.objective[0], "direction": self.objective[1]},
            "search_space": dict(self.search_space),
            "allows_bidirectional": self.allows_bidirectional,
        }


_REGISTRY: dict[str, TaskSpec] = {}


def register(
    name: str,
    *,
    pattern: str,
    description: str,
    inputs: str,
    outputs: str,
    options: Sequence[Option],
    metrics: Sequence[str],
    datasets: Mapping[str, Callable[..., Any]],
    tfds_name: str | None = None,
    search_space: Mapping[str, dict] | None = None,
    objective: tuple[str, str] = ("val_loss", "min"),
    demo: Mapping[str, Any] | None = None,
    allows_bidirectional: bool = True,
    tiny: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers a task builder. Use as a decorator on the builder function.

    Raises:
        ValueError: if ``name`` is already registered, or an option is declared twice.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"`name` must be an identifier string. Received: name={name!r}")
    if name in _REGISTRY:
        raise ValueError(
            f"Task '{name}' is already registered (by {_REGISTRY[name].builder.__module__}). "
            "Each task name can be registered once."
        )
    opts: dict[str, Option] = {}
    for opt in options:
        if opt.name in opts:
            raise ValueError(f"Option `{opt.name}` is declared twice for task '{name}'.")
        opts[opt.name] = opt
    if objective[1] not in ("min", "max"):
        raise ValueError(
            f"`objective` direction must be 'min' or 'max'. Received: objective={objective!r}"
        )

    def decorator(builder: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY:
            raise ValueError(f"Task '{name}' is already registered.")
        _REGISTRY[name] = TaskSpec(
            name=name,
            builder=builder,
            pattern=pattern,
            description=description,
            inputs=inputs,
            outputs=outputs,
            options=opts,
            metrics=list(metrics),
            datasets=dict(datasets),
            tfds_name=tfds_name,
            search_space=dict(search_space or {}),
            objective=tuple(objective),
            demo=dict(demo or {}),
            allows_bidirectional=allows_bidirectional,
            tiny=dict(tiny or {}),
            extra=dict(extra or {}),
        )
        return builder

    return decorator


def unregister(name: str) -> None:
    """Removes a task (for tests and plugins that re-register)."""
    _REGISTRY.pop(name, None)


def get(name: str) -> TaskSpec:
    """Returns the :class:`TaskSpec` of a registered task.

    Raises:
        ValueError: naming the registered tasks and the closest match.
    """
    _ensure_tasks_loaded()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(
            f"Unknown task: {name!r}. Registered tasks: {sorted(_REGISTRY)}."
            f"{suggest(name, _REGISTRY)}"
        )
    return _REGISTRY[name]


def list_models() -> list[str]:
    """Returns the names of every registered task, sorted."""
    _ensure_tasks_loaded()
    return sorted(_REGISTRY)


def describe(name: str) -> dict:
    """Returns the specification of a task as a plain dict.

    Example:

    >>> rnnzoo.describe("classification")["pattern"]
    'many-to-one'
    """
    return get(name).describe()


def build(name: str, *, weights: Any = None, strategy: Any = None, freeze_encoder: bool = False,
          **overrides: Any):
    """Builds the compiled Keras model of a registered task.

    Args:
        name: a registered task name (see :func:`list_models`).
        weights: ``None`` for random initialisation, ``"pretrained"`` for the
            published weights (options not given then default to the published
            model's), or a path to a ``.keras`` / ``.weights.h5`` file; see
            :mod:`rnnzoo.weights`.
        freeze_encoder: with ``weights``, freeze every loaded layer except the
            output head (transfer learning).
        strategy: an optional ``tf.distribute.Strategy``; the model is built and
            compiled inside ``strategy.scope()``.
        **overrides: task options (see ``describe(name)["options"]``); every one
            is validated before anything is built.

    Returns:
        A compiled ``keras.Model`` ready for ``model.fit``.

    Raises:
        ValueError: for an unknown task or an invalid option, naming the option,
            the value received and what is allowed.

    Example:

    >>> model = rnnzoo.build("classification", cell="gru", units=32, depth=2)
    """
    spec = get(name)
    if isinstance(weights, str) and weights == "pretrained":
        from rnnzoo import weights as weights_module

        overrides = {**weights_module.published_options(name), **overrides}
    config = spec.resolve(overrides)
    if strategy is not None:
        with strategy.scope():
            model = spec.builder(**config)
            model = _apply_weights(spec, model, config, weights, freeze_encoder)
    else:
        model = spec.builder(**config)
        model = _apply_weights(spec, model, config, weights, freeze_encoder)
    return model


def _apply_weights(spec: TaskSpec, model: Any, config: dict, weights: Any,
                   freeze_encoder: bool = False):
    if weights is None:
        if freeze_encoder:
            raise ValueError(
                "`freeze_encoder=True` needs weights to freeze. Received: weights=None."
            )
        return model
    try:
        from rnnzoo import weights as weights_module
    except ImportError:  # pragma: no cover - only before the weights module exists
        weights_module = None
    loader = getattr(weights_module, "load_into", None)
    if loader is None:
        raise ValueError(
            f"`weights` must be None in this version of rnnzoo. Received: weights={weights!r}."
        )
    return loader(model, spec, config, weights, freeze_encoder=freeze_encoder)


_loaded = False


def _ensure_tasks_loaded() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        import rnnzoo.tasks  # noqa: F401  (registers every task)


def recurrent_options(
    *,
    cell: str = "lstm",
    units: int = 64,
    depth: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    learning_rate: float = 1e-3,
) -> list[Option]:
    """The recurrent options every task accepts, with task-specific defaults."""
    from rnnzoo.layers import recurrent

    return [
        Option(
            "cell",
            cell,
            str,
            choices=recurrent.available_cells,
            help="recurrent cell type; 'feedforward' is the no-recurrence baseline",
        ),
        Option("units", units, int, low=1, help="hidden units per recurrent layer"),
        Option("depth", depth, int, low=1, high=16, help="number of stacked recurrent layers"),
        Option("bidirectional", bidirectional, bool, help="wrap each layer in Bidirectional"),
        Option(
            "dropout",
            dropout,
            float,
            low=0.0,
            high=1.0,
            high_inclusive=False,
            help="dropout rate on the inputs of every recurrent layer",
        ),
        Option(
            "learning_rate",
            learning_rate,
            float,
            low=0.0,
            low_inclusive=False,
            help="Adam learning rate of the compiled model",
        ),
    ]


def recurrent_search_space(
    *,
    units: tuple[int, int, int] = (16, 128, 16),
    depth: tuple[int, int] = (1, 3),
    bidirectional: bool = True,
    **extra: dict,
) -> dict[str, dict]:
    """The keras-tuner search space every task shares, with task-specific ranges.

    Args:
        units: ``(min, max, step)`` of the hidden width.
        depth: ``(min, max)`` stacked layers.
        bidirectional: whether ``bidirectional`` is searched (tasks that generate
            left to right pass ``False``).
        **extra: further task options and their specs (for example ``attention``).

    Returns:
        ``{option: spec}`` for :func:`register`'s ``search_space``; the cells not
        available at tuning time are dropped by :mod:`rnnzoo.tuning`.
    """
    space = {
        "cell": {"type": "choice", "values": ["simple", "lstm", "gru", "abc", "clockwork"]},
        "units": {"type": "int", "min": units[0], "max": units[1], "step": units[2]},
        "depth": {"type": "int", "min": depth[0], "max": depth[1]},
    }
    if bidirectional:
        space["bidirectional"] = {"type": "choice", "values": [False, True]}
    space.update(extra)
    space["dropout"] = {"type": "float", "min": 0.0, "max": 0.4, "step": 0.1}
    space["learning_rate"] = {"type": "float", "min": 1e-4, "max": 1e-2, "sampling": "log"}
    return space
