"""rnnzoo.export: built-in-only .tflite files, verified against Keras, on the plain interpreter.

Parametrized over the registry and every cell. Conversion is slow (a child
process per file), so files are converted once per module (``exporter``) and
the full task x cell matrix is marked slow.
"""

import json
import os
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo import export
from rnnzoo.export import converter, worker
from rnnzoo.layers.recurrent import available_cells, get_cell
from rnnzoo.litert_runtime import LiteRTModel, greedy_decode, list_ops
from tests.conftest import TASKS, tiny_data, tiny_overrides
from tests.test_export_quantized import keras_greedy_ids

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNTIME_FILE = os.path.join(ROOT, "rnnzoo", "litert_runtime.py")


def _is_generative(model) -> bool:
    return callable(getattr(model, "inference_models", None))


@pytest.fixture(scope="module")
def exporter(tmp_path_factory):
    """``exporter(task, **options) -> (model, report)``, each export done once per module."""
    folder = tmp_path_factory.mktemp("exports")
    cache = {}

    def run(task, cell=None, **kwargs):
        key = (task, cell, tuple(sorted(kwargs.items())))
        if key not in cache:
            keras.utils.set_random_seed(0)
            overrides = tiny_overrides(task, **({"cell": cell} if cell else {}))
            model = rnnzoo.build(task, **overrides)
            name = f"{task}_{cell or 'default'}_{len(cache)}.tflite"
            report = export.to_tflite(
                model, str(folder / name), test_data=tiny_data(task, "test"),
                verify_examples=4, verbose=False, **kwargs,
            )
            cache[key] = (model, report)
        return cache[key]

    return run


def _first_example(task):
    x, y = next(iter(tiny_data(task, "test", batch_size=2)))
    x = keras.tree.map_structure(lambda a: np.asarray(a)[:1], x)
    return x, y


def _assert_builtin_only(path):
    ops = list_ops(path)
    assert ops, "the file has no operators"
    assert not [op for op in ops if "Flex" in op or op.startswith("CUSTOM")], ops
    return ops


def _check_sequence_parity(model, report, task, atol):
    x, _ = _first_example(task)
    runtime = LiteRTModel(report.path)
    names = runtime.signatures["serving_default"]["inputs"]
    arrays = keras.tree.flatten(x)
    feed = dict(zip(report.signatures["serving_default"]["inputs"], arrays))
    assert sorted(feed) == sorted(names)
    got = runtime.predict(**feed)
    want = keras.tree.flatten(model(x if len(arrays) > 1 else arrays[0], training=False))
    outputs = report.signatures["serving_default"]["outputs"]
    for name, w in zip(outputs, want):
        np.testing.assert_allclose(got[name], np.asarray(w), rtol=0, atol=atol)


def _generate_pairs(task, model, runtime, max_length=12):
    """(Keras model.generate text, interpreter-only greedy text) on built-in test examples."""
    meta = runtime.metadata
    pairs = []
    if hasattr(model, "source_vocabulary"):  # translation: raw source strings
        x, _ = next(iter(tiny_data(task, "test", batch_size=3)))
        src = np.asarray(keras.tree.flatten(x)[0])
        for row in src:
            text = model.source_vocabulary.decode([int(t) for t in row])
            length = max(1, len(model.source_vocabulary.tokenize(text)))
            ids = model.source_vocabulary.encode_batch([text], max_length=length)
            feed = {meta["encoder_input_names"][0]: ids}
            mine = model.target_vocabulary.decode(
                greedy_decode(runtime, feed, max_length=max_length))
            pairs.append((model.generate([text], max_length=max_length)[0], mine))
    elif "encoder_input_names" in meta:  # captioning: images
        from rnnzoo.data import captioning

        x, _ = next(iter(tiny_data(task, "test", batch_size=3)))
        images = [np.asarray(a) for a in keras.tree.flatten(x) if np.asarray(a).ndim == 4][0]
        prepared = captioning.prepare_images(images, model.image_size)
        for i in range(len(prepared)):
            feed = {meta["encoder_input_names"][0]: prepared[i:i + 1]}
            mine = model.vocabulary.decode(greedy_decode(runtime, feed, max_length=max_length))
            pairs.append((model.generate(images[i:i + 1], max_length=max_length)[0], mine))
    else:  # text prediction: prompts
        for prompt in ["", "the", "a b"]:
            prefix = model.vocabulary.encode(prompt)
            mine = model.vocabulary.decode(greedy_decode(runtime, prefix=prefix,
                                                         max_length=max_length))
            pairs.append((model.generate(prompt, max_length=max_length,
                                         include_prompt=False)[0], mine))
    return pairs


