"""The presets catalogue (KerasHub conventions): named models trained on real data.

```python
rnnzoo.presets("classification")                      # name, dataset, metric, baselines, size
model = rnnzoo.build(preset="classification_tutorial")        # a catalogue name
model = rnnzoo.build("classification", weights="classification_tutorial")
rnnzoo.save_preset(model, "my_preset")                # a folder anyone can share
model = rnnzoo.build(preset="my_preset")              # ... and load, sha256-checked
model = rnnzoo.build(preset="hf://owner/repo")        # from the Hugging Face Hub
```

One job per module, each importing only those before it:

- :mod:`~rnnzoo.catalogue.table`: the catalogue as plain data (task, dataset,
  split, options, training recipe, which baselines);
- :mod:`~rnnzoo.catalogue.folder`: preset folders, :func:`save_preset` and
  :func:`read_folder` (every file's sha256 checked, no code run);
- :mod:`~rnnzoo.catalogue.hub`: ``hf://`` addresses, downloaded through the
  verified weights downloader;
- :mod:`~rnnzoo.catalogue.listing`: :func:`presets` (the catalogue joined
  with the measured figures of the weights registry) and :func:`resolve`;
- :mod:`~rnnzoo.catalogue.baselines` and :mod:`~rnnzoo.catalogue.training`:
  the published or computed baselines beside each preset and its training
  recipe (used by ``tools/train_zoo.py`` and ``rnnzoo demo --real``).

The weight files themselves go through :mod:`rnnzoo.weights` (registry JSON,
sha256, bundled copies, cache, download), under the preset's name.
"""

from rnnzoo.catalogue.folder import Preset, PresetError, read_folder, save_preset
from rnnzoo.catalogue.listing import get_preset, preset_names, presets, resolve
from rnnzoo.catalogue.table import PRESETS

__all__ = [
    "PRESETS",
    "Preset",
    "PresetError",
    "presets",
    "get_preset",
    "preset_names",
    "resolve",
    "save_preset",
    "read_folder",
]
