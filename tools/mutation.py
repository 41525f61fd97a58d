"""Mutation testing of one rnnzoo module with mutmut, against the fast tests that cover it.

mutmut (3.x, the ``dev`` extra) changes the module one small edit at a time (``<`` for
``<=``, ``+ 1`` for ``+ 2``, a dropped argument, ...) and runs the tests on each
mutant; a mutant no test notices ("survived") is behaviour nothing checks. The base
configuration is ``[mutmut]`` in ``setup.cfg`` (the fast tests, every module of
``rnnzoo/layers``, ``rnnzoo/tasks``, export verification and weights verification);
this script narrows it to one module and the tests that cover it, so a run takes
minutes on 2 CPU cores instead of hours.

It works in a scratch copy of the repository (mutmut writes its ``mutants/``
folder there), prints the kill rate and the surviving mutants, and with ``--json``
writes them to a file. Modules whose tests build Keras models cost 10-40 s of CPU per
mutant, so ``--sample N`` runs a random sample and gives the kill rate with its 95%
interval. It is not part of the default test run.

Usage::

    pip install -e ".[dev]"        # mutmut
    python tools/mutation.py rnnzoo/tasks/decoding.py                # every mutant
    python tools/mutation.py rnnzoo/layers/recurrent.py --sample 40  # an estimate
    python tools/mutation.py rnnzoo/export/verify.py --max-children 2 --json verify.json
    python tools/mutation.py rnnzoo/tasks/decoding.py --tests tests/tasks/test_decoding.py
    python tools/mutation.py --list                     # the modules and their tests

Show a surviving mutant's diff with ``mutmut show NAME`` inside the kept work
folder (``--keep``).
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import pathlib
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

# The fast tests that exercise each module (slow tests are deselected by the marker).
# A module not listed here needs --tests.
MODULE_TESTS: dict[str, list[str]] = {
    "rnnzoo/layers/recurrent.py": ["tests/layers/test_recurrent_block.py",
                                   "tests/tasks/test_all_tasks.py"],
    "rnnzoo/layers/abc_rnn.py": ["tests/layers/test_abc_rnn.py",
                                 "tests/callbacks/test_gradient_tapes.py"],
    "rnnzoo/layers/clockwork.py": ["tests/layers/test_clockwork.py",
                                   "tests/callbacks/test_gradient_tapes.py"],
    "rnnzoo/layers/clockwork_schedule.py": ["tests/layers/test_clockwork.py"],
    "rnnzoo/layers/fast_rnn.py": ["tests/layers/test_fast_rnn.py"],
    "rnnzoo/layers/fused_loops.py": ["tests/layers/test_fast_rnn.py"],
    "rnnzoo/layers/padding.py": ["tests/tasks/test_padding.py",
                                "tests/layers/test_clockwork.py",
                                "tests/layers/test_abc_rnn.py"],
    "rnnzoo/layers/feedforward.py": ["tests/layers/test_recurrent_block.py",
                                     "tests/tasks/test_all_tasks.py"],
    "rnnzoo/layers/dropout.py": ["tests/layers/"],
    "rnnzoo/layers/base.py": ["tests/layers/"],
    "rnnzoo/layers/walk.py": ["tests/layers/", "tests/tasks/test_all_tasks.py",
                              "tests/test_weights_every_task.py"],
    "rnnzoo/tasks/common.py": ["tests/tasks/test_all_tasks.py",
                               "tests/callbacks/test_gradient_tapes.py"],
    "rnnzoo/tasks/classification.py": ["tests/tasks/test_classification.py",
                                       "tests/tasks/test_all_tasks.py"],
    "rnnzoo/tasks/regression.py": ["tests/tasks/test_regression.py",
                                   "tests/tasks/test_all_tasks.py"],
    "rnnzoo/tasks/video_classification.py": ["tests/tasks/test_video_classification.py",
                                             "tests/tasks/test_all_tasks.py"],
    "rnnzoo/tasks/translation.py": ["tests/tasks/test_translation.py",
                                    "tests/tasks/test_all_tasks.py"],
    "rnnzoo/tasks/text_prediction.py": ["tests/tasks/test_text_prediction.py",
                                        "tests/tasks/test_all_tasks.py"],
    "rnnzoo/tasks/captioning.py": ["tests/tasks/test_captioning.py",
                                   "tests/tasks/test_all_tasks.py"],
    "rnnzoo/tasks/decoder.py": ["tests/tasks/test_generation.py",
                                "tests/tasks/test_all_tasks.py"],
    "rnnzoo/tasks/generation.py": ["tests/tasks/test_generation.py",
                                   "tests/tasks/test_text_prediction.py"],
    "rnnzoo/tasks/decoding.py": ["tests/tasks/test_decoding.py",
                                 "tests/tasks/test_decoding_contract.py"],
    "rnnzoo/tasks/decode_loop.py": ["tests/tasks/test_decoding_contract.py",
                                    "tests/tasks/test_decoding.py"],
    "rnnzoo/tasks/normalization.py": ["tests/tasks/test_padding.py",
                                      "tests/tasks/test_regression.py"],
    "rnnzoo/export/verify.py": ["tests/test_export.py", "tests/test_export_quantized.py"],
    "rnnzoo/weights/cache.py": ["tests/test_weights.py", "tests/test_download_settings.py"],
    "rnnzoo/weights/download.py": ["tests/test_weights.py", "tests/test_download_settings.py"],
    "rnnzoo/weights/load.py": ["tests/test_weights.py", "tests/test_weights_every_task.py"],
}
# What the scratch copy needs besides rnnzoo/ and tests/ (tests read these).
_ALSO_COPY = ["setup.cfg", "pyproject.toml", "README.md", "BENCHMARKS.md", "tools", "zoo_cards",
              "docs"]
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "mutants", "runs", "*.egg-info",
                                 ".pytest_cache")
_STATUS = re.compile(r"^\s*(?P<name>\S+): (?P<status>.+?)\s*$")


def _base_config() -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return dict(parser["mutmut"]) if parser.has_section("mutmut") else {}


def _scratch(workdir: pathlib.Path, module: str, tests: list[str]) -> None:
    """A copy of the repository whose ``[mutmut]`` mutates ``module`` only, with ``tests``."""
    shutil.copytree(ROOT / "rnnzoo", workdir / "rnnzoo", ignore=_IGNORE)
    shutil.copytree(ROOT / "tests", workdir / "tests", ignore=_IGNORE)
    for name in _ALSO_COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, workdir / name, ignore=_IGNORE)
        elif src.exists():
            shutil.copy2(src, workdir / name)
    parser = configparser.ConfigParser()
    parser.read(workdir / "setup.cfg")
    base = _base_config()
    section = {
        "source_paths": "\nrnnzoo/",
        "only_mutate": f"\n{module}",
        "pytest_add_cli_args": base.get("pytest_add_cli_args", ""),
        "pytest_add_cli_args_test_selection": "\n" + "\n".join(tests),
        # tests read these (tools/make_cards.py, README's commands, the cards): mutmut copies
        # only the sources, tests/ and these into its mutants/ folder
        "also_copy": base.get("also_copy", "\n" + "\n".join(
            name for name in _ALSO_COPY if name not in ("setup.cfg", "pyproject.toml"))),
        "timeout_multiplier": base.get("timeout_multiplier", "8.0"),
        "timeout_constant": base.get("timeout_constant", "10.0"),
        "process_isolation": base.get("process_isolation", "forkserver"),
    }
    if parser.has_section("mutmut"):
        parser.remove_section("mutmut")
    parser.add_section("mutmut")
    for key, value in section.items():
        parser.set("mutmut", key, value)
    with open(workdir / "setup.cfg", "w", encoding="utf-8") as f:
        parser.write(f)


def _mutmut() -> list[str]:
    exe = shutil.which("mutmut", path=os.path.dirname(sys.executable)) or shutil.which("mutmut")
    if exe is None:
        raise SystemExit("mutmut is not installed: pip install -e \".[dev]\" (mutmut>=3,<4)")
    return [exe]


def parse_results(text: str) -> dict[str, str]:
    """``{mutant name: status}`` from ``mutmut results --all true``."""
    found = {}
    for line in text.splitlines():
        m = _STATUS.match(line)
        if m and "__mutmut_" in m["name"]:
            found[m["name"]] = m["status"]
    return found


def summarise(statuses: dict[str, str]) -> dict:
    """Counts per status and the kill rate (killed / (mutants - skipped, uncovered))."""
    counts: dict[str, int] = {}
    for status in statuses.values():
        counts[status] = counts.get(status, 0) + 1
    judged = sum(n for s, n in counts.items() if s not in ("skipped", "no tests", "not checked"))
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    # mutmut counts a timeout as killed (an endless loop); a test failure is the firmer kill
    return {"counts": counts, "mutants": len(statuses), "judged": judged, "killed": killed,
            "kill_rate": killed / judged if judged else None,
            "killed_by_a_test": counts.get("killed", 0), "timeouts": counts.get("timeout", 0)}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95% Wilson score interval of a proportion ``k / n`` (``None`` for ``n == 0``)."""
    if not n:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _mutant_names(folder: pathlib.Path, module: str) -> list[str]:
    """Every mutant mutmut generated for ``module`` (from its ``.meta`` file)."""
    meta = folder / "mutants" / (module + ".meta")
    with open(meta, encoding="utf-8") as f:
        return sorted(json.load(f)["exit_code_by_key"])


