"""Pretrained weights: the registry of published files, a verified cache, and loading.

``rnnzoo.build(task, weights=...)`` accepts:

* ``None``: random initialisation (the default);
* ``"pretrained"``: the task's published model (see ``rnnzoo weights list``);
* a path to a local ``.keras`` or ``.weights.h5`` file.

**Where "pretrained" comes from.** Every published file is committed in
``rnnzoo/assets/weights/`` and ships inside the package; those same bytes are
the release assets behind the registered URLs. A file is looked up, in order:

1. the cache, ``$RNNZOO_HOME/weights/<file>`` (default ``$KERAS_HOME/rnnzoo`` or
   ``~/.keras/rnnzoo``), verified by sha256, with no network access;
2. the copy bundled in the installed package, verified by sha256 (offline-first:
   the bytes are the release asset, so a normal install never downloads;
   ``RNNZOO_BUNDLED_WEIGHTS=0`` skips it, e.g. to test a mirror);
3. a download from ``$RNNZOO_WEIGHTS_MIRROR/<file>`` when that variable is set
   (an ``http(s)://`` or ``file://`` base), else from the registered URLs.

Downloads (step 3, also ``rnnzoo weights fetch``) use only the standard library
(``urllib``), write to a temporary file in the cache folder, check the length
and the sha256, then rename the file into place atomically: an interrupted or
corrupted transfer never leaves a file that looks valid, and several processes
fetching the same file at once all end with one valid copy. Timeouts
(``RNNZOO_DOWNLOAD_TIMEOUT`` seconds, default 30) and retries with exponential
back-off (``RNNZOO_DOWNLOAD_RETRIES``, default 3) handle flaky networks; an HTTP
error becomes one message naming the URL. A cached file whose hash does not
match is deleted (when the cache is writable) and reported with the expected
and actual hashes. ``RNNZOO_OFFLINE=1`` makes zero network calls (``file://``
mirrors are still read); a miss then fails with a message naming the file, its
sha256 and how to put it in the cache.

**Published format.** Every published file is a ``.keras`` archive (model
configuration, weights, and the preprocessing assets: a generative model's
vocabulary is part of its configuration; a regression model's normalisation
statistics are weights), without optimizer state. One format for every task
means one loading path; the record additionally pins the vocabulary in its
``options`` so ``build`` recreates the exact model before the weights are copied.

**Options of a pretrained model.** With ``weights="pretrained"``, every option the
caller does not pass takes the published model's value (recorded in the
registry), not the task's default: ``build(task, weights="pretrained")`` always
rebuilds the exact published architecture, even if task defaults change later.

**Loading rules** (:func:`load_into`). The file's weights are matched to the
model's weights in order, by the last two components of their path (owner and
name, e.g. ``lstm_cell/kernel``) with Keras' automatic ``_N`` suffixes removed:

* a different set of weights (another ``cell``, ``depth`` or ``bidirectional``)
  or a recurrent weight of another shape (``units``) is an incompatible
  architecture: ``ValueError`` naming the mismatch (and, for published weights,
  the options that differ); nothing is loaded;
* other weights whose shape differs (an embedding after a ``vocab_size`` change,
  a head after a ``num_classes`` change) keep their fresh initialisation; the
  result says exactly which were loaded and which were not
  (``model.rnnzoo_weights_report``, a :class:`LoadReport`) and a warning is
  logged on ``logging.getLogger("rnnzoo.weights")``.

``freeze_encoder=True`` then freezes every loaded layer except the output head
(the last layer with weights) and layers that were reinitialised, for transfer
learning.

Example:

```python
model = rnnzoo.build("classification", weights="pretrained")
model = rnnzoo.build("classification", weights="pretrained", num_classes=6,
                     freeze_encoder=True)          # new head, frozen encoder
print(model.rnnzoo_weights_report.skipped)         # ['classifier/kernel', 'classifier/bias']
path = rnnzoo.weights.fetch("classification")      # a verified local file
```
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import logging
import os
import pathlib
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterable

__all__ = [
    "LoadReport",
    "WeightsError",
    "REGISTRY_PATH",
    "BUNDLED_DIR",
    "records",
    "get_record",
    "published_options",
    "cache_dir",
    "fetch",
    "verify",
    "sha256_of",
    "load_into",
]

logger = logging.getLogger("rnnzoo.weights")

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent
#: The registry of published weights: one record per task.
REGISTRY_PATH = _PACKAGE_DIR / "weights_registry.json"
#: The committed weight files (the release assets), shipped in the package.
BUNDLED_DIR = _PACKAGE_DIR / "assets" / "weights"
#: Where the release assets are published (the registered URLs start with it).
DEFAULT_BASE_URL = "https://github.com/rnnzoo/rnnzoo/releases/download/v0.1.0"

#: Options that never change the weights (training-only).
FREE_OPTIONS = frozenset({"learning_rate", "dropout", "recurrent_dropout"})
_HEAD_OPTION = re.compile(
    r"(^|_)(num_classes|vocab_size|vocabulary|num_features|num_outputs|output_size)$"
)

_CHUNK = 1 << 16


class WeightsError(RuntimeError):
    """A weight file could not be found, downloaded or verified.

    The message says what was expected (file, sha256, URL) and what to do.
    """


# --------------------------------------------------------------------------- registry


def records() -> dict[str, dict]:
    """Returns the published records, ``{task: record}``.

    A record holds ``file_name``, ``sha256``, ``size``, ``urls``, ``license``,
    ``dataset``, ``metrics``, ``input_spec``, ``params``, ``options`` and
    ``recipe`` (see ``rnnzoo/weights_registry.json``).
    """
    if not REGISTRY_PATH.exists():
        return {}
    with open(REGISTRY_PATH, encoding="utf-8") as f:
        data = json.load(f)
    return dict(data.get("models", {}))


def get_record(task: str) -> dict:
    """Returns the published record of ``task``.

    Raises:
        ValueError: if ``task`` has no published weights, naming those that do.
    """
    published = records()
    if task not in published:
        from rnnzoo.registry import suggest

        raise ValueError(
            f"No pretrained weights are published for task {task!r}. Tasks with weights: "
            f"{sorted(published)}.{suggest(task, published)} Use weights=None for a randomly "
            "initialised model, or a path to a .keras / .weights.h5 file."
        )
    return published[task]


def published_options(task: str) -> dict[str, Any]:
    """The options the published model of ``task`` was built with.

    Only options the task still declares are returned, so a record written by an
    older version never breaks ``build``.
    """
    from rnnzoo import registry

    known = registry.get(task).options
    return {k: v for k, v in get_record(task).get("options", {}).items() if k in known}


# --------------------------------------------------------------------------- cache


def cache_dir() -> pathlib.Path:
    """The weights cache: ``$RNNZOO_HOME/weights``.

    ``RNNZOO_HOME`` defaults to ``$KERAS_HOME/rnnzoo``, else ``~/.keras/rnnzoo``.
    """
    home = os.environ.get("RNNZOO_HOME")
    if not home:
        keras_home = os.environ.get("KERAS_HOME") or os.path.join(
            os.path.expanduser("~"), ".keras"
        )
        home = os.path.join(keras_home, "rnnzoo")
    return pathlib.Path(home).expanduser() / "weights"


def _offline() -> bool:
    return os.environ.get("RNNZOO_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(path: pathlib.Path, expected: str, actual: str, where: str) -> str:
    return (
        f"sha256 mismatch for {where} {path}: expected {expected}, got {actual}."
    )


def _check_cached(path: pathlib.Path, record: dict, notes: list | None = None) -> bool:
    """True if ``path`` holds the record's bytes; deletes a corrupt file (noted in ``notes``)."""
    try:
        before = path.stat()
        actual = sha256_of(path)
    except FileNotFoundError:
        return False
    if actual == record["sha256"]:
        return True
    message = _mismatch(path, record["sha256"], actual, "cached file")
    if notes is not None:
        notes.append(message + " It was deleted.")
    try:
        if path.stat().st_ino != before.st_ino:  # another process replaced it meanwhile
            return _check_cached(path, record, notes)
        path.unlink()
        logger.warning("%s Deleted it; fetching it again.", message)
    except FileNotFoundError:  # another process deleted it first
        logger.warning("%s", message)
    except OSError as exc:  # a read-only cache
        raise WeightsError(
            f"{message} It could not be deleted ({exc}); remove it by hand."
        ) from exc
    return False


