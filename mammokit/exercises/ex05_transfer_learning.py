"""Notebook 05's exercise checks, generated from notebooks/solutions/05_transfer_learning.md by
`mammokit masters`: edit them there (cells tagged `check`), not here.
"""
from __future__ import annotations

from mammokit.exercises.spec import Exercise, Forbidden
import numpy as np
from mammokit.exercises.spec import WrongAnswer, call, expect, rng, value
from mammokit.transfer import BACKBONES, backbone_layers, build_transfer, input_size_for, set_trainable


_CHECK_BACKBONE = "VGG19"  # the quickest to build (no batch norm), 32 px minimum


_BN_BACKBONE = "ResNet152V2"  # batch norm throughout, up to the top weighted layer; 32 px minimum


def _vgg_reference(rgb: np.ndarray) -> np.ndarray:
    from keras.applications import vgg19

    return vgg19.preprocess_input(np.array(rgb, dtype="float32"))


def _inception_reference(rgb: np.ndarray) -> np.ndarray:
    from keras.applications import inception_v3

    return inception_v3.preprocess_input(np.array(rgb, dtype="float32"))


def _freeze(model, n: int):
    """The kit's ``set_trainable`` (batch norm stays frozen): notebook 05's stand-in."""
    set_trainable(model, n)
    return model


def _check_preprocess(answer, reference, what: str, hint: str) -> None:
    draw = rng(511)
    for shape in ((2, 4, 4, 3), (1, 3, 5, 3)):
        rgb = draw.uniform(0, 255, shape).astype("float32")
        got = np.asarray(call(answer, rgb.copy(), what=what), dtype="float32")
        want = reference(rgb)
        expect(got.shape == want.shape, f"{what} changed the shape {shape} to {got.shape}")
        worst = float(np.max(np.abs(got - want)))
        expect(worst < 1e-3, f"{what} differs from Keras' preprocess_input by up to {worst:.3g}: {hint}")


def _flags(model) -> list[bool]:
    """Each layer's trainable flag, in the model's order (two builds name unnamed layers differently)."""
    return [bool(layer.trainable) for layer in model.layers]


def _flags_after(out, model, n) -> list[bool]:
    """The trainable flags the answer left (on the model it returned, else the one it was given)."""
    return _flags(out if hasattr(out, "layers") else model)


def check_input_side(answer) -> None:
    for name in BACKBONES:
        for size in (32, 64, 96, 224):
            got = call(answer, name, size, what="input_side(backbone, size)")
            want = input_size_for(name, size)
            expect(got == want, f"input_side({name!r}, {size}) gave {got}, expected {want}: keep the ROI size unless "
                                f"the backbone needs more (mk.transfer.backbone_spec({name!r}).min_size)")


def check_gray_to_rgb(answer) -> None:
    draw = rng(501)
    for shape in ((2, 8, 8, 1), (1, 5, 7, 1)):
        images = draw.random(shape).astype("float32")
        got = np.asarray(call(answer, images.copy(), what="gray_to_rgb(images)"))
        want = np.broadcast_to(images, shape[:-1] + (3,))
        expect(got.shape == want.shape, f"gray_to_rgb on {shape} gave shape {got.shape}, expected {want.shape}")
        expect(np.allclose(got, want), "each of the three channels must be a copy of the grey channel")


def check_vgg_preprocess(answer) -> None:
    _check_preprocess(answer, _vgg_reference, "vgg_preprocess(rgb)",
                      "'caffe' mode: reverse RGB to BGR, then subtract the ImageNet means [103.939, 116.779, 123.68]")


def check_inception_preprocess(answer) -> None:
    _check_preprocess(answer, _inception_reference, "inception_preprocess(rgb)",
                      "'tf' mode: scale 0..255 to -1..1")


def check_trainable(answer) -> None:
    """A prediction: only its form is checked (the cell after the demo reveals the answer)."""
    got = value(answer, "trainable_guess")
    expect(type(got) is int and got >= 0, f"write a whole number of layers (0 or more), got {got!r}")


def check_freeze(answer) -> None:
    from keras import layers

    for backbone in (_CHECK_BACKBONE, _BN_BACKBONE):
        theirs = build_transfer(backbone, 32, weights=None)
        ours = build_transfer(backbone, 32, weights=None)
        for n in (0, 2, 5):
            got = call(answer, theirs, n, what="freeze_all_but_top(model, n)", encode=_flags_after)
            set_trainable(ours, n)
            want = _flags(ours)
            expect(isinstance(got, list) and len(got) == len(want),
                   "freeze_all_but_top should return the model it was given, with its layers")
            wrong = [layer for layer, g, w in zip(ours.layers, got, want) if g != w]
            norms = [layer.name for layer in wrong if isinstance(layer, layers.BatchNormalization)]
            expect(not norms, f"{backbone}, n={n}: batch-norm layer(s) {norms[:3]} train; batch norm stays frozen "
                              "(in inference mode) even among the top n layers: small batches would spoil its "
                              "ImageNet statistics")
            expect(not wrong, f"{backbone}, n={n}: these layers have the wrong trainable flag: "
                              f"{[layer.name for layer in wrong[:5]]}. Train the head (mk_head) and the top n "
                              "backbone layers that have weights; freeze the rest")


NB = '05_transfer_learning'
EXERCISES = [
    Exercise('q05_input_side', NB, 'input_side', check_input_side, forbids=(Forbidden('mammokit.transfer.input_size_for', "it is the kit's own answer; the exercise is raising the size to the backbone's minimum (backbone_spec is fine)"), )),
    Exercise('q05_gray_to_rgb', NB, 'gray_to_rgb', check_gray_to_rgb, forbids=(Forbidden('tensorflow.image.grayscale_to_rgb', "it is TensorFlow's one-liner; the exercise is copying the channel with numpy"), )),
    Exercise('q05_vgg_preprocess', NB, 'vgg_preprocess', check_vgg_preprocess, forbids=(Forbidden('keras.applications.vgg19.preprocess_input', 'the check compares with it; the exercise is the BGR flip and mean subtraction yourself'), Forbidden('keras.applications.imagenet_utils.preprocess_input', 'every Keras preprocess_input runs through it; the exercise is the BGR flip and mean subtraction yourself'), )),
    Exercise('q05_inception_preprocess', NB, 'inception_preprocess', check_inception_preprocess, forbids=(Forbidden('keras.applications.inception_v3.preprocess_input', 'the check compares with it; the exercise is the 0..255 -> -1..1 scaling yourself'), Forbidden('keras.applications.imagenet_utils.preprocess_input', 'every Keras preprocess_input runs through it; the exercise is the 0..255 -> -1..1 scaling yourself'), )),
    Exercise('q05_trainable', NB, 'trainable_guess', check_trainable, kind='predict'),
    Exercise('q05_freeze', NB, 'freeze_all_but_top', check_freeze, fallback=_freeze, forbids=(Forbidden('mammokit.transfer.set_trainable', "it is the kit's own answer; the exercise is choosing which backbone layers train yourself (backbone_layers is fine)"), )),
]

WRITTEN = [
    'ImageNet holds photographs in colour; mammograms are grey X-ray films. Give one reason transfer learning still helps here and one reason it might not.',
]
