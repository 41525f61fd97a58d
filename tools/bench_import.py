"""How much `import rnnzoo` adds on top of `import keras`, measured in one run.

Each measurement is a fresh interpreter that times `import keras` and then
`import rnnzoo` (with the task registry loaded) on top of it, in the same run;
the medians over several interpreters are reported.

Usage: python tools/bench_import.py [--repeats 7]
"""

import argparse
import os
import statistics
import subprocess
import sys
HEAVY = ("tensorflow_datasets", "keras_tuner", "ai_edge_litert")


_PROBE = """
import time
t0 = time.perf_counter()
import keras
t1 = time.perf_counter()
import rnnzoo
rnnzoo.list_models()
t2 = time.perf_counter()
import sys
heavy = [m for m in %r if m in sys.modules]
print(t1 - t0, t2 - t1, heavy)
""" % (HEAVY,)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    keras_times, rnnzoo_times, heavy = [], [], None
    for _ in range(args.repeats):
        out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                             env=env, check=True).stdout.strip().splitlines()[-1]
        k, r, heavy = out.split(" ", 2)
        keras_times.append(float(k))
        rnnzoo_times.append(float(r))
    k, r = statistics.median(keras_times), statistics.median(rnnzoo_times)
    print(f"import keras                         median {k:.2f} s  ({args.repeats} interpreters)")
    print(f"import rnnzoo on top (with registry) median {r:.2f} s  (goal < 1 s)")
    print(f"ratio (keras + rnnzoo) / keras = {(k + r) / k:.2f}")
    print(f"heavy optional modules loaded by import rnnzoo: {heavy} (goal: [])")


if __name__ == "__main__":
    main()
