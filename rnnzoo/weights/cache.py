"""Local copies of the published weights: the cache, the bundled copy, verification.

A published file is looked up, in order:

1. the cache, ``$RNNZOO_HOME/weights/<file>`` (default ``$KERAS_HOME/rnnzoo`` or
   ``~/.keras/rnnzoo``), verified by sha256, with no network access;
2. the copy bundled in the installed package, verified by sha256 (offline-first:
   the bytes are the release asset, so a normal install never downloads;
   ``RNNZOO_BUNDLED_WEIGHTS=0`` skips it, e.g. to test a mirror);
3. a download (:mod:`rnnzoo.weights.download`) into the cache.

A cached file whose hash does not match (a corrupt or truncated copy) is not
an error while another source works: the next source is used, one warning
names the expected and actual hashes and what was done, and the cache is
repaired (the bad file is replaced by the bundled copy or the new download).
With ``RNNZOO_OFFLINE=1`` and no other source, the fetch fails with a message
naming the file, its sha256 and how to put it in the cache. Every file is
written through :mod:`rnnzoo._io`, so it gets the mode the user's umask allows
(a cache shared by a team stays readable by all of it).

Example:

```python
path = fetch("classification")            # a verified local file
copy_to("classification", "./wcache")     # pre-fill a cache for an air-gapped machine
verify()                                  # one row per task and location
```
"""

from __future__ import annotations

import hashlib
import logging
import os
import pathlib
import shutil
import sys
import time
import urllib.parse
from typing import Any, Iterable

from rnnzoo._io import atomic_copy, atomic_path
from rnnzoo.weights import download as dl
from rnnzoo.weights.registry import BUNDLED_DIR, WeightsError, get_record, records

__all__ = ["cache_dir", "sha256_of", "fetch", "verify", "copy_to"]

logger = logging.getLogger("rnnzoo.weights")

_OFF = ("0", "false", "no", "off")