def _urls(record: dict) -> list[str]:
    mirror = os.environ.get("RNNZOO_WEIGHTS_MIRROR", "").strip()
    if mirror:
        scheme = urllib.parse.urlparse(mirror).scheme
        if scheme not in ("http", "https", "file"):
            raise ValueError(
                "`RNNZOO_WEIGHTS_MIRROR` must be an http://, https:// or file:// base URL. "
                f"Received: RNNZOO_WEIGHTS_MIRROR={mirror!r}"
            )
        return [f"{mirror.rstrip('/')}/{record['file_name']}"]
    return list(record.get("urls") or [f"{DEFAULT_BASE_URL}/{record['file_name']}"])


def _offline_message(record: dict, target: pathlib.Path, task: str) -> str:
    url = _urls(record)[0]
    return (
        f"RNNZOO_OFFLINE=1 and the pretrained weights of {task!r} are not in the cache: "
        f"file {record['file_name']} (sha256 {record['sha256']}, {record['size']} bytes). "
        f"Put it in the cache at {target} (download {url} on a machine with network, or run "
        f"`rnnzoo weights fetch {task} --to DIR` there and copy DIR to {target.parent}), "
        "or set RNNZOO_WEIGHTS_MIRROR to a file:// folder that holds it."
    )


def fetch(
    task: str,
    *,
    cache: str | os.PathLike | None = None,
    bundled: bool = True,
    progress: bool | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float = 1.0,
) -> pathlib.Path:
    """Returns a verified local copy of the published weights of ``task``.

    Args:
        task: a task with published weights (see :func:`records`).
        cache: the cache folder (default :func:`cache_dir`).
        bundled: use the copy shipped inside the package when the cache misses.
        progress: show a progress bar while downloading (default: when stdout is
            a terminal).
        timeout: seconds before a stalled connection fails (default
            ``$RNNZOO_DOWNLOAD_TIMEOUT`` or 30).
        retries: extra attempts per URL after a network error or a 5xx status
            (default ``$RNNZOO_DOWNLOAD_RETRIES`` or 3), waiting ``backoff``,
            then twice as long, and so on.
        backoff: the first wait between attempts, in seconds.

    Returns:
        The path of a file whose sha256 equals the record's.

    Raises:
        ValueError: for a task without published weights or a bad argument.
        WeightsError: offline with a cache miss, or every URL failed; the
            message names the file, its sha256 and the URLs tried.

    Example:

    >>> path = rnnzoo.weights.fetch("classification")
    """
    record = get_record(task)
    folder = pathlib.Path(cache) if cache is not None else cache_dir()
    target = folder / record["file_name"]
    notes: list[str] = []
    if _check_cached(target, record, notes):
        return target
    if bundled and os.environ.get("RNNZOO_BUNDLED_WEIGHTS", "1").strip().lower() not in (
        "0", "false", "no", "off"
    ):
        local = BUNDLED_DIR / record["file_name"]
        if local.is_file():
            actual = sha256_of(local)
            if actual == record["sha256"]:
                return local
            logger.warning("%s Ignoring it.", _mismatch(local, record["sha256"], actual,
                                                         "bundled file"))
    urls = _urls(record)
    if _offline():
        urls = [u for u in urls if urllib.parse.urlparse(u).scheme == "file"]
        if not urls:
            raise WeightsError(" ".join(notes + [_offline_message(record, target, task)]))
    timeout = float(timeout if timeout is not None
                    else os.environ.get("RNNZOO_DOWNLOAD_TIMEOUT", 30))
    retries = int(retries if retries is not None
                  else os.environ.get("RNNZOO_DOWNLOAD_RETRIES", 3))
    if timeout <= 0:
        raise ValueError(f"`timeout` must be a positive number. Received: timeout={timeout}")
    if retries < 0:
        raise ValueError(f"`retries` must be an integer >= 0. Received: retries={retries}")
    if progress is None:
        progress = sys.stdout.isatty()
    folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        try:
            _download(url, target, record, progress=progress, timeout=timeout,
                      retries=retries, backoff=backoff)
            return target
        except WeightsError as exc:
            errors.append(str(exc))
            logger.warning("%s", exc)
    raise WeightsError(
        f"Could not download the weights of {task!r} ({record['file_name']}, sha256 "
        f"{record['sha256']}): " + " | ".join(errors)
        + " Set RNNZOO_WEIGHTS_MIRROR to a reachable copy, or see `rnnzoo weights fetch`."
    )


