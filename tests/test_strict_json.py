"""Every JSON the package writes or prints is strict: no NaN or Infinity (issue 16, item 6)."""

import ast
import json
import pathlib

import pytest

from rnnzoo import _io

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "rnnzoo"


def test_every_json_dump_outside_io_forbids_nan():
    loose = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "_io.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("dump", "dumps")
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "json"):
                strict = any(k.arg == "allow_nan" and isinstance(k.value, ast.Constant)
                             and k.value.value is False for k in node.keywords)
                if not strict:
                    loose.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not loose, f"use rnnzoo._io (strict JSON) or allow_nan=False: {loose}"


def test_io_refuses_non_finite_numbers_and_names_where(tmp_path):
    with pytest.raises(ValueError, match=r"history\.loss\[1\]"):
        _io.atomic_write_json(tmp_path / "m.json", {"history": {"loss": [0.5, float("nan")]}})
    assert list(tmp_path.iterdir()) == []
    _io.atomic_write_json(tmp_path / "m.json", {"loss": None})
    assert json.loads((tmp_path / "m.json").read_text()) == {"loss": None}
