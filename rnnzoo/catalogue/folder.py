"""Preset folders: :func:`save_preset` writes one, :func:`read_folder` checks and reads one.

The layout follows KerasHub's preset folders, every file listed with its
sha256 and size in ``metadata.json``:

```
my_preset/
  metadata.json        format, task, files {name: {sha256, size}}, versions, metrics, ...
  config.json          {"task": ..., "options": {...}}: plain option values, nothing else
  vocabulary.json      vocabularies of the options (when the model has any)
  model.weights.h5     the weights (tensors only)
  README.md            a model card stub to complete
```

Loading a preset never runs code from it: ``config.json`` holds option
values that the registered task validates and builds from (no class names,
no functions), the weights file holds tensors that ``load_weights`` copies
into that model, and every file must match the sha256 recorded in
``metadata.json`` before anything is read. A ``.keras`` file reached through a
catalogue name is loaded with Keras' ``safe_mode=True``.

Example:

```python
model = rnnzoo.build("classification", num_features=12, num_classes=9)
model.fit(...)
rnnzoo.save_preset(model, "vowels_preset", metrics={"accuracy": 0.97})
again = rnnzoo.build(preset="vowels_preset")
```
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import pathlib
import shutil
import sys
import tempfile
from typing import Any

import keras

from rnnzoo import _io, registry
from rnnzoo._validation import check_bool
from rnnzoo.text import Vocabulary
from rnnzoo.weights.cache import sha256_of

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Preset",
    "portable_options",
    "save_preset",
    "read_folder",
    "PresetError",
]

FORMAT = "rnnzoo-preset"
FORMAT_VERSION = 1
CONFIG, VOCABULARY, WEIGHTS, METADATA, CARD = (
    "config.json", "vocabulary.json", "model.weights.h5", "metadata.json", "README.md")
#: Files a preset folder must have (besides metadata.json).
REQUIRED = (CONFIG, WEIGHTS)


class PresetError(ValueError):
    """A preset folder is incomplete, altered (sha256 mismatch) or of an unknown format."""


@dataclasses.dataclass(frozen=True)
class Preset:
    """A resolved preset: what ``rnnzoo.build(preset=...)`` builds.

    Attributes:
        name: the catalogue name, the folder name, or the ``hf://`` address.
        task: the registered task.
        options: the build options (``rnnzoo.build(task, **options)``).
        weights: a published name (for ``weights=``) or the path of a weights file.
        source: ``"catalogue"``, ``"folder"`` or ``"hf"``.
        metadata: the preset's metadata (metrics, dataset, licence, files).
    """

    name: str
    task: str
    options: dict
    weights: str
    source: str
    metadata: dict = dataclasses.field(default_factory=dict)


def portable_options(spec, model, config: dict) -> dict:
    """``config`` without what cannot be stored as plain values (the adapt data).

    A task may declare ``extra={"portable_options": fn}`` to write what its
    model learned from the adapt data as options (a text vocabulary);
    otherwise ``adapt_data`` becomes ``None`` (statistics learned from it are
    weights, restored by the weights file).
    """
    hook = spec.extra.get("portable_options")
    if hook is not None:
        return hook(model, config)
    return {k: (None if k == "adapt_data" else v) for k, v in config.items()}


def _plain(value: Any) -> Any:
    """JSON-ready option values (vocabularies as their config, tuples as lists)."""
    if isinstance(value, Vocabulary):
        return value.get_config()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise PresetError(
        f"A preset stores plain option values only. Received: an option value of type "
        f"{type(value).__name__}; pass options= with plain values."
    )


def _is_vocabulary(name: str, value: Any) -> bool:
    return "vocab" in name and isinstance(value, (Vocabulary, list, tuple, dict)) \
        and not isinstance(value, (int, str))


def _model_config(model, task: str | None, options: dict | None) -> tuple[str, dict]:
    built = getattr(model, "rnnzoo_preset", None) or {}
    task = task or built.get("task")
    if task is None:
        name = getattr(model, "name", "")
        task = name[len("rnnzoo_"):] if name.startswith("rnnzoo_") else None
    if task is None or task not in registry.list_models():
        raise ValueError(
            "`task` must name the model's registered task when the model was not built by "
            f"rnnzoo.build. Received: task={task!r} for model {getattr(model, 'name', '?')!r}"
        )
    if options is None:
        if built.get("task") != task:
            raise ValueError(
                "`options` must be given for a model that rnnzoo.build did not build (a loaded "
                f".keras file): the build options of its {task!r} task. Received: options=None"
            )
        options = built["options"]
    registry.get(task).resolve(dict(options))  # every option valid before anything is written
    return task, dict(options)


def _without_optimizer(model, task: str, options: dict):
    """A fresh twin holding ``model``'s weights: the file gets no optimizer state.

    Building the twin from the options also proves that they rebuild this
    architecture, before anything is written.
    """
    spec = registry.get(task)
    twin = spec.builder(**spec.resolve(dict(options)))
    try:
        twin.set_weights(model.get_weights())
    except ValueError as exc:
        raise ValueError(
            f"`options` must rebuild the model's architecture: a {task!r} model built with them "
            f"does not take its weights ({exc}). Received: options={_plain_brief(options)}"
        ) from None
    return twin


def _plain_brief(options: dict) -> str:
    return json.dumps({k: ("<vocabulary>" if _is_vocabulary(k, v) else _plain(v))
                       for k, v in options.items()}, sort_keys=True, allow_nan=False)[:300]


def _card(name: str, task: str, options: dict, metrics: dict, dataset: Any, license: str,
          description: str) -> str:
    lines = [
        f"# {name}", "", description or f"An rnnzoo `{task}` model.", "",
        "```python", "import rnnzoo", f'model = rnnzoo.build(preset="{name}")', "```", "",
        "## Data", "",
        json.dumps(dataset, allow_nan=False) if dataset else "Not stated: describe the data.",
        "", "## Metrics", "",
    ]
    lines += [f"- {k}: {v}" for k, v in metrics.items()] or ["Not stated: add test metrics."]
    shown = {k: v for k, v in options.items() if not _is_vocabulary(k, v)}
    shown = json.dumps(_plain(shown), sort_keys=True, allow_nan=False)
    lines += ["", "## Options", "", f"`{shown}`", "",
              "## Licence", "", license or "Not stated.", ""]
    return "\n".join(lines)


def save_preset(model, path: str | os.PathLike, *, task: str | None = None,
                options: dict | None = None, metrics: dict | None = None,
                dataset: Any = None, license: str = "", description: str = "",
                overwrite: bool = False) -> pathlib.Path:
    """Writes ``model`` as a preset folder that ``rnnzoo.build(preset=path)`` rebuilds.

    Args:
        model: a model built by :func:`rnnzoo.build` (its task and options are
            known), or any model of a task with ``task=`` and ``options=``.
        path: the folder to write (created; its parent must exist or be creatable).
        task: the registered task (default: the one the model was built for).
        options: the build options (default: those of ``rnnzoo.build``, with
            what the model learned from ``adapt_data`` written as options).
        metrics: measured figures to record (``{"accuracy": 0.97}``).
        dataset: what the model was trained on (a name or a dict).
        license: the licence of the weights.
        description: one paragraph for the card.
        overwrite: replace an existing folder.

    Returns:
        The folder's path.

    Raises:
        ValueError: for an unknown task, invalid options, values that are not
            plain data, or an existing folder without ``overwrite=True``.

    Example:

    >>> rnnzoo.save_preset(model, "my_preset", metrics={"accuracy": 0.97})
    """
    overwrite = check_bool("overwrite", overwrite)
    target = pathlib.Path(path)
    if target.exists() and not overwrite and (not target.is_dir() or any(target.iterdir())):
        raise ValueError(
            f"`path` must be a new or empty folder (or pass overwrite=True). Received: "
            f"path={os.fspath(path)!r}, which exists"
        )
    task, options = _model_config(model, task, options)
    metrics = _plain(dict(metrics or {}))
    vocab = {k: _plain(v) for k, v in options.items() if _is_vocabulary(k, v) and v is not None}
    config = {"task": task, "options": {k: (None if k in vocab else _plain(v))
                                        for k, v in options.items()}}
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = pathlib.Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _io.atomic_write_json(stage / CONFIG, config)
        if vocab:
            _io.atomic_write_json(stage / VOCABULARY, vocab)
        with _io.atomic_path(stage / WEIGHTS) as tmp:
            _without_optimizer(model, task, options).save_weights(tmp)
        _io.atomic_write_text(stage / CARD, _card(target.name, task, options, metrics, dataset,
                                                  license, description))
        files = {p.name: {"sha256": sha256_of(p), "size": p.stat().st_size}
                 for p in sorted(stage.iterdir())}
        _io.atomic_write_json(stage / METADATA, {
            "format": FORMAT, "format_version": FORMAT_VERSION, "task": task,
            "name": target.name, "files": files, "metrics": metrics, "dataset": _plain(dataset),
            "license": license, "description": description,
            "versions": {"rnnzoo": getattr(sys.modules.get("rnnzoo"), "__version__", None),
                         "keras": keras.__version__},
            "created": datetime.date.today().isoformat(),
        })
        os.chmod(stage, _io.umask_mode(0o777))  # mkdtemp's 0700 -> what mkdir would give
        if target.exists():
            old = pathlib.Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            os.replace(target, old / target.name)
            os.replace(stage, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, target)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    return target


def _read_json(path: pathlib.Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PresetError(f"Could not read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise PresetError(f"{path} must hold a JSON object.")
    return data


def verify_folder(folder: pathlib.Path, metadata: dict) -> None:
    """Checks every file ``metadata`` lists against its sha256 and size; raises PresetError."""
    files = metadata.get("files")
    if not isinstance(files, dict) or any(name not in files for name in REQUIRED):
        raise PresetError(
            f"The preset {folder} must list {list(REQUIRED)} in metadata.json's 'files'. "
            f"Received: files={sorted(files) if isinstance(files, dict) else files!r}"
        )
    for name, entry in files.items():
        if "/" in name or "\\" in name or name.startswith("."):
            raise PresetError(f"The preset {folder} lists a file outside its folder: {name!r}.")
        path = folder / name
        if not path.is_file():
            raise PresetError(f"The preset {folder} is incomplete: {name} is missing.")
        actual = sha256_of(path)
        if actual != entry.get("sha256") or path.stat().st_size != entry.get("size"):
            raise PresetError(
                f"sha256 mismatch for {path}: expected {entry.get('sha256')}, got {actual}. "
                "The file was altered or damaged; nothing was loaded."
            )


def read_folder(path: str | os.PathLike, *, name: str | None = None,
                source: str = "folder") -> Preset:
    """Checks a preset folder (format, every sha256) and returns its :class:`Preset`.

    Raises:
        PresetError: a missing or altered file, an unknown format or task.
    """
    folder = pathlib.Path(path)
    if not (folder / METADATA).is_file():
        raise PresetError(
            f"`preset` must be a catalogue name, an hf://owner/repo address or a preset folder "
            f"with {METADATA}. Received: preset={os.fspath(path)!r}"
        )
    metadata = _read_json(folder / METADATA)
    if metadata.get("format") != FORMAT or metadata.get("format_version") != FORMAT_VERSION:
        raise PresetError(
            f"{folder / METADATA} is not an rnnzoo preset of format version {FORMAT_VERSION}. "
            f"Received: format={metadata.get('format')!r}, "
            f"format_version={metadata.get('format_version')!r}"
        )
    verify_folder(folder, metadata)
    config = _read_json(folder / CONFIG)
    task = config.get("task")
    registry.get(task)  # a ValueError naming the registered tasks
    options = dict(config.get("options") or {})
    if VOCABULARY in metadata["files"]:
        options.update(_read_json(folder / VOCABULARY))
    return Preset(name=name or folder.name, task=task, options=options,
                  weights=os.fspath(folder / WEIGHTS), source=source, metadata=metadata)
