"""``rnnzoo info TASK``: a task's specification, as the registry holds it."""

from __future__ import annotations

import argparse

from rnnzoo import _io, factory, registry  # noqa: F401  (factory registers every task)

__all__ = ["run"]


def _option_rows(options: dict) -> list[str]:
    """One aligned line per option (and its help below), whatever the names' lengths."""
    rows = [(name, f"default={opt['default']!r}", opt["allowed"], opt["help"])
            for name, opt in options.items()]
    name_width = max((len(r[0]) for r in rows), default=0)
    default_width = max((len(r[1]) for r in rows), default=0)
    lines = []
    for name, default, allowed, help_text in rows:
        lines.append(f"    {name:<{name_width}}  {default:<{default_width}}  {allowed}")
        if help_text:
            lines.append(f"    {'':<{name_width}}  {help_text}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Prints a task's specification: pattern, data, metrics, options (or JSON)."""
    info = registry.describe(args.task)
    if args.json:
        print(_io.dumps_json(info, default=str))
        return 0
    print(f"{info['name']}  ({info['pattern']})")
    print(f"  {info['description']}")
    print(f"  inputs:  {info['inputs']}")
    print(f"  outputs: {info['outputs']}")
    print(f"  metrics: {', '.join(info['metrics'])}")
    print(f"  data:    {', '.join(f'{k}: {v}' for k, v in info['datasets'].items())}")
    print(f"  tuning objective: {info['objective']['name']} ({info['objective']['direction']})")
    print("  options:")
    for line in _option_rows(info["options"]):
        print(line)
    return 0
