"""Atomic file writes: the one place rnnzoo puts files on disk.

Everything the package writes (weight downloads, cached copies, ``.keras``
models, metrics JSON, ``.tflite`` files and their sidecars, checkpoints,
figures) goes through :func:`atomic_path`: the content is written to a hidden
temporary file in the destination folder and renamed over the destination
only when it is complete, so a reader never sees a half-written file and a
failure (an exception, Ctrl-C) leaves nothing behind. The file gets the mode
the user's umask allows, like any file the user writes (a cache shared by a
team stays readable), not ``mkstemp``'s private 0600.

JSON is always strict (``allow_nan=False``): a NaN or infinity is an error,
never a file other programs cannot parse.

```python
with atomic_path("runs/model.keras") as tmp:
    model.save(tmp)
atomic_write_json("runs/metrics.json", {"loss": 0.1})
```
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from typing import Any, Iterator, Mapping

__all__ = [
    "atomic_path",
    "atomic_paths",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_copy",
    "dumps_json",
    "umask_mode",
]


def umask_mode(mode: int = 0o666) -> int:
    """``mode`` with the process umask applied (what ``open()`` would give a new file)."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def _temp_name(path: str) -> str:
    folder, name = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # Keep the suffix: Keras picks the format from it (".keras", ".weights.h5").
    suffix = "".join(_suffixes(name))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=f".part{suffix}", dir=folder)
    os.close(fd)
    os.chmod(tmp, umask_mode())
    return tmp


def _suffixes(name: str) -> list[str]:
    for double in (".weights.h5", ".tflite.json"):
        if name.endswith(double):
            return [double]
    root, ext = os.path.splitext(name)
    return [ext] if ext else []


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yields a temporary path to write; renamed to ``path`` when the block succeeds.

    The temporary file lives in ``path``'s folder (created if needed) and ends
    with the same suffix (so ``model.save(tmp)`` keeps its format). On an
    exception the temporary file is removed and ``path`` is left as it was.
    """
    with atomic_paths([path]) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_paths(paths) -> Iterator[list[str]]:
    """Like :func:`atomic_path` for files that belong together.

    Every file is written first; they are then renamed in the *reverse* order
    of ``paths``, so the first path appears last: a reader that looks for the
    first file (a ``.tflite``) finds the others (its ``.tflite.json``) already
    in place. If anything fails, no temporary file is left behind.
    """
    paths = [os.fspath(p) for p in paths]
    temps: list[str] = []
    try:
        for p in paths:
            temps.append(_temp_name(p))
        yield list(temps)
        for tmp, p in reversed(list(zip(temps, paths))):
            os.replace(tmp, p)
    finally:
        for tmp in temps:
            _remove(tmp)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> str:
    """Writes ``data`` to ``path`` atomically (flushed to disk first); returns the path."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return os.fspath(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> str:
    """Writes UTF-8 ``text`` to ``path`` atomically; returns the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def dumps_json(data: Any, *, indent: int | None = 2, default=None) -> str:
    """Strict JSON text: NaN and infinities raise ``ValueError`` naming the first bad key."""
    try:
        return json.dumps(data, indent=indent, allow_nan=False, default=default)
    except ValueError as err:
        where = _first_non_finite(data)
        raise ValueError(
            f"Refusing to write non-finite number{f' at {where}' if where else ''} to JSON "
            "(NaN and infinity are not JSON; the value usually means training diverged)."
        ) from err


def _first_non_finite(data: Any, where: str = "") -> str:
    if isinstance(data, float) and (data != data or data in (float("inf"), float("-inf"))):
        return where or "the top level"
    if isinstance(data, Mapping):
        for key, value in data.items():
            found = _first_non_finite(value, f"{where}.{key}" if where else str(key))
            if found:
                return found
    if isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            found = _first_non_finite(value, f"{where}[{i}]")
            if found:
                return found
    return ""


def atomic_write_json(path: str | os.PathLike, data: Any, *, indent: int | None = 2,
                      default=None) -> str:
    """Writes ``data`` as strict JSON (see :func:`dumps_json`) atomically; returns the path."""
    return atomic_write_text(path, dumps_json(data, indent=indent, default=default) + "\n")


def atomic_copy(source: str | os.PathLike, path: str | os.PathLike) -> str:
    """Copies ``source`` to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        shutil.copyfile(source, tmp)
    return os.fspath(path)
