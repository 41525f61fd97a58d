"""Every Keras backend: the same numbers on TensorFlow, JAX (and PyTorch when installed).

Each backend runs in its own process (Keras picks its backend once per
process, from ``KERAS_BACKEND``). The JAX leg of CI lives here too:
:func:`test_backend_neutral_tests_pass_on_jax` runs every test marked
``backend_neutral`` (tests/conftest.py lists them) under ``KERAS_BACKEND=jax``.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

import rnnzoo

from tests._workers.processes import REPO, WORKERS, clean_env

HAS = {name: importlib.util.find_spec(name) is not None for name in ("jax", "torch")}
ON_TF = keras.backend.backend() == "tensorflow"
needs_jax = pytest.mark.skipif(not HAS["jax"], reason="jax is not installed (pip install "
                                                       "'rnnzoo[jax]')")
TIMEOUT = 600


def _run(args, backend, timeout=TIMEOUT, **env):
    out = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, capture_output=True,
                         text=True, timeout=timeout,
                         env=clean_env(KERAS_BACKEND=backend, PYTHONPATH=str(REPO), **env))
    assert out.returncode == 0, f"{backend}: exit {out.returncode}\n{out.stdout[-3000:]}" \
                                f"\n{out.stderr[-3000:]}"
    return out


def _json_line(text):
    return json.loads([ln for ln in text.splitlines() if ln.startswith("{")][-1])


# --------------------------------------------------------------------------- gradient monitor


@pytest.fixture(scope="module")
def monitor_numbers():
    backends = ["tensorflow"] + [b for b in ("jax", "torch") if HAS[b]]
    return {b: _json_line(_run([WORKERS / "monitor_numbers.py"], b).stdout) for b in backends}


@needs_jax
def test_gradient_monitor_measures_the_same_on_every_backend(monitor_numbers):
    reference = monitor_numbers["tensorflow"]
    assert len(monitor_numbers) >= 2
    for backend, result in monitor_numbers.items():
        assert result.keys() == reference.keys()
        for case, ref in reference.items():
            got = result[case]
            assert got["loss"] == pytest.approx(ref["loss"], rel=1e-5), (backend, case)
            assert got["norms"].keys() == ref["norms"].keys(), (backend, case)
            for key, value in ref["norms"].items():  # per layer and per weight
                assert got["norms"][key] == pytest.approx(value, rel=1e-5), (backend, case, key)
            assert got["curves"].keys() == ref["curves"].keys(), (backend, case)
            for layer, curve in ref["curves"].items():
                np.testing.assert_allclose(got["curves"][layer], curve, rtol=1e-5, atol=0,
                                           err_msg=f"{backend} {case} {layer}")
    # the 60-step contracting SimpleRNN: its first-step norm is tiny, and still not 0
    curve = reference["simple_long"]["curves"]["rnn_1"]
    assert 0 < curve[0] < 1e-25 and curve[-1] > 1e-2


def test_torch_adapter_runs_where_torch_is_installed():
    if not HAS["torch"]:
        pytest.skip("torch is not installed: PyPI's Linux wheels pull several GB of CUDA "
                    "libraries, so CI leaves PyTorch out; the torch leg is opt-in "
                    "(pip install torch, then run this file)")
    result = _json_line(_run([WORKERS / "monitor_numbers.py"], "torch").stdout)
    assert result["lstm"]["curves"]["rnn_1/forward"]


# --------------------------------------------------------------------------- saving, export

CROSS = r"""
import json, sys
import keras, numpy as np, rnnzoo
keras.utils.set_random_seed(0)
data = rnnzoo.data.load("classification", "train", 8, num_examples=32, sequence_length=12,
                        min_length=6, shuffle=False)
model = rnnzoo.build("classification", units=8, embedding_dim=8, learning_rate=1e-2)
model.fit(data, epochs=1, verbose=0)
x, _ = next(iter(data))
model.save(sys.argv[1])
report = rnnzoo.export.to_tflite(model, sys.argv[2], verbose=False)
from rnnzoo.litert_runtime import LiteRTModel
runtime = LiteRTModel(sys.argv[2])
x0 = np.asarray(x)[:1]
print(json.dumps({"backend": keras.backend.backend(), "x": np.asarray(x).tolist(),
                  "y": np.asarray(model.predict(x, verbose=0)).tolist(),
                  "verified": report.verified, "errors": report.max_abs_error,
                  "tflite_vs_keras": float(np.max(np.abs(
                      np.asarray(runtime.predict(tokens=x0)["classifier"])
                      - np.asarray(model.predict(x0, verbose=0)))))}))
"""


@needs_jax
def test_a_jax_model_exports_to_tflite_and_trains_on_after_loading_here(tmp_path):
    # Saved on JAX, loaded on this process's backend: the same outputs, and training goes on.
    # The .tflite is converted in a TensorFlow child process from the saved model and verified
    # against Keras on JAX, then read back with the LiteRT interpreter.
    keras_path, tflite_path = tmp_path / "m.keras", tmp_path / "m.tflite"
    out = _run(["-c", CROSS, keras_path, tflite_path], "jax")
    result = _json_line(out.stdout)
    assert result["backend"] == "jax"
    assert result["verified"] and max(result["errors"].values()) <= 1e-4
    assert result["tflite_vs_keras"] <= 1e-4
    assert tflite_path.exists() and (tmp_path / "m.tflite.json").exists()
    model = keras.saving.load_model(keras_path, safe_mode=True)
    x = np.array(result["x"], dtype="int32")
    np.testing.assert_allclose(model.predict(x, verbose=0), result["y"], rtol=0, atol=1e-5)
    data = rnnzoo.data.load("classification", "train", 8, num_examples=32, sequence_length=12,
                            min_length=6, shuffle=False)
    before = model.evaluate(data, verbose=0, return_dict=True)["loss"]
    model.fit(data, epochs=2, verbose=0)  # the optimizer state came along
    assert model.evaluate(data, verbose=0, return_dict=True)["loss"] < before


@needs_jax
def test_tflite_export_errors_are_the_same_from_jax():
    # A bad argument fails before anything is saved or started: the same ValueError.
    script = ("import rnnzoo; m = rnnzoo.build('classification', units=4, embedding_dim=4)\n"
              "try:\n    rnnzoo.export.to_tflite(m, 'x.tflite', quantize='int4')\n"
              "except ValueError as e:\n    print('VALUE', e)\n")
    out = _run(["-c", script], "jax")
    assert re.search(r"VALUE `quantize` must be one of .*Received: quantize='int4'", out.stdout)


# --------------------------------------------------------------------------- the JAX leg of CI


@pytest.mark.slow
@needs_jax
@pytest.mark.skipif(not ON_TF, reason="the JAX leg is started from the TensorFlow run")
def test_backend_neutral_tests_pass_on_jax():
    """CI's JAX leg: every ``backend_neutral`` test (tests/conftest.py) under KERAS_BACKEND=jax."""
    env = {k: v for k, v in clean_env().items() if not k.startswith("PYTEST_")}
    env.update(KERAS_BACKEND="jax", PYTHONPATH=str(REPO))
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
         "-o", "addopts=-ra", "-m", "backend_neutral and not slow", "tests"],
        cwd=REPO, capture_output=True, text=True, timeout=1200, env=env)
    tail = (out.stdout + out.stderr)[-6000:]
    assert out.returncode == 0, f"the JAX leg failed:\n{tail}"
    passed = re.search(r"(\d+) passed", out.stdout)
    assert passed and int(passed.group(1)) >= 30, f"too few tests ran on JAX:\n{tail}"