def _download(url: str, target: pathlib.Path, record: dict, *, progress: bool,
              timeout: float, retries: int, backoff: float) -> None:
    """Downloads ``url`` to ``target`` atomically and verifies it; retries with back-off."""
    attempt = 0
    while True:
        try:
            _download_once(url, target, record, progress=progress, timeout=timeout)
            return
        except _Retryable as exc:
            if attempt >= retries:
                raise WeightsError(
                    f"Download of {url} failed after {attempt + 1} attempt(s): {exc}"
                ) from None
            wait = backoff * (2**attempt)
            logger.warning("Download of %s failed (%s); retrying in %.1f s.", url, exc, wait)
            time.sleep(wait)
            attempt += 1


class _Retryable(Exception):
    pass


def _download_once(url: str, target: pathlib.Path, record: dict, *, progress: bool,
                   timeout: float) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{record['file_name']}.", suffix=".part",
                               dir=target.parent)
    try:
        digest = hashlib.sha256()
        received = 0
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "rnnzoo"})
            with urllib.request.urlopen(request, timeout=timeout) as response, \
                    os.fdopen(fd, "wb") as out:
                fd = None
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else record.get("size")
                bar = _progress_bar(total) if progress else None
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(min(received, total or received))
                out.flush()
                os.fsync(out.fileno())
        except urllib.error.HTTPError as exc:
            message = f"HTTP {exc.code} {exc.reason} from {url}"
            if exc.code >= 500 or exc.code in (408, 429):
                raise _Retryable(message) from None
            raise WeightsError(message) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            # refused or reset connections, timeouts, http.client.IncompleteRead
            reason = getattr(exc, "reason", None) or exc
            raise _Retryable(f"{type(exc).__name__}: {reason} ({url})") from None
        if received != record["size"]:
            raise _Retryable(
                f"truncated or oversized transfer from {url}: received {received} bytes, "
                f"expected {record['size']}"
            )
        actual = digest.hexdigest()
        if actual != record["sha256"]:
            raise WeightsError(
                f"sha256 mismatch for {url}: expected {record['sha256']}, got {actual}; "
                "the downloaded file was deleted."
            )
        os.replace(tmp, target)
        tmp = None
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


