"""Shared pytest fixtures: quiet TensorFlow, fixed seeds, registry helpers."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402

import rnnzoo  # noqa: E402

TASKS = rnnzoo.list_models()


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
