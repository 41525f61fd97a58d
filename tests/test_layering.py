"""The package's shape, read from its source: arrows point one way, modules stay small.

These tests parse ``rnnzoo/`` (nothing is imported) and fail when the
architecture the README describes erodes: an import that points up, an import
cycle, an rnnzoo import hidden in a function body, one task importing another,
a module over 500 lines, a private Keras name outside ``rnnzoo/_compat.py`` or
a task that asks for a cell by name.
"""

from __future__ import annotations

import ast
import pathlib
import re
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "rnnzoo"

# Components from the bottom up: a module may import only from its own component or from
# components listed before it.
ORDER = [
    "_validation", "_io", "_compat", "litert_runtime", "registry", "text", "metrics", "data",
    "layers", "tasks", "weights", "export", "callbacks", "catalogue", "factory", "distribute", "tuning",
    "presets", "cli",
]
# Imports that are deferred on purpose: heavy optional packages are not rnnzoo modules, so
# only intra-package imports count here; the CLI defers everything for a fast --help.
DEFERRED_ALLOWED = 3
TASK_MODULES = {"classification", "regression", "video_classification", "translation",
                "text_prediction", "captioning"}
PRIVATE_KERAS = re.compile(
    r"keras\.src|\._flatten_layers|_run_through_graph|sys\._getframe|_symbolic_build|"
    r"\._compile_loss|\._initial_epoch|def inner_loop|_call_has_training_arg|"
    r"_configure_tensorboard_dir|DropoutRNNCell"
)
CELL_TABLE = {"layers/recurrent.py", "layers/feedforward.py"}


def _modules() -> dict[str, pathlib.Path]:
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts)
        mods[name.removesuffix(".__init__")] = path
    return mods


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: pathlib.Path):
    """``(target module, line, inside a function)`` for every rnnzoo import of ``module``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            resolved = _resolve(target) if target.startswith("rnnzoo") else None
            if resolved and resolved != module:
                inside = any(f.lineno <= node.lineno <= (f.end_lineno or 0) for f in functions)
                found.append((resolved, node.lineno, inside))
                break
    return found


def _component(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_imports_point_down_the_layers():
    wrong = []
    for module, path in MODULES.items():
        if module == "rnnzoo":
            continue  # the public face imports what it re-exports
        source = _component(module)
        assert source in ORDER, f"{module}: add its component to ORDER in {__file__}"
        for target, line, _ in _imports(module, path):
            if target == "rnnzoo":
                wrong.append(f"{path.name}:{line} imports the package root")
                continue
            dest = _component(target)
            if ORDER.index(dest) > ORDER.index(source):
                wrong.append(f"{module}:{line} ({source}) imports {target} ({dest}), which is above it")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    graph = {m: {t for t, _, _ in _imports(m, p) if not MODULES[t].name == "__init__.py"}
             for m, p in MODULES.items() if p.name != "__init__.py"}
    cycles = []
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles


def test_at_most_three_deferred_intra_package_imports_outside_the_cli():
    deferred = [f"{p.relative_to(PACKAGE)}:{line}" for m, p in MODULES.items()
                if _component(m) != "cli" for _, line, inside in _imports(m, p) if inside]
    assert len(deferred) <= DEFERRED_ALLOWED, deferred


def test_no_task_imports_another_task():
    wrong = [f"{m} imports {t}" for m, p in MODULES.items() if m.startswith("rnnzoo.tasks.")
             for t, _, _ in _imports(m, p)
             if t.startswith("rnnzoo.tasks.") and t.rpartition(".")[2] in TASK_MODULES]
    assert not wrong, wrong


def test_no_module_over_500_lines():
    big = {str(p.relative_to(PACKAGE)): n for p in MODULES.values()
           if (n := p.read_text(encoding="utf-8").count("\n") + 1) > 500}
    assert not big, big


def test_private_keras_names_only_in_compat():
    found = [f"{p.relative_to(PACKAGE)}:{i}" for p in MODULES.values() if p.name != "_compat.py"
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if PRIVATE_KERAS.search(line)]
    assert not found, found


def _compares_to_feedforward(node) -> bool:
    if not isinstance(node, ast.Compare):
        return False
    operands = [node.left, *node.comparators]
    return any((isinstance(o, ast.Constant) and o.value == "feedforward")
               or (isinstance(o, ast.Name) and o.id == "FEEDFORWARD")
               or (isinstance(o, ast.Attribute) and o.attr == "FEEDFORWARD") for o in operands)


def test_no_feedforward_branch_outside_the_cell_table():
    found = []
    for path in MODULES.values():
        rel = str(path.relative_to(PACKAGE))
        if rel in CELL_TABLE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{rel}:{n.lineno}" for n in ast.walk(tree) if _compares_to_feedforward(n)]
    assert not found, found


@pytest.mark.parametrize("bad, fragment", [
    ("import rnnzoo.factory\n", "above it"),
])
def test_the_layering_check_catches_an_upward_import(tmp_path, monkeypatch, bad, fragment):
    # The checker itself must be able to fail: plant an upward import in a copy.
    layers = dict(MODULES)
    planted = tmp_path / "planted.py"
    planted.write_text(bad)
    layers["rnnzoo.layers.planted"] = planted
    monkeypatch.setattr(sys.modules[__name__], "MODULES", layers)
    with pytest.raises(AssertionError, match=fragment):
        test_imports_point_down_the_layers()
