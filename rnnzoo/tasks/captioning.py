"""The ``captioning`` task: a CNN image encoder and a recurrent caption decoder.

Show and Tell (Vinyals et al. 2015): a convolutional encoder turns the image
into an embedding vector; a ``Dense(tanh)`` projection of it initialises every
state of the decoder (per layer; states of another width, such as the
Clockwork RNN's step counter, start at zero), and the decoder, trained with
teacher forcing, predicts the caption one word at a time.

Encoders (``encoder=``):

* ``"small_cnn"`` (default, trained from scratch): three ``Conv2D`` + max-pool
  blocks, flattened (so positions survive) and a ``Dense`` embedding;
* ``"mobilenet_v2"``, ``"efficientnet_b0"``: the ``keras.applications``
  backbone built with ``weights=None`` (offline; load your own weights into
  ``model.get_layer("backbone")``), global average pooling, a ``Dense`` embedding.

A non-recurrent cell (``cell="feedforward"``): each word is predicted from the
previous word's embedding concatenated with the image projection, through a
per-step stack. ``bidirectional`` is refused: the decoder generates
left to right and the encoder is not recurrent.
"""

from __future__ import annotations

import keras
import numpy as np

from rnnzoo import registry
from rnnzoo.data import captioning as data, digits
from rnnzoo.layers.recurrent import state_sizes
from rnnzoo.registry import Option
from rnnzoo.tasks.common import compile_model, recurrent_options, recurrent_search_space
from rnnzoo.tasks.decoder import (
    DecoderStack,
    masked_loss,
    resolve_vocab_size,
    step_model,
    token_accuracy,
    vocabulary_option,
)
from rnnzoo.tasks.generation import GenerativeMixin, bleu, most_frequent_bleu, to_dataset
from rnnzoo.text import as_vocabulary

__all__ = ["CaptionModel", "build_captioning", "evaluate_captions", "most_frequent_caption_bleu",
           "check_images", "ENCODERS"]

ENCODERS = ("small_cnn", "mobilenet_v2", "efficientnet_b0")


