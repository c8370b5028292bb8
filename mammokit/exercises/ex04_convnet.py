"""Notebook 04's exercise checks, generated from notebooks/solutions/04_convnet.md by
`mammokit masters`: edit them there (cells tagged `check`), not here.
"""
from __future__ import annotations

from mammokit.exercises.spec import Exercise, Forbidden
import numpy as np
from mammokit.datasets import class_weights
from mammokit.exercises.spec import WrongAnswer, call, expect, rng, value
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


def _keras_conv(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """What Keras' Conv2D computes (one channel, no bias, stride 1, padding 'valid')."""
    import keras

    out = keras.ops.conv(image[None, :, :, None].astype("float32"), kernel[:, :, None, None].astype("float32"),
                         strides=1, padding="valid")
    return keras.ops.convert_to_numpy(out)[0, :, :, 0].astype(float)


def _array(got, what: str) -> np.ndarray:
    try:
        return np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise WrongAnswer(f"{what} should return a 2-D numpy array of numbers") from None


def check_conv2d(answer) -> None:
    draw = rng(421)
    for shape, kshape in (((7, 9), (3, 3)), ((6, 5), (2, 4)), ((8, 8), (1, 1)), ((5, 6), (5, 6))):
        image, kernel = draw.normal(size=shape), draw.normal(size=kshape)
        got = _array(call(answer, image.copy(), kernel.copy(), what="conv2d(image, kernel)"), "conv2d")
        want = _keras_conv(image, kernel)
        expect(got.shape == want.shape, f"a {shape[0]}×{shape[1]} image and a {kshape[0]}×{kshape[1]} kernel give a "
                                        f"{want.shape[0]}×{want.shape[1]} output without padding; yours is "
                                        f"{'×'.join(map(str, got.shape)) or 'a number'}")
        flipped = _keras_conv(image, kernel[::-1, ::-1])
        expect(not (np.allclose(got, flipped, atol=1e-4) and not np.allclose(flipped, want, atol=1e-4)),
               "you flipped the kernel (textbook convolution); Keras' Conv2D slides it as it is")
        expect(np.allclose(got, want, atol=1e-4), f"on a {shape[0]}×{shape[1]} image with a {kshape[0]}×{kshape[1]} "
                                                  f"kernel your output differs from Keras' Conv2D by up to "
                                                  f"{np.max(np.abs(got - want)):.3g}; check where each window starts")


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


def _logits(seed: int, n: int, c: int, scale: float = 2.0) -> np.ndarray:
    return rng(seed).normal(scale=scale, size=(n, c))


def check_softmax(answer) -> None:
    from scipy.special import softmax as reference

    huge = np.array([[1000.0, 999.0, 0.0], [-1000.0, 0.0, 1000.0], [1000.0, 1000.0, 1000.0], [-1000.0, -999.0, -1000.0]])
    for logits in (_logits(441, 6, 2), _logits(442, 5, 3, 10.0), huge):
        got = _array(call(answer, logits.copy(), what="softmax(logits)"), "softmax")
        want = reference(logits, axis=1)
        expect(got.shape == logits.shape, f"softmax of a {logits.shape} array should be {logits.shape}, got {got.shape}")
        expect(np.isfinite(got).all(), f"your softmax gives nan or inf for logits up to {np.abs(logits).max():.0f}: "
                                       "shift each row before exp")
        expect(np.allclose(got.sum(axis=1), 1), "each row of your probabilities should sum to 1 (normalise per row, "
                                                "axis=1)")
        expect(np.allclose(got, want, atol=1e-6), f"on {logits.shape[0]} rows of {logits.shape[1]} logits your "
                                                  "probabilities differ from exp(z_c) / Σ_j exp(z_j)")


def check_cross_entropy(answer) -> None:
    from scipy.special import softmax as reference
    from sklearn.metrics import log_loss

    for seed, n, c in ((451, 8, 2), (452, 13, 3), (453, 5, 2)):
        probs = reference(_logits(seed, n, c), axis=1)
        labels = rng(seed + 10).integers(0, c, n)
        labels[:c] = np.arange(c)
        got = call(answer, probs.copy(), labels.copy(), what="cross_entropy(probs, labels)")
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise WrongAnswer(f"cross_entropy should return one number (the mean over images), got "
                              f"{type(got).__name__}") from None
        want = log_loss(labels, probs, labels=np.arange(c))
        expect(np.isclose(got, want, rtol=1e-6), f"for {n} images and {c} classes you gave {got:.4f}; check that "
                                                 "you take each image's true class, the natural log, the minus sign "
                                                 "and the mean (not the sum)")


def check_param_count(answer) -> None:
    """A prediction: only its form is checked (the cell after the architecture reveals the answer)."""
    got = value(answer, "param_count_guess")
    expect(type(got) in (int, float) and got > 0, f"write a number of parameters, got {got!r}")


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


def check_bm_auc(answer) -> None:
    """A prediction: only its form is checked (a later cell reveals the answer)."""
    got = value(answer, "bm_auc_guess")
    expect(type(got) in (int, float) and 0 <= got <= 1, "write an AUC between 0 and 1, got " + repr(got))


def _tiny_model_fn(seed: int, side: int = 8):
    """A compiled model that can memorise a handful of side×side images (built only when called)."""
    def model_fn():
        import keras
        from keras import layers

        inputs = keras.Input((side, side, 1))
        x = layers.Conv2D(8, 3, activation="relu", kernel_initializer=keras.initializers.HeNormal(seed))(inputs)
        x = layers.Flatten()(x)
        outputs = layers.Dense(2, activation="softmax", kernel_initializer=keras.initializers.GlorotUniform(seed + 1))(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model
    return model_fn


def check_overfit(answer) -> None:
    draw = rng(461)
    x = draw.random((8, 8, 8, 1)).astype("float32")
    y = draw.permutation(np.repeat([0, 1], 4))
    steps = int(draw.integers(35, 46))
    got = call(answer, _tiny_model_fn(int(draw.integers(1000))), x, y, steps,
               what="overfit_one_batch(model_fn, x, y, steps)")
    losses = _array(got, "overfit_one_batch")
    expect(losses.ndim == 1 and len(losses) == steps, f"with steps={steps} return {steps} losses, one per step; "
                                                      f"yours has shape {losses.shape}")
    expect(bool(np.isfinite(losses).all()), "some of your losses are nan or inf")
    expect(losses[0] > 0.3, f"your first loss is {losses[0]:.3f}, already low: build a fresh model with model_fn() and "
                            "keep the loss of every step, the first included (is it the loss, not the accuracy?)")
    expect(losses[-1] < min(0.05, 0.1 * losses[0]),
           f"your losses went from {losses[0]:.3f} to {losses[-1]:.3f} in {steps} steps; a model trained on the same "
           "batch at every step ends far lower (one model, trained, its loss each step)")


NB = '04_convnet'
EXERCISES = [
    Exercise('q04_conv2d', NB, 'conv2d', check_conv2d, forbids=(Forbidden('scipy.signal.convolve2d', 'the exercise is the sliding sum itself'), Forbidden('scipy.signal.correlate2d', 'the exercise is the sliding sum itself'), Forbidden('scipy.signal.correlate', 'the exercise is the sliding sum itself'), Forbidden('scipy.ndimage.correlate', 'the exercise is the sliding sum itself'), Forbidden('cv2.filter2D', 'the exercise is the sliding sum itself'), Forbidden('keras.ops.conv', "Keras' convolution is what your function is compared with"), )),
    Exercise('q04_conv_params', NB, 'conv_params', check_conv_params, forbids=(Forbidden('keras.layers.Conv2D', 'building the layer and counting its weights skips the point: the exercise is the k*k*c_in*c_out (+ bias) count by hand'), Forbidden('mammokit.models.build_convnet', "reading the count off the kit's model skips the point: count the weights by hand"), )),
    Exercise('q04_softmax', NB, 'softmax', check_softmax, forbids=(Forbidden('scipy.special.softmax', 'write the exponentials and the normalisation yourself'), Forbidden('keras.ops.softmax', 'write the exponentials and the normalisation yourself'), Forbidden('keras.activations.softmax', 'write the exponentials and the normalisation yourself'), Forbidden('tensorflow.nn.softmax', 'write the exponentials and the normalisation yourself'), )),
    Exercise('q04_cross_entropy', NB, 'cross_entropy', check_cross_entropy, forbids=(Forbidden('sklearn.metrics.log_loss', "index the true class's probability yourself"), Forbidden('keras.losses.sparse_categorical_crossentropy', "index the true class's probability yourself"), Forbidden('keras.losses.categorical_crossentropy', "index the true class's probability yourself"), Forbidden('keras.ops.sparse_categorical_crossentropy', "index the true class's probability yourself"), )),
    Exercise('q04_param_count', NB, 'param_count_guess', check_param_count, kind='predict'),
    Exercise('q04_conv_block', NB, 'conv_block', check_conv_block, forbids=(Forbidden('mammokit.models.build_convnet', "it is the kit's ConvNet; the exercise is stacking Conv2D, BatchNormalization, ReLU and MaxPooling2D yourself"), )),
    Exercise('q04_output_side', NB, 'output_side', check_output_side, fallback=_pool_side, forbids=(Forbidden('mammokit.models.build_convnet', "building the kit's model and reading its shape is the kit's own answer; the exercise is the halving arithmetic"), )),
    Exercise('q04_class_weights', NB, 'class_weights', check_class_weights, fallback=_balanced, forbids=(Forbidden('mammokit.datasets.class_weights', "it is the kit's own answer (Eq. 6 weights); the exercise is N / (2 * N_c) yourself"), Forbidden('sklearn.utils.class_weight.compute_class_weight', "it is scikit-learn's 'balanced' weights in one call; the exercise is N / (2 * N_c) yourself"), )),
    Exercise('q04_bm_auc', NB, 'bm_auc_guess', check_bm_auc, kind='predict'),
    Exercise('q04_overfit', NB, 'overfit_one_batch', check_overfit),
]

WRITTEN = [
    'Your validation loss stops falling after a few epochs while the training loss keeps going down. What is happening, and which two parameters of this notebook would you change first?',
]
