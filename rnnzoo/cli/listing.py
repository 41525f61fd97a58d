"""``rnnzoo list``: the registered tasks, from the generated index (no Keras import)."""

from __future__ import annotations

import argparse

from rnnzoo import _io
from rnnzoo.cli.task_index import TASKS

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Prints every registered task: name, pattern, outputs (or JSON)."""
    if args.json:
        print(_io.dumps_json([{"name": t["name"], "pattern": t["pattern"]} for t in TASKS]))
        return 0
    name_width = max(len(t["name"]) for t in TASKS)
    pattern_width = max(len(t["pattern"]) for t in TASKS)
    for task in TASKS:
        print(f"{task['name']:<{name_width}}  {task['pattern']:<{pattern_width}}  "
              f"{task['outputs']}")
    return 0
