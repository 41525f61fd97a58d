"""Generates ``zoo_cards/<name>.md``, one card per published model (tutorials and presets).

```bash
python tools/make_cards.py                 # every record of the weights registry
python tools/make_cards.py classification  # some tasks' tutorial models, or presets
python tools/make_cards.py --check         # exit 1 if a card is missing or out of date
```

A real-data preset's card (a record written by ``tools/train_zoo.py PRESET``)
puts its metric on the official test split beside the baselines of that split
(published figures with their source, or figures the tool computed), says
which goal it meets, and how to reproduce every number.

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
#: Further fields of a preset's record.
PRESET_FIELDS = ("preset", "description", "architecture")
#: Metrics where lower is better.
LOWER_IS_BETTER = ("rmse", "mae", "mse", "loss", "perplexity")


def _front_matter(record: dict) -> str:
    lines = ["---", f"model: {json.dumps('rnnzoo/' + record.get('preset', record['task']))}"]
    for key in PRESET_FIELDS:
        if key in record:
            lines.append(f"{key}: {json.dumps(record[key], sort_keys=True)}")
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


def _goals(record: dict, ours: float) -> list[str]:
    """The issue's goals this preset is measured against, and whether it meets them."""
    metric = record["primary_metric"]
    rows = {b["name"]: b["value"] for b in record["metrics"]["baselines"]}
    lower = metric in LOWER_IS_BETTER
    lines = []
    if "InceptionTime" in rows:
        gap = round(ours - rows["InceptionTime"], 6)
        best = max(rows.values())
        lines.append(f"- Within 2 accuracy points of InceptionTime ({rows['InceptionTime']:.4f}): "
                     f"{'yes' if gap >= -0.02 else 'no'} ({gap * 100:+.1f} points).")
        lines.append(f"- Beats the best published figure here ({best:.4f}): "
                     f"{'yes' if ours > best else 'no'}.")
    dtw = [v for k, v in rows.items() if "DTW" in k]
    if dtw:
        lines.append(f"- At least the 1-NN DTW accuracy (best of those above, {max(dtw):.4f}): "
                     f"{'yes' if ours >= max(dtw) else 'no'}.")
    if record["metrics"].get("headline") == "rmse":
        worst = [k for k, v in rows.items() if ours >= v]
        lines.append("- RMSE below every baseline: " + (
            "yes." if not worst else f"no (not below {', '.join(worst)})."))
    if not lines:
        better = [k for k, v in rows.items() if (ours < v if lower else ours > v)]
        lines.append(f"- Better than: {', '.join(better) or 'none of the baselines'}.")
    return lines


def render_preset(name: str, record: dict) -> str:
    """Returns the card of a real-data preset as Markdown text."""
    recipe = record.get("recipe", {})
    metric = record["primary_metric"]
    ours = record["metrics"]["test"][metric]
    lower = metric in LOWER_IS_BETTER
    dataset = record["dataset"]
    out = [_front_matter(record), "", f"# rnnzoo preset `{name}`", "",
           "## Intended use", "", record.get("description", ""), "",
           "```python", "import rnnzoo", f'model = rnnzoo.build(preset="{name}")',
           f'model = rnnzoo.build("{record["task"]}", weights="{name}")   # the same', "```", "",
           "## Data", "",
           f"`rnnzoo.data.load(\"{record['task']}\", source=\"{dataset['source']}\", "
           f"name=\"{dataset['name']}\")`. Metric measured on: {dataset['split']}. Licence: "
           f"{record['license']}." + (f" Examples: `{json.dumps(dataset['sizes'])}`."
                                       if dataset.get("sizes") else ""), "",
           "## Architecture", "", f"{record.get('architecture', '')}. "
           f"Parameters: {record['params']:,}. Options (`rnnzoo.build(preset=...)` uses these; "
           f"vocabularies in full in the front matter): "
           f"`{json.dumps(_brief_options(_brief_vocab(record['options'])))}`.", "",
           f"## Results on the official test split ({metric}, "
           f"{'lower' if lower else 'higher'} is better)", "",
           "| model | " + metric + " | source |", "|---|---|---|",
           f"| **this preset** | **{_fmt(ours)}** | measured by `{recipe.get('command')}` |"]
    for b in record["metrics"]["baselines"]:
        out.append(f"| {b['name']} | {_fmt(b['value'])} | {b['source']} |")
    out += ["", "Every test metric: " + ", ".join(
        f"{k} {_fmt(v)}" for k, v in record["metrics"]["test"].items()) + ".", "",
        "Goals (issue 13):", "", *_goals(record, ours), "",
        "## Reproduce", "",
        f"`{recipe.get('command')}`: {recipe.get('epochs')} epochs, batch size "
        f"{recipe.get('batch_size')}, final fit on {recipe.get('final_fit', 'train')}, Adam "
        f"lr={recipe.get('optimizer', {}).get('learning_rate')}, seed {recipe.get('seed')}, "
        f"{recipe.get('device')}, {recipe.get('train_seconds')} s of training on 2 shared CPU "
        f"cores; " + ", ".join(f"{k} {v}" for k, v in recipe.get("versions", {}).items())
        + f"; {recipe.get('date')}. Options and recipe chosen on "
        f"{recipe.get('options_chosen_on')}; the test split was read once, by the final "
        "model.", "",
        "## File", "",
        f"`{record['file_name']}` ({record['size']:,} bytes, .keras: configuration, weights and "
        f"vocabulary), sha256 `{record['sha256']}`. Shipped in `rnnzoo/assets/weights/` and "
        "published at:", "", *[f"- <{url}>" for url in record["urls"]], "",
        "## Limitations", "",
        "- One seed, one training run on CPU: figures move by a point or so between seeds and "
        "TensorFlow builds; the published baselines are single runs on the same split too.",
        "- Trained on one data set: use it there, or as a starting point to fine-tune "
        "(`num_classes`/`vocab_size` heads with `freeze_encoder=True`).", ""]
    return "\n".join(out)


def _brief_vocab(options: dict) -> dict:
    return {k: (f"<{len(v)} tokens>" if k == "vocabulary" and isinstance(v, list) else v)
            for k, v in options.items()}


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
        if "preset" in records[task]:
            text = render_preset(task, records[task])
        else:
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
