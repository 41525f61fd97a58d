"""``rnnzoo weights list|fetch|verify``: the published pretrained weights and their cache."""

from __future__ import annotations

import argparse

from rnnzoo import _io, factory, registry, weights  # noqa: F401  (factory registers every task)
from rnnzoo.cli.common import check_output_dir, format_metric

__all__ = ["run", "USER_ERRORS"]

#: A weight file that cannot be found, fetched or verified is reported in one line.
USER_ERRORS = (weights.WeightsError,)


def _list(records: dict, as_json: bool) -> int:
    if as_json:
        print(_io.dumps_json(records))
        return 0
    for task, rec in sorted(records.items()):
        primary = rec.get("primary_metric", "loss")
        value = rec.get("metrics", {}).get("test", {}).get(primary)
        print(f"{task:<22} {rec['file_name']:<34} {rec['size']:>10,} B  "
              f"{rec['params']:>9,} params  {primary}={format_metric(value)}  "
              f"sha256={rec['sha256'][:16]}…")
    for task in registry.list_models():
        if task not in records:
            print(f"{task:<22} (no published weights yet)")
    total = sum(rec["size"] for rec in records.values())
    print(f"{len(records)} models, {total:,} bytes in total; cache: {weights.cache_dir()}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Lists, fetches or verifies; ``verify`` exits 1 when a file does not match."""
    records = weights.records()
    action = args.weights_command
    tasks = list(getattr(args, "tasks", None) or [])
    for task in tasks:
        weights.get_record(task)  # ValueError naming the published tasks
    if action == "list":
        return _list(records, args.json)
    if action == "fetch":
        folder = check_output_dir("--to", args.to) if args.to else weights.cache_dir()
        for task in tasks or sorted(records):
            print(f"{task}: {weights.copy_to(task, folder)}")
        return 0
    rows = weights.verify(tasks or None, cache=args.cache)
    bad = 0
    for row in rows:
        status = row["status"]
        bad += status == "mismatch"
        extra = (f" expected {row['expected']}, got {row['actual']}"
                 if status == "mismatch" else "")
        print(f"{row['task']:<22} {row['where']:<8} {status:<8} {row['file']}{extra}")
    return 1 if bad else 0
