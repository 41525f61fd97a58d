"""Presets on the Hugging Face Hub: ``rnnzoo.build(preset="hf://owner/repo")``.

A Hub repository that holds a preset folder (:mod:`rnnzoo.catalogue.folder`,
uploaded as is) is read through the Hub's plain file URLs,
``$HF_ENDPOINT/<owner>/<repo>/resolve/<revision>/<file>`` (``HF_ENDPOINT``
defaults to ``https://huggingface.co``), so no Hub client is needed:

1. ``metadata.json`` is read first (at most 1 MB);
2. every file it lists is downloaded by :mod:`rnnzoo.weights.download` (the
   verified downloader of the published weights: timeouts, retries, atomic
   writes, its size and sha256 checked against ``metadata.json``) into
   ``$RNNZOO_HOME/presets/hf/<owner>/<repo>/<revision>/``; a file already
   there with the right sha256 is not downloaded again;
3. the folder is read by :func:`~rnnzoo.catalogue.folder.read_folder`, which
   checks every sha256 once more and never runs code from the preset.

``RNNZOO_OFFLINE=1`` makes no network call: a preset already downloaded is
used, anything else fails with a message saying so. ``hf://owner/repo@rev``
pins a revision (a branch, tag or commit; default ``main``).

Example:

```python
model = rnnzoo.build(preset="hf://someone/vowels-lstm")
```
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from rnnzoo import _io
from rnnzoo.catalogue.folder import METADATA, Preset, PresetError, read_folder
from rnnzoo.weights import download as dl
from rnnzoo.weights.cache import cache_dir, sha256_of
from rnnzoo.weights.registry import WeightsError

__all__ = ["PREFIX", "is_hub_address", "parse", "endpoint", "fetch_preset"]

PREFIX = "hf://"
DEFAULT_ENDPOINT = "https://huggingface.co"
MAX_METADATA_BYTES = 1 << 20
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def is_hub_address(value) -> bool:
    """Whether ``value`` is an ``hf://`` address."""
    return isinstance(value, str) and value.startswith(PREFIX)


def parse(address: str) -> tuple[str, str, str]:
    """``"hf://owner/repo@rev"`` -> ``("owner", "repo", "rev")`` (revision default ``main``).

    Raises:
        ValueError: for anything that is not ``hf://owner/repo[@revision]``.
    """
    rest = address[len(PREFIX):] if is_hub_address(address) else ""
    repo, _, revision = rest.partition("@")
    parts = repo.split("/")
    revision = revision or "main"
    if len(parts) != 2 or not all(_PART.match(p) for p in parts) \
            or not re.match(r"^[A-Za-z0-9._/-]{1,100}$", revision) or ".." in revision:
        raise ValueError(
            "`preset` must be hf://owner/repo or hf://owner/repo@revision. "
            f"Received: preset={address!r}"
        )
    return parts[0], parts[1], revision


def endpoint() -> str:
    """The Hub's base URL: ``$HF_ENDPOINT`` or ``https://huggingface.co``."""
    base = os.environ.get("HF_ENDPOINT", "").strip() or DEFAULT_ENDPOINT
    if urllib.parse.urlparse(base).scheme not in ("http", "https"):
        raise ValueError(f"`HF_ENDPOINT` must be an http(s):// URL. Received: HF_ENDPOINT={base!r}")
    return base.rstrip("/")


def _url(owner: str, repo: str, revision: str, name: str) -> str:
    quoted = urllib.parse.quote(revision, safe="")
    return f"{endpoint()}/{owner}/{repo}/resolve/{quoted}/{urllib.parse.quote(name)}"


def _read_metadata(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "rnnzoo"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read(MAX_METADATA_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise WeightsError(f"HTTP {exc.code} {exc.reason} from {url}: is the repository "
                           "public and does it hold an rnnzoo preset?") from None
    except (urllib.error.URLError, OSError) as exc:
        raise WeightsError(f"Could not reach {url}: {getattr(exc, 'reason', exc)}") from None
    if len(data) > MAX_METADATA_BYTES:
        raise PresetError(f"{url} is larger than {MAX_METADATA_BYTES} bytes: not a preset.")
    return data


def fetch_preset(address: str, *, timeout: float | None = None,
                 retries: int | None = None) -> Preset:
    """Downloads (or finds in the cache) the preset at ``address`` and reads it.

    Args:
        address: ``hf://owner/repo[@revision]``.
        timeout, retries: as in :func:`rnnzoo.weights.fetch`.

    Returns:
        The verified :class:`~rnnzoo.catalogue.folder.Preset`.

    Raises:
        ValueError: a malformed address.
        WeightsError: the Hub cannot be reached or a download failed.
        PresetError: the repository does not hold a valid preset, or a file
            does not match its sha256.
    """
    owner, repo, revision = parse(address)
    folder = cache_dir().parent / "presets" / "hf" / owner / repo / revision.replace("/", "--")
    if dl.offline():
        if (folder / METADATA).is_file():
            return read_folder(folder, name=address, source="hf")
        raise WeightsError(
            f"RNNZOO_OFFLINE=1 and the preset {address} is not in the cache ({folder}). Load it "
            "once on a machine with network and copy that folder, or unset RNNZOO_OFFLINE."
        )
    timeout, retries, deadline = dl.settings(timeout, retries)
    stop_at = time.monotonic() + deadline  # RNNZOO_DOWNLOAD_DEADLINE: the whole preset
    raw = _read_metadata(_url(owner, repo, revision, METADATA), timeout)
    try:
        metadata = json.loads(raw.decode("utf-8"))
        files = dict(metadata["files"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise PresetError(f"{address} has no valid {METADATA} (an rnnzoo preset lists its "
                          "files there).") from None
    folder.mkdir(parents=True, exist_ok=True)
    for name, entry in files.items():
        if not isinstance(name, str) or not _PART.match(name) or name == METADATA:
            raise PresetError(f"{address} lists a file name rnnzoo will not write: {name!r}.")
        target = pathlib.Path(folder, name)
        record = {"file_name": name, "sha256": entry.get("sha256"), "size": entry.get("size")}
        if target.is_file() and sha256_of(target) == record["sha256"]:
            continue
        dl.download(_url(owner, repo, revision, name), target, record, progress=False,
                    timeout=timeout, retries=retries, backoff=1.0, stop_at=stop_at)
    _io.atomic_write_bytes(folder / METADATA, raw)  # last: the folder is complete
    return read_folder(folder, name=address, source="hf")
