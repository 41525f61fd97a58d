"""Pretrained weights: the registry of published files, a verified cache, and loading.

``rnnzoo.build(task, weights=...)`` accepts:

* ``None``: random initialisation (the default);
* ``"pretrained"``: the task's published tutorial model (see ``rnnzoo weights list``);
* a published name: ``"<task>_tutorial"`` or a preset of the catalogue
  (``rnnzoo.presets()``), whose record names its task;
* a path to a local ``.keras`` or ``.weights.h5`` file.

One job per module, each importing only those before it:

- :mod:`~rnnzoo.weights.registry`: the records of ``rnnzoo/weights_registry.json``
  (file, sha256, size, URLs, licence, dataset, metrics, the published options);
- :mod:`~rnnzoo.weights.download`: one file over HTTP(S) or ``file://``, with a
  mirror, timeouts, retries with back-off, a progress bar, sha256 always checked
  and an atomic rename (standard library only);
- :mod:`~rnnzoo.weights.cache`: where a file comes from, in order: the cache
  (``$RNNZOO_HOME/weights``), the copy bundled in the package, a download;
  :func:`fetch`, :func:`verify`, :func:`copy_to`;
- :mod:`~rnnzoo.weights.load`: :func:`load_into`, which ``build`` calls to copy
  a file's weights into a fresh model (partial loads into a new head, a
  :class:`LoadReport`, ``freeze_encoder``).

**Where "pretrained" comes from.** Every published file is committed in
``rnnzoo/assets/weights/`` and ships inside the package; those same bytes are
the release assets behind the registered URLs, so a normal install never
downloads. ``RNNZOO_OFFLINE=1`` makes zero network calls; a miss then fails
with a message naming the file, its sha256 and how to put it in the cache.

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

Example:

```python
model = rnnzoo.build("classification", weights="pretrained")
model = rnnzoo.build("classification", weights="pretrained", num_classes=6,
                     freeze_encoder=True)          # new head, frozen encoder
print(model.rnnzoo_weights_report.skipped)         # ['classifier/kernel', 'classifier/bias']
path = rnnzoo.weights.fetch("classification")      # a verified local file
```
"""

from rnnzoo.weights.registry import (
    BUNDLED_DIR,
    DEFAULT_BASE_URL,
    REGISTRY_PATH,
    WeightsError,
    get_record,
    published_options,
    record_name,
    records,
)
from rnnzoo.weights.cache import cache_dir, copy_to, fetch, sha256_of, verify
from rnnzoo.weights.load import FREE_OPTIONS, LoadReport, load_into, load_model_file

__all__ = [
    "LoadReport",
    "WeightsError",
    "REGISTRY_PATH",
    "BUNDLED_DIR",
    "DEFAULT_BASE_URL",
    "FREE_OPTIONS",
    "records",
    "get_record",
    "record_name",
    "published_options",
    "cache_dir",
    "fetch",
    "verify",
    "copy_to",
    "sha256_of",
    "load_into",
    "load_model_file",
]
