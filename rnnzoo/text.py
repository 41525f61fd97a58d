"""Text handling for the generative tasks: a vocabulary that travels with the model.

A :class:`Vocabulary` maps raw strings (any script: text is NFC-normalised
Unicode) to token ids and back, at character or word level. Ids 0..3 are the
reserved tokens ``<pad>``, ``<start>``, ``<end>`` and ``<unk>``; every other
token follows, most frequent first. A vocabulary is a plain, JSON-friendly
object (``get_config`` / ``from_config``), registered with Keras so a model
that stores it in its own config restores it when a ``.keras`` file is loaded.

Example:

```python
vocab = rnnzoo.text.build_vocabulary(["Déjà vu.", "naïve café"], level="char")
ids = vocab.encode("café", add_start=True, add_end=True)   # [1, ..., 2]
vocab.decode(ids)                                          # 'café'
```
"""

from __future__ import annotations

import collections
import re
import unicodedata
from typing import Any, Iterable, Iterator, Sequence

import keras
import numpy as np

__all__ = [
    "RESERVED_TOKENS",
    "PAD_ID",
    "START_ID",
    "END_ID",
    "UNK_ID",
    "LEVELS",
    "Vocabulary",
    "build_vocabulary",
    "as_vocabulary",
]

RESERVED_TOKENS = ("<pad>", "<start>", "<end>", "<unk>")
PAD_ID, START_ID, END_ID, UNK_ID = 0, 1, 2, 3
LEVELS = ("char", "word")

# A word is a run of word characters (letters and digits of any script, and "_");
# every other non-space character is a token of its own (punctuation, symbols).
_WORD_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def _check_level(level: Any) -> str:
    if level not in LEVELS:
        raise ValueError(f"`level` must be one of {list(LEVELS)}. Received: level={level!r}")
    return level


def _normalise(text: Any, lowercase: bool, argument: str = "text") -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if not isinstance(text, str):
        raise ValueError(
            f"`{argument}` must be a string (str or UTF-8 bytes). "
            f"Received: {argument}={text!r} of type {type(text).__name__}"
        )
    text = unicodedata.normalize("NFC", text)
    return text.lower() if lowercase else text