def check_images(images, name: str) -> np.ndarray:
    """Checks the pixel contract of user images and returns them as an array.

    uint8 (or other integer) images hold values in ``[0, 255]`` (they are
    divided by 255), float images values in ``[0, 1]``; NaN and infinities are
    refused, as are float images that look unscaled (values above 1).

    Args:
        images: what the user passed.
        name: the argument's name, for the messages.

    Returns:
        ``np.asarray(images)``.

    Raises:
        TypeError: if ``images`` is not a numeric array (``None``, a number, text).
        ValueError: for values outside the contract.
    """
    array = None if images is None or isinstance(images, (str, bytes)) else np.asarray(images)
    if array is None or array.ndim == 0 or not (
            np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(
            f"`{name}` must be a numeric array of images (N, H, W, C) or one image (H, W, C): "
            f"uint8 in [0, 255] or float in [0, 1]. Received: {name}={images!r:.100} of type "
            f"{type(images).__name__}")
    if array.size == 0:
        return array  # the shape check names it
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ValueError(f"`{name}` must hold finite values. Received: {name} with "
                             f"{int(np.sum(~np.isfinite(array)))} NaN or infinite values")
        low, high, allowed = float(array.min()), float(array.max()), "[0, 1] (float images)"
        ok = low >= 0.0 and high <= 1.0
    else:
        low, high, allowed = int(array.min()), int(array.max()), "[0, 255] (integer images)"
        ok = low >= 0 and high <= 255
    if not ok:
        unscaled = high > 1 and np.issubdtype(array.dtype, np.floating)
        hint = " Pass uint8 pixels or divide by 255." if unscaled else ""
        raise ValueError(f"`{name}` must hold values in {allowed}.{hint} Received: {name} with "
                         f"values in [{low}, {high}] (dtype {array.dtype})")
    return array


def _image_encoder(encoder: str, image_size, channels: int, embedding_dim: int, dropout: float):
    """Returns the layers of the image encoder as a function ``image -> embedding``."""
    h, w = image_size
    if encoder == "small_cnn":
        layers = []
        for i, filters in enumerate((32, 64, 64)):
            layers.append(keras.layers.Conv2D(filters, 3, padding="same", activation="relu",
                                              name=f"cnn_conv_{i + 1}"))
            layers.append(keras.layers.MaxPooling2D(name=f"cnn_pool_{i + 1}"))
        layers.append(keras.layers.Flatten(name="cnn_flatten"))
    else:
        if encoder == "mobilenet_v2":
            backbone = keras.applications.MobileNetV2(
                include_top=False, weights=None, input_shape=(h, w, channels), pooling="avg",
                name="backbone")
            # MobileNetV2 expects [-1, 1]
            scale = keras.layers.Rescaling(2.0, offset=-1.0, name="backbone_rescale")
        else:
            backbone = keras.applications.EfficientNetB0(
                include_top=False, weights=None, input_shape=(h, w, channels), pooling="avg",
                name="backbone")
            # EfficientNet rescales [0, 255] itself
            scale = keras.layers.Rescaling(255.0, name="backbone_rescale")
        layers = [scale, backbone]
    if dropout:
        layers.append(keras.layers.Dropout(dropout, name="image_dropout"))
    layers.append(keras.layers.Dense(embedding_dim, activation="relu", name="image_embedding"))

    def apply(image):
        x = image
        for layer in layers:
            x = layer(x)
        return x

    return apply


@keras.saving.register_keras_serializable(package="rnnzoo")
class CaptionModel(GenerativeMixin, keras.Model):
    """Image captioning model (CNN encoder + recurrent decoder) that carries its vocabulary.

    Training inputs are ``{"image": float32 (B, H, W, C) in [0, 1],
    "caption_in": (B, T) ids}`` (``caption_in`` starts with ``<start>``); the
    output is the next-word distribution ``(B, T, vocab_size)``. :meth:`generate`
    takes ``(N, H, W, C)`` images or one ``(H, W, C)`` image, uint8 or float in
    [0, 1] (other sizes are resized), and returns one caption per image;
    :meth:`inference_models` gives ``encoder: image float32 (B, H, W, C) ->
    [*states]`` and the one-step decoder.

    Args:
        vocabulary: :class:`rnnzoo.text.Vocabulary` of the captions.
        cell, units, depth, dropout: the decoder.
        image_size: ``(height, width)`` of the input images.
        channels: image channels.
        encoder: ``"small_cnn"``, ``"mobilenet_v2"`` or ``"efficientnet_b0"``.
        embedding_dim: word embedding width.
        image_embedding_dim: width of the image embedding.
        vocab_size: softmax size (``None``: the vocabulary's size).
        max_output_length: default ``max_length`` of :meth:`generate`.

    Example:

    >>> model = rnnzoo.build("captioning")
    >>> model.generate(images, method="beam")
    ['a big red circle on the left', ...]
    """

    def __init__(self, vocabulary, *, cell: str = "lstm", units: int = 128, depth: int = 1,
                 dropout: float = 0.0, image_size=(32, 32), channels: int = 3,
                 encoder: str = "small_cnn", embedding_dim: int = 64,
                 image_embedding_dim: int = 128, feed_image: bool = True,
                 vocab_size: int | None = None, max_output_length: int = 20,
                 name: str = "rnnzoo_captioning", **kwargs):
        vocabulary = as_vocabulary(vocabulary, "vocabulary")
        if encoder not in ENCODERS:
            raise ValueError(
                f"`encoder` must be one of {list(ENCODERS)}. Received: encoder={encoder!r}"
            )
        image_size = tuple(int(v) for v in image_size)
        size = resolve_vocab_size(vocabulary, vocab_size, "vocab_size")
        encode_image = _image_encoder(encoder, image_size, channels, image_embedding_dim, dropout)
        decoder = DecoderStack(size, cell=cell, width=units, depth=depth, dropout=dropout,
                               embedding_dim=embedding_dim, attention="none",
                               condition="every_step" if feed_image else "state")
        sizes = [state_sizes(layer) for layer in decoder.layers]  # [] without recurrence
        init_layers = [
            [keras.layers.Dense(units, activation="tanh", name=f"init_state_{i + 1}_{k}")
             if s == units else None for k, s in enumerate(layer_sizes)]
            for i, layer_sizes in enumerate(sizes)
        ]

        def encode(image):
            embedding = encode_image(image)
            states = []
            for layer_sizes, layers in zip(sizes, init_layers):
                for s, layer in zip(layer_sizes, layers):
                    if layer is not None:
                        states.append(layer(embedding))
                    else:  # e.g. a step counter: starts at zero
                        zero = keras.ops.zeros_like(embedding[:, :1])
                        states.append(keras.ops.repeat(zero, s, axis=1))
            if decoder.feed_condition:
                states.append(embedding)
            return states

        image = keras.Input((*image_size, channels), dtype="float32", name="image")
        caption_in = keras.Input((None,), dtype="int32", name="caption_in")
        probs, _ = decoder(caption_in, encode(image))
        super().__init__({"image": image, "caption_in": caption_in}, probs, name=name, **kwargs)

        self._keep_config(
            vocabulary=vocabulary, cell=cell, units=units, depth=depth, dropout=dropout,
            image_size=image_size, channels=channels, encoder=encoder,
            embedding_dim=embedding_dim, image_embedding_dim=image_embedding_dim,
            feed_image=feed_image, vocab_size=vocab_size, max_output_length=max_output_length,
        )
        self.rnnzoo_cell = cell
        self._encode_fn = encode
        self._decoder_stack = decoder

    # ------------------------------------------------------------------ generation hooks
    def _build_inference_models(self):
        image = keras.Input((*self.image_size, self.channels), dtype="float32", name="image")
        states = self._encode_fn(image)
        encoder = keras.Model(image, list(states), name=f"{self.name}_encoder")
        step = step_model(self._decoder_stack, list(states), with_memory=False,
                          name=f"{self.name}_decoder_step")
        return encoder, step

    def _generation_inputs(self, images):
        return data.prepare_images(check_images(images, "inputs"), self.image_size,
                                   argument="inputs")

    def make_dataset(self, images, captions, batch_size: int = 64, *, shuffle: bool = True,
                     seed: int = 0, max_length: int | None = None):
        """Turns raw images and captions into training batches.

        Args:
            images: ``(N, H, W, C)`` uint8 (0..255) or float (0..1) array; other
                sizes are resized to the model's ``image_size``.
            captions: per image, a caption string or a list of caption strings
                (every (image, caption) pair becomes one example).
            batch_size: examples per batch.
            shuffle: shuffle every epoch.
            seed: shuffle seed.
            max_length: caption length with the start/end token (``None``: the longest).

        Returns:
            A ``tf.data.Dataset`` of ``({"image", "caption_in"}, caption_out)`` for ``fit``.

        Raises:
            ValueError: if images and captions differ in number, or a caption
                is not a string.

        Example:

        >>> ds = model.make_dataset(my_images, [["a dog", "a brown dog"], "two cats"])
        """
        array = data.prepare_images(check_images(images, "images"), self.image_size)
        if isinstance(captions, (str, bytes)) or len(captions) != len(array):
            raise ValueError(
                f"`captions` must give one caption (or list of captions) per image: "
                f"{len(array)} images. Received: {len(captions) if not isinstance(captions, (str, bytes)) else 1} captions."
            )
        index, texts = [], []
        for i, refs in enumerate(captions):
            refs = [refs] if isinstance(refs, (str, bytes)) else list(refs)
            for text in refs:
                if not isinstance(text, (str, bytes)):
                    raise ValueError(
                        f"`captions` must hold strings. Received: captions[{i}] containing "
                        f"{text!r}"
                    )
                text = text.decode("utf-8") if isinstance(text, bytes) else text
                if not self.vocabulary.tokenize(text):
                    raise ValueError(f"`captions` must hold non-empty captions. Received: "
                                     f"captions[{i}] containing {text!r}")
                index.append(i)
                texts.append(text)
        if not texts:
            raise ValueError("`captions` must hold at least one caption. Received none.")
        cap_in, cap_out = data.encode_captions(texts, self.vocabulary, max_length=max_length)
        inputs = {"image": array[np.asarray(index)], "caption_in": cap_in}
        return to_dataset(inputs, cap_out, batch_size=batch_size, shuffle=shuffle, seed=seed)


def evaluate_captions(model: CaptionModel, images, references, *, method: str = "greedy",
                      beam_width: int = 4) -> dict:
    """Captions ``images`` and scores them with corpus BLEU-4 against several references.

    Args:
        model: a captioning model.
        images: the images.
        references: per image, a list of reference caption strings.
        method, beam_width: as in :meth:`CaptionModel.generate`.

    Returns:
        ``{"bleu": corpus BLEU-4 (0..1), "hypotheses": [...]}``.
    """
    hyps = model.generate(images, method=method, beam_width=beam_width)
    return {"bleu": bleu(model.vocabulary, references, hyps), "hypotheses": hyps}


def most_frequent_caption_bleu(vocabulary, references, train_references) -> tuple[str, float]:
    """BLEU-4 of always answering the most frequent training caption (a blind baseline).

    Args:
        vocabulary: tokenises the captions.
        references: per test image, a list of reference captions.
        train_references: per training image, a list of captions.

    Returns:
        ``(the most frequent training caption, its BLEU-4 against references)``.
    """
    return most_frequent_bleu(vocabulary, references, train_references)


def _demo_report(model, test_ds) -> dict:
    """Test BLEU-4 of greedy captions vs. the most frequent training caption."""
    demo = registry.get("captioning").demo
    kwargs = dict(demo.get("eval_data", {}))
    n = kwargs.pop("num_examples", data.BUILTIN["num_examples"]["test"])
    seed = kwargs.pop("seed", data.BUILTIN["seed"])
    images, refs = data.generate_scenes(n, seed=seed * 10 + 2, **kwargs)
    scores = evaluate_captions(model, images, refs)
    _, train_refs = data.generate_scenes(data.BUILTIN["num_examples"]["train"],
                                         seed=data.BUILTIN["seed"] * 10)
    common, baseline = most_frequent_caption_bleu(model.vocabulary, refs, train_refs)
    examples = [f"[{r[0]}] -> {h}" for r, h in zip(refs[:3], scores["hypotheses"][:3])]
    examples.append(f"test BLEU-4 {scores['bleu']:.3f} (most frequent caption "
                    f"'{common}': {baseline:.3f})")
    return {"baseline": "most frequent caption (BLEU-4)", "baseline_value": baseline,
            "metric": "BLEU-4 (greedy)", "value": float(scores["bleu"]),
            "examples": examples, "bleu": scores["bleu"]}


def _check_image_size(value):
    h, w = data._check_image_size(value, low=8)
    return (h, w)


@registry.register(
    "captioning",
    pattern="one-to-many",
    description=(
        "Image captioning in the Show-and-Tell style (Vinyals et al. 2015): a CNN encoder "
        "(a small CNN trained from scratch, or a keras.applications backbone) embeds the "
        "image, the embedding initialises a recurrent decoder that writes the caption word by "
        "word. The model carries its vocabulary and generates captions with greedy, beam or "
        "sampled decoding."
    ),
    inputs='{"image": float32 (batch, height, width, channels) in [0, 1], '
           '"caption_in": int ids (batch, time)}, 0 = padding, caption_in starts with <start>',
    outputs="next-word probabilities (batch, time, vocab_size)",
    options=[
        *recurrent_options(cell="lstm", units=128, learning_rate=3e-3),
        vocabulary_option("vocabulary",
                          "rnnzoo.text.Vocabulary of the captions (default: built-in)"),
        Option("vocab_size", None, int, low=5, allow_none=True,
               help="softmax size (default: len(vocabulary))"),
        Option("image_size", data.BUILTIN["image_size"], tuple, validator=_check_image_size,
               help="(height, width) of the input images"),
        Option("channels", 3, int, low=1, help="image channels"),
        Option("encoder", "small_cnn", str, choices=ENCODERS,
               help="image encoder: small_cnn (from scratch) or a keras.applications backbone "
                    "built with weights=None"),
        Option("embedding_dim", 64, int, low=1, help="word embedding width"),
        Option("image_embedding_dim", 128, int, low=1, help="image embedding width"),
        Option("feed_image", True, bool,
               help="also feed the image embedding to the decoder at every step (False: it "
                    "only initialises the decoder states, as in Show and Tell)"),
        Option("max_output_length", 20, int, low=1, help="default max_length of generate()"),
    ],
    metrics=["token_accuracy"],
    datasets={"builtin": data.load_builtin, "tfds": data.load_tfds, "digits": digits.load},
    tfds_name="coco_captions",
    search_space=recurrent_search_space(units=(32, 256, 32), depth=(1, 2),
                                                 bidirectional=False),
    objective=("val_loss", "min"),
    allows_bidirectional=False,
    demo={"epochs": 6, "data": {"num_examples": 2000},
          "eval_data": {"num_examples": 200}, "report": _demo_report},
    tiny={
        "overrides": {"units": 16, "embedding_dim": 16, "image_embedding_dim": 16},
        "data": {"num_examples": 32},
    },
)
def build_captioning(
    *,
    vocabulary,
    vocab_size: int | None,
    image_size: tuple,
    channels: int,
    encoder: str,
    embedding_dim: int,
    image_embedding_dim: int,
    feed_image: bool,
    max_output_length: int,
    bidirectional: bool,
    learning_rate: float,
    **recurrent,
) -> CaptionModel:
    """Builds the compiled captioning model.

    Without a vocabulary the built-in shape-scene vocabulary is used. Loss:
    sparse cross-entropy with padding ignored; metric: next-word accuracy on
    non-padding positions.

    Args:
        vocabulary, vocab_size, image_size, channels, encoder, embedding_dim,
            image_embedding_dim, feed_image, max_output_length: see the task's options.
        bidirectional: always False (the decoder generates left to right).
        learning_rate: Adam's learning rate.
        **recurrent: the decoder's ``cell``, ``units``, ``depth`` and ``dropout``,
            passed to :class:`CaptionModel`.

    Example:

    >>> vocab = rnnzoo.text.build_vocabulary(my_captions, level="word")
    >>> model = rnnzoo.build("captioning", vocabulary=vocab, image_size=(64, 64))
    """
    del bidirectional  # refused by the registry (allows_bidirectional=False)
    model = CaptionModel(
        vocabulary if vocabulary is not None else data.builtin_vocabulary(),
        **recurrent, image_size=image_size, channels=channels, encoder=encoder,
        embedding_dim=embedding_dim, image_embedding_dim=image_embedding_dim,
        feed_image=feed_image, vocab_size=vocab_size, max_output_length=max_output_length,
    )
    return compile_model(model, learning_rate=learning_rate, loss=masked_loss(),
                         metrics=[token_accuracy()])
