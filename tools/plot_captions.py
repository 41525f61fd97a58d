"""Plots built-in test images with the captions a captioning model generates.

Trains the default captioning model with the demo's settings (or loads a saved
``.keras`` model), captions the first images of the built-in test split with
greedy decoding and beam search, and writes a PNG grid: each image with its
generated caption and one of its references. The test BLEU-4 of the greedy
captions and of the most-frequent-caption baseline go into the title.

```bash
python tools/plot_captions.py                      # writes docs/captions.png
python tools/plot_captions.py --model runs/captioning/captioning.keras --num 12
```
"""

from __future__ import annotations

import argparse
import os
import sys


def plot_captions(model, images, references, path: str, *, title: str = "",
                  columns: int = 4, beam_width: int = 4) -> list[str]:
    """Writes a PNG grid of ``images`` with the model's captions; returns the greedy captions.

    Args:
        model: a captioning model (``rnnzoo.build("captioning")`` or loaded).
        images: uint8 ``(N, H, W, 3)`` images.
        references: per image, a list of reference captions (the first is shown).
        path: the PNG path (written to a temporary file, then renamed).
        title: the figure title.
        columns: images per row.
        beam_width: beam width of the second caption shown.

    Returns:
        The greedy captions, one per image.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    greedy = model.generate(images, method="greedy")
    beam = model.generate(images, method="beam", beam_width=beam_width)
    rows = (len(images) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(3.3 * columns, 4.0 * rows), squeeze=False,
                             layout="constrained")
    for ax in axes.ravel():
        ax.axis("off")
    for i, (ax, image) in enumerate(zip(axes.ravel(), images)):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(
            f"greedy: {greedy[i]}\nbeam {beam_width}: {beam[i]}\nreference: {references[i][0]}",
            fontsize=7.5, loc="left",
        )
    if title:
        fig.suptitle(title, fontsize=10)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp-{os.getpid()}.png")
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.remove(tmp)
    return greedy


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a saved captioning .keras model (default: train one)")
    parser.add_argument("--out", default=os.path.join("docs", "captions.png"))
    parser.add_argument("--num", type=int, default=8, help="images shown")
    parser.add_argument("--epochs", type=int, default=None, help="default: the demo's")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f"--num must be a positive integer. Received: {args.num}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    import rnnzoo
    from rnnzoo.data import captioning as data
    from rnnzoo.tasks.captioning import evaluate_captions, most_frequent_caption_bleu

    spec = rnnzoo.registry.get("captioning")
    keras.utils.set_random_seed(args.seed)
    if args.model:
        model = keras.saving.load_model(args.model, safe_mode=True)
        trained = f"loaded from {args.model}"
    else:
        model = rnnzoo.build("captioning", **spec.demo.get("overrides", {}))
        epochs = args.epochs or spec.demo["epochs"]
        train = rnnzoo.data.load("captioning", "train", 64, **spec.demo["data"])
        model.fit(train, epochs=epochs, verbose=2)
        trained = f"{spec.demo['data'].get('num_examples')} images x {epochs} epochs"
    images, refs = data.generate_scenes(200, image_size=model.image_size,
                                        seed=data.BUILTIN["seed"] * 10 + 2)
    bleu = evaluate_captions(model, images, refs)["bleu"]
    _, train_refs = data.generate_scenes(data.BUILTIN["num_examples"]["train"],
                                         seed=data.BUILTIN["seed"] * 10)
    _, baseline = most_frequent_caption_bleu(model.vocabulary, refs, train_refs)
    title = (f"rnnzoo captioning ({model.cell}, {model.encoder}; {trained}): test BLEU-4 "
             f"{bleu:.3f}, most frequent caption {baseline:.3f}")
    captions = plot_captions(model, images[: args.num], refs[: args.num], args.out, title=title)
    for caption, ref in zip(captions, refs):
        print(f"{caption!r:45} reference: {ref[0]!r}")
    print(title)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