@keras.saving.register_keras_serializable(package="rnnzoo")
class Vocabulary:
    """A token vocabulary with reserved ``<pad>``, ``<start>``, ``<end>``, ``<unk>`` ids.

    Args:
        tokens: the tokens, id = position. If they do not start with
            :data:`RESERVED_TOKENS`, the reserved tokens are put first (and
            removed from the rest).
        level: ``"char"`` (a token is one character) or ``"word"`` (words and
            punctuation marks).
        lowercase: whether text is lower-cased before tokenising.

    Raises:
        ValueError: for an unknown level, a non-string or empty token, or a
            token given twice.

    Example:

    >>> vocab = Vocabulary(["a", "b"], level="char")
    >>> vocab.encode("abc")
    [4, 5, 3]
    """

    def __init__(self, tokens: Sequence[str], level: str = "char", lowercase: bool = False):
        _check_level(level)
        if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)):
            raise ValueError(
                f"`tokens` must be a list of strings. Received: tokens={tokens!r}"
            )
        if not isinstance(lowercase, bool):
            raise ValueError(f"`lowercase` must be True or False. Received: lowercase={lowercase!r}")
        tokens = list(tokens)
        for token in tokens:
            if not isinstance(token, str) or not token:
                raise ValueError(
                    f"`tokens` must be non-empty strings. Received the token {token!r}."
                )
        if tuple(tokens[: len(RESERVED_TOKENS)]) != RESERVED_TOKENS:
            tokens = list(RESERVED_TOKENS) + [t for t in tokens if t not in RESERVED_TOKENS]
        seen = set()
        for token in tokens:
            if token in seen:
                raise ValueError(
                    f"`tokens` must not repeat a token. Received {token!r} twice."
                )
            seen.add(token)
        self.tokens = tokens
        self.level = level
        self.lowercase = lowercase
        self._index = {token: i for i, token in enumerate(tokens)}

    # ------------------------------------------------------------------ basics
    # A vocabulary is the sequence of its tokens, id = position, like Keras'
    # TextVectorization.get_vocabulary(): len, iteration, `in`, indexing, slicing,
    # index() and count(). (It is not registered as a collections.abc.Sequence, so
    # tf.nest and keras.tree keep treating it as one leaf.)
    def __len__(self) -> int:
        return len(self.tokens)

    def __iter__(self) -> Iterator[str]:
        return iter(self.tokens)

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and token in self._index

    def __getitem__(self, index: int | slice) -> str | list[str]:
        """The token with id ``index`` (negative ids count from the end), or a list for a slice."""
        if isinstance(index, slice):
            return self.tokens[index]
        if isinstance(index, (int, np.integer)) and not isinstance(index, (bool, np.bool_)):
            return self.tokens[int(index)]
        raise TypeError(
            f"Vocabulary indices must be integers or slices (ids), not {type(index).__name__}; "
            "use token_to_id() for a token's id."
        )

    def __reversed__(self) -> Iterator[str]:
        return reversed(self.tokens)

    def index(self, token: str) -> int:
        """The id of ``token``, like ``list.index``.

        Raises:
            ValueError: if ``token`` is not in the vocabulary (``token_to_id``
                returns ``UNK_ID`` instead).
        """
        if token not in self:
            raise ValueError(f"{token!r} is not in the vocabulary.")
        return self._index[token]

    def count(self, token: str) -> int:
        """1 if ``token`` is in the vocabulary, else 0 (a token appears once)."""
        return int(token in self)

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, Vocabulary)
            and self.tokens == other.tokens
            and self.level == other.level
            and self.lowercase == other.lowercase
        )

    def __hash__(self) -> int:
        return hash((tuple(self.tokens), self.level, self.lowercase))

    def __repr__(self) -> str:
        preview = ", ".join(repr(t) for t in self.tokens[len(RESERVED_TOKENS):][:8])
        return (
            f"Vocabulary(size={len(self)}, level={self.level!r}, lowercase={self.lowercase}, "
            f"tokens=[<reserved>, {preview}{', ...' if len(self) > 12 else ''}])"
        )

    @property
    def size(self) -> int:
        """The number of tokens, reserved ones included (the softmax width)."""
        return len(self.tokens)

    def token_to_id(self, token: str) -> int:
        """The id of ``token``, or ``UNK_ID``."""
        return self._index.get(token, UNK_ID)

    def id_to_token(self, token_id: int) -> str:
        """The token of an id.

        Raises:
            ValueError: if the id is outside ``[0, len(self))``.
        """
        if not 0 <= int(token_id) < len(self.tokens):
            raise ValueError(
                f"`token_id` must be in [0, {len(self.tokens)}). Received: token_id={token_id!r}"
            )
        return self.tokens[int(token_id)]

    # ------------------------------------------------------------ (de)serialise
    def get_config(self) -> dict:
        """A JSON-friendly dict that :meth:`from_config` turns back into this vocabulary."""
        return {"tokens": list(self.tokens), "level": self.level, "lowercase": self.lowercase}

    @classmethod
    def from_config(cls, config: dict) -> "Vocabulary":
        return cls(**config)

    # --------------------------------------------------------------- encoding
    def tokenize(self, text: str) -> list[str]:
        """Splits text into tokens: characters, or words with punctuation split off.

        Args:
            text: a string (UTF-8 bytes are decoded); it is NFC-normalised and,
                if the vocabulary is ``lowercase``, lower-cased.

        Returns:
            The list of token strings.
        """
        text = _normalise(text, self.lowercase)
        if self.level == "char":
            return list(text)
        return _WORD_RE.findall(text)

    def encode(self, text: str, *, add_start: bool = False, add_end: bool = False) -> list[int]:
        """Token ids of ``text``; unknown tokens become ``UNK_ID``.

        Args:
            text: a string.
            add_start: put ``START_ID`` first.
            add_end: put ``END_ID`` last.

        Returns:
            A list of ints.
        """
        ids = [self._index.get(token, UNK_ID) for token in self.tokenize(text)]
        if add_start:
            ids.insert(0, START_ID)
        if add_end:
            ids.append(END_ID)
        return ids

    def encode_batch(
        self,
        texts: Iterable[str],
        *,
        max_length: int,
        add_start: bool = False,
        add_end: bool = False,
    ) -> np.ndarray:
        """Encodes several texts into one padded int32 array.

        Args:
            texts: strings.
            max_length: the length of every row: longer encodings are truncated
                (the end token, if asked for, may be cut off), shorter ones are
                padded with ``PAD_ID`` at the end.
            add_start, add_end: as in :meth:`encode`.

        Returns:
            ``np.ndarray`` of int32, shape ``(len(texts), max_length)``.
        """
        if not isinstance(max_length, (int, np.integer)) or isinstance(max_length, bool) or (
            max_length < 1
        ):
            raise ValueError(
                f"`max_length` must be a positive integer. Received: max_length={max_length!r}"
            )
        if isinstance(texts, (str, bytes)):
            texts = [texts]
        rows = [self.encode(t, add_start=add_start, add_end=add_end)[:max_length] for t in texts]
        out = np.zeros((len(rows), int(max_length)), dtype=np.int32)
        for i, row in enumerate(rows):
            out[i, : len(row)] = row
        return out

    def decode(self, ids: Iterable[int], *, strip_special: bool = True) -> str:
        """Turns ids back into text.

        Decoding stops at the first ``END_ID``. Characters are joined with
        ``""``, words with ``" "``.

        Args:
            ids: token ids (a list, numpy array or tensor).
            strip_special: drop ``<pad>`` and ``<start>`` (``<unk>`` is kept as
                the visible marker of an unknown token). With ``False`` every
                reserved token is written out, ``<end>`` included.

        Returns:
            The text.
        """
        ids = np.asarray(ids).reshape(-1).tolist()
        pieces = []
        for i in ids:
            i = int(i)
            if i == END_ID:
                if not strip_special:
                    pieces.append(self.tokens[END_ID])
                break
            if strip_special and i in (PAD_ID, START_ID):
                continue
            pieces.append(self.id_to_token(i))
        return ("" if self.level == "char" else " ").join(pieces)


