"""The generative base and the shared decoder: what translation, captioning and
text_prediction have in common, tested once over every generative task."""

import io
import zipfile

import h5py
import numpy as np
import pytest

import rnnzoo
from rnnzoo.tasks.decoder import DecoderStack
from rnnzoo.tasks.generation import GenerativeMixin, most_frequent_bleu
from rnnzoo.text import build_vocabulary

from tests.conftest import TASKS, tiny_overrides
from tests.tasks import numpy_decoding as reference

GENERATIVE = [t for t in TASKS
              if isinstance(rnnzoo.build(t, **tiny_overrides(t)), GenerativeMixin)]


def _saved_weight_names(model, path):
    model.save(path)
    names = []
    with zipfile.ZipFile(path) as z:
        h5py.File(io.BytesIO(z.read("model.weights.h5"))).visit(names.append)
    return sorted(names)


def test_the_three_generative_tasks_share_the_base():
    assert sorted(GENERATIVE) == ["captioning", "text_prediction", "translation"]


@pytest.mark.parametrize("task", GENERATIVE)
def test_inference_models_are_built_once_and_never_saved(task, tmp_path):
    model = rnnzoo.build(task, **tiny_overrides(task))
    before = _saved_weight_names(model, tmp_path / "before.keras")
    first = model.inference_models()
    second = model.inference_models()
    assert second["decoder_step"] is first["decoder_step"]
    assert second["encoder"] is first["encoder"]
    second["start_id"] = 99  # a copy: the cache is not the caller's dict
    assert model.inference_models()["start_id"] == 1
    # the cache lives outside the model: saving sees the same weights as before
    assert _saved_weight_names(model, tmp_path / "after.keras") == before


@pytest.mark.parametrize("task", GENERATIVE)
def test_generate_checks_arguments_before_anything_else(task):
    model = rnnzoo.build(task, **tiny_overrides(task))
    for kwargs, fragment in [({"top_p": 0.0}, "`top_p`"), ({"batch_size": 0}, "`batch_size`"),
                             ({"method": "nucleus"}, "`method`")]:
        with pytest.raises(ValueError, match=fragment):
            model.generate(object(), **kwargs)


@pytest.mark.parametrize("cell, condition, fed", [
    ("lstm", "state", False),
    ("feedforward", "state", True),  # no state to carry the condition: read every step
    ("lstm", "every_step", True),
    ("feedforward", None, False),    # a language model has no condition
])
def test_a_decoder_without_recurrence_reads_its_condition(cell, condition, fed):
    stack = DecoderStack(10, cell=cell, width=4, depth=2, dropout=0.0, embedding_dim=3,
                         condition=condition)
    assert stack.feed_condition is fed
    assert stack.num_states() == ([2, 2] if cell == "lstm" else [0, 0])


def test_most_frequent_bleu_is_the_blind_baseline():
    cat, dog = "a big red cat sleeps here", "two small blue dogs run there"
    vocab = build_vocabulary([cat, dog], level="word")
    text, score = most_frequent_bleu(vocab, [[cat], [cat]], [[cat], [dog, cat]])
    assert text == cat and score == pytest.approx(1.0)
    assert most_frequent_bleu(vocab, [[dog]], [[cat]]) == (cat, 0.0)


# --------------------------------------------------------------------------- the compiled loop


def _examples(task, model, count=5):
    """Raw inputs of the task's built-in test data (prompts of several lengths for a LM)."""
    if task == "text_prediction":
        return ["", "The", "A small dog", "x", "Many dogs run to the"][:count]
    x, _ = next(iter(rnnzoo.data.load(task, "test", count)))
    if task == "translation":
        return [model.source_vocabulary.decode(row) for row in x["source"].numpy()]
    return x["image"].numpy()


