"""Dropout for rnnzoo's recurrent cells: one input mask and one recurrent mask per sequence.

Keras' own cells get their dropout masks from a private mixin that only
``keras.layers.RNN`` knows about. rnnzoo's cells use :class:`DropoutMasks`
instead, built on the public ``keras.random.dropout`` and
``keras.random.SeedGenerator``:

- rnnzoo's RNN layers (``ABCSimpleRNN``, ``ClockworkRNN``) call
  :meth:`DropoutMasks.make_dropout_masks` in their ``call`` before the time
  loop and :meth:`DropoutMasks.clear_dropout_masks` after it, as
  ``keras.layers.RNN`` does for its own cells: the loop body draws nothing
  (which a compiled JAX loop needs), and every step of a sequence uses the
  same masks. Like Keras, the masks are drawn on every call, so the seed
  generator advances the same way in training and inference; they are
  applied in training only.
- A cell used on its own (``keras.layers.RNN(cell)``, or a loop of your own)
  draws this sequence's masks when asked for a fresh initial state
  (:meth:`DropoutMasks.start_sequence_masks`, from the cell's
  ``get_initial_state``), which ``keras.layers.RNN`` does before its loop at
  the start of every call without ``initial_state`` (not ``stateful``): each
  sequence gets new masks, the same ones Keras' own cells draw with the same
  seed, and on JAX the draw stays outside the compiled loop (a draw inside
  ``lax.scan`` would not advance the seed: the same masks on every call).
  Otherwise (an unbuilt cell, states passed in) the masks are drawn lazily
  at the first step. A loop that passes its own states should call
  ``make_dropout_masks``/``clear_dropout_masks`` around each sequence, as
  rnnzoo's layers do (on JAX, ``keras.layers.RNN(cell)`` called with
  ``initial_state`` and dropout needs them too).

Example:

```python
cell = ABCSimpleRNNCell(8, dropout=0.2, recurrent_dropout=0.2, seed=1)
cell.make_dropout_masks(x[:, 0, :])      # before the loop
y, states = cell(x[:, 0, :], states, training=True)
cell.clear_dropout_masks()               # after it
```
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["DropoutMasks"]


class DropoutMasks:
    """Mixin for a recurrent cell with ``units``: its dropout rates, seed and masks.

    The cell calls :meth:`set_dropout` in its ``__init__`` (``dropout``,
    ``recurrent_dropout``, ``seed``, ``seed_generator``) and adds
    :meth:`dropout_config` to its ``get_config``.

    The input mask has the shape of one step's input, the recurrent mask
    ``(batch, units)``; values are ``0`` or ``1 / (1 - rate)``, as in Keras'
    cells. See the module docstring for when they are drawn.
    """

    _input_mask = None
    _recurrent_mask = None
    _masks_made = False
    _masks_lazy = False

    def set_dropout(self, dropout: float, recurrent_dropout: float, seed: int | None) -> None:
        """Keeps the two rates and the seed, and makes ``seed_generator``.

        Call it in the cell's ``__init__``, after ``Layer.__init__``, with rates
        already checked.

        Args:
            dropout: fraction of the inputs dropped.
            recurrent_dropout: fraction of the previous state dropped.
            seed: seed of the masks.
        """
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def dropout_config(self) -> dict:
        """The ``dropout``, ``recurrent_dropout`` and ``seed`` entries of the cell's config."""
        return {"dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed}

    def make_dropout_masks(self, step_input) -> None:
        """Draws this sequence's masks (input mask first, as Keras does).

        Args:
            step_input: one step of the sequence, ``(batch, features)``.
        """
        seed = self.seed_generator
        self._input_mask = None if not self.dropout > 0 else keras.random.dropout(
            ops.ones_like(step_input), rate=self.dropout, seed=seed)
        self._recurrent_mask = None if not self.recurrent_dropout > 0 else keras.random.dropout(
            ops.ones((ops.shape(step_input)[0], self.units), dtype=self.compute_dtype),
            rate=self.recurrent_dropout, seed=seed)
        self._masks_made = True
        self._masks_lazy = False

    def clear_dropout_masks(self) -> None:
        """Forgets the masks: the next sequence gets new ones."""
        self._input_mask = None
        self._recurrent_mask = None
        self._masks_made = False
        self._masks_lazy = False

    def dropout_masks(self, step_input, training) -> tuple:
        """``(input mask, recurrent mask)`` to apply at this step; ``None`` for none.

        Nothing is applied outside training. Masks not made before the loop
        are drawn here, in training and inference alike, as Keras draws them
        (see the module docstring).

        Args:
            step_input: the step's input ``(batch, features)``.
            training: whether the layer is training.

        Returns:
            The two masks, each ``None`` when its rate is 0 or not training.
        """
        if self.dropout == 0 and self.recurrent_dropout == 0:
            return None, None
        # Lazy masks of an earlier call with another batch size are stale (eager loops).
        made = self._input_mask if self._input_mask is not None else self._recurrent_mask
        stale = self._masks_lazy and made is not None and made.shape[0] != step_input.shape[0]
        if not self._masks_made or stale:
            self.make_dropout_masks(step_input)
            self._masks_lazy = True
        if not training:
            return None, None
        return self._input_mask, self._recurrent_mask

    def drop_lazy_masks(self) -> None:
        """Forgets masks drawn lazily (called where a fresh state starts a sequence)."""
        if self._masks_lazy:
            self.clear_dropout_masks()

    def start_sequence_masks(self, batch_size, input_width: int | None) -> None:
        """Where a fresh state starts a sequence: new masks, drawn now, outside any loop.

        Masks made by the cell's layer for this call (:meth:`make_dropout_masks`)
        are kept; masks drawn lazily earlier are replaced. Nothing is drawn
        without dropout, or before the cell is built (``input_width`` None).

        Args:
            batch_size: the batch size the initial state is made for.
            input_width: the width of one step's input; None when unknown.
        """
        self.drop_lazy_masks()
        if self._masks_made or not (self.dropout > 0 or self.recurrent_dropout > 0):
            return
        if batch_size is None or input_width is None:
            return
        self.make_dropout_masks(ops.zeros((batch_size, input_width), dtype=self.compute_dtype))
        self._masks_lazy = True