def _progress_bar(total: int | None):
    from keras.utils import Progbar

    return Progbar(total, unit_name="B")


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

    The copy is written to a temporary file in ``folder`` and renamed into place.
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    record = get_record(task)
    target = folder / record["file_name"]
    if target.is_file() and sha256_of(target) == record["sha256"]:
        return target
    source = fetch(task, cache=folder, **fetch_kwargs)
    if source != target:
        fd, tmp = tempfile.mkstemp(prefix=f".{record['file_name']}.", suffix=".part", dir=folder)
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            if sha256_of(tmp) != record["sha256"]:
                raise WeightsError(f"sha256 mismatch while copying {source} to {target}.")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return target


# --------------------------------------------------------------------------- loading


@dataclasses.dataclass(frozen=True)
class LoadReport:
    """What :func:`load_into` did.

    Attributes:
        source: the file the weights came from.
        loaded: paths of the model weights that received the file's values.
        skipped: paths of the model weights kept at their fresh initialisation,
            with the shapes that differed in ``reasons``.
        reasons: ``{path: "file (a, b) vs model (c, d)"}`` for every skipped weight.
        frozen: names of the layers frozen by ``freeze_encoder=True``.
    """

    source: str
    loaded: tuple[str, ...]
    skipped: tuple[str, ...]
    reasons: dict
    frozen: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """True when every weight of the model was loaded."""
        return not self.skipped

    def summary(self) -> str:
        text = f"Loaded {len(self.loaded)}/{len(self.loaded) + len(self.skipped)} weights " \
               f"from {self.source}."
        if self.skipped:
            text += " Reinitialised (shape differs): " + ", ".join(
                f"{p} [{self.reasons[p]}]" for p in self.skipped) + "."
        if self.frozen:
            text += f" Frozen layers: {', '.join(self.frozen)}."
        return text


