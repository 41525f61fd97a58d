"""Data for the ``text_prediction`` task: a generated English-like corpus and Tiny Shakespeare.

Built-in ("toy English"): sentences drawn from a small probabilistic grammar
written for rnnzoo (so it is free of any licence question), deterministic for
a seed. It has real structure at every scale a language model can learn:
spelling (characters inside ~90 words), word order (determiner, adjectives,
noun, verb, object, adverb) and a long-range dependency, subject-verb number
agreement across prepositional phrases and relative clauses (``"The dogs near
the old mill that the fox follows run."``). A model that learned nothing
scores the uniform perplexity (the vocabulary size); a unigram model about 20
at character level; a recurrent model far less.

Real data: ``tiny_shakespeare`` from TensorFlow Datasets (about 1 MB of
Shakespeare's plays, character level by default).

Every example is a text turned into ``<start> tokens <end>``, cut into windows
of ``sequence_length + 1`` ids (consecutive windows share one id so every token
is predicted once), padded with 0; a batch is ``(inputs, targets)`` with
``inputs = window[:-1]`` and ``targets = window[1:]``, both int32
``(B, sequence_length)``. Padding targets (0) are skipped by the loss.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from rnnzoo.data import builtin_split, check_batch_size, check_split
from rnnzoo.text import PAD_ID, RESERVED_TOKENS, Vocabulary, as_vocabulary, build_vocabulary

__all__ = [
    "BUILTIN",
    "generate_sentences",
    "default_vocabulary",
    "make_windows",
    "make_dataset",
    "load_builtin",
    "load_tfds",
    "tfds_vocabulary",
    "unigram_perplexity",
]

BUILTIN = {
    "level": "char",
    "sequence_length": 64,
    "num_examples": {"train": 4000, "validation": 500, "test": 500},
    "seed": 2024,
}

# ----------------------------------------------------------------- the grammar
_NOUNS = [  # (singular, plural)
    ("cat", "cats"), ("dog", "dogs"), ("fox", "foxes"), ("bird", "birds"),
    ("child", "children"), ("farmer", "farmers"), ("king", "kings"), ("queen", "queens"),
    ("horse", "horses"), ("teacher", "teachers"), ("wolf", "wolves"), ("sailor", "sailors"),
]
_PLACES = ["river", "garden", "forest", "village", "old mill", "hill", "bridge", "market"]
_ADJECTIVES = ["old", "small", "happy", "quiet", "brave", "clever", "hungry", "little", "red"]
_TRANSITIVE = [  # (singular, plural)
    ("sees", "see"), ("likes", "like"), ("follows", "follow"), ("helps", "help"),
    ("watches", "watch"), ("finds", "find"), ("calls", "call"),
]
_INTRANSITIVE = [
    ("sleeps", "sleep"), ("runs", "run"), ("sings", "sing"), ("waits", "wait"),
    ("laughs", "laugh"), ("dances", "dance"),
]
_ADVERBS = ["quietly", "today", "again", "at night", "every morning", "slowly", "together"]
_PREPOSITIONS = ["near", "in", "behind", "under", "across"]
_DETERMINERS = {False: ["the", "a", "every", "this"], True: ["the", "some", "many", "these"]}


def _choice(rng, items):
    return items[int(rng.integers(len(items)))]


def _noun_phrase(rng, plural: bool, depth: int) -> str:
    words = [_choice(rng, _DETERMINERS[plural])]
    if rng.random() < 0.4:
        words.append(_choice(rng, _ADJECTIVES))
    words.append(_choice(rng, _NOUNS)[int(plural)])
    if depth < 1 and rng.random() < 0.3:
        words += [_choice(rng, _PREPOSITIONS), "the", _choice(rng, _PLACES)]
    if depth < 1 and rng.random() < 0.25:
        # relative clause: "that the fox follows" / "that follow the king"
        if rng.random() < 0.5:
            other = bool(rng.random() < 0.5)
            words += ["that", _noun_phrase(rng, other, depth + 1),
                      _choice(rng, _TRANSITIVE)[int(other)]]
        else:
            words += ["that", _choice(rng, _TRANSITIVE)[int(plural)],
                      _noun_phrase(rng, bool(rng.random() < 0.5), depth + 1)]
    text = " ".join(words)
    if words[0] == "a" and words[1][0] in "aeiou":
        text = "an" + text[1:]
    return text


def _sentence(rng) -> str:
    plural = bool(rng.random() < 0.5)
    subject = _noun_phrase(rng, plural, 0)
    if rng.random() < 0.6:
        verb = _choice(rng, _TRANSITIVE)[int(plural)]
        rest = [verb, _noun_phrase(rng, bool(rng.random() < 0.5), 1)]
    else:
        rest = [_choice(rng, _INTRANSITIVE)[int(plural)]]
    if rng.random() < 0.35:
        rest.append(_choice(rng, _ADVERBS))
    text = " ".join([subject, *rest])
    return text[0].upper() + text[1:] + "."


def generate_sentences(num_examples: int, *, seed: int = 0) -> list[str]:
    """Sentences of the built-in toy-English grammar.

    Args:
        num_examples: number of sentences.
        seed: the random seed; equal seeds give equal sentences.

    Returns:
        A list of strings, each a capitalised sentence ending with ``"."``.

    Example:

    >>> generate_sentences(2, seed=0)[0][0].isupper()
    True
    """
    if not isinstance(num_examples, (int, np.integer)) or isinstance(num_examples, bool) or (
        num_examples < 1
    ):
        raise ValueError(
            f"`num_examples` must be a positive integer. Received: num_examples={num_examples!r}"
        )
    rng = np.random.default_rng(seed)
    return [_sentence(rng) for _ in range(int(num_examples))]


def _grammar_words() -> list[str]:
    words = []
    for group in (_DETERMINERS[False], _DETERMINERS[True], ["an", "that"], _ADJECTIVES,
                  [w for pair in _NOUNS for w in pair], [w for pair in _TRANSITIVE for w in pair],
                  [w for pair in _INTRANSITIVE for w in pair], _PREPOSITIONS,
                  " ".join(_PLACES).split(), " ".join(_ADVERBS).split(), ["."]):
        for w in group:
            if w not in words:
                words.append(w)
    return words


# Printable ASCII plus newline: covers the built-in corpus and Tiny Shakespeare.
_CHARS = ["\n"] + [chr(c) for c in range(32, 127)]


def default_vocabulary(level: str = "char") -> Vocabulary:
    """The vocabulary of the built-in data (and of the char-level ``tiny_shakespeare``).

    Args:
        level: ``"char"``: printable ASCII and newline (100 tokens with the
            reserved ones); ``"word"``: the grammar's lower-case words and ``"."``.

    Returns:
        A :class:`rnnzoo.text.Vocabulary`.
    """
    if level == "char":
        return Vocabulary(list(RESERVED_TOKENS) + _CHARS, level="char", lowercase=False)
    if level == "word":
        return Vocabulary(list(RESERVED_TOKENS) + _grammar_words(), level="word", lowercase=True)
    raise ValueError(f"`level` must be one of ['char', 'word']. Received: level={level!r}")


# ----------------------------------------------------------------- windowing
def _check_positive(name: str, value) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def make_windows(
    vocabulary: Vocabulary, texts: Iterable[str] | str, sequence_length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Turns raw texts into next-token ``(inputs, targets)`` arrays.

    Each text becomes ``<start> ids <end>`` and is cut into windows of
    ``sequence_length + 1`` ids that overlap by one, so every token is a target
    exactly once; the last window of a text is padded with ``PAD_ID``.

    Args:
        vocabulary: the vocabulary that encodes the texts.
        texts: a string or an iterable of strings.
        sequence_length: steps per example.

    Returns:
        ``(inputs, targets)``: int32 arrays ``(N, sequence_length)``.

    Raises:
        ValueError: if ``texts`` is empty or ``sequence_length`` is not positive.
    """
    sequence_length = _check_positive("sequence_length", sequence_length)
    if isinstance(texts, (str, bytes)):
        texts = [texts]
    rows = []
    span = sequence_length + 1
    count = 0
    for text in texts:
        count += 1
        ids = vocabulary.encode(text, add_start=True, add_end=True)
        for begin in range(0, max(len(ids) - 1, 1), sequence_length):
            chunk = ids[begin : begin + span]
            if len(chunk) < 2:
                continue
            row = np.full((span,), PAD_ID, dtype=np.int32)
            row[: len(chunk)] = chunk
            rows.append(row)
    if not count:
        raise ValueError("`texts` must contain at least one string. Received an empty collection.")
    windows = np.stack(rows) if rows else np.zeros((0, span), np.int32)
    return windows[:, :-1].copy(), windows[:, 1:].copy()


