"""Shared pytest fixtures: quiet TensorFlow, seeds, registry helpers, backend-neutral tests."""

import fnmatch
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# pytest-xdist runs one worker per core: one TensorFlow thread each (no oversubscription;
# about 7% faster on 2 cores), inherited by the processes tests start.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import keras  # noqa: E402
import pytest  # noqa: E402

import rnnzoo  # noqa: E402

TASKS = rnnzoo.list_models()

# The tests CI also runs under KERAS_BACKEND=jax (tests/test_backends.py starts that leg with
# `-m backend_neutral`): node-id patterns, so that no test file needs to know about the leg.
# Chosen to cover every public entry point on JAX (the gradient monitor, keras.distribution,
# the CLI's train/demo/weights/export, pretrained weights, tuning's builders) within about
# 8 minutes on 2 shared CPU cores; tests that only exercise TensorFlow pieces
# (tf.distribute, TFLite internals) or that are slow under JAX's eager mode stay TF-only.
BACKEND_NEUTRAL = [
    "tests/callbacks/test_gradient_monitor.py::test_per_step_norms_equal_*",
    "tests/callbacks/test_gradient_monitor.py::test_tiny_per_step_norms_do_not_underflow*",
    "tests/callbacks/test_gradient_monitor.py::test_backward_direction_*",
    "tests/callbacks/test_gradient_monitor.py::test_traced_forward_pass_*[[]lstm[]]",
    "tests/callbacks/test_gradient_monitor.py::test_traced_forward_pass_*[[]gru[]]",
    "tests/callbacks/test_gradient_monitor.py::test_traced_forward_pass_*[[]simple[]]",
    "tests/callbacks/test_gradient_monitor.py::test_loss_is_the_training_loss_*",
    "tests/callbacks/test_gradient_monitor.py::test_vanishing_is_reported_*",
    "tests/callbacks/test_gradient_monitor.py::test_exploding_gradients_*[[]warn[]]",
    "tests/callbacks/test_gradient_monitor.py::test_non_finite_gradient_*",
    "tests/callbacks/test_gradient_monitor.py::test_non_recurrent_model_*",
    "tests/callbacks/test_gradient_monitor.py::test_every_task_model_is_traced[[]classification[]]",
    "tests/callbacks/test_gradient_monitor.py::test_every_task_model_is_traced[[]regression[]]",
    "tests/callbacks/test_gradient_monitor.py::test_auto_probe_*",
    "tests/callbacks/test_gradient_monitor.py::test_multi_output_loss_*",
    "tests/callbacks/test_gradient_monitor.py::test_tensorboard_*",
    "tests/callbacks/test_gradient_monitor.py::test_bad_arguments_*",
    "tests/callbacks/test_gradient_monitor.py::test_measure_needs_*",
    "tests/test_distribute.py::test_cluster_spec_*",
    "tests/test_distribute.py::test_distribution_arguments_*",
    "tests/test_distribute.py::test_cli_distribute_flags_*",
    "tests/test_distribute.py::test_on_jax_*",
    "tests/test_distribute.py::test_cli_train_rejects_*",
    "tests/test_cli.py::test_train_writes_model_and_metrics",
    "tests/test_cli.py::test_demo_runs_a_task_*",
    "tests/test_export.py::test_cli_exports_a_saved_model_file",
    "tests/test_weights.py::test_pretrained_without_mirror_*",
    "tests/test_weights.py::test_pretrained_model_is_trained_*",
    "tests/test_weights.py::test_new_head_*",
    "tests/test_weights.py::test_local_keras_and_weights_h5_*",
    "tests/test_weights.py::test_cli_weights_list_fetch_verify",
    "tests/test_tuning.py::test_hypermodel_builds_every_task_*",
    "tests/test_registry.py::*",
    "tests/layers/test_abc_rnn.py::test_hidden_states_equal_keras_simple_rnn*",
    "tests/layers/test_abc_rnn.py::test_padded_batch_equals_unpadded_sequences*",
    "tests/layers/test_abc_rnn.py::test_gradient_reaches_every_weight",
    "tests/layers/test_abc_rnn.py::test_dropout_masks_and_seeds_are_keras_simple_rnns*",
    # rnnzoo's opt-in fast LSTM/GRU/SimpleRNN against Keras' layers on JAX
    "tests/layers/test_fast_rnn.py::test_outputs_states_and_gradients_equal_keras"
    "[[]False-False-any_pattern-*",
    "tests/layers/test_fast_rnn.py::test_input_dropout_draws_keras_masks*",
    "tests/layers/test_fast_rnn.py::test_stateful_continues_like_keras*",
    "tests/layers/test_fast_rnn.py::test_bidirectional_and_keras_weight_files*",
    "tests/layers/test_clockwork.py::test_fast_loop_equals_the_per_step_cell_loop[[]False-False[]]",
    "tests/test_metrics.py::*",
]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "backend_neutral: also run under KERAS_BACKEND=jax (tests/conftest.py "
        "BACKEND_NEUTRAL; the leg is tests/test_backends.py)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(fnmatch.fnmatchcase(item.nodeid, pattern) for pattern in BACKEND_NEUTRAL):
            item.add_marker(pytest.mark.backend_neutral)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


def tiny_overrides(task: str, **extra):
    """The task's smallest configuration, with ``extra`` on top."""
    spec = rnnzoo.registry.get(task)
    return {**spec.tiny.get("overrides", {}), **extra}


def tiny_data(task: str, split: str = "train", batch_size: int = 8, **extra):
    """A few batches of the task's built-in data, matching ``tiny_overrides``."""
    spec = rnnzoo.registry.get(task)
    kwargs = {**spec.tiny.get("data", {}), **extra}
    return rnnzoo.data.load(task, split, batch_size, **kwargs)
