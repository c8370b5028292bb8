"""Notebook 04's exercise checks, generated from notebooks/solutions/04_convnet.md by
`mammokit masters`: edit them there (cells tagged `check`), not here.
"""
from __future__ import annotations

from mammokit.exercises import Exercise
import numpy as np
from mammokit.datasets import class_weights
from mammokit.exercises import WrongAnswer, call, expect, rng, value
from mammokit.models import build_convnet


def _pool_side(size: int, n_blocks: int) -> int:
    """The side of the last feature map of the kit's ConvNet with ``n_blocks`` blocks: notebook 04's stand-in."""
    model = build_convnet((size, size, 1), filters=(4,) * n_blocks, dense=None, dropout=0.0)
    return int(model.get_layer(f"block{n_blocks}_pool").output.shape[1])


def _balanced(labels) -> dict[int, float]:
    return class_weights(labels, "balanced")


def _kind(layer) -> str:
    name = type(layer).__name__
    if name == "Activation" and getattr(layer.activation, "__name__", "") == "relu" or name == "ReLU":
        return "ReLU"
    return name


def _block_summary(out, x, filters) -> dict:
    """What the check needs of a built block, as plain data (computed where the answer runs)."""
    import keras

    try:
        model = keras.Model(x, out)
    except Exception as exc:  # noqa: BLE001 - not a Keras tensor built from x
        raise WrongAnswer(f"conv_block must return the Keras tensor it built from x ({type(exc).__name__}: {exc})")
    conv = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    return {"kinds": [_kind(layer) for layer in model.layers if type(layer).__name__ != "InputLayer"],
            "kernel": [int(k) for k in conv[0].kernel_size] if conv else None,
            "padding": str(conv[0].padding) if conv else None,
            "output_shape": [None if d is None else int(d) for d in model.output_shape],
            "params": int(model.count_params())}


def check_conv_params(answer) -> None:
    from keras import layers

    draw = rng(401)
    for kernel, c_in, c_out, bias in [(3, 1, 32, False), (3, 32, 64, True), *[(int(k), int(i), int(o), bool(b))
                                      for k, i, o, b in zip(draw.choice([1, 3, 5], 3), draw.integers(1, 64, 3),
                                                            draw.integers(1, 64, 3), draw.integers(0, 2, 3))]]:
        conv = layers.Conv2D(c_out, kernel, use_bias=bias)
        conv.build((None, 16, 16, c_in))
        got = call(answer, kernel, c_in, c_out, bias, what="conv_params(kernel, c_in, c_out, bias)")
        expect(got == conv.count_params(), f"conv_params({kernel}, {c_in}, {c_out}, {bias}) gave {got}; Keras "
                                           f"counts {conv.count_params()} (one k×k×c_in filter per output channel)")


def check_param_count(answer) -> None:
    answer = value(answer, "param_count_guess")
    try:
        got = float(answer)
    except (TypeError, ValueError):
        raise WrongAnswer(f"param_count_guess should be a number, got {answer!r}") from None
    want = build_convnet((96, 96, 1)).count_params()
    expect(abs(got - want) <= 0.05 * want, f"you predicted {got:,.0f}; the next cell prints the real count "
                                           "(within 5 % counts as right)")


def check_conv_block(answer) -> None:
    import keras

    for channels, filters in ((1, 8), (3, 16)):
        inputs = keras.Input((32, 32, channels))
        got = call(answer, inputs, filters, what="conv_block(x, filters)", encode=_block_summary)
        expect(isinstance(got, dict), "conv_block must return the Keras tensor it built from x")
        kinds = got.get("kinds")
        want = ["Conv2D", "BatchNormalization", "ReLU", "MaxPooling2D"]
        expect(kinds == want, f"your block's layers are {kinds}; the paper's block is {want}")
        expect(got.get("kernel") == [3, 3] and got.get("padding") == "same",
               f"use a 3×3 kernel with padding='same' (yours: {got.get('kernel')}, {got.get('padding')!r})")
        shape = tuple(got.get("output_shape") or ())
        expect(shape == (None, 16, 16, filters),
               f"output shape {shape}, expected (None, 16, 16, {filters}): the pool halves H and W")
        reference = build_convnet((32, 32, channels), filters=(filters,), dense=None, dropout=0.0)
        want_params = sum(reference.get_layer(n).count_params() for n in ("block1_conv", "block1_bn"))
        expect(got.get("params") == want_params, f"{got.get('params')} parameters, the package's block has "
                                                 f"{want_params}: no bias in the conv (batch norm adds its own)")


def check_output_side(answer) -> None:
    for size, blocks in ((32, 2), (48, 3), (64, 4)):
        model = build_convnet((size, size, 1), filters=(4,) * blocks, dense=None, dropout=0.0)
        want = int(model.get_layer(f"block{blocks}_pool").output.shape[1])
        got = call(answer, size, blocks, what="output_side(size, n_blocks)")
        expect(got == want, f"output_side({size}, {blocks}) gave {got}; the last feature map is {want}×{want}")


def check_class_weights(answer) -> None:
    draw = rng(411)
    for n, p in ((20, 0.3), (101, 0.75), (9, 0.5)):
        labels = (draw.random(n) < p).astype(int)
        labels[:2] = [0, 1]
        got = call(answer, labels.copy(), what="class_weights(labels)")
        want = _balanced(labels)
        try:
            ok = all(np.isclose(float(got[c]), want[c]) for c in (0, 1))
        except (TypeError, KeyError, IndexError):
            raise WrongAnswer(f"class_weights should return {{0: w0, 1: w1}}, got {got!r}") from None
        expect(ok, f"for {np.bincount(labels).tolist()} benign/malignant you gave {got}, balanced weights are "
                   f"{ {c: round(w, 4) for c, w in want.items()} } (w_c = N / (2 N_c))")


NB = '04_convnet'
EXERCISES = [
    Exercise('q04_conv_params', NB, 'conv_params', check_conv_params),
    Exercise('q04_param_count', NB, 'param_count_guess', check_param_count, kind='predict'),
    Exercise('q04_conv_block', NB, 'conv_block', check_conv_block),
    Exercise('q04_output_side', NB, 'output_side', check_output_side, fallback=_pool_side),
    Exercise('q04_class_weights', NB, 'class_weights', check_class_weights, fallback=_balanced),
]

WRITTEN = [
    'Your validation loss stops falling after a few epochs while the training loss keeps going down. What is happening, and which two parameters of this notebook would you change first?',
]
