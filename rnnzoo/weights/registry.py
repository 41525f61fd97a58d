"""The registry of published weights: ``rnnzoo/weights_registry.json``, one record per model.

This module reads the registry file (package data, next to the package) and
answers "what was published under this name": the file name, its sha256 and
size, the URLs, the licence, the dataset, the measured metrics and the options
the model was built with. It also holds the package's paths and the error type
every weights module raises. It reads files only; it never writes or downloads.

A record is keyed by its name: a task name for the task's tutorial model
(trained on the built-in data; ``"<task>_tutorial"`` is an alias of it, and
``weights="pretrained"`` loads it), or a preset name of the catalogue
(:mod:`rnnzoo.catalogue`, trained on real data) whose ``task`` field names
its task.

Example:

```python
record = get_record("classification")
record["file_name"], record["sha256"]
published_options("classification")       # {"cell": "lstm", "units": 64, ...}
```
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

from rnnzoo import registry as task_registry
from rnnzoo._validation import suggest

__all__ = [
    "WeightsError",
    "REGISTRY_PATH",
    "BUNDLED_DIR",
    "DEFAULT_BASE_URL",
    "records",
    "record_name",
    "get_record",
    "published_options",
]

#: ``"<task>" + TUTORIAL_SUFFIX`` names the tutorial record of a task.
TUTORIAL_SUFFIX = "_tutorial"

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parents[1]
#: The registry of published weights: one record per task.
REGISTRY_PATH = _PACKAGE_DIR / "weights_registry.json"
#: The committed weight files (the release assets), shipped in the package.
BUNDLED_DIR = _PACKAGE_DIR / "assets" / "weights"
#: Where the release assets are published (the registered URLs start with it).
DEFAULT_BASE_URL = "https://github.com/rnnzoo/rnnzoo/releases/download/v0.1.0"


class WeightsError(RuntimeError):
    """A weight file could not be found, downloaded or verified.

    The message says what was expected (file, sha256, URL) and what to do.
    """


def records() -> dict[str, dict]:
    """Returns the published records, ``{task: record}``.

    A record holds ``file_name``, ``sha256``, ``size``, ``urls``, ``license``,
    ``dataset``, ``metrics``, ``input_spec``, ``params``, ``options`` and
    ``recipe`` (see ``rnnzoo/weights_registry.json``).

    Returns:
        A new dict (changing it does not change the registry); empty when the
        registry file is absent.

    Example:

    >>> sorted(rnnzoo.weights.records())
    ['captioning', 'classification', ...]
    """
    if not REGISTRY_PATH.exists():
        return {}
    with open(REGISTRY_PATH, encoding="utf-8") as f:
        data = json.load(f)
    return dict(data.get("models", {}))


def record_name(name: str, published: dict | None = None) -> str | None:
    """The registry key ``name`` refers to (``"<task>_tutorial"`` -> ``"<task>"``), or None."""
    published = records() if published is None else published
    if not isinstance(name, str):
        return None
    if name in published:
        return name
    base = name[: -len(TUTORIAL_SUFFIX)] if name.endswith(TUTORIAL_SUFFIX) else None
    if base in published and published[base].get("task", base) == base:
        return base
    return None


def get_record(task: str) -> dict:
    """Returns the published record of a task (its tutorial model) or of a preset.

    Args:
        task: a task name, ``"<task>_tutorial"``, or a preset name of the catalogue.

    Returns:
        The record (see :func:`records`).

    Raises:
        ValueError: if nothing is published under that name, naming what is.

    Example:

    >>> get_record("classification")["file_name"]
    'classification-....keras'
    """
    published = records()
    key = record_name(task, published)
    if key is not None:
        return published[key]
    if task not in published:
        raise ValueError(
            f"No pretrained weights are published for task {task!r}. Tasks with weights: "
            f"{sorted(published)}.{suggest(task, published)} Use weights=None for a randomly "
            "initialised model, or a path to a .keras / .weights.h5 file."
        )
    return published[task]


def published_options(task: str) -> dict[str, Any]:
    """The options the published model of ``task`` (or of a preset) was built with.

    Only options the task still declares are returned, so a record written by an
    older version never breaks ``build``.

    Args:
        task: a registered task with published weights, or a published preset name.

    Returns:
        ``{option: value}``, ready to pass to ``rnnzoo.build``.

    Example:

    >>> rnnzoo.build("classification", **published_options("classification"))
    """
    record = get_record(task)
    known = task_registry.get(record.get("task", task)).options
    return {k: v for k, v in record.get("options", {}).items() if k in known}
