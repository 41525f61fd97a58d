"""How long ``rnnzoo --help`` and ``rnnzoo list`` take, and what they print on stderr.

Each measurement runs the command in a fresh interpreter (``python -m rnnzoo.cli``,
what the console script runs) and times it from outside, start to exit. The
commands are interleaved so that a noisy machine slows every variant alike; the
median over ``--repeats`` runs is reported, with the number of stderr lines
(TensorFlow/absl/oneDNN/CUDA log lines; the goal is none) and whether the
command imported TensorFlow or Keras.

With ``--roots A B ...`` every command runs from each source tree in turn
(``PYTHONPATH=<root>``, run from ``<root>``), interleaved, to compare two versions on one machine.

Usage: python tools/bench_cli.py [--repeats 5] [--roots OLD_CHECKOUT NEW_CHECKOUT]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "rnnzoo --help": ["--help"],
    "rnnzoo list": ["list"],
    "rnnzoo info classification": ["info", "classification"],
}
# Runs the CLI in-process, then reports which heavy modules it imported (on the fd in argv[1]).
_PROBE = """
import os, sys
fd = int(sys.argv.pop(1))
from rnnzoo.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("tensorflow", "keras", "jax") if m in sys.modules)
os.write(fd, (" ".join(heavy) or "-").encode())
sys.exit(code or 0)
"""


def _run_once(argv: list[str], root: str | None = None) -> tuple[float, int, str]:
    env = dict(os.environ)
    if root:
        env["PYTHONPATH"] = os.path.abspath(root)
    read, write = os.pipe()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(write), *argv], capture_output=True, text=True,
        pass_fds=(write,), env=env, cwd=os.path.abspath(root) if root else None,
    )
    seconds = time.perf_counter() - start
    os.close(write)
    heavy = os.read(read, 1024).decode() or "?"
    os.close(read)
    return seconds, len(proc.stderr.strip().splitlines()), heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--roots", nargs="*", default=[None],
                        help="source trees to compare (default: the installed rnnzoo)")
    args = parser.parse_args()
    keys = [(root, name) for root in args.roots for name in COMMANDS]
    times: dict = {key: [] for key in keys}
    stderr: dict = {}
    heavy: dict = {}
    for _ in range(args.repeats):
        for root, name in keys:
            seconds, lines, imported = _run_once(COMMANDS[name], root)
            times[(root, name)].append(seconds)
            stderr[(root, name)] = max(stderr.get((root, name), 0), lines)
            heavy[(root, name)] = imported
    for key in keys:
        root, name = key
        label = f"[{root}] " if root else ""
        print(f"{label}{name:<28} median {statistics.median(times[key]):5.2f} s over "
              f"{args.repeats} runs (min {min(times[key]):.2f}, max {max(times[key]):.2f}); "
              f"stderr lines: {stderr[key]}; heavy imports: {heavy[key]}")


if __name__ == "__main__":
    main()
