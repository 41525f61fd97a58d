"""The only home of what Keras (or keras-tuner) does not offer publicly.

rnnzoo uses Keras' public API everywhere else. Each function here wraps one
use of a private name, says which versions were checked and why no public way
exists, and is pinned by a test in ``tests/test_compat.py`` that fails loudly
(naming this module) when a new Keras release changes it. Nothing else in the
package may touch a private Keras name; ``tests/test_layering.py`` checks that.

Checked with Keras 3.15.1 and keras-tuner 1.4.7 (the ranges ``pyproject.toml`` pins).
"""

from __future__ import annotations

__all__ = ["tensorboard_only_when_used"]

# --------------------------------------------------------------------------- layers

# --------------------------------------------------------------------------- export

# --------------------------------------------------------------------------- callbacks

# --------------------------------------------------------------------------- distribute

# --------------------------------------------------------------------------- tuning


def tensorboard_only_when_used(tuner_class):
    """A subclass of a keras-tuner tuner class that imports TensorBoard only when it is used.

    keras-tuner 1.4.7 calls ``Tuner._configure_tensorboard_dir`` for every trial,
    which imports ``tensorboard`` to patch a ``TensorBoard`` callback if there is
    one; TensorFlow 2.21 no longer installs tensorboard, so every trial would fail.
    keras-tuner has no public switch for this. Checked: keras-tuner 1.4.7.
    """

    class TensorBoardWhenUsed(tuner_class):
        def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
            if any(type(c).__name__ == "TensorBoard" for c in callbacks):
                super()._configure_tensorboard_dir(callbacks, trial, execution)

    TensorBoardWhenUsed.__name__ = TensorBoardWhenUsed.__qualname__ = tuner_class.__name__
    return TensorBoardWhenUsed