def run(module: str, tests: list[str], *, max_children: int, keep: bool,
        workdir: str | None, sample: int | None = None, seed: int = 0) -> dict:
    """Runs mutmut on ``module`` against ``tests`` in a scratch copy; returns the summary.

    With ``sample``, mutmut first generates every mutant and records which tests cover
    which function, then runs a random sample of ``sample`` mutants (``seed``): the kill
    rate is then an estimate, given with its 95% interval.
    """
    folder = pathlib.Path(workdir or tempfile.mkdtemp(prefix="rnnzoo-mutation-"))
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "rnnzoo").exists():
        _scratch(folder, module, tests)
    env = {**os.environ, "PYTHONPATH": str(folder), "TF_CPP_MIN_LOG_LEVEL": "3",
           "CUDA_VISIBLE_DEVICES": "", "RNNZOO_OFFLINE": "1"}
    start = time.perf_counter()
    names: list[str] = []
    generated = None
    if sample:
        # a name that matches nothing: mutmut generates the mutants and collects which
        # tests cover what, then stops before running any mutant
        subprocess.run([*_mutmut(), "run", "--max-children", str(max_children),
                        "__no_such_mutant__"], cwd=folder, env=env, text=True,
                       capture_output=True)
        every = _mutant_names(folder, module)
        generated = len(every)
        names = sorted(random.Random(seed).sample(every, min(sample, len(every))))
    proc = subprocess.run([*_mutmut(), "run", "--max-children", str(max_children), *names],
                          cwd=folder, env=env, text=True, capture_output=True)
    seconds = time.perf_counter() - start
    results = subprocess.run([*_mutmut(), "results", "--all", "true"], cwd=folder, env=env,
                             text=True, capture_output=True)
    statuses = parse_results(results.stdout)
    if names:
        statuses = {n: s for n, s in statuses.items() if n in set(names)}
    summary = {"module": module, "tests": tests, "seconds": round(seconds, 1),
               "max_children": max_children, "sample": sample, "seed": seed,
               "generated": generated or len(statuses), **summarise(statuses),
               "survived": sorted(n for n, s in statuses.items() if s == "survived"),
               "workdir": str(folder) if keep else None}
    summary["interval"] = wilson(summary["killed"], summary["judged"])
    if proc.returncode != 0 or not statuses:
        summary["error"] = (proc.stdout[-3000:] + proc.stderr[-3000:]).strip()
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", nargs="?", help="e.g. rnnzoo/layers/clockwork_schedule.py")
    parser.add_argument("--tests", nargs="*", default=None,
                        help="pytest paths or node ids (default: MODULE_TESTS[module])")
    parser.add_argument("--max-children", type=int, default=2, help="parallel test processes")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--sample", type=int, default=None,
                        help="run a random sample of this many mutants (an estimate)")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed")
    parser.add_argument("--json", default=None, help="write the summary to this file")
    parser.add_argument("--list", action="store_true", help="list the modules and their tests")
    args = parser.parse_args(argv)
    if args.list or not args.module:
        for module, tests in MODULE_TESTS.items():
            print(f"{module}: {' '.join(tests)}")
        return 0
    module = os.path.relpath(os.path.abspath(args.module), ROOT)
    if not (ROOT / module).is_file():
        parser.error(f"no such module: {args.module}")
    tests = args.tests or MODULE_TESTS.get(module)
    if not tests:
        parser.error(f"no tests known for {module}: pass --tests")
    summary = run(module, tests, max_children=args.max_children, keep=args.keep,
                  workdir=args.workdir, sample=args.sample, seed=args.seed)
    rate, interval = summary["kill_rate"], summary["interval"]
    band = "" if not interval else f", 95% interval {100 * interval[0]:.0f}-{100 * interval[1]:.0f}%"
    print(f"{module}: {summary['killed']}/{summary['judged']} mutants killed "
          f"({'-' if rate is None else f'{100 * rate:.0f}%'}{band}), {summary['mutants']} run of "
          f"{summary['generated']} generated, {summary['counts']}, {summary['seconds']:.0f} s; "
          f"{summary['killed_by_a_test']} by a failing test, {summary['timeouts']} timed out")
    for name in summary["survived"]:
        print(f"  survived: {name}")
    if "error" in summary:
        print(summary["error"], file=sys.stderr)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
    return 0 if "error" not in summary else 1


if __name__ == "__main__":
    sys.exit(main())
