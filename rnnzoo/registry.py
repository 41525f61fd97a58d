"""The task registry: a leaf that declares tasks; it imports no task, layer or weights module.

(The built-in tasks are loaded by name, :data:`BUILTIN_TASKS`, on the first lookup.)

A task file calls :func:`register` as a decorator on its builder function and
declares, in the same place, its pattern, options (with defaults and allowed
values), metrics, datasets, search space and tuning objective. Everything else
(:func:`rnnzoo.factory.build`, ``rnnzoo.describe``, the CLI, the tuner, the
cards and the tests) reads the registry, so adding a task is one new file.
Building a model is the factory's job (timm's ``_registry.py`` /
``_factory.py`` split): this module only declares and looks up.

Example:

```python
from rnnzoo import registry
from rnnzoo.registry import Option
from rnnzoo.tasks.common import recurrent_options

@registry.register(
    "my_task",
    pattern="many-to-one",
    description="...",
    inputs="...", outputs="...",
    options=[*recurrent_options(), Option("num_classes", 2, int, low=2)],
    metrics=["accuracy"],
    datasets={"builtin": my_loader},
)
def build_my_task(*, cell, units, depth, bidirectional, dropout, learning_rate, num_classes):
    ...
```
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import numbers
from typing import Any, Callable, Mapping, Sequence

from rnnzoo._validation import suggest

__all__ = [
    "Option",
    "TaskSpec",
    "register",
    "unregister",
    "get",
    "list_models",
    "describe",
    "suggest",
]

_MISSING = object()


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
            if not math.isfinite(float(value)):  # NaN and infinities would poison the model
                raise self.error(value)
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
#: The package whose import registers the built-in tasks. It is imported by the first
#: lookup (:func:`get`, :func:`list_models`, :func:`describe`), so every entry point sees
#: every built-in task (``import rnnzoo.data; rnnzoo.data.load("classification")``) while
#: ``import rnnzoo`` stays free of Keras.
BUILTIN_TASKS = "rnnzoo.tasks"
_builtins = {"loaded": False}


def _load_builtin_tasks() -> None:
    if _builtins["loaded"]:
        return
    _builtins["loaded"] = True  # before the import: a task module may look a task up
    try:
        importlib.import_module(BUILTIN_TASKS)
    except BaseException:
        _builtins["loaded"] = False
        raise


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
    _load_builtin_tasks()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(
            f"Unknown task: {name!r}. Registered tasks: {sorted(_REGISTRY)}."
            f"{suggest(name, _REGISTRY)}"
        )
    return _REGISTRY[name]


def list_models() -> list[str]:
    """Returns the names of every registered task, sorted."""
    _load_builtin_tasks()
    return sorted(_REGISTRY)


def describe(name: str) -> dict:
    """Returns the specification of a task as a plain dict.

    Example:

    >>> rnnzoo.describe("classification")["pattern"]
    'many-to-one'
    """
    return get(name).describe()