def make_dataset(
    vocabulary: Vocabulary,
    texts: Iterable[str] | str,
    *,
    batch_size: int = 32,
    sequence_length: int = 64,
    shuffle: bool = False,
    seed: int | None = None,
):
    """Raw texts as a batched ``tf.data.Dataset`` of ``(inputs, targets)``.

    Args:
        vocabulary: the model's vocabulary.
        texts: a string or an iterable of strings.
        batch_size: examples per batch.
        sequence_length: steps per example (see :func:`make_windows`).
        shuffle: shuffle the windows every epoch.
        seed: the shuffle seed.

    Returns:
        A ``tf.data.Dataset`` of int32 ``(inputs, targets)``, each ``(B, sequence_length)``.
    """
    import tensorflow as tf

    check_batch_size(batch_size)
    x, y = make_windows(vocabulary, texts, sequence_length)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(max(len(x), 1), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _resolve_vocabulary(vocabulary, level: str) -> Vocabulary:
    if vocabulary is None:
        return default_vocabulary(level)
    return as_vocabulary(vocabulary)


def load_builtin(
    split: str = "train",
    batch_size: int = 64,
    *,
    num_examples: int | None = None,
    sequence_length: int = BUILTIN["sequence_length"],
    level: str = BUILTIN["level"],
    vocabulary: Vocabulary | Sequence[str] | None = None,
    seed: int = BUILTIN["seed"],
    shuffle: bool | None = None,
):
    """The built-in toy-English corpus as a batched ``tf.data.Dataset``.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (disjoint seeds).
        batch_size: examples per batch.
        num_examples: sentences in the split (defaults 4000 / 500 / 500).
        sequence_length: steps per example.
        level: ``"char"`` or ``"word"`` (ignored when ``vocabulary`` is given).
        vocabulary: encode with this vocabulary instead of the default one
            (pass ``model.vocabulary``).
        seed: base seed; each split derives its own.
        shuffle: shuffle every epoch (default: only the train split).

    Returns:
        A dataset of int32 ``(inputs (B, sequence_length), targets (B, sequence_length))``.
    """
    num_examples, split_seed = builtin_split(split, batch_size, num_examples, seed, BUILTIN)
    vocab = _resolve_vocabulary(vocabulary, level)
    texts = generate_sentences(num_examples, seed=split_seed)
    if shuffle is None:
        shuffle = split == "train"
    return make_dataset(vocab, texts, batch_size=batch_size, sequence_length=sequence_length,
                        shuffle=shuffle, seed=seed)


_TFDS_SPLITS = {"train": "train", "validation": "validation", "test": "test"}
_TFDS_VOCAB_CACHE: dict = {}


def _tfds_text(split: str, data_dir: str | None, download: bool) -> str:
    import tensorflow_datasets as tfds

    ds = tfds.load("tiny_shakespeare", split=_TFDS_SPLITS[split], data_dir=data_dir,
                   download=download)
    pieces = []
    for example in tfds.as_numpy(ds):
        text = example["text"]
        pieces.append(text.decode("utf-8") if isinstance(text, bytes) else str(text))
    return "\n".join(pieces)


def tfds_vocabulary(
    level: str = "char",
    *,
    max_tokens: int | None = 10000,
    data_dir: str | None = None,
    download: bool = False,
) -> Vocabulary:
    """The vocabulary :func:`load_tfds` uses for ``tiny_shakespeare`` at ``level``.

    Character level is :func:`default_vocabulary` (``"char"``), the same as the
    built-in data's; word level is built from the train split (cached per process).
    Build the model with it: ``rnnzoo.build("text_prediction", vocabulary=vocab)``.
    """
    if level == "char":
        return default_vocabulary("char")
    if level != "word":
        raise ValueError(f"`level` must be one of ['char', 'word']. Received: level={level!r}")
    key = (max_tokens, data_dir)
    if key not in _TFDS_VOCAB_CACHE:
        _TFDS_VOCAB_CACHE[key] = build_vocabulary(
            [_tfds_text("train", data_dir, download)], level="word", max_tokens=max_tokens
        )
    return _TFDS_VOCAB_CACHE[key]


def load_tfds(
    split: str = "train",
    batch_size: int = 64,
    *,
    sequence_length: int = 100,
    level: str = "char",
    vocabulary: Vocabulary | Sequence[str] | None = None,
    max_tokens: int | None = 10000,
    data_dir: str | None = None,
    download: bool = False,
    shuffle: bool | None = None,
    seed: int = 0,
):
    """Tiny Shakespeare (``tiny_shakespeare``) as next-token batches.

    Each split is one long text, cut into windows of ``sequence_length``.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (TFDS' own splits).
        batch_size: examples per batch.
        sequence_length: steps per example.
        level: ``"char"`` (default vocabulary, matches ``rnnzoo.build("text_prediction")``)
            or ``"word"`` (vocabulary from :func:`tfds_vocabulary`).
        vocabulary: encode with this vocabulary instead.
        max_tokens: word level: vocabulary size.
        data_dir: TFDS data directory.
        download: whether TFDS may download the dataset.
        shuffle: shuffle every epoch (default: only the train split).
        seed: the shuffle seed.

    Returns:
        A dataset of int32 ``(inputs, targets)``, each ``(B, sequence_length)``.
    """
    check_split(split)
    check_batch_size(batch_size)
    if vocabulary is None:
        vocab = tfds_vocabulary(level, max_tokens=max_tokens, data_dir=data_dir,
                                download=download)
    else:
        vocab = as_vocabulary(vocabulary)
    text = _tfds_text(split, data_dir, download)
    if shuffle is None:
        shuffle = split == "train"
    return make_dataset(vocab, [text], batch_size=batch_size, sequence_length=sequence_length,
                        shuffle=shuffle, seed=seed)


def unigram_perplexity(targets: np.ndarray | Iterable) -> float:
    """Perplexity of the best unigram model of ``targets`` (their own frequencies).

    Padding (``PAD_ID``) is skipped. This is a lower bound for every unigram
    model, so a language model that beats it has learned context.

    Args:
        targets: target ids, any shape (or an iterable of arrays).

    Returns:
        ``exp(entropy)`` of the target distribution.
    """
    if not isinstance(targets, np.ndarray):
        targets = np.concatenate([np.asarray(t).reshape(-1) for t in targets])
    ids = targets.reshape(-1)
    ids = ids[ids != PAD_ID]
    if ids.size == 0:
        raise ValueError("`targets` must contain at least one non-padding id.")
    counts = np.bincount(ids).astype(np.float64)
    probs = counts[counts > 0] / ids.size
    return float(np.exp(-(probs * np.log(probs)).sum()))