def _numpy_generate(model, inputs, method, gaps=None, **kwargs):
    """What generate() returned before the compiled loop: the numpy loop over predict_on_batch."""
    items = model._generation_inputs(inputs)
    models = model.inference_models()
    states, prefix = model._initial_state(models, items)
    ids = reference.decode(reference.predict_step(models["decoder_step"]), states,
                           batch_size=len(items), prefix=prefix, method=method, gaps=gaps,
                           **kwargs)
    return [model._output_vocabulary().decode(seq) for seq in ids]


@pytest.mark.parametrize("task", GENERATIVE)
@pytest.mark.parametrize("weights", [None, "pretrained"])
def test_generate_gives_the_numpy_loops_tokens(task, weights):
    """Greedy and beam search (with a length penalty) give exactly the old loop's text, on the
    built-in (untrained) and the published models, prompts of different lengths in one batch.

    An untrained model's distributions are nearly flat, so its beams meet ties closer than
    float32 resolves (1e-6 at a score of -100): there a different text is allowed only
    where the old loop itself decided by less than 1e-4."""
    if weights is None:
        model = rnnzoo.build(task, **tiny_overrides(task))
    else:
        model = rnnzoo.build(task, weights="pretrained")
    inputs = _examples(task, model)
    extra = {"include_prompt": False} if task == "text_prediction" else {}
    for method, kwargs in [("greedy", {}), ("beam", {"beam_width": 4}),
                           ("beam", {"beam_width": 3, "length_penalty": 0.8})]:
        got = model.generate(inputs, method, max_length=24, **kwargs, **extra)
        gaps = np.zeros(len(got))
        want = _numpy_generate(model, inputs, method, max_length=24, gaps=gaps, **kwargs)
        differ = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
        if weights == "pretrained":
            assert not differ, (method, kwargs, got, want)
        assert all(gaps[i] < 1e-4 for i in differ), (method, kwargs, gaps, got, want)
        assert len(differ) <= 1, (method, kwargs, got, want)


@pytest.mark.parametrize("task", GENERATIVE)
def test_sampled_text_does_not_depend_on_the_batch_size(task):
    """Issue 16 item 11: the same inputs and seed give the same text whatever batch_size."""
    model = rnnzoo.build(task, **tiny_overrides(task))
    inputs = _examples(task, model)
    kwargs = dict(method="sample", seed=2024, temperature=1.5, max_length=12)
    whole = model.generate(inputs, batch_size=None, **kwargs)
    assert model.generate(inputs, batch_size=2, **kwargs) == whole
    assert model.generate(inputs, batch_size=np.int64(1), **kwargs) == whole  # numpy ints too
    assert model.generate(inputs, batch_size=None, **{**kwargs, "seed": 7}) != whole


@pytest.mark.parametrize("task", GENERATIVE)
def test_generate_refuses_what_it_cannot_read_by_name(task):
    """Issue 16 items 8 and 9: TypeError for the wrong kind of input, ValueError for bad values."""
    model = rnnzoo.build(task, **tiny_overrides(task))
    for bad in (None, 42, 3.5):
        with pytest.raises(TypeError, match="`inputs` must be"):
            model.generate(bad)
    with pytest.raises(ValueError, match="`inputs`"):
        model.generate([])
    with pytest.raises(ValueError, match="`seed`.*-1"):
        model.generate(_examples(task, model, 1), method="sample", seed=-1)
    with pytest.raises(ValueError, match="`seed`"):
        model.generate(_examples(task, model, 1), method="sample", seed=2**32)


def test_the_compiled_loop_reads_the_current_weights():
    """The loop is compiled once per model, but reads the weights at every call (after fit,
    set_weights or load_weights it generates with the new ones)."""
    model = rnnzoo.build("text_prediction", units=8, embedding_dim=4)
    prompts = ["The", "A dog"]
    before = model.generate(prompts, max_length=10, include_prompt=False)
    assert before == _numpy_generate(model, prompts, "greedy", max_length=10)
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(scale=2.0, size=w.shape).astype("float32")
                       for w in model.get_weights()])
    after = model.generate(prompts, max_length=10, include_prompt=False)
    assert after == _numpy_generate(model, prompts, "greedy", max_length=10)
    assert after != before