def build_vocabulary(
    texts: Iterable[str],
    level: str = "char",
    max_tokens: int | None = None,
    lowercase: bool | None = None,
    min_count: int = 1,
) -> Vocabulary:
    """Builds a :class:`Vocabulary` from raw strings.

    Tokens are sorted by decreasing frequency (ties: first occurrence), after the
    reserved tokens.

    Args:
        texts: an iterable of strings (or a single string).
        level: ``"char"`` or ``"word"``.
        max_tokens: the largest vocabulary size, reserved tokens included (as
            ``keras.layers.TextVectorization`` counts); ``None`` keeps every token.
        lowercase: lower-case the text first. Default: ``True`` at word level,
            ``False`` at character level.
        min_count: drop tokens seen fewer times.

    Returns:
        A :class:`Vocabulary`.

    Raises:
        ValueError: for an unknown level, a ``max_tokens`` not above the number
            of reserved tokens, or a text that is not a string.

    Example:

    >>> vocab = build_vocabulary(["Привет, мир!", "hello world"], level="word")
    >>> vocab.decode(vocab.encode("привет мир"))
    'привет мир'
    """
    _check_level(level)
    if max_tokens is not None and (
        not isinstance(max_tokens, (int, np.integer))
        or isinstance(max_tokens, bool)
        or max_tokens <= len(RESERVED_TOKENS)
    ):
        raise ValueError(
            f"`max_tokens` must be None or an integer > {len(RESERVED_TOKENS)} (the reserved "
            f"tokens count). Received: max_tokens={max_tokens!r}"
        )
    if not isinstance(min_count, (int, np.integer)) or isinstance(min_count, bool) or min_count < 1:
        raise ValueError(f"`min_count` must be a positive integer. Received: min_count={min_count!r}")
    if lowercase is None:
        lowercase = level == "word"
    if isinstance(texts, (str, bytes)):
        texts = [texts]
    probe = Vocabulary([], level=level, lowercase=bool(lowercase))
    counts: collections.Counter = collections.Counter()
    for text in texts:
        counts.update(probe.tokenize(text))
    for token in RESERVED_TOKENS:
        counts.pop(token, None)
    # Counter.most_common keeps insertion order among ties: deterministic.
    ordered = [t for t, c in counts.most_common() if c >= min_count]
    if max_tokens is not None:
        ordered = ordered[: int(max_tokens) - len(RESERVED_TOKENS)]
    return Vocabulary(list(RESERVED_TOKENS) + ordered, level=level, lowercase=bool(lowercase))


def as_vocabulary(value: Any, argument: str = "vocabulary") -> Vocabulary:
    """Turns a :class:`Vocabulary`, its config dict, or a list of tokens into a Vocabulary.

    A plain list is character level if every non-reserved token is one
    character, word level otherwise.

    Raises:
        ValueError: naming ``argument`` if the value is none of those.
    """
    if isinstance(value, Vocabulary):
        return value
    if isinstance(value, dict) and "tokens" in value:
        return Vocabulary.from_config(value)
    if isinstance(value, (list, tuple)) and all(isinstance(t, str) for t in value):
        rest = [t for t in value if t not in RESERVED_TOKENS]
        if not rest:
            raise ValueError(
                f"`{argument}` must contain at least one token besides the reserved ones "
                f"{list(RESERVED_TOKENS)}. Received: {argument}={value!r}"
            )
        level = "char" if all(len(t) == 1 for t in rest) else "word"
        return Vocabulary(list(value), level=level)
    raise ValueError(
        f"`{argument}` must be an rnnzoo.text.Vocabulary (see rnnzoo.text.build_vocabulary), "
        f"a list of token strings, or None. Received: {argument}={value!r}"
    )
