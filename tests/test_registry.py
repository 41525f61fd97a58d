"""The registry: lookup, validation of every option, errors that name what is wrong."""

import pytest

import rnnzoo
from rnnzoo import registry
from rnnzoo.registry import Option

from tests.conftest import TASKS


def test_list_models_contains_classification_and_is_sorted():
    names = rnnzoo.list_models()
    assert "classification" in names
    assert names == sorted(names)


@pytest.mark.parametrize("task", TASKS)
def test_describe_has_the_spec(task):
    info = rnnzoo.describe(task)
    assert info["name"] == task
    assert info["pattern"] in {"many-to-one", "many-to-many", "one-to-many",
                               "many-to-one / many-to-many"}
    for key in ("cell", "units", "depth", "bidirectional", "dropout", "learning_rate"):
        assert key in info["options"], key
    assert info["metrics"]
    assert "builtin" in info["datasets"]
    assert info["objective"]["direction"] in ("min", "max")


def test_unknown_task_lists_names_and_suggests():
    with pytest.raises(ValueError) as err:
        rnnzoo.build("clasification")
    message = str(err.value)
    assert "'clasification'" in message
    assert "Did you mean 'classification'?" in message
    assert "classification" in message.split("Registered tasks:")[1]


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize(
    "option, value, fragment",
    [
        ("units", 0, "`units` must be an integer >= 1. Received: units=0"),
        ("units", "64", "Received: units='64'"),
        ("units", 2.5, "Received: units=2.5"),
        ("cell", "lsmt", "Did you mean 'lstm'?"),
        ("depth", -1, "Received: depth=-1"),
        ("dropout", 1.5, "`dropout` must be a number in [0.0, 1.0). Received: dropout=1.5"),
        ("bidirectional", "yes", "Received: bidirectional='yes'"),
        ("learning_rate", 0.0, "Received: learning_rate=0.0"),
    ],
)
def test_bad_options_raise_naming_option_value_and_allowed(task, option, value, fragment):
    with pytest.raises(ValueError) as err:
        rnnzoo.build(task, **{option: value})
    assert fragment in str(err.value)


@pytest.mark.parametrize("task", TASKS)
def test_unknown_option_is_rejected_with_suggestion(task):
    with pytest.raises(ValueError, match=r"Unknown option `unit`.*Did you mean 'units'\?"):
        rnnzoo.build(task, unit=8)


def test_cell_error_lists_allowed_cells():
    with pytest.raises(ValueError) as err:
        rnnzoo.build("classification", cell="transformer")
    for cell in ("lstm", "gru", "simple", "feedforward"):
        assert f"'{cell}'" in str(err.value)


def test_registering_a_name_twice_is_an_error():
    spec = registry.get("classification")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(
            "classification", pattern="many-to-one", description="", inputs="", outputs="",
            options=[], metrics=[], datasets={},
        )(lambda: None)
    assert registry.get("classification") is spec


def test_register_validate_and_unregister_a_new_task():
    calls = []

    @registry.register(
        "toy_task_for_test", pattern="many-to-one", description="toy", inputs="x", outputs="y",
        options=[Option("size", 3, int, low=1)], metrics=["loss"], datasets={},
    )
    def build_toy(*, size):
        calls.append(size)
        return size

    try:
        assert rnnzoo.build("toy_task_for_test") == 3
        assert rnnzoo.build("toy_task_for_test", size=5) == 5
        with pytest.raises(ValueError, match="Received: size=0"):
            rnnzoo.build("toy_task_for_test", size=0)
        assert calls == [3, 5]  # validation happens before the builder runs
    finally:
        registry.unregister("toy_task_for_test")
    assert "toy_task_for_test" not in rnnzoo.list_models()


def test_option_bool_is_not_an_int_and_numpy_ints_are():
    import numpy as np

    opt = Option("units", 4, int, low=1)
    assert opt.validate(np.int64(7)) == 7 and type(opt.validate(np.int64(7))) is int
    with pytest.raises(ValueError):
        opt.validate(True)
    assert Option("flag", False, bool).validate(np.bool_(True)) is True
    assert Option("rate", 0.1, float, low=0).validate(1) == 1.0
