"""Data for the ``translation`` task: generated English -> French pairs, and TED talks.

Built-in data: sentences from a small English grammar and their French
translations, generated together so every pair is correct. The pair has the
structure that makes translation more than word substitution:

* reordering: colour adjectives follow the noun in French (``the small red cat``
  -> ``le petit chat rouge``), and negation wraps the verb (``does not see`` ->
  ``ne voit pas``);
* agreement: articles, possessives, demonstratives and adjectives agree with
  the noun's gender and number (``the white cow`` -> ``la vache blanche``,
  ``my white dogs`` -> ``mes chiens blancs``), verbs with the subject's number
  (``the cats eat`` -> ``les chats mangent``);
* one-to-many and many-to-one words: bare plurals take ``des`` (``cats`` ->
  ``des chats``), ``does not`` disappears into ``ne ... pas``, and after a
  negation ``a`` / ``des`` become ``de`` (``does not see a dog`` -> ``ne voit
  pas de chien``);
* clauses joined by ``and`` / ``but`` (``et`` / ``mais``) make long inputs.

A model that learned nothing scores near zero: the two languages share no
word, and the most frequent target sentence matches almost no test sentence.
Both vocabularies are fixed lists (every word the grammar can produce), so they
do not depend on the split or the number of examples.

Real data: ``ted_hrlr_translate`` (TED talk transcripts, by default Portuguese
-> English) through TensorFlow Datasets, with word-level vocabularies built on
the train split (see :func:`tfds_vocabularies`).
"""

from __future__ import annotations

import numpy as np

from rnnzoo.data import builtin_split, check_batch_size, check_split
from rnnzoo.text import build_vocabulary

__all__ = [
    "BUILTIN",
    "generate_pairs",
    "builtin_vocabularies",
    "encode_pairs",
    "to_dataset",
    "load_builtin",
    "load_tfds",
    "tfds_vocabularies",
]

BUILTIN = {
    "num_examples": {"train": 6000, "validation": 500, "test": 500},
    "min_clauses": 1,
    "max_clauses": 2,
    "seed": 2014,
}

# (english singular, english plural, french singular, french plural, gender)
_NOUNS = [
    ("cat", "cats", "chat", "chats", "m"),
    ("dog", "dogs", "chien", "chiens", "m"),
    ("horse", "horses", "cheval", "chevaux", "m"),
    ("duck", "ducks", "canard", "canards", "m"),
    ("boy", "boys", "garçon", "garçons", "m"),
    ("mouse", "mice", "souris", "souris", "f"),
    ("cow", "cows", "vache", "vaches", "f"),
    ("frog", "frogs", "grenouille", "grenouilles", "f"),
    ("goat", "goats", "chèvre", "chèvres", "f"),
    ("girl", "girls", "fille", "filles", "f"),
]
# english, then french (m sg, f sg, m pl, f pl)
_COLOURS = [
    ("red", ("rouge", "rouge", "rouges", "rouges")),
    ("black", ("noir", "noire", "noirs", "noires")),
    ("white", ("blanc", "blanche", "blancs", "blanches")),
    ("green", ("vert", "verte", "verts", "vertes")),
    ("grey", ("gris", "grise", "gris", "grises")),
    ("brown", ("brun", "brune", "bruns", "brunes")),
]
# adjectives that stay before the noun in French
_SIZES = [
    ("small", ("petit", "petite", "petits", "petites")),
    ("big", ("grand", "grande", "grands", "grandes")),
    ("pretty", ("joli", "jolie", "jolis", "jolies")),
    ("young", ("jeune", "jeune", "jeunes", "jeunes")),
]
# english 3rd singular, english plural, french 3rd singular, french 3rd plural
_VERBS = [
    ("sees", "see", "voit", "voient"),
    ("eats", "eat", "mange", "mangent"),
    ("follows", "follow", "suit", "suivent"),
    ("watches", "watch", "regarde", "regardent"),
    ("chases", "chase", "chasse", "chassent"),
    ("finds", "find", "trouve", "trouvent"),
]
_NUMBERS = [
    ("two", "deux"), ("three", "trois"), ("four", "quatre"), ("five", "cinq"),
    ("six", "six"), ("seven", "sept"), ("eight", "huit"), ("nine", "neuf"), ("ten", "dix"),
]
# determiner: english (sg, pl), french m sg, f sg, pl. None = not available.
_DETERMINERS = [
    (("the", "the"), ("le", "la", "les")),
    (("a", None), ("un", "une", None)),
    (("my", "my"), ("mon", "ma", "mes")),
    (("this", "these"), ("ce", "cette", "ces")),
    ((None, ""), (None, None, "des")),  # bare plural: "cats" -> "des chats"
]
_CONJUNCTIONS = [("and", "et"), ("but", "mais")]