def _normalise(path: str) -> str:
    """The owner and name of a weight, without Keras' automatic ``_N`` suffixes.

    Only the last two path components count (``lstm_cell/kernel``): outer scopes
    differ between a model built in code and one deserialised from a file
    (wrappers such as TimeDistributed name their inner layer differently).
    """
    return "/".join(re.sub(r"_\d+$", "", part) for part in path.split("/")[-2:])


def _walk_layers(layer) -> Iterable[Any]:
    """Every layer nested in ``layer`` (sub-models and wrappers such as TimeDistributed)."""
    children = list(getattr(layer, "layers", None) or ())
    inner = getattr(layer, "layer", None)
    if inner is not None and hasattr(inner, "weights"):
        children.append(inner)
    for child in children:
        yield child
        yield from _walk_layers(child)


def _recurrent_weight_ids(model) -> set[int]:
    import keras

    ids = set()
    for layer in _walk_layers(model):
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
            ids.update(id(v) for v in layer.weights)
    return ids


def _source_model(spec, weights: Any):
    """Returns ``(reference_model, source_path, published_options_or_None)``."""
    if isinstance(weights, str) and weights == "pretrained":
        record = get_record(spec.name)
        path = fetch(spec.name)
        return _load_keras_file(path), str(path), record.get("options")
    if isinstance(weights, (str, os.PathLike)):
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise ValueError(
                "`weights` must be None, 'pretrained', or the path of an existing .keras or "
                f".weights.h5 file. Received: weights={weights!r} (no such file)."
            )
        if path.endswith(".keras"):
            return _load_keras_file(path), path, None
        if path.endswith(".weights.h5"):
            return None, path, None
        raise ValueError(
            "`weights` must be None, 'pretrained', or a path ending in .keras or .weights.h5. "
            f"Received: weights={weights!r}"
        )
    raise ValueError(
        "`weights` must be None, 'pretrained', or a path to a .keras or .weights.h5 file. "
        f"Received: weights={weights!r}"
    )


def _load_keras_file(path) -> Any:
    import keras

    return keras.saving.load_model(path, compile=False, safe_mode=True)


def _canonical(value: Any) -> Any:
    """A comparable form of an option value (objects such as vocabularies by config)."""
    if hasattr(value, "get_config"):
        return _canonical(value.get_config())
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _option_diff(spec, published: dict | None, config: dict) -> list[str]:
    if not published:
        return []
    resolved = spec.resolve({k: v for k, v in published.items() if k in spec.options})
    return [
        f"{name}: published {_short(resolved[name])}, requested {_short(config[name])}"
        for name in spec.options
        if name not in FREE_OPTIONS
        and _canonical(resolved.get(name)) != _canonical(config.get(name))
    ]


def _is_head_option(spec, name: str) -> bool:
    head = spec.extra.get("head_options")
    if head is not None:
        return name in head
    return bool(_HEAD_OPTION.search(name))


