"""Downloading one published weight file: mirror, timeouts, retries, progress, sha256.

Only the standard library (``urllib``) talks to the network. A transfer is
written to a temporary file beside its destination (:func:`rnnzoo._io.atomic_path`),
its length and sha256 are checked, and only then is it renamed into place:
an interrupted or corrupted transfer never leaves a file that looks valid,
and several processes fetching the same file at once all end with one valid
copy. Network errors, timeouts, truncated transfers and 5xx/408/429 answers
are retried with exponential back-off; any other HTTP error, or a complete
transfer with the wrong sha256, fails at once with a message naming the URL.

Limits: a transfer never writes more than the record's published ``size``
(a server that announces or sends more is refused at once), and the whole
fetch has an overall ``deadline`` besides the per-read ``timeout``, so neither
a server that streams forever nor one that drips slowly can fill the disk or
hold the caller. Redirects are followed only to ``http://`` and ``https://``
URLs; the refusal names where the redirect led.

Environment:

* ``RNNZOO_WEIGHTS_MIRROR``: an ``http(s)://`` or ``file://`` base that replaces
  the registered URLs;
* ``RNNZOO_OFFLINE=1``: no network call at all (``file://`` URLs are still read);
* ``RNNZOO_DOWNLOAD_TIMEOUT`` (seconds per read, default 30),
  ``RNNZOO_DOWNLOAD_RETRIES`` (default 3) and ``RNNZOO_DOWNLOAD_DEADLINE``
  (seconds for the whole fetch, retries included, default 600): the defaults of
  ``timeout``, ``retries`` and ``deadline``.

Example:

```python
timeout, retries, deadline = settings(None, None, None)
stop_at = time.monotonic() + deadline
for url in urls(record):
    download(url, target, record, progress=False, timeout=timeout, retries=retries,
             backoff=1.0, stop_at=stop_at)
```
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import pathlib
import time
import urllib.error
import urllib.parse
import urllib.request

from rnnzoo import _validation as v
from rnnzoo._io import atomic_path
from rnnzoo.weights.registry import DEFAULT_BASE_URL, WeightsError

__all__ = ["CHUNK", "DEFAULT_DEADLINE", "urls", "offline", "settings", "download"]

logger = logging.getLogger("rnnzoo.weights")

#: Bytes read (and hashed) at a time, at most.
CHUNK = 1 << 16
#: Seconds a whole fetch may take by default (``RNNZOO_DOWNLOAD_DEADLINE``).
DEFAULT_DEADLINE = 600.0
_ON = ("1", "true", "yes", "on")


def offline() -> bool:
    """True when ``RNNZOO_OFFLINE`` forbids network access."""
    return os.environ.get("RNNZOO_OFFLINE", "").strip().lower() in _ON


def urls(record: dict) -> list[str]:
    """The URLs to try for ``record``: the mirror's when one is set, else the registered ones.

    Raises:
        ValueError: when ``RNNZOO_WEIGHTS_MIRROR`` is not an http(s):// or file:// URL.
    """
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


def _from_env(variable: str, default, parse):
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        return parse(text)
    except ValueError:
        raise ValueError(
            f"`{variable}` must be a {'number of seconds' if parse is float else 'whole number'}. "
            f"Received: {variable}={text!r}"
        ) from None


def settings(timeout: float | None, retries: int | None,
             deadline: float | None = None) -> tuple[float, int, float]:
    """``(timeout, retries, deadline)`` with the environment's defaults, validated.

    Raises:
        ValueError: for a timeout or deadline that is not a positive finite
            number, or a negative number of retries (an environment variable
            that does not parse names itself).
    """
    if timeout is None:
        timeout = _from_env("RNNZOO_DOWNLOAD_TIMEOUT", 30.0, float)
    if retries is None:
        retries = _from_env("RNNZOO_DOWNLOAD_RETRIES", 3, int)
    if deadline is None:
        deadline = _from_env("RNNZOO_DOWNLOAD_DEADLINE", DEFAULT_DEADLINE, float)
    timeout = v.check_float("timeout", timeout, low=0, low_inclusive=False)
    retries = v.check_int("retries", retries, low=0)
    deadline = v.check_float("deadline", deadline, low=0, low_inclusive=False)
    return timeout, retries, deadline


class _HTTPOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to another http:// or https:// URL (any host)."""

    def http_error_302(self, req, fp, code, msg, headers):
        target = headers.get("location") or headers.get("uri")
        if target:
            newurl = urllib.parse.urljoin(req.full_url, target)
            if urllib.parse.urlparse(newurl).scheme.lower() not in ("http", "https"):
                fp.close()
                raise WeightsError(
                    f"{req.full_url} redirected (HTTP {code}) to {newurl}: rnnzoo follows "
                    "redirects only to http:// and https:// URLs, so the download stopped there."
                )
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _open(url: str, timeout: float):
    """Opens ``url`` (urllib's handlers: proxies, https, file://), redirects within http(s)."""
    request = urllib.request.Request(url, headers={"User-Agent": "rnnzoo"})
    return urllib.request.build_opener(_HTTPOnlyRedirects).open(request, timeout=timeout)


