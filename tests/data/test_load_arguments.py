"""rnnzoo.data.load's arguments as a numpy user passes them, and the mistakes it refuses."""

import numpy as np
import pytest

import rnnzoo
from tests.conftest import TASKS, tiny_data


@pytest.mark.parametrize("task", TASKS)
def test_numpy_integer_batch_sizes_are_accepted(task):
    expected = next(iter(tiny_data(task, batch_size=4)))
    got = next(iter(tiny_data(task, batch_size=np.int64(4))))
    first = lambda batch: np.asarray(batch[1])  # noqa: E731
    np.testing.assert_array_equal(first(got), first(expected))


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("seed", [-1, 2**32, 1.5])
def test_bad_seeds_are_refused_naming_the_argument(task, seed):
    with pytest.raises(ValueError, match=r"`seed` must be None or an integer in \[0, 4294967295\]"):
        tiny_data(task, seed=seed)


@pytest.mark.parametrize("batch_size", [0, -2, 2.0, True, np.float32(4)])
def test_bad_batch_sizes_are_refused(batch_size):
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        rnnzoo.data.load("classification", "train", batch_size, num_examples=8)
