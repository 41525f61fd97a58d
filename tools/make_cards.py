"""Generates ``zoo_cards/<task>.md``, one card per published model.

```bash
python tools/make_cards.py                 # every task with a record in the weights registry
python tools/make_cards.py classification  # some tasks
python tools/make_cards.py --check         # exit 1 if a card is missing or out of date
```

A card is generated only from measured results: the task's record in
``rnnzoo/weights_registry.json`` (written by ``tools/train_zoo.py``), the task's
registry entry (``rnnzoo.describe``), and, when present,
``tools/results/bench_tflite.json`` (TFLite figures measured by
``tools/bench_tflite.py``). It starts with YAML front matter holding the
machine-readable fields (every value is written as JSON, which is valid YAML),
then prose: intended use, data, architecture pattern, metrics with the command
that reproduced them, limitations.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CARDS_DIR = ROOT / "zoo_cards"
BENCH_TFLITE = ROOT / "tools" / "results" / "bench_tflite.json"

#: Record fields copied into the front matter (the card test compares them).
FRONT_MATTER_FIELDS = (
    "task", "file_name", "format", "sha256", "size", "urls", "license", "dataset",
    "pattern", "metrics", "primary_metric", "input_spec", "output_spec", "params", "options",
)


def _front_matter(record: dict) -> str:
    lines = ["---", f"model: {json.dumps('rnnzoo/' + record['task'])}"]
    for key in FRONT_MATTER_FIELDS:
        if key in record:
            lines.append(f"{key}: {json.dumps(record[key], sort_keys=True)}")
    recipe = record.get("recipe", {})
    lines.append(f"recipe: {json.dumps(recipe, sort_keys=True)}")
    lines.append("---")
    return "\n".join(lines)


def parse_front_matter(text: str) -> dict:
    """Parses the front matter ``make_cards`` writes (``key: <JSON>`` lines)."""
    if not text.startswith("---\n"):
        raise ValueError("a card must start with '---' front matter")
    end = text.index("\n---\n", 4)
    fields = {}
    for line in text[4:end].splitlines():
        key, value = line.split(": ", 1)
        fields[key] = json.loads(value)
    return fields


def _tflite_section(task: str, params: int) -> list[str]:
    """Lines for the TFLite figures of ``task`` measured by ``tools/bench_tflite.py``."""
    if not BENCH_TFLITE.exists():
        return []
    try:
        data = json.loads(BENCH_TFLITE.read_text(encoding="utf-8"))
        entry = data["tasks"][task]
        files = entry["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    command = data.get("environment", {}).get("command", "python tools/bench_tflite.py").strip()
    same = entry.get("params") == params
    lines = [
        "## TFLite / LiteRT (from `tools/results/bench_tflite.json`)",
        "",
        f"Measured by `{command}` on the task's default architecture "
        f"({entry.get('params', '?'):,} parameters"
        + ("; the same parameter count as these weights" if same else
           "; not the same parameter count as these weights") + "), built-in ops only.",
        "",
        "| file | bytes | ops | ms / sequence | max abs error vs Keras |",
        "|---|---|---|---|---|",
    ]
    for variant, row in files.items():
        if not isinstance(row, dict):
            continue
        if "error" in row:
            lines.append(f"| {variant} | not exported: {str(row['error'])[:80]} | | | |")
            continue
        error = row.get("max_abs_error")
        lines.append(
            f"| {variant} | {row.get('bytes', '')} | {row.get('ops', '')} | "
            f"{_fmt(row.get('ms_per_sequence', ''))} | "
            f"{'not compared' if error is None else f'{error:.2g}'} |"
        )
    keras_ms = entry.get("keras", {}).get("compiled_ms_per_sequence")
    if keras_ms is not None:
        lines += ["", f"Keras (compiled) on the same machine: {_fmt(keras_ms)} ms / sequence."]
    return lines


def _brief_options(options: dict) -> dict:
    """Options with vocabularies shown as their size and level."""
    brief = {}
    for key, value in options.items():
        if isinstance(value, dict) and isinstance(value.get("tokens"), list):
            value = f"<{len(value['tokens'])} {value.get('level', '')} tokens>".replace("  ", " ")
        brief[key] = value
    return brief


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def render(task: str, record: dict, info: dict | None) -> str:
    """Returns the card of ``task`` as Markdown text."""
    recipe = record.get("recipe", {})
    test = record["metrics"]["test"]
    options = record.get("options", {})
    primary = record.get("primary_metric", "loss")
    out = [_front_matter(record), "", f"# rnnzoo `{task}` — pretrained model", ""]
    description = (info or {}).get("description", "")
    out += [
        "## Intended use",
        "",
        f"{description}".strip(),
        "",
        "The published model is a small, CPU-trained reference for this task: a working "
        "starting point, a check that the pipeline learns, and a base for fine-tuning "
        "(a new head: `num_classes` / `vocab_size`, with `freeze_encoder=True`). It is "
        "not a state-of-the-art model of any real-world dataset.",
        "",
        "```python",
        "import rnnzoo",
        f'model = rnnzoo.build("{task}", weights="pretrained")',
        "```",
        "",
        "## Data",
        "",
        f"Trained and evaluated on {record['dataset']['name']} (offline, generated "
        "deterministically by `rnnzoo.data.load(\"" + task + "\", source=\"builtin\")`), "
        f"train/validation/test splits; loader settings `{json.dumps(record['dataset']['loader'])}`.",
    ]
    if record["dataset"].get("tfds_equivalent"):
        out.append(
            f"The real dataset of the task is TFDS `{record['dataset']['tfds_equivalent']}` "
            "(`source=\"tfds\"`); these weights were not trained on it."
        )
    arch = ", ".join(f"{k}={v!r}" for k, v in options.items()
                     if k in ("cell", "units", "depth", "bidirectional", "dropout"))
    out += [
        "",
        "## Architecture",
        "",
        f"Pattern: **{record.get('pattern', (info or {}).get('pattern', '?'))}**. "
        f"Recurrent block: {arch}. Parameters: {record['params']:,}.",
        f"Inputs: {(info or {}).get('inputs', '')}. Outputs: {(info or {}).get('outputs', '')}.",
        "",
        "Input spec: " + "; ".join(
            f"`{s['name']}` {tuple(s['shape'])} {s['dtype']}" for s in record["input_spec"]),
        "",
        f"Every option (`rnnzoo.build(\"{task}\", weights=\"pretrained\")` uses these unless "
        f"you override them; vocabularies in full in the front matter): "
        f"`{json.dumps(_brief_options(options))}`.",
        "",
        "## Metrics (test split, measured)",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    out += [f"| {name}{' (primary)' if name == primary else ''} | {_fmt(value)} |"
            for name, value in test.items()]
    headline = record["metrics"].get("generation_headline")
    for name, value in record["metrics"].get("generation", {}).items():
        label = f"{name} ({headline})" if headline and name in headline.lower() else name
        out.append(f"| {label} on generated outputs (the task's demo report) | {_fmt(value)} |")
    baseline = record["metrics"].get("baseline")
    if baseline:
        out.append(f"| baseline: {baseline['name']} | {_fmt(baseline['value'])} |")
    versions = recipe.get("versions", {})
    optimizer = recipe.get("optimizer", {})
    out += [
        "",
        f"Reproduce: `{recipe.get('command', 'python tools/train_zoo.py ' + task)}` "
        f"({recipe.get('epochs')} epochs, batch size {recipe.get('batch_size')}, "
        f"{optimizer.get('name')} lr={optimizer.get('learning_rate')} "
        f"clipnorm={optimizer.get('clipnorm')}, seed {recipe.get('seed')}, "
        f"{recipe.get('device', 'CPU')}, {recipe.get('train_seconds')} s of training; "
        + ", ".join(f"{k} {v}" for k, v in versions.items()) + f"; {recipe.get('date')}).",
    ]
    tflite = _tflite_section(task, record["params"])
    if tflite:
        out += ["", *tflite]
    out += [
        "",
        "## File",
        "",
        f"`{record['file_name']}` ({record['size']:,} bytes, {record.get('format', 'keras')} "
        f"format: configuration, weights and any vocabulary in one file), sha256 "
        f"`{record['sha256']}`, licence {record['license']}. Shipped in the package "
        "(`rnnzoo/assets/weights/`) and published at:",
        "",
        *[f"- <{url}>" for url in record["urls"]],
        "",
        "`rnnzoo weights fetch " + task + " --to DIR` pre-fills a cache for an air-gapped "
        "machine; `rnnzoo weights verify` checks the hashes.",
        "",
        "## Limitations",
        "",
        "- Trained for minutes on small generated data: the metrics above hold for the "
        "built-in data distribution (its sequence lengths, vocabulary and classes), not "
        "for real-world data; fine-tune before any real use.",
        "- Results are from one seed; they vary between seeds and TensorFlow builds.",
        "- Loading into another `cell`, `units`, `depth` or `bidirectional` is refused; "
        "only the head and embeddings may change shape.",
        "",
    ]
    return "\n".join(out)


def card_path(task: str) -> pathlib.Path:
    return CARDS_DIR / f"{task}.md"


def main(argv=None) -> int:
    import rnnzoo
    from rnnzoo import weights

    parser = argparse.ArgumentParser(description="Generate zoo_cards/<task>.md")
    parser.add_argument("tasks", nargs="*")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a card is missing or differs")
    args = parser.parse_args(argv)
    records = weights.records()
    tasks = args.tasks or sorted(records)
    stale = []
    for task in tasks:
        if task not in records:
            print(f"{task}: no published weights; run python tools/train_zoo.py {task}",
                  file=sys.stderr)
            stale.append(task)
            continue
        info = rnnzoo.describe(task) if task in rnnzoo.list_models() else None
        text = render(task, records[task], info)
        path = card_path(task)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(task)
            continue
        CARDS_DIR.mkdir(exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"missing or out of date: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
