"""``rnnzoo presets``: the presets catalogue, each metric beside its baselines.

Its flags are declared in :mod:`rnnzoo.cli.parser`."""

from __future__ import annotations

import argparse

from rnnzoo import _io, catalogue
from rnnzoo import factory  # noqa: F401  (registers every task)
from rnnzoo.cli.common import format_metric

__all__ = ["run"]


def _baselines(row: dict) -> str:
    parts = [f"{b['name']} {format_metric(b['value'])}" for b in row["baselines"]
             if b.get("value") is not None]
    return "; ".join(parts) or "-"


def run(args: argparse.Namespace) -> int:
    """Prints one line per preset (or JSON)."""
    rows = catalogue.presets(args.task)
    if args.json:
        print(_io.dumps_json(rows))
        return 0
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        metric = r["metric"]
        value = format_metric(metric["value"]) if metric["value"] is not None else "not trained"
        size = f"{r['size']:,} B" if r["size"] else "-"
        print(f"{r['name']:<{width}}  {r['task']:<20} {r['dataset']:<34} "
              f"{metric['name']}={value:<8} {size:>12}  baselines: {_baselines(r)}")
    print(f"{len(rows)} presets; rnnzoo.build(preset=NAME) builds one.")
    return 0