def _form(forms: tuple, gender: str, plural: bool) -> str:
    return forms[(2 if plural else 0) + (1 if gender == "f" else 0)]


def _noun_phrase(rng: np.random.Generator) -> tuple[list[str], list[str], bool]:
    en_sg, en_pl, fr_sg, fr_pl, gender = _NOUNS[rng.integers(len(_NOUNS))]
    plural = bool(rng.random() < 0.45)
    choices = [d for d in _DETERMINERS if d[0][1 if plural else 0] is not None]
    (en_det_sg, en_det_pl), (fr_m, fr_f, fr_pl_det) = choices[rng.integers(len(choices))]
    en, fr = [], []
    en_det = en_det_pl if plural else en_det_sg
    if en_det:
        en.append(en_det)
    fr.append(fr_pl_det if plural else (fr_f if gender == "f" else fr_m))
    if plural and rng.random() < 0.4:
        en_num, fr_num = _NUMBERS[rng.integers(len(_NUMBERS))]
        en.append(en_num)
        fr.append(fr_num)
        if fr[0] == "des":  # "two cats" -> "deux chats", not "des deux chats"
            fr.pop(0)
    size = _SIZES[rng.integers(len(_SIZES))] if rng.random() < 0.4 else None
    colour = _COLOURS[rng.integers(len(_COLOURS))] if rng.random() < 0.5 else None
    if size:
        en.append(size[0])
        fr.append(_form(size[1], gender, plural))
    if colour:
        en.append(colour[0])
    en.append(en_pl if plural else en_sg)
    fr.append(fr_pl if plural else fr_sg)
    if colour:
        fr.append(_form(colour[1], gender, plural))
    return en, fr, plural


