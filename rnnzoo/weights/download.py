"""Downloading one published weight file: mirror, timeouts, retries, progress, sha256.

Only the standard library (``urllib``) talks to the network. A transfer is
written to a temporary file beside its destination (:func:`rnnzoo._io.atomic_path`),
its length and sha256 are checked, and only then is it renamed into place:
an interrupted or corrupted transfer never leaves a file that looks valid,
and several processes fetching the same file at once all end with one valid
copy. Network errors, timeouts, truncated transfers and 5xx/408/429 answers
are retried with exponential back-off; any other HTTP error, or a complete
transfer with the wrong sha256, fails at once with a message naming the URL.

Environment:

* ``RNNZOO_WEIGHTS_MIRROR``: an ``http(s)://`` or ``file://`` base that replaces
  the registered URLs;
* ``RNNZOO_OFFLINE=1``: no network call at all (``file://`` URLs are still read);
* ``RNNZOO_DOWNLOAD_TIMEOUT`` (seconds, default 30) and
  ``RNNZOO_DOWNLOAD_RETRIES`` (default 3): the defaults of ``timeout`` and ``retries``.

Example:

```python
timeout, retries = settings(None, None)
for url in urls(record):
    download(url, target, record, progress=False, timeout=timeout, retries=retries,
             backoff=1.0)
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

__all__ = ["CHUNK", "urls", "offline", "settings", "download"]

logger = logging.getLogger("rnnzoo.weights")

#: Bytes read (and hashed) at a time.
CHUNK = 1 << 16
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


def settings(timeout: float | None, retries: int | None) -> tuple[float, int]:
    """``(timeout, retries)`` with the environment's defaults, validated.

    Raises:
        ValueError: for a timeout that is not a positive finite number or a
            negative number of retries.
    """
    if timeout is None:
        timeout = float(os.environ.get("RNNZOO_DOWNLOAD_TIMEOUT", 30))
    if retries is None:
        retries = int(os.environ.get("RNNZOO_DOWNLOAD_RETRIES", 3))
    timeout = v.check_float("timeout", timeout, low=0, low_inclusive=False)
    retries = v.check_int("retries", retries, low=0)
    return timeout, retries


def download(url: str, target: pathlib.Path, record: dict, *, progress: bool,
             timeout: float, retries: int, backoff: float) -> None:
    """Downloads ``url`` to ``target`` atomically and verifies it; retries with back-off.

    Args:
        url: the file's URL (``http(s)://`` or ``file://``).
        target: where the verified file goes.
        record: the published record (``size`` and ``sha256`` are checked).
        progress: show a progress bar.
        timeout: seconds before a stalled connection fails.
        retries: extra attempts after a retryable failure.
        backoff: the first wait between attempts, in seconds (then doubled).

    Raises:
        WeightsError: naming the URL, when every attempt failed or the server
            answered an error that retrying cannot fix, or the bytes have
            another sha256.
    """
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
    """A failure that another attempt may not meet (network, timeout, truncation, 5xx)."""


def _download_once(url: str, target: pathlib.Path, record: dict, *, progress: bool,
                   timeout: float) -> None:
    with atomic_path(target) as tmp:
        digest = hashlib.sha256()
        received = 0
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "rnnzoo"})
            with urllib.request.urlopen(request, timeout=timeout) as response, \
                    open(tmp, "wb") as out:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else record.get("size")
                bar = _progress_bar(total) if progress else None
                while True:
                    chunk = response.read(CHUNK)
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


def _progress_bar(total: int | None):
    # Keras loads only when a bar is shown: the download path stays standard library.
    from keras.utils import Progbar

    return Progbar(total, unit_name="B")