def download(url: str, target: pathlib.Path, record: dict, *, progress: bool,
             timeout: float, retries: int, backoff: float, stop_at: float | None = None) -> None:
    """Downloads ``url`` to ``target`` atomically and verifies it; retries with back-off.

    Args:
        url: the file's URL (``http(s)://`` or ``file://``).
        target: where the verified file goes.
        record: the published record (``size`` and ``sha256`` are checked; no
            more than ``size`` bytes are ever written).
        progress: show a progress bar.
        timeout: seconds one read may wait before a stalled connection fails.
        retries: extra attempts after a retryable failure.
        backoff: the first wait between attempts, in seconds (then doubled).
        stop_at: the ``time.monotonic()`` by which everything must be done
            (default: no deadline). It is checked whenever bytes arrive and
            before every attempt, so the call returns at most one ``timeout``
            after it.

    Raises:
        WeightsError: naming the URL, when every attempt failed, the server
            answered an error that retrying cannot fix, sent more bytes than
            the published size, the deadline passed, or the bytes have another
            sha256.
    """
    attempt = 0
    while True:
        try:
            _download_once(url, target, record, progress=progress, timeout=timeout,
                           stop_at=stop_at)
            return
        except _Retryable as exc:
            if attempt >= retries:
                raise WeightsError(
                    f"Download of {url} failed after {attempt + 1} attempt(s): {exc}"
                ) from None
            wait = backoff * (2**attempt)
            if stop_at is not None and time.monotonic() + wait >= stop_at:
                raise WeightsError(
                    f"Download of {url} failed ({exc}) and the deadline "
                    "(RNNZOO_DOWNLOAD_DEADLINE) leaves no time to retry."
                ) from None
            logger.warning("Download of %s failed (%s); retrying in %.1f s.", url, exc, wait)
            time.sleep(wait)
            attempt += 1


class _Retryable(Exception):
    """A failure that another attempt may not meet (network, timeout, truncation, 5xx)."""


def _remaining(stop_at: float | None, url: str, received: int, size: int) -> float:
    """Seconds left before ``stop_at``; a WeightsError once it has passed."""
    if stop_at is None:
        return float("inf")
    left = stop_at - time.monotonic()
    if left <= 0:
        raise WeightsError(
            f"Download of {url} did not finish before its deadline (RNNZOO_DOWNLOAD_DEADLINE or "
            f"deadline=): received {received} of {size} bytes; the partial file was deleted."
        )
    return left


def _download_once(url: str, target: pathlib.Path, record: dict, *, progress: bool,
                   timeout: float, stop_at: float | None = None) -> None:
    size = int(record["size"])
    with atomic_path(target) as tmp:
        digest = hashlib.sha256()
        received = 0
        try:
            wait = min(timeout, _remaining(stop_at, url, received, size))
            with _open(url, wait) as response, open(tmp, "wb") as out:
                length = response.headers.get("Content-Length")
                if length and length.strip().isdigit() and int(length) != size:
                    raise WeightsError(
                        f"{url} announces {int(length)} bytes (Content-Length), but the published "
                        f"file has {size} bytes; nothing was kept."
                    )
                bar = _progress_bar(size) if progress else None
                while True:
                    # one read returns what has arrived (a slow server cannot hold it past the
                    # deadline), and never asks for more than one byte beyond the published size
                    chunk = response.read1(min(CHUNK, size - received + 1))
                    if not chunk:
                        break
                    if received + len(chunk) > size:
                        raise WeightsError(
                            f"{url} sent more than the published size of {size} bytes; the "
                            "transfer was stopped there and nothing was kept."
                        )
                    _remaining(stop_at, url, received, size)
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(received)
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
        if received != size:
            raise _Retryable(
                f"truncated transfer from {url}: received {received} bytes, expected {size}"
            )
        actual = digest.hexdigest()
        if actual != record["sha256"]:
            raise WeightsError(
                f"sha256 mismatch for {url}: expected {record['sha256']}, got {actual}; "
                "the downloaded file was deleted."
            )


def _progress_bar(total: int | None):
    # Keras loads only when a bar is shown: the download path stays standard library.
    from keras.utils import Progbar

    return Progbar(total, unit_name="B")