def _clause(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    subj_en, subj_fr, plural = _noun_phrase(rng)
    obj_en, obj_fr, _ = _noun_phrase(rng)
    en_3sg, en_pl, fr_3sg, fr_3pl = _VERBS[rng.integers(len(_VERBS))]
    fr_verb = fr_3pl if plural else fr_3sg
    if rng.random() < 0.25:
        verb_en = ["do" if plural else "does", "not", en_pl]
        verb_fr = ["ne", fr_verb, "pas"]
        if obj_fr[0] in ("un", "une", "des"):  # "pas de": a dependency across the verb
            obj_fr = ["de"] + obj_fr[1:]
    else:
        verb_en = [en_pl if plural else en_3sg]
        verb_fr = [fr_verb]
    return subj_en + verb_en + obj_en, subj_fr + verb_fr + obj_fr


def generate_pairs(
    num_examples: int,
    *,
    min_clauses: int = BUILTIN["min_clauses"],
    max_clauses: int = BUILTIN["max_clauses"],
    seed: int = 0,
) -> list[tuple[str, str]]:
    """Generates English -> French sentence pairs.

    Args:
        num_examples: number of pairs.
        min_clauses, max_clauses: each sentence has a uniformly drawn number of
            clauses in this range (joined by "and"/"but"); more clauses make
            longer inputs (about 5 to 13 words per clause).
        seed: the random seed; equal seeds give equal pairs.

    Returns:
        A list of ``(english, french)`` strings, words separated by spaces.

    Example:

    >>> generate_pairs(1, seed=1)
    [('the red mouse sees a goat', 'la souris rouge voit une chèvre')]
    """
    for name, value, low in (
        ("num_examples", num_examples, 1), ("min_clauses", min_clauses, 1),
        ("max_clauses", max_clauses, 1),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    if max_clauses < min_clauses:
        raise ValueError(
            f"`max_clauses` must be >= min_clauses={min_clauses}. Received: max_clauses={max_clauses}"
        )
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(int(num_examples)):
        n = int(rng.integers(min_clauses, max_clauses + 1))
        en, fr = _clause(rng)
        for _ in range(n - 1):
            conj_en, conj_fr = _CONJUNCTIONS[rng.integers(len(_CONJUNCTIONS))]
            more_en, more_fr = _clause(rng)
            en += [conj_en] + more_en
            fr += [conj_fr] + more_fr
        pairs.append((" ".join(en), " ".join(fr)))
    return pairs


def _all_words() -> tuple[list[str], list[str]]:
    en, fr = [], []
    for en_sg, en_pl, fr_sg, fr_pl, _ in _NOUNS:
        en += [en_sg, en_pl]
        fr += [fr_sg, fr_pl]
    for word, forms in _COLOURS + _SIZES:
        en.append(word)
        fr += list(forms)
    for verb in _VERBS:
        en += verb[:2]
        fr += verb[2:]
    for en_word, fr_word in _NUMBERS + _CONJUNCTIONS:
        en.append(en_word)
        fr.append(fr_word)
    for en_forms, fr_forms in _DETERMINERS:
        en += [w for w in en_forms if w]
        fr += [w for w in fr_forms if w]
    en += ["do", "does", "not"]
    fr += ["ne", "pas", "de"]
    return en, fr


def builtin_vocabularies():
    """The fixed word-level vocabularies of the built-in data.

    Returns:
        ``(source_vocabulary, target_vocabulary)``: English and French
        :class:`rnnzoo.text.Vocabulary` objects holding every word the
        generator can produce.
    """
    en, fr = _all_words()
    # dict.fromkeys keeps first occurrences in order: the vocabularies are fixed.
    return (
        build_vocabulary([" ".join(dict.fromkeys(en))], level="word"),
        build_vocabulary([" ".join(dict.fromkeys(fr))], level="word"),
    )


def encode_pairs(
    pairs,
    source_vocabulary,
    target_vocabulary,
    *,
    max_source_length: int | None = None,
    max_target_length: int | None = None,
) -> tuple[dict, np.ndarray]:
    """Encodes ``(source, target)`` strings for teacher forcing.

    The source is encoded as is; the target becomes ``target_in`` =
    ``<start> w1 .. wn`` and ``target_out`` = ``w1 .. wn <end>`` (the next token
    at every step), both padded with 0.

    Args:
        pairs: a sequence of ``(source, target)`` strings.
        source_vocabulary, target_vocabulary: :class:`rnnzoo.text.Vocabulary`.
        max_source_length, max_target_length: truncate longer sequences
            (``None``: the longest in ``pairs``; the target length counts the
            start/end token).

    Returns:
        ``({"source": int32 (N, S), "target_in": int32 (N, T)}, target_out int32 (N, T))``.

    Raises:
        ValueError: if ``pairs`` is empty or an item is not a pair of strings.
    """
    pairs = _check_pairs(pairs)
    sources = [source_vocabulary.encode(s) for s, _ in pairs]
    targets = [target_vocabulary.encode(t, add_start=True, add_end=True) for _, t in pairs]
    s_len = max_source_length or max(1, max(len(s) for s in sources))
    t_len = max_target_length or max(len(t) for t in targets) - 1
    source = np.zeros((len(pairs), s_len), np.int32)
    target_in = np.zeros((len(pairs), t_len), np.int32)
    target_out = np.zeros((len(pairs), t_len), np.int32)
    for i, (s, t) in enumerate(zip(sources, targets)):
        s = s[:s_len]
        source[i, : len(s)] = s
        t_in, t_out = t[:-1][:t_len], t[1:][:t_len]
        target_in[i, : len(t_in)] = t_in
        target_out[i, : len(t_out)] = t_out
    return {"source": source, "target_in": target_in}, target_out


def _check_pairs(pairs) -> list[tuple[str, str]]:
    if isinstance(pairs, (str, bytes)) or not hasattr(pairs, "__len__") or len(pairs) == 0:
        raise ValueError(
            "`pairs` must be a non-empty list of (source, target) strings. "
            f"Received: pairs={pairs!r:.200}"
        )
    out = []
    for i, item in enumerate(pairs):
        if (
            not isinstance(item, (tuple, list))
            or len(item) != 2
            or not all(isinstance(t, (str, bytes)) for t in item)
        ):
            raise ValueError(
                "`pairs` must be a list of (source, target) strings. "
                f"Received: pairs[{i}]={item!r:.200}"
            )
        out.append(tuple(t.decode("utf-8") if isinstance(t, bytes) else t for t in item))
    return out


def to_dataset(inputs: dict, targets: np.ndarray, *, batch_size: int, shuffle: bool,
               seed: int = 0):
    """Wraps encoded arrays in a batched, optionally shuffled ``tf.data.Dataset``."""
    import tensorflow as tf

    check_batch_size(batch_size)
    ds = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        ds = ds.shuffle(len(targets), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def load_builtin(
    split: str = "train",
    batch_size: int = 64,
    *,
    num_examples: int | None = None,
    min_clauses: int = BUILTIN["min_clauses"],
    max_clauses: int = BUILTIN["max_clauses"],
    seed: int = BUILTIN["seed"],
    shuffle: bool | None = None,
):
    """The built-in English -> French pairs as a batched ``tf.data.Dataset``.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (disjoint seeds).
        batch_size: examples per batch.
        num_examples: pairs in the split (defaults: 6000 / 500 / 500).
        min_clauses, max_clauses: see :func:`generate_pairs`.
        seed: base seed; each split derives its own from it.
        shuffle: shuffle every epoch (default: only the train split).

    Returns:
        A dataset of ``({"source": int32 (B, S), "target_in": int32 (B, T)},
        target_out int32 (B, T))``, ids of :func:`builtin_vocabularies`, padded
        with 0 to the longest sentence of the split.

    Example:

    >>> ds = rnnzoo.data.load("translation", split="test", batch_size=32)
    """
    num_examples, split_seed = builtin_split(split, batch_size, num_examples, seed, BUILTIN)
    pairs = generate_pairs(
        num_examples, min_clauses=min_clauses, max_clauses=max_clauses,
        seed=split_seed,
    )
    src_vocab, tgt_vocab = builtin_vocabularies()
    inputs, targets = encode_pairs(pairs, src_vocab, tgt_vocab)
    return to_dataset(inputs, targets, batch_size=batch_size,
                      shuffle=shuffle if shuffle is not None else split == "train", seed=seed)


_TFDS_SPLITS = {"train": "train", "validation": "validation", "test": "test"}
_VOCAB_CACHE: dict = {}


def _tfds_pairs(config: str, split: str, data_dir, download: bool, limit: int | None):
    import tensorflow_datasets as tfds

    ds = tfds.load(f"ted_hrlr_translate/{config}", split=_TFDS_SPLITS[split],
                   as_supervised=True, data_dir=data_dir, download=download)
    if limit is not None:
        ds = ds.take(limit)
    return [(s.decode("utf-8"), t.decode("utf-8")) for s, t in tfds.as_numpy(ds)]


def tfds_vocabularies(
    config: str = "pt_to_en",
    *,
    max_tokens: int = 8000,
    data_dir: str | None = None,
    download: bool = False,
    adapt_examples: int | None = None,
):
    """Word-level vocabularies of a ``ted_hrlr_translate`` pair, built on its train split.

    Build the model with them so its ids match :func:`load_tfds`:

    ```python
    src, tgt = rnnzoo.data.translation.tfds_vocabularies("pt_to_en")
    model = rnnzoo.build("translation", source_vocabulary=src, target_vocabulary=tgt)
    model.fit(rnnzoo.data.load("translation", source="tfds"))
    ```

    Args:
        config: the TFDS config, ``"<source>_to_<target>"`` (e.g. ``"pt_to_en"``).
        max_tokens: size of each vocabulary, reserved tokens included.
        data_dir: TFDS data directory.
        download: whether TFDS may download the dataset.
        adapt_examples: train pairs read to build them (``None``: all).

    Returns:
        ``(source_vocabulary, target_vocabulary)``.
    """
    key = (config, max_tokens, data_dir, adapt_examples)
    if key not in _VOCAB_CACHE:
        pairs = _tfds_pairs(config, "train", data_dir, download, adapt_examples)
        _VOCAB_CACHE[key] = (
            build_vocabulary([s for s, _ in pairs], level="word", max_tokens=max_tokens),
            build_vocabulary([t for _, t in pairs], level="word", max_tokens=max_tokens),
        )
    return _VOCAB_CACHE[key]


def load_tfds(
    split: str = "train",
    batch_size: int = 64,
    *,
    config: str = "pt_to_en",
    max_tokens: int = 8000,
    max_source_length: int = 64,
    max_target_length: int = 64,
    data_dir: str | None = None,
    download: bool = False,
    num_examples: int | None = None,
    adapt_examples: int | None = None,
    shuffle: bool | None = None,
):
    """TED talk translations (``ted_hrlr_translate``) as teacher-forcing batches.

    Sentences are tokenised at word level with :func:`tfds_vocabularies`
    (cached per process) and truncated to the given lengths.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        batch_size: examples per batch.
        config: the TFDS config, e.g. ``"pt_to_en"``, ``"ru_to_en"``.
        max_tokens: vocabulary size of each language.
        max_source_length, max_target_length: truncation lengths.
        data_dir: TFDS data directory.
        download: whether TFDS may download the dataset.
        num_examples: read only the first pairs of the split.
        adapt_examples: train pairs used for the vocabularies (``None``: all).
        shuffle: shuffle every epoch (default: only the train split).

    Returns:
        A dataset with the structure of :func:`load_builtin`; its attribute
        ``rnnzoo_build_options`` holds the vocabularies to build the model with
        (``rnnzoo.build("translation", **ds.rnnzoo_build_options)``).
    """
    check_split(split)
    check_batch_size(batch_size)
    src_vocab, tgt_vocab = tfds_vocabularies(
        config, max_tokens=max_tokens, data_dir=data_dir, download=download,
        adapt_examples=adapt_examples,
    )
    pairs = _tfds_pairs(config, split, data_dir, download, num_examples)
    src_len = min(max_source_length, max(len(src_vocab.tokenize(s)) for s, _ in pairs))
    tgt_len = min(max_target_length, max(len(tgt_vocab.tokenize(t)) + 1 for _, t in pairs))
    inputs, targets = encode_pairs(pairs, src_vocab, tgt_vocab, max_source_length=max(1, src_len),
                                   max_target_length=tgt_len)
    ds = to_dataset(inputs, targets, batch_size=batch_size,
                    shuffle=shuffle if shuffle is not None else split == "train")
    # what the model needs to read these ids (`rnnzoo train --source tfds` builds with it)
    ds.rnnzoo_build_options = {"source_vocabulary": src_vocab, "target_vocabulary": tgt_vocab}
    return ds