def cache_dir() -> pathlib.Path:
    """The weights cache: ``$RNNZOO_HOME/weights``.

    ``RNNZOO_HOME`` defaults to ``$KERAS_HOME/rnnzoo``, else ``~/.keras/rnnzoo``.

    Returns:
        The folder (it may not exist yet).

    Example:

    >>> rnnzoo.weights.cache_dir()
    PosixPath('/home/me/.keras/rnnzoo/weights')
    """
    home = os.environ.get("RNNZOO_HOME")
    if not home:
        keras_home = os.environ.get("KERAS_HOME") or os.path.join(
            os.path.expanduser("~"), ".keras"
        )
        home = os.path.join(keras_home, "rnnzoo")
    return pathlib.Path(home).expanduser() / "weights"


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file, read in chunks.

    Example:

    >>> sha256_of(rnnzoo.weights.fetch("classification"))
    '...'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(dl.CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(path: pathlib.Path, expected: str, actual: str, where: str) -> str:
    return f"sha256 mismatch for {where} {path}: expected {expected}, got {actual}."


def _check_cached(path: pathlib.Path, record: dict, notes: list) -> bool:
    """True if ``path`` holds the record's bytes.

    A corrupt file is deleted when the cache allows it; what was found (and
    done) is appended to ``notes`` for the caller's one warning or error. A
    cache that cannot be read (``RNNZOO_HOME`` names a file) is a miss.
    """
    try:
        before = path.stat()
        actual = sha256_of(path)
    except OSError:
        return False
    if actual == record["sha256"]:
        return True
    message = _mismatch(path, record["sha256"], actual, "cached file")
    try:
        if path.stat().st_ino != before.st_ino:  # another process replaced it meanwhile
            return _check_cached(path, record, notes)
        path.unlink()
        notes.append(message + " It was deleted.")
    except FileNotFoundError:  # another process deleted it first
        notes.append(message)
    except OSError as exc:  # a read-only cache
        notes.append(f"{message} It could not be deleted ({exc}).")
    return False


def _make_folder(folder: pathlib.Path) -> None:
    """Creates the cache folder, or a WeightsError that says which setting to change."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WeightsError(
            f"The weights folder {folder} cannot be created ({exc.strerror or exc}). Set "
            "RNNZOO_HOME (or pass cache=/--to) to a folder you can write."
        ) from None


def _repair(target: pathlib.Path, source: pathlib.Path, record: dict) -> str:
    """Replaces the bad cached ``target`` with the intact ``source``; says what happened."""
    try:
        atomic_copy(source, target)
    except OSError as exc:
        return f"the cache could not be repaired ({exc.strerror or exc})"
    if sha256_of(target) != record["sha256"]:  # another process wrote it meanwhile
        return "the cache is being rewritten by another process"
    return "the cached file was replaced with it"


def _offline_message(record: dict, target: pathlib.Path, task: str) -> str:
    url = dl.urls(record)[0]
    return (
        f"RNNZOO_OFFLINE=1 and the pretrained weights of {task!r} are not in the cache: "
        f"file {record['file_name']} (sha256 {record['sha256']}, {record['size']} bytes). "
        f"Put it in the cache at {target} (download {url} on a machine with network, or run "
        f"`rnnzoo weights fetch {task} --to DIR` there and copy DIR to {target.parent}), "
        "or set RNNZOO_WEIGHTS_MIRROR to a file:// folder that holds it."
    )


def _bundled_copy(record: dict) -> pathlib.Path | None:
    """The package's copy of ``record``'s file when it is enabled, present and intact."""
    if os.environ.get("RNNZOO_BUNDLED_WEIGHTS", "1").strip().lower() in _OFF:
        return None
    local = BUNDLED_DIR / record["file_name"]
    if not local.is_file():
        return None
    actual = sha256_of(local)
    if actual == record["sha256"]:
        return local
    logger.warning("%s Ignoring it.", _mismatch(local, record["sha256"], actual, "bundled file"))
    return None


def fetch(
    task: str,
    *,
    cache: str | os.PathLike | None = None,
    bundled: bool = True,
    progress: bool | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float = 1.0,
    deadline: float | None = None,
) -> pathlib.Path:
    """Returns a verified local copy of the published weights of ``task``.

    Args:
        task: a task with published weights (see :func:`records`).
        cache: the cache folder (default :func:`cache_dir`).
        bundled: use the copy shipped inside the package when the cache misses.
        progress: show a progress bar while downloading (default: when stdout is
            a terminal).
        timeout: seconds one read may wait before a stalled connection fails
            (default ``$RNNZOO_DOWNLOAD_TIMEOUT`` or 30).
        retries: extra attempts per URL after a network error or a 5xx status
            (default ``$RNNZOO_DOWNLOAD_RETRIES`` or 3), waiting ``backoff``,
            then twice as long, and so on.
        backoff: the first wait between attempts, in seconds.
        deadline: seconds the whole download may take, retries and every URL
            included (default ``$RNNZOO_DOWNLOAD_DEADLINE`` or 600); a slow
            server cannot hold the caller longer (give or take one ``timeout``).

    Returns:
        The path of a file whose sha256 equals the record's: the cached copy,
        else the bundled one, else a new download into the cache. A corrupt
        cached copy is replaced by the next source that works (one warning).

    Raises:
        ValueError: for a task without published weights or a bad argument.
        WeightsError: offline with a cache miss, or every URL failed (or the
            deadline passed); the message names the file, its sha256 and the
            URLs tried.

    Example:

    >>> path = rnnzoo.weights.fetch("classification")
    """
    record = get_record(task)
    timeout, retries, deadline = dl.settings(timeout, retries, deadline)
    folder = pathlib.Path(cache) if cache is not None else cache_dir()
    target = folder / record["file_name"]
    notes: list[str] = []
    if _check_cached(target, record, notes):
        return target
    if bundled:
        local = _bundled_copy(record)
        if local is not None:
            if notes:  # a bad cached copy: use the bundled one and put it in the cache
                logger.warning("%s Using the bundled copy %s; %s.", " ".join(notes), local,
                               _repair(target, local, record))
            return local
    urls = dl.urls(record)
    if dl.offline():
        urls = [u for u in urls if urllib.parse.urlparse(u).scheme == "file"]
        if not urls:
            raise WeightsError(" ".join(notes + [_offline_message(record, target, task)]))
    if notes:
        logger.warning("%s Fetching it again.", " ".join(notes))
    if progress is None:
        progress = sys.stdout.isatty()
    _make_folder(folder)
    stop_at = time.monotonic() + deadline
    errors = []
    for url in urls:
        try:
            dl.download(url, target, record, progress=progress, timeout=timeout,
                        retries=retries, backoff=backoff, stop_at=stop_at)
            return target
        except WeightsError as exc:
            errors.append(str(exc))
            logger.warning("%s", exc)
    raise WeightsError(
        f"Could not download the weights of {task!r} ({record['file_name']}, sha256 "
        f"{record['sha256']}): " + " | ".join(errors)
        + " Set RNNZOO_WEIGHTS_MIRROR to a reachable copy, or see `rnnzoo weights fetch`."
    )


def verify(tasks: Iterable[str] | None = None, *, cache: str | os.PathLike | None = None,
           bundled: bool = True) -> list[dict]:
    """Checks the size and sha256 of every local copy of the published weights.

    Args:
        tasks: the tasks to check (default: every published one).
        cache: the cache folder (default :func:`cache_dir`).
        bundled: also check the copies shipped in the package.

    Returns:
        One row per (task, location): ``{"task", "file", "where", "status",
        "expected", "actual"}`` with ``status`` in ``"ok"``, ``"mismatch"``,
        ``"missing"``. Nothing is deleted and nothing is downloaded.

    Example:

    >>> [row["status"] for row in verify(["classification"])]
    ['missing', 'ok']
    """
    published = records()
    rows = []
    folder = pathlib.Path(cache) if cache is not None else cache_dir()
    for task in tasks if tasks is not None else sorted(published):
        record = get_record(task)
        places = [("cache", folder / record["file_name"])]
        if bundled:
            places.append(("bundled", BUNDLED_DIR / record["file_name"]))
        for where, path in places:
            row = {"task": task, "file": str(path), "where": where,
                   "expected": record["sha256"], "actual": None}
            if not path.is_file():
                row["status"] = "missing"
            else:
                row["actual"] = sha256_of(path)
                row["status"] = "ok" if row["actual"] == record["sha256"] else "mismatch"
            rows.append(row)
    return rows


def copy_to(task: str, folder: str | os.PathLike, **fetch_kwargs: Any) -> pathlib.Path:
    """Puts a verified copy of ``task``'s weights in ``folder`` (to pre-fill a cache).

    The copy is written to a temporary file in ``folder``, verified, and renamed
    into place.

    Args:
        task: a task with published weights.
        folder: the destination folder (created if needed).
        **fetch_kwargs: passed to :func:`fetch` (``progress``, ``timeout``, ...).

    Returns:
        The path of the verified copy in ``folder``.

    Raises:
        WeightsError: when the weights cannot be fetched or the copy differs.

    Example:

    >>> copy_to("classification", "./wcache")
    PosixPath('wcache/classification-....keras')
    """
    folder = pathlib.Path(folder)
    record = get_record(task)
    _make_folder(folder)
    target = folder / record["file_name"]
    if target.is_file() and sha256_of(target) == record["sha256"]:
        return target
    source = fetch(task, cache=folder, **fetch_kwargs)
    if source != target:
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
            if sha256_of(tmp) != record["sha256"]:
                raise WeightsError(f"sha256 mismatch while copying {source} to {target}.")
    return target
