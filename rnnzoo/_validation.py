"""Argument checks shared by the whole package, with Keras' "Received:" messages.

Every public entry point validates its arguments first and fails with a
``ValueError`` (or ``TypeError`` for a value of the wrong kind altogether) that
names the argument, the value received and what is allowed, the way Keras does:

```python
check_int("units", 0, low=1)
# ValueError: `units` must be an integer >= 1. Received: units=0
```

The registry's :class:`rnnzoo.registry.Option`, the layers, the data loaders,
decoding, export, weights and callbacks all use these functions, so a message
reads the same wherever it comes from. This module imports nothing from rnnzoo.
"""

from __future__ import annotations

import difflib
import math
import numbers
from typing import Any, Iterable

__all__ = [
    "suggest",
    "received",
    "is_int",
    "is_real",
    "check_choice",
    "check_int",
    "check_positive_int",
    "check_float",
    "check_rate",
    "check_bool",
    "check_seed",
]


def suggest(value: Any, allowed: Iterable[Any]) -> str:
    """A `` Did you mean 'x'?`` hint for a misspelt name, or ``''``."""
    if not isinstance(value, str):
        return ""
    names = [a for a in allowed if isinstance(a, str)]
    matches = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    return f" Did you mean '{matches[0]}'?" if matches else ""


def received(name: str, value: Any) -> str:
    """``"Received: name=value"``: the tail of every message."""
    return f"Received: {name}={value!r}"


def is_int(value: Any) -> bool:
    """True for Python and numpy integers, never for booleans."""
    return isinstance(value, numbers.Integral) and not _is_bool(value)


def is_real(value: Any) -> bool:
    """True for Python and numpy real numbers, never for booleans."""
    return isinstance(value, numbers.Real) and not _is_bool(value)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or type(value).__name__ in ("bool_", "bool")


def _bounds_text(low, high, low_inclusive=True, high_inclusive=True) -> str:
    if low is not None and high is not None:
        lo = "[" if low_inclusive else "("
        hi = "]" if high_inclusive else ")"
        return f" in {lo}{low}, {high}{hi}"
    if low is not None:
        return f" {'>=' if low_inclusive else '>'} {low}"
    if high is not None:
        return f" {'<=' if high_inclusive else '<'} {high}"
    return ""


def _in_bounds(value, low, high, low_inclusive=True, high_inclusive=True) -> bool:
    if low is not None and (value < low or (value == low and not low_inclusive)):
        return False
    if high is not None and (value > high or (value == high and not high_inclusive)):
        return False
    return True


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Returns ``value`` if it is one of ``allowed``; else a ``ValueError`` with a hint."""
    allowed = tuple(allowed)
    try:
        ok = value in allowed
    except TypeError:  # an unhashable or incomparable value
        ok = False
    if not ok:
        raise ValueError(
            f"`{name}` must be one of {list(allowed)}. {received(name, value)}."
            f"{suggest(value, allowed)}"
        )
    return value


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None,
              allow_none: bool = False) -> int | None:
    """Returns ``int(value)`` for an integer within ``[low, high]`` (booleans refused)."""
    if value is None and allow_none:
        return None
    if not is_int(value) or not _in_bounds(value, low, high):
        what = "an integer" + _bounds_text(low, high) + (" or None" if allow_none else "")
        raise ValueError(f"`{name}` must be {what}. {received(name, value)}")
    return int(value)


def check_positive_int(name: str, value: Any, *, allow_none: bool = False) -> int | None:
    """``check_int(name, value, low=1)``, with Keras' "a positive integer" wording."""
    if value is None and allow_none:
        return None
    if not is_int(value) or value < 1:
        what = "a positive integer" + (" or None" if allow_none else "")
        raise ValueError(f"`{name}` must be {what}. {received(name, value)}")
    return int(value)


def check_float(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                low_inclusive: bool = True, high_inclusive: bool = True,
                allow_none: bool = False) -> float | None:
    """Returns ``float(value)`` for a finite number within the bounds (NaN, inf refused)."""
    if value is None and allow_none:
        return None
    ok = is_real(value) and math.isfinite(float(value)) and _in_bounds(
        float(value), low, high, low_inclusive, high_inclusive)
    if not ok:
        what = "a finite number" + _bounds_text(low, high, low_inclusive, high_inclusive)
        what += " or None" if allow_none else ""
        raise ValueError(f"`{name}` must be {what}. {received(name, value)}")
    return float(value)


def check_rate(name: str, value: Any) -> float:
    """A dropout-like rate: a finite number in ``[0, 1)``."""
    if not is_real(value) or not 0.0 <= float(value) < 1.0:  # NaN fails the comparison
        raise ValueError(f"`{name}` must be a float in [0, 1). {received(name, value)}")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """Returns ``bool(value)`` for Python or numpy booleans only."""
    if not _is_bool(value):
        raise ValueError(f"`{name}` must be a boolean (True or False). {received(name, value)}")
    return bool(value)


def check_seed(name: str, value: Any) -> int | None:
    """A random seed: ``None`` or an integer in ``[0, 2**32 - 1]``."""
    if value is None:
        return None
    if not is_int(value) or not 0 <= value < 2**32:
        raise ValueError(
            f"`{name}` must be None or an integer in [0, 4294967295]. {received(name, value)}"
        )
    return int(value)