# --------------------------------------------------------------------------- every task


def _task_params(fast=("classification", "text_prediction")):
    return [t if t in fast else pytest.param(t, marks=pytest.mark.slow) for t in TASKS]


@pytest.mark.parametrize("task", _task_params())
def test_every_task_exports_with_builtin_ops_and_matches_keras(task, exporter):
    model, report = exporter(task)
    assert os.path.exists(report.path) and os.path.exists(report.path + ".json")
    assert report.verified
    ops = _assert_builtin_only(report.path)
    assert report.ops == ops
    assert report.size_bytes == os.path.getsize(report.path)
    if _is_generative(model):
        assert set(report.signatures) >= {"decoder_step"}
        runtime = LiteRTModel(report.path)
        pairs = _generate_pairs(task, model, runtime)
        assert pairs and all(keras_text == mine for keras_text, mine in pairs), pairs
    else:
        _check_sequence_parity(model, report, task, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_every_task_streams_step_by_step(task, exporter):
    if _is_generative(rnnzoo.build(task, **tiny_overrides(task))):
        pytest.skip("generative models stream through their decoder_step signature")
    model, report = exporter(task, streaming=True)
    _assert_builtin_only(report.path)
    _check_streaming(model, report, task)


def _check_streaming(model, report, task, atol=1e-5):
    """Feeding a sequence one step per call gives the whole-sequence Keras output."""
    x, _ = _first_example(task)
    arrays = [np.asarray(a) for a in keras.tree.flatten(x)]
    if arrays[0].dtype.kind in "iu" and arrays[0].ndim == 2:  # strip the padding
        keep = np.nonzero(arrays[0][0])[0]
        arrays = [a[:, : keep[-1] + 1] for a in arrays]
    want = keras.tree.flatten(model(arrays[0] if len(arrays) == 1 else arrays, training=False))
    stream = LiteRTModel(report.path).streamer()
    names = report.signatures["step"]["inputs"][: len(arrays)]
    outputs = []
    for t in range(arrays[0].shape[1]):
        outputs.append(stream.step(**{n: a[:, t:t + 1] for n, a in zip(names, arrays)}))
    name = report.signatures["step"]["outputs"][0]
    w = np.asarray(want[0])
    got = (np.concatenate([o[name] for o in outputs], axis=1)
           if w.ndim >= 3 and w.shape[1] == arrays[0].shape[1] else outputs[-1][name])
    np.testing.assert_allclose(got, w, rtol=0, atol=atol)
    # the state really carries memory: a fresh stream on the last step alone differs
    stream.reset()
    alone = stream.step(**{n: a[:, -1:] for n, a in zip(names, arrays)})[name]
    assert np.max(np.abs(alone - outputs[-1][name])) > 1e-6 or arrays[0].shape[1] == 1


# --------------------------------------------------------------------------- every cell


def _cell_params():
    return [c if c == "clockwork" else pytest.param(c, marks=pytest.mark.slow)
            for c in available_cells()]


@pytest.mark.parametrize("cell", _cell_params())
def test_every_cell_streams_with_explicit_states(cell, exporter):
    model, report = exporter("classification", cell, streaming=True)
    _assert_builtin_only(report.path)
    assert report.verified and report.max_abs_error["step"] <= 1e-5
    states = report.signatures["step"]["inputs"][1:]
    if cell == "lstm":
        assert states == ["rnn_1_h", "rnn_1_c"]
    elif cell == "clockwork":
        assert states == ["rnn_1_h", "rnn_1_t"]  # the clock counter is a state
    elif get_cell(cell).recurrent:
        assert states == ["rnn_1_h"]
    else:  # the feed-forward baseline's pooling: a running sum and count
        shapes = LiteRTModel(report.path).metadata["state_shapes"]
        assert len(states) == 2 and shapes[states[1]] == [1, 1], shapes
    assert report.signatures["step"]["outputs"][1:] == states
    _check_streaming(model, report, "classification")


class RunningSum(keras.layers.Layer):
    """Not an RNN, but steppable: the cumulative sum over time, one named state."""

    state_names = ("total",)
    return_sequences = True

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units]

    def call(self, x):
        return keras.ops.cumsum(x, axis=1)

    def get_initial_state(self, batch_size):
        return [keras.ops.zeros((batch_size, self.units))]

    def step(self, x_t, states, training=False):
        total = states[0] + x_t
        return total, [total]


