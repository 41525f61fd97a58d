"""``rnnzoo weights list|fetch|verify``: the published pretrained weights and their cache."""

from __future__ import annotations

import argparse
import json

from rnnzoo.cli.common import UserError, format_metric

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    """Declares ``rnnzoo weights`` and its actions."""
    p = subparsers.add_parser(
        "weights", help="list, fetch and verify the published pretrained weights",
        description="Published weights are cached under $RNNZOO_HOME/weights (default "
        "~/.keras/rnnzoo/weights). RNNZOO_WEIGHTS_MIRROR replaces the download base URL; "
        "RNNZOO_OFFLINE=1 forbids network access.",
    )
    sub = p.add_subparsers(dest="weights_command", metavar="ACTION", required=True)
    p_list = sub.add_parser("list", help="the published models: file, size, sha256, metrics")
    p_list.add_argument("--json", action="store_true", help="print the registry records as JSON")
    p_fetch = sub.add_parser(
        "fetch", help="put verified copies in the cache, or in --to DIR (for air-gapped machines)",
    )
    p_fetch.add_argument("tasks", nargs="*", metavar="TASK", help="default: every published task")
    p_fetch.add_argument("--to", default=None, metavar="DIR",
                         help="folder to fill (copy it to $RNNZOO_HOME/weights elsewhere)")
    p_verify = sub.add_parser(
        "verify", help="check the sha256 of the cached and bundled copies (exit 1 on mismatch)",
    )
    p_verify.add_argument("tasks", nargs="*", metavar="TASK")
    p_verify.add_argument("--cache", default=None, metavar="DIR", help="the cache folder to check")


def _list(records: dict, as_json: bool) -> int:
    from rnnzoo import registry, weights

    if as_json:
        print(json.dumps(records, indent=2))
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
    from rnnzoo import factory, weights  # noqa: F401  (factory registers every task)

    records = weights.records()
    action = args.weights_command
    tasks = list(getattr(args, "tasks", None) or [])
    for task in tasks:
        weights.get_record(task)  # ValueError naming the published tasks
    if action == "list":
        return _list(records, args.json)
    if action == "fetch":
        for task in tasks or sorted(records):
            try:
                path = weights.copy_to(task, args.to or weights.cache_dir())
            except weights.WeightsError as exc:
                raise UserError(str(exc)) from None
            print(f"{task}: {path}")
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
