"""``rnnzoo list`` and ``rnnzoo info TASK``: what the registry holds."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_list", "run_list", "add_info", "run_info"]


def add_list(subparsers) -> None:
    """Declares ``rnnzoo list``."""
    p = subparsers.add_parser("list", help="list the registered tasks")
    p.add_argument("--json", action="store_true", help="print JSON")


def run_list(args: argparse.Namespace) -> int:
    """Prints every registered task: name, pattern, outputs (or JSON)."""
    from rnnzoo import factory, registry  # noqa: F401  (factory registers every task)

    rows = [registry.get(name) for name in registry.list_models()]
    if args.json:
        print(json.dumps([{"name": s.name, "pattern": s.pattern} for s in rows], indent=2))
        return 0
    width = max(len(s.name) for s in rows)
    for spec in rows:
        print(f"{spec.name:<{width}}  {spec.pattern:<12}  {spec.outputs}")
    return 0


def add_info(subparsers) -> None:
    """Declares ``rnnzoo info TASK``."""
    p = subparsers.add_parser("info", help="show a task's specification")
    p.add_argument("task")
    p.add_argument("--json", action="store_true", help="print JSON")


def run_info(args: argparse.Namespace) -> int:
    """Prints a task's specification: pattern, data, metrics, options (or JSON)."""
    from rnnzoo import factory, registry  # noqa: F401  (factory registers every task)

    info = registry.describe(args.task)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    print(f"{info['name']}  ({info['pattern']})")
    print(f"  {info['description']}")
    print(f"  inputs:  {info['inputs']}")
    print(f"  outputs: {info['outputs']}")
    print(f"  metrics: {', '.join(info['metrics'])}")
    print(f"  data:    {', '.join(f'{k}: {v}' for k, v in info['datasets'].items())}")
    print(f"  tuning objective: {info['objective']['name']} ({info['objective']['direction']})")
    print("  options:")
    for name, opt in info["options"].items():
        print(f"    {name:<16} default={opt['default']!r:<10} {opt['allowed']}")
        if opt["help"]:
            print(f"    {'':<16} {opt['help']}")
    return 0