def test_streaming_steps_any_layer_with_a_step_method():
    """The streaming plan steps layers by capability (step/get_initial_state/state_size)."""
    from rnnzoo.export.streaming import streaming_plan

    inputs = keras.Input((None, 3), name="features")
    x = RunningSum(3, name="acc")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(x))
    plan = streaming_plan(model)
    assert plan.metadata["state_names"] == ["acc_total"]  # named by the layer's state_names
    assert plan.outputs["step"] == ["head", "acc_total"]
    seq = np.random.default_rng(0).normal(size=(1, 5, 3)).astype("float32")
    states = {"acc_total": np.zeros((1, 3), np.float32)}
    got = []
    for t in range(5):
        out = plan.reference["step"](features=seq[:, t:t + 1], **states)
        states = {"acc_total": out["acc_total"]}
        got.append(out["head"])
    np.testing.assert_allclose(np.concatenate(got, axis=1), np.asarray(model(seq)), atol=1e-5)
    np.testing.assert_allclose(states["acc_total"], seq.sum(axis=1), atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("cell", available_cells())
@pytest.mark.parametrize("bidirectional", [False, True])
def test_every_cell_exports_whole_sequence(cell, bidirectional, tmp_path):
    model = rnnzoo.build("classification",
                         **tiny_overrides("classification", cell=cell, depth=2,
                                          bidirectional=bidirectional))
    report = export.to_tflite(model, tmp_path / "m.tflite", verbose=False, verify_examples=4,
                              test_data=tiny_data("classification", "test"))
    _assert_builtin_only(report.path)
    _check_sequence_parity(model, report, "classification", atol=1e-4)


def test_streaming_rejects_a_bidirectional_model(tmp_path):
    model = rnnzoo.build("classification",
                         **tiny_overrides("classification", bidirectional=True))
    with pytest.raises(ValueError, match="Bidirectional"):
        export.to_tflite(model, tmp_path / "m.tflite", streaming=True, verbose=False)
    assert not os.listdir(tmp_path)


# --------------------------------------------------------------------------- quantization


def _trained_classifier():
    keras.utils.set_random_seed(0)
    model = rnnzoo.build("classification", units=32, embedding_dim=16, learning_rate=1e-2)
    model.fit(tiny_data("classification", batch_size=16, num_examples=256), epochs=4, verbose=0)
    return model


def _tensor_dtypes(path):
    """Every tensor type in the file, over all subgraphs (WHILE bodies included)."""
    from ai_edge_litert import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    with open(path, "rb") as f:
        root = schema.Model.GetRootAs(bytearray(f.read()), 0)
    types = set()
    for s in range(root.SubgraphsLength()):
        sub = root.Subgraphs(s)
        for t in range(sub.TensorsLength()):
            types.add(names[sub.Tensors(t).Type()].lower())
    return types


@pytest.mark.parametrize("quantize", [
    "dynamic",
    pytest.param("float16", marks=pytest.mark.slow),
    pytest.param("int8", marks=pytest.mark.slow),
])
def test_quantized_files_keep_the_task_metric(quantize, tmp_path):
    model = _trained_classifier()
    test = tiny_data("classification", "test", batch_size=32, num_examples=200)
    report = export.to_tflite(model, tmp_path / f"{quantize}.tflite", quantize=quantize,
                              test_data=test, verify_examples=200, verbose=False)
    _assert_builtin_only(report.path)
    assert report.verified
    dtypes = _tensor_dtypes(report.path)
    if quantize == "float16":
        assert "float16" in dtypes and report.max_abs_error["serving_default"] <= 1e-3
    else:
        assert "int8" in dtypes
        assert report.metric["name"] == "accuracy" and report.metric["examples"] == 200
        assert report.metric["drop_points"] <= 1.0
    if quantize == "int8":
        assert report.sequence_length is not None  # int8 unrolls a fixed-length loop
        assert "WHILE" not in report.ops


# --------------------------------------------------------------------------- errors


@keras.saving.register_keras_serializable(package="rnnzoo_tests")
class InverseErf(keras.layers.Layer):
    """Uses Erfinv, an op without a TFLite built-in kernel."""

    def call(self, x):
        return keras.ops.erfinv(keras.ops.tanh(x) * 0.5)


def test_unsupported_layer_names_the_layer_and_op_and_leaves_no_file(tmp_path):
    inputs = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(20, 4)(inputs)
    x = InverseErf(name="inverse_erf")(x)
    x = keras.layers.LSTM(4)(x)
    model = keras.Model(inputs, x)
    out = tmp_path / "bad.tflite"
    with pytest.raises(export.ExportError, match=r"layer 'inverse_erf' uses the TensorFlow op "
                                                  r"'Erfinv'.*built-in"):
        export.to_tflite(model, out, verify=False, verbose=False)
    assert os.listdir(tmp_path) == []


def test_a_converter_crash_is_reported_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setattr(converter, "_TEST_CRASH_SIGNAL", int(signal.SIGSEGV))
    model = rnnzoo.build("classification", **tiny_overrides("classification"))
    with pytest.raises(export.ExportError, match="crashed.*SIGSEGV"):
        export.to_tflite(model, tmp_path / "m.tflite", verify=False, verbose=False)
    assert os.listdir(tmp_path) == []
    monkeypatch.setattr(converter, "_TEST_CRASH_SIGNAL", None)
    # the crash was the child's: this process exports the same model at once, verified
    report = export.to_tflite(model, tmp_path / "m.tflite", verbose=False, verify_examples=4,
                              test_data=tiny_data("classification", "test"))
    assert report.verified and sorted(os.listdir(tmp_path)) == ["m.tflite", "m.tflite.json"]


def test_the_converter_process_imports_tensorflow_only(tmp_path):
    """worker.py, run by path as the exporter runs it, loads no rnnzoo module and no sibling."""
    import ast

    with open(worker.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "json", "os", "signal", "sys", "numpy", "tensorflow"}, imported
    # Run it exactly as the exporter does (by path) on a job it cannot convert: it reports the
    # converter's error, and -X importtime lists every module the child imported: no rnnzoo
    # module, and no sibling (tracing.py, ...) picked up from its own folder by plain name.
    job = {"saved_model": str(tmp_path / "missing"), "signature_keys": ["serving_default"],
           "quantize": None, "output": str(tmp_path / "m.tflite"),
           "result": str(tmp_path / "result.json")}
    (tmp_path / "job.json").write_text(json.dumps(job))
    proc = subprocess.run([sys.executable, "-X", "importtime", worker.__file__,
                           str(tmp_path / "job.json")], capture_output=True, text=True,
                          cwd=str(tmp_path), timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 3, proc.stderr[-3000:]
    loaded = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
              if line.startswith("import time:")}
    assert "tensorflow" in loaded
    siblings = {os.path.splitext(n)[0] for n in os.listdir(os.path.dirname(worker.__file__))}
    assert not {m for m in loaded if m.split(".")[0] == "rnnzoo" or m in siblings}, loaded
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["ok"] is False and result["error"]
    assert not (tmp_path / "m.tflite").exists()


@pytest.mark.parametrize("kwargs, match", [
    ({"quantize": "int4"}, "`quantize` must be one of"),
    ({"sequence_length": 0}, "`sequence_length` must be a positive integer"),
    ({"streaming": "yes"}, "`streaming` must be True or False"),
    ({"task": "clasification"}, "Did you mean 'classification'"),
    ({"verify_examples": 0}, "`verify_examples` must be an integer >= 1"),
    ({"fused_lstm": True, "streaming": True}, "`fused_lstm` applies to whole-sequence"),
])
def test_bad_arguments_are_named(kwargs, match, tmp_path):
    model = rnnzoo.build("classification", **tiny_overrides("classification"))
    with pytest.raises(ValueError, match=match):
        export.to_tflite(model, tmp_path / "m.tflite", verbose=False, **kwargs)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- runtime, CLI


def test_runtime_runs_without_tensorflow(exporter, tmp_path):
    """litert_runtime.py, loaded on its own, runs a classifier and a generator: no TF, no Keras."""
    model, report = exporter("classification")
    x, _ = _first_example("classification")
    gen_task = next((t for t in TASKS if _is_generative(
        rnnzoo.build(t, **tiny_overrides(t)))), None)
    script = f"""
import importlib.util, json, sys
import numpy as np
spec = importlib.util.spec_from_file_location("litert_runtime", {RUNTIME_FILE!r})
rt = importlib.util.module_from_spec(spec); spec.loader.exec_module(rt)
m = rt.LiteRTModel({report.path!r})
out = m.predict(tokens=np.array({np.asarray(x).tolist()}, np.int32))
result = {{"probs": out["classifier"].tolist()}}
if len(sys.argv) > 1:
    g = rt.LiteRTModel(sys.argv[1])
    feed = None
    if "encoder_input_names" in g.metadata:
        feed = {{n: np.zeros([1 if d is None or d < 0 else d for d in shape], dtype)
                 for n, shape, dtype in json.loads(sys.argv[2])}}
    result["ids"] = rt.greedy_decode(g, feed, max_length=6)
result["modules"] = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "rnnzoo"))
print(json.dumps(result))
"""
    argv = []
    encoder_input = None
    if gen_task is not None:
        gen_model, gen_report = exporter(gen_task)
        argv = [gen_report.path]
        enc = gen_report.signatures.get("encoder")
        if enc:
            from ai_edge_litert.interpreter import Interpreter

            details = Interpreter(model_path=gen_report.path).get_signature_runner(
                "encoder").get_input_details()
            specs = [[n, [int(d) for d in details[n]["shape_signature"]],
                      np.dtype(details[n]["dtype"]).name] for n in enc["inputs"]]
            argv.append(json.dumps(specs))
            (_, shape, dtype), = specs  # the same zeros the script feeds, for Keras
            encoder_input = np.zeros([1 if d is None or d < 0 else d for d in shape], dtype)
        else:
            argv.append("[]")
    proc = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True,
                          cwd=str(tmp_path), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["modules"] == []
    np.testing.assert_allclose(result["probs"], np.asarray(model(x)), atol=1e-4)
    if gen_task is not None:
        assert isinstance(result["ids"], list) and len(result["ids"]) <= 6
        # the ids Keras decodes greedily in this process from the same input (float32: equal)
        assert result["ids"] == keras_greedy_ids(gen_model, encoder_input, max_length=6)


def test_cli_exports_a_saved_model_file(tmp_path, capsys):
    from rnnzoo import cli

    model = rnnzoo.build("classification", **tiny_overrides("classification", cell="gru"))
    path = tmp_path / "m.keras"
    model.save(path)
    out = tmp_path / "m.tflite"
    assert cli.main(["export", str(path), "--out", str(out), "--quantize", "float16",
                     "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verified"] and report["quantize"] == "float16"
    assert report["size_bytes"] == os.path.getsize(out)
    assert report["max_abs_error"]["serving_default"] <= 1e-3
    assert cli.main(["export", "nosuchtask", "--out", str(tmp_path / "x.tflite")]) == 2
    assert "Unknown task" in capsys.readouterr().err


# --------------------------------------------------------------------------- fused LSTM


def test_fused_lstm_replaces_the_while_loop_with_the_same_outputs(tmp_path):
    model = rnnzoo.build("classification", **tiny_overrides("classification", depth=2))
    test = tiny_data("classification", "test")
    report = export.to_tflite(model, tmp_path / "fused.tflite", fused_lstm=True, test_data=test,
                              verify_examples=8, verbose=False)
    ops = _assert_builtin_only(report.path)
    assert ops.get("UNIDIRECTIONAL_SEQUENCE_LSTM") == 2 and "WHILE" not in ops
    # The fused op keeps its states in variable tensors: consecutive calls with the same
    # shape must not leak state from one sequence into the next (the runtime resets them).
    runtime = LiteRTModel(report.path)
    x, _ = next(iter(test))
    x = np.asarray(x)
    for i in range(4):
        for _ in range(2):
            got = runtime.predict(tokens=x[i:i + 1])["classifier"]
            np.testing.assert_allclose(got, np.asarray(model(x[i:i + 1])), rtol=0, atol=1e-5)


@pytest.mark.slow
def test_fused_lstm_leaves_other_layers_alone(tmp_path):
    model = rnnzoo.build("classification", **tiny_overrides("classification", cell="gru"))
    report = export.to_tflite(model, tmp_path / "gru.tflite", fused_lstm=True, verbose=False,
                              test_data=tiny_data("classification", "test"), verify_examples=4)
    assert "WHILE" in report.ops and "UNIDIRECTIONAL_SEQUENCE_LSTM" not in report.ops


@pytest.mark.slow
def test_a_model_the_builtin_data_does_not_fit_is_checked_on_random_inputs(tmp_path):
    """Real-valued classification input: the task's token data cannot feed it."""
    model = rnnzoo.build("classification",
                         **tiny_overrides("classification", num_features=3, cell="gru"))
    report = export.to_tflite(model, tmp_path / "features.tflite", verbose=False)
    assert report.verified and report.signatures["serving_default"]["inputs"] == ["features"]
    x = np.random.default_rng(1).normal(size=(1, 9, 3)).astype("float32")
    got = LiteRTModel(report.path).predict(features=x)["classifier"]
    np.testing.assert_allclose(got, np.asarray(model(x)), rtol=0, atol=1e-4)
    with pytest.raises(ValueError, match="representative_data"):
        export.to_tflite(model, tmp_path / "int8.tflite", quantize="int8", verbose=False)
    assert sorted(os.listdir(tmp_path)) == ["features.tflite", "features.tflite.json"]


def test_runtime_generate_and_generate_text_match_keras(exporter):
    """LiteRTModel.generate is greedy decoding; generate_text turns its ids into the same text."""
    model, report = exporter("text_prediction")
    runtime = LiteRTModel(report.path)
    for prompt in ["", "the", "a b"]:
        prefix = model.vocabulary.encode(prompt)
        ids = runtime.generate(prefix=prefix, max_length=8)
        assert ids == greedy_decode(runtime, prefix=prefix, max_length=8)
        assert ids == keras_greedy_ids(model, prefix=prefix or None, max_length=8)
        text = runtime.generate_text(prefix=prefix, max_length=8)
        assert text == model.generate(prompt, max_length=8, include_prompt=False)[0]
    _, plain = exporter("classification")  # a classifier has no decoder to generate with
    with pytest.raises(ValueError, match="decoder_step"):
        LiteRTModel(plain.path).generate_text(max_length=3)
