"""The only home of what Keras (or keras-tuner) does not offer publicly.

rnnzoo uses Keras' public API everywhere else. Each function here wraps one
use of a private name, says which versions were checked and why no public way
exists, and is pinned by a test in ``tests/test_compat.py`` that fails loudly
(naming this module) when a new Keras release changes it. Nothing else in the
package may touch a private Keras name; ``tests/test_layering.py`` checks that.

Checked with Keras 3.15.1 and keras-tuner 1.4.7 (the ranges ``pyproject.toml`` pins).
"""

from __future__ import annotations

__all__: list[str] = []

# --------------------------------------------------------------------------- layers

# --------------------------------------------------------------------------- export

# --------------------------------------------------------------------------- callbacks

# --------------------------------------------------------------------------- distribute

# --------------------------------------------------------------------------- tuning
