"""`import rnnzoo` stays light: no TFDS, keras-tuner or LiteRT interpreter at import.

(matplotlib is not checked: `import keras` itself imports it when it is installed.)"""

import subprocess
import sys

HEAVY = ("tensorflow_datasets", "keras_tuner", "ai_edge_litert")


def test_import_does_not_load_heavy_optional_modules():
    code = (
        "import sys, rnnzoo; "
        "rnnzoo.list_models(); "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
