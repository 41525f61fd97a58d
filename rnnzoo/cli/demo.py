"""``rnnzoo demo``: build, train briefly and evaluate every task on built-in data, offline.

Prints each task's examples and a table of test metrics beside a simple
baseline; every setting comes from the task's registered ``demo`` entry.
``rnnzoo demo --real [PRESET]`` instead trains one real-data preset of the
catalogue end to end by its recipe (default ``japanese_vowels_lstm``: the
default classifier on the UEA JapaneseVowels speech data) and prints its test
metric beside the published baselines of the same split.
"""

from __future__ import annotations

import argparse
import time

import keras

from rnnzoo import _validation as v
from rnnzoo import data, registry, weights
from rnnzoo.catalogue import baselines, training
from rnnzoo.cli.common import check_positive, format_metric
from rnnzoo.factory import build

__all__ = ["run"]


def _demo_task(task: str, seed: int, epochs: int | None) -> dict:
    """Trains and evaluates one task as its ``demo`` entry says; returns its table row."""
    spec = registry.get(task)
    demo = spec.demo
    keras.utils.set_random_seed(seed)
    data_kwargs = dict(demo.get("data", {}))
    eval_kwargs = dict(demo.get("eval_data", {}))
    batch_size = demo.get("batch_size", 64)
    print(f"== {task} ({spec.pattern}) ==", flush=True)
    start = time.perf_counter()
    train = data.load(task, "train", batch_size, **data_kwargs)
    val = data.load(task, "validation", batch_size, **eval_kwargs)
    test = data.load(task, "test", batch_size, **eval_kwargs)
    model = build(task, **demo.get("overrides", {}))
    epochs = epochs or demo.get("epochs", 2)
    # shuffle=False: the built-in datasets shuffle themselves (Keras warns otherwise)
    model.fit(train, validation_data=val, epochs=epochs, verbose=2, shuffle=False)
    results = model.evaluate(test, verbose=0, return_dict=True)
    report = demo["report"](model, test) if demo.get("report") else {}
    for line in report.get("examples", []):
        print(f"   {line}")
    metric = spec.metrics[0] if spec.metrics[0] in results else "loss"
    value = float(results[metric])
    if "metric" in report:  # the report measured the headline metric itself (e.g. BLEU)
        metric, value = report["metric"], float(report["value"])
    return {
        "task": task,
        "cell": getattr(model, "rnnzoo_cell", None) or spec.resolve(demo.get("overrides", {}))
        .get("cell", "-"),
        "params": model.count_params(),
        "epochs": epochs,
        "metric": metric,
        "value": value,
        "baseline": report.get("baseline", "-"),
        "baseline_value": report.get("baseline_value", "-"),
        "seconds": time.perf_counter() - start,
    }


def _print_table(rows: list[dict]) -> None:
    header = ["task", "cell", "params", "epochs", "test metric", "value", "baseline", "value",
              "seconds"]
    table = [header] + [
        [r["task"], r["cell"], f"{r['params']:,}", str(r["epochs"]), r["metric"],
         format_metric(r["value"]), str(r["baseline"]), format_metric(r["baseline_value"]),
         f"{r['seconds']:.0f}"]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def _demo_real(name: str, seed: int, epochs: int | None) -> int:
    """Trains one catalogue preset by its recipe; prints its test metric beside the baselines."""
    entry = training.entry(name)
    start = time.perf_counter()
    print(f"== {name}: {entry['architecture']} ==\n{entry['description']}", flush=True)
    result = training.train(name, seed=seed, epochs=epochs, verbose=2)
    published = weights.records().get(name, {}).get("metrics", {}).get("baselines")
    rows = published or baselines.for_preset(name, result)
    metric = entry["metric"]
    print(f"\n{name} on {entry['split']}: {metric} {format_metric(result.metrics[metric])} "
          f"({result.epochs} epochs, {time.perf_counter() - start:.0f} s)")
    for row in rows:
        print(f"  {row['name']:<40} {format_metric(row['value'])}   [{row['source']}]")
    return 0


def run(args: argparse.Namespace) -> int:
    """Runs the demo of every task asked for (or one real preset) and prints the table."""
    if args.real is not None:
        return _demo_real(args.real, args.seed, args.epochs)

    tasks = args.tasks or registry.list_models()
    for task in tasks:
        registry.get(task)
    if args.epochs is not None:
        check_positive("epochs", args.epochs)
    v.check_seed("seed", args.seed)
    total = time.perf_counter()
    rows = [_demo_task(task, args.seed, args.epochs) for task in tasks]
    print()
    _print_table(rows)
    print(f"\ndemo finished in {time.perf_counter() - total:.0f} s")
    return 0
