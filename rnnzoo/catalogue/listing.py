"""``rnnzoo.presets()``: the catalogue joined with what was measured, and preset resolution.

:func:`presets` lists every preset: the real-data ones of
:data:`~rnnzoo.catalogue.table.PRESETS` and the ``"<task>_tutorial"`` ones,
each with the figures its weights record holds (the metric on the official
test split, the baselines beside it, the file size). :func:`resolve` turns
what ``rnnzoo.build(preset=...)`` receives into a
:class:`~rnnzoo.catalogue.folder.Preset`: a catalogue name, a preset folder,
or an ``hf://owner/repo`` address.
"""

from __future__ import annotations

import os
from typing import Any

from rnnzoo import registry
from rnnzoo._validation import suggest
from rnnzoo.catalogue import hub
from rnnzoo.catalogue.folder import Preset, read_folder
from rnnzoo.catalogue.table import PRESETS, TUTORIAL
from rnnzoo.weights.registry import published_options, records

__all__ = ["presets", "get_preset", "preset_names", "resolve"]


def _tutorial_row(task: str, record: dict) -> dict:
    primary = record.get("primary_metric", "loss")
    baseline = record.get("metrics", {}).get("baseline")
    return {
        "name": task + TUTORIAL["suffix"],
        "task": task,
        "description": TUTORIAL["description"],
        "architecture": ", ".join(f"{k}={record.get('options', {}).get(k)!r}"
                                  for k in ("cell", "units", "depth", "bidirectional")),
        "dataset": f"builtin:{task} (generated)",
        "split": TUTORIAL["split"],
        "metric": {"name": primary, "value": record.get("metrics", {}).get("test", {}).get(primary)},
        "baselines": [{"name": baseline["name"], "value": baseline["value"],
                       "source": "computed by the task's demo report"}] if baseline else [],
        "size": record.get("size"),
        "params": record.get("params"),
        "license": record.get("license"),
        "weights": record.get("file_name"),
        "published": True,
    }


def _catalogue_row(name: str, entry: dict, record: dict | None) -> dict:
    metric = entry["metric"]
    measured = (record or {}).get("metrics", {})
    dataset = entry["dataset"]
    return {
        "name": name,
        "task": entry["task"],
        "description": entry.get("description", ""),
        "architecture": entry.get("architecture", ""),
        "dataset": f"{dataset['source']}:{dataset['name']}",
        "split": entry.get("split", "test"),
        "metric": {"name": metric, "value": measured.get("test", {}).get(metric)},
        "baselines": list(measured.get("baselines", [])),
        "size": (record or {}).get("size"),
        "params": (record or {}).get("params"),
        "license": entry.get("license") or (record or {}).get("license"),
        "weights": (record or {}).get("file_name"),
        "published": record is not None,
    }


def presets(task: str | None = None) -> list[dict]:
    """Lists the presets (name, task, dataset, metric on the official test split, size, ...).

    Args:
        task: only the presets of this task (default: every task).

    Returns:
        One dict per preset, sorted by task then name, with ``name``, ``task``,
        ``description``, ``architecture``, ``dataset``, ``split``, ``metric``
        (``{"name", "value"}``, ``None`` before the preset is trained),
        ``baselines`` (``[{"name", "value", "source"}]``), ``size`` (bytes),
        ``params``, ``license``, ``weights`` (file name) and ``published``.

    Raises:
        ValueError: for an unknown task.

    Example:

    >>> [p["name"] for p in rnnzoo.presets("classification")]
    ['classification_tutorial', ...]
    """
    if task is not None:
        registry.get(task)
    published = records()
    rows = [_catalogue_row(name, entry, published.get(name)) for name, entry in PRESETS.items()]
    rows += [_tutorial_row(key, rec) for key, rec in published.items()
             if rec.get("task", key) == key and key in registry.list_models()]
    rows = [r for r in rows if task is None or r["task"] == task]
    return sorted(rows, key=lambda r: (r["task"], not r["name"].endswith(TUTORIAL["suffix"]),
                                       r["name"]))


def preset_names() -> list[str]:
    """Every catalogue name :func:`resolve` accepts."""
    return [row["name"] for row in presets()]


def get_preset(name: str) -> dict:
    """The :func:`presets` row of ``name``; a ``ValueError`` with a suggestion otherwise."""
    rows = {row["name"]: row for row in presets()}
    if name not in rows:
        raise ValueError(
            f"Unknown preset: {name!r}. Presets: {sorted(rows)} (rnnzoo.presets()), or a preset "
            f"folder, or hf://owner/repo.{suggest(name, rows)}"
        )
    return rows[name]


def resolve(preset: Any) -> Preset:
    """What ``rnnzoo.build(preset=...)`` builds: a name, a folder or an ``hf://`` address.

    Raises:
        ValueError: an unknown name (with a suggestion), a malformed address,
            an unpublished preset, or a folder that is not a valid preset.
    """
    if isinstance(preset, os.PathLike):
        return read_folder(preset)
    if not isinstance(preset, str) or not preset:
        raise ValueError(
            "`preset` must be a preset name (rnnzoo.presets()), a preset folder or "
            f"hf://owner/repo. Received: preset={preset!r}"
        )
    if hub.is_hub_address(preset):
        return hub.fetch_preset(preset)
    if os.path.isdir(preset):
        return read_folder(preset)
    row = get_preset(preset)
    if not row["published"]:
        raise ValueError(
            f"The preset {preset!r} has no published weights yet: run "
            f"`python tools/train_zoo.py {preset}`. Received: preset={preset!r}"
        )
    return Preset(name=preset, task=row["task"], options=published_options(preset),
                  weights=preset, source="catalogue", metadata=row)
