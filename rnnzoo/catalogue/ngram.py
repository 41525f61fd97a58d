"""Count-based language models: the baselines beside a character language model.

:func:`unigram_perplexity` (token frequencies of the training texts, add-one
smoothed) and :func:`kneser_ney_perplexity` (interpolated Kneser-Ney of any
order, discount 0.75; Chen & Goodman 1998) score exactly the tokens a
``text_prediction`` model is scored on: every token of ``<start> text <end>``
but the first, of every test text, encoded by the model's vocabulary. Counting
and scoring are vectorised with numpy (an n-gram is one int64 key), so an
order-7 model of a few megabytes of text takes seconds.

Example:

```python
ppl = kneser_ney_perplexity(vocab, train_texts, test_texts, order=6)
```
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

__all__ = ["encode", "unigram_perplexity", "kneser_ney_model", "kneser_ney_perplexity"]

DISCOUNT = 0.75


def encode(vocabulary, texts: Iterable[str]) -> list[np.ndarray]:
    """Each text as the model sees it: ``<start> ids <end>`` (int64)."""
    return [np.asarray(vocabulary.encode(t, add_start=True, add_end=True), np.int64)
            for t in texts]


def unigram_perplexity(vocabulary, train: Sequence[str], test: Sequence[str]) -> float:
    """Perplexity of the add-one unigram model of ``train`` on the targets of ``test``."""
    size = len(vocabulary)
    counts = np.bincount(np.concatenate([ids[1:] for ids in encode(vocabulary, train)]),
                         minlength=size).astype(np.float64) + 1.0
    logp = np.log(counts / counts.sum())
    targets = np.concatenate([ids[1:] for ids in encode(vocabulary, test)])
    return float(np.exp(-logp[targets].mean()))


def _keys(ids: np.ndarray, starts: np.ndarray, k: int, base: int) -> np.ndarray:
    """The key of ``ids[s : s + k]`` for every start ``s`` (``s + k <= len(ids)``)."""
    key = np.zeros(len(starts), np.int64)
    for j in range(k):
        key = key * base + ids[starts + j]
    return key


def _table(keys: np.ndarray, values: np.ndarray | None = None):
    """Sorted unique keys and their summed values (counts when ``values`` is None)."""
    uniq, inverse = np.unique(keys, return_inverse=True)
    sums = np.bincount(inverse, weights=values, minlength=len(uniq))
    return uniq, sums


def _lookup(table, keys: np.ndarray) -> np.ndarray:
    uniq, sums = table
    if not len(uniq):
        return np.zeros(len(keys))
    pos = np.clip(np.searchsorted(uniq, keys), 0, len(uniq) - 1)
    return np.where(uniq[pos] == keys, sums[pos], 0.0)


def kneser_ney_model(vocabulary, train: Sequence[str], *, order: int = 5,
                     discount: float = DISCOUNT):
    """An interpolated Kneser-Ney ``order``-gram model of ``train``.

    The highest order uses counts, the lower orders continuation counts (in how
    many contexts a sequence follows something), interpolated down to a
    uniform distribution over the vocabulary, so every token has a probability.

    Returns:
        ``probabilities(ids) -> array``: the probability of ``ids[i]`` given
        the tokens before it, for ``i = 1 .. len(ids) - 1``.
    """
    size = len(vocabulary)
    base = 1 << int(np.ceil(np.log2(max(size, 2))))
    if order < 1 or order * np.log2(base) > 62:
        raise ValueError(
            f"`order` must be a positive integer whose n-gram keys fit in 62 bits "
            f"({int(62 // np.log2(base))} for this vocabulary). Received: order={order}"
        )
    corpus = np.concatenate(encode(vocabulary, train))
    count_tables, context_tables = {}, {}
    for k in range(1, order + 1):
        if k == order:  # counts
            table = _table(_keys(corpus, np.arange(len(corpus) - k + 1), k, base))
        else:  # continuation counts: distinct left neighbours of each k-gram
            longer = np.unique(_keys(corpus, np.arange(len(corpus) - k), k + 1, base))
            table = _table(longer % base ** k)
        count_tables[k] = table
        uniq, sums = table
        # per context (the k-1 first tokens): the total and the number of distinct next tokens
        context_tables[k] = (_table(uniq // base, sums), _table(uniq // base))

    def probabilities(ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, np.int64)
        targets = np.arange(1, len(ids))
        prob = np.full(len(targets), 1.0 / size)
        for k in range(1, order + 1):
            ok = targets - (k - 1) >= 0
            keys = _keys(ids, targets[ok] - (k - 1), k, base)
            count = _lookup(count_tables[k], keys)
            mass = _lookup(context_tables[k][0], keys // base)
            types = _lookup(context_tables[k][1], keys // base)
            lower = prob[ok]
            safe = np.where(mass > 0, mass, 1.0)
            interp = np.maximum(count - discount, 0.0) / safe + discount * types / safe * lower
            prob[ok] = np.where(mass > 0, interp, lower)
        return prob

    return probabilities


def kneser_ney_perplexity(vocabulary, train: Sequence[str], test: Sequence[str], *,
                          order: int = 5, discount: float = DISCOUNT) -> float:
    """Perplexity of :func:`kneser_ney_model` of ``train`` on the targets of ``test``."""
    model = kneser_ney_model(vocabulary, train, order=order, discount=discount)
    logs = [np.log(model(ids)) for ids in encode(vocabulary, test)]
    return float(np.exp(-np.concatenate(logs).mean()))
