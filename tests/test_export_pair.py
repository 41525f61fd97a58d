"""A ``.tflite`` and its ``.tflite.json`` sidecar appear together (issue 16, item 5).

The export writes both files to hidden temporary names and renames the sidecar
first, so a reader that finds the ``.tflite`` always finds its sidecar; a
failure before the renames leaves neither (and no temporary file). Every rename
the export does is watched here, on a real conversion.
"""

import os

import pytest

import rnnzoo
from rnnzoo import _io, export
from tests.conftest import tiny_overrides


@pytest.fixture(scope="module")
def model():
    return rnnzoo.build("classification", **tiny_overrides("classification"))


def test_a_reader_never_sees_the_tflite_without_its_sidecar(model, tmp_path, monkeypatch):
    out = tmp_path / "m.tflite"
    sidecar = tmp_path / "m.tflite.json"
    real_replace = os.replace
    seen = []

    def watched_replace(src, dst):
        real_replace(src, dst)
        # what a reader could see right after each rename
        seen.append((os.path.basename(dst), out.exists(), sidecar.exists()))

    monkeypatch.setattr(_io.os, "replace", watched_replace)
    export.to_tflite(model, str(out), verify=False, verbose=False)
    final = [entry for entry in seen if entry[0] in ("m.tflite", "m.tflite.json")]
    assert [name for name, _, _ in final] == ["m.tflite.json", "m.tflite"]
    assert all(has_sidecar for _, has_tflite, has_sidecar in final if has_tflite)
    assert sorted(os.listdir(tmp_path)) == ["m.tflite", "m.tflite.json"]


def test_a_failure_while_writing_the_pair_leaves_neither(model, tmp_path, monkeypatch):
    out = tmp_path / "m.tflite"
    real_replace = os.replace

    def failing_replace(src, dst):
        if str(dst).endswith(".tflite.json"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(_io.os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        export.to_tflite(model, str(out), verify=False, verbose=False)
    assert os.listdir(tmp_path) == []  # neither file, no temporary file