def load_into(model, spec, config: dict, weights: Any, *, freeze_encoder: bool = False):
    """Loads ``weights`` into ``model`` (built from ``spec`` with ``config``).

    This is the hook ``rnnzoo.build(..., weights=...)`` calls; see the module
    docstring for the matching rules.

    Args:
        model: the freshly built, compiled model.
        spec: the task's :class:`rnnzoo.registry.TaskSpec`.
        config: the resolved options ``model`` was built with.
        weights: ``"pretrained"`` or a path to a ``.keras`` / ``.weights.h5`` file.
        freeze_encoder: freeze every loaded layer except the output head.

    Returns:
        ``model``, with ``model.rnnzoo_weights_report`` set to a :class:`LoadReport`.

    Raises:
        ValueError: for an unsupported ``weights`` value, a missing file, or an
            incompatible architecture (naming the mismatch); nothing is loaded then.
        WeightsError: when published weights cannot be fetched.
    """
    if not isinstance(freeze_encoder, bool):
        raise ValueError(
            f"`freeze_encoder` must be a boolean. Received: freeze_encoder={freeze_encoder!r}"
        )
    reference, source, published = _source_model(spec, weights)
    if reference is None:  # a .weights.h5 file: no config inside, exact architecture only
        try:
            model.load_weights(source)
        except Exception as exc:
            raise ValueError(
                f"The weights in {source} do not fit this {spec.name!r} model: {exc}. A "
                ".weights.h5 file holds no configuration, so it must come from a model built "
                "with the same options; to load into a different head (num_classes, "
                "vocab_size), save the trained model as .keras and pass that path."
            ) from exc
        paths = tuple(v.path for v in model.weights)
        report = LoadReport(source=source, loaded=paths, skipped=(), reasons={})
        return _finish(model, report, freeze_encoder)

    src_vars, dst_vars = list(reference.weights), list(model.weights)
    diff = _option_diff(spec, published, config)
    explain = f" Options that differ: {'; '.join(diff)}." if diff else ""
    if len(src_vars) != len(dst_vars) or any(
        _normalise(a.path) != _normalise(b.path) for a, b in zip(src_vars, dst_vars)
    ):
        first = next(
            (f"#{i}: file {a.path} vs model {b.path}"
             for i, (a, b) in enumerate(zip(src_vars, dst_vars))
             if _normalise(a.path) != _normalise(b.path)),
            "",
        )
        raise ValueError(
            f"Incompatible architecture: the weights in {source} do not fit this "
            f"{spec.name!r} model (file: {len(src_vars)} weights, model: {len(dst_vars)}; "
            f"first difference {first or 'in the number of weights'}).{explain} Only the head "
            "and embeddings may differ (num_classes, vocab_size); build the model with the "
            "file's cell, units, depth and bidirectional, or use weights=None."
        )
    recurrent = _recurrent_weight_ids(model)
    loaded, skipped, reasons, pairs = [], [], {}, []
    for src, dst in zip(src_vars, dst_vars):
        if tuple(src.shape) == tuple(dst.shape):
            pairs.append((src, dst))
            loaded.append(dst.path)
        else:
            skipped.append(dst.path)
            reasons[dst.path] = f"file {tuple(src.shape)} vs model {tuple(dst.shape)}"
    bad = [p for p, d in zip(src_vars, dst_vars) if id(d) in recurrent and d.path in reasons]
    blocking = [d for d in diff if not _is_head_option(spec, d.split(":")[0])]
    if bad or (skipped and blocking):
        names = [d.path for d in dst_vars if d.path in reasons and id(d) in recurrent] or skipped
        raise ValueError(
            f"Incompatible architecture: recurrent or encoder weights of {source} have other "
            f"shapes than this {spec.name!r} model's: "
            + ", ".join(f"{n} [{reasons[n]}]" for n in names[:4])
            + f".{explain} Only the head and embeddings may differ (num_classes, vocab_size)."
        )
    for src, dst in pairs:
        dst.assign(src.numpy() if hasattr(src, "numpy") else src)
    report = LoadReport(source=source, loaded=tuple(loaded), skipped=tuple(skipped),
                        reasons=dict(reasons))
    if skipped:
        logger.warning("%s", report.summary())
    elif diff:
        logger.warning(
            "Every weight of %s fits, but options differ from the published model's (%s); "
            "check that this is intended.", source, "; ".join(diff))
    else:
        logger.info("%s", report.summary())
    return _finish(model, report, freeze_encoder)


def _finish(model, report: LoadReport, freeze_encoder: bool):
    if freeze_encoder:
        layers = [layer for layer in model.layers if layer.weights]
        head = layers[-1] if layers else None
        skipped = set(report.skipped)
        frozen = []
        for layer in layers:
            if layer is head or any(v.path in skipped for v in layer.weights):
                continue
            layer.trainable = False
            frozen.append(layer.name)
        report = dataclasses.replace(report, frozen=tuple(frozen))
    model.rnnzoo_weights_report = report
    return model
