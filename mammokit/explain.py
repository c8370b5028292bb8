"""Where does the model look? Grad-CAM (Selvaraju et al., 2017) for the kit's classifiers.

Grad-CAM weighs each channel of a convolutional feature map by how much the class score
changes with it (the spatial mean of the gradient), sums the channels and keeps the
positive part. The result, upsampled to the ROI, shows which pixels pushed the decision
towards "malignant". It is a coarse map (one cell per feature-map position: 6×6 for a
96-px ROI after four poolings), a hint for discussion, not a segmentation.

Works on any Keras 3 functional model whose input is the ROI and whose last layer gives
class probabilities: :func:`mammokit.models.build_convnet`, the flat
:func:`mammokit.transfer.build_transfer` models, the same models reloaded from ``.keras``,
and models that nest a backbone as one layer (run as a chain of layers). The feature-map
finder (:func:`feature_layers`, :func:`last_conv_layer`) and the pixel contract
(:func:`mammokit.models.to_model_input`) live in :mod:`mammokit.models`, shared with training.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from mammokit.errors import ConfigError, DataError
from mammokit.models import (check_rois, feature_layers, has_feature_map, is_submodel, last_conv_layer,
                             to_model_input)

if TYPE_CHECKING:
    import keras

__all__ = ["ExplainError", "feature_layers", "grad_cam", "last_conv_layer", "overlay", "select_cases"]


class ExplainError(ConfigError):
    """Grad-CAM cannot run with this model/layer/option; the message says what to pass instead.

    Wrong ROIs (dtype, dimensions) raise :class:`mammokit.errors.DataError`, as everywhere in the
    kit; ROIs of another size than the model takes are a ConfigError, as in :mod:`mammokit.train`.
    """


def _locate(model, name: str) -> tuple[Any | None, Any]:
    """(nested sub-model holding the layer or None, the layer)."""
    for layer in model.layers:
        if layer.name == name:
            return None, layer
    for layer in model.layers:
        if is_submodel(layer):
            for inner in layer.layers:
                if inner.name == name:
                    return layer, inner
    raise ExplainError(f"grad_cam: model {model.name!r} has no layer named {name!r}; "
                       f"choose one of mammokit.explain.feature_layers(model), e.g. {last_conv_layer(model)!r}")


def _prepare(model: keras.Model, images: Any) -> np.ndarray:
    """uint8 ROIs (S, S) or (N, S, S[, C]) -> float32 (N, S, S, C) in [0, 1] with the model's channels."""
    x = np.asarray(images)
    x = check_rois(x[None] if x.ndim == 2 else x, "grad_cam images")
    want = tuple(model.input_shape[1:])
    if x.shape[1:3] != want[:2]:
        raise ExplainError(f"grad_cam: the model takes {want[:2]} px images but the ROIs are {x.shape[1:3]}; "
                           "pass ROIs built with the same size as the training ones")
    return to_model_input(x, want[-1])


def _score(z, class_index: int):
    """Class-contrastive logit: z_c - mean of the other logits (2 classes: the log-odds of c)."""
    import tensorflow as tf

    n = z.shape[-1]
    if n == 1:  # sigmoid head: z is the log-odds of malignant
        return z[:, 0] if class_index == 1 else -z[:, 0]
    others = tf.concat([z[:, :class_index], z[:, class_index + 1:]], axis=-1)
    return z[:, class_index] - tf.reduce_mean(others, axis=-1)


def _head_logits(head, features):
    """Pre-activation output of the final Dense layer (logits), so the gradient does not saturate."""
    import tensorflow as tf

    z = tf.matmul(tf.cast(features, tf.float32), tf.cast(head.kernel, tf.float32))
    return z + tf.cast(head.bias, tf.float32) if head.use_bias else z


def _run_chain(layers: list, h, target, head=None):
    """Apply ``layers`` one after another; return (activation of ``target`` or None, last tensor, stopped at head)."""
    act = None
    for layer in layers:
        if type(layer).__name__ == "InputLayer":
            continue
        if head is not None and layer is head:
            return act, h, True
        if is_submodel(layer) and any(inner is target for inner in layer.layers):
            if type(layer).__name__ == "Sequential":
                act, h, _ = _run_chain(layer.layers, h, target)
            else:  # a functional backbone nested as one layer
                import keras
                act, h = keras.Model(layer.input, [target.output, layer.output])(h, training=False)
        else:
            h = layer(h, training=False)
            if layer is target:
                act = h
    return act, h, False


def _forward(model, x, sub, target):
    """Return (feature map, logits or probabilities, is_logits) for batch ``x``."""
    import keras

    head = model.layers[-1]
    dense_head = isinstance(head, keras.layers.Dense)
    if sub is None and type(model).__name__ != "Sequential":
        outputs = [target.output, head.input if dense_head else model.output]
        act, last = keras.Model(model.input, outputs)(x, training=False)
        return act, (_head_logits(head, last) if dense_head else last), dense_head
    act, h, stopped = _run_chain(model.layers, x, target, head if dense_head else None)
    return act, (_head_logits(head, h) if stopped else h), stopped


def _check_chain(model, x, sub, target) -> None:
    """A nested model is run layer by layer; make sure that reproduces the model's own output."""
    import tensorflow as tf

    if sub is None and type(model).__name__ != "Sequential":
        return
    _, out, is_logits = _forward(model, x[:2], sub, target)
    if is_logits:
        out = tf.nn.softmax(out) if out.shape[-1] > 1 else tf.sigmoid(out)
    expected = model(x[:2], training=False)
    if not np.allclose(np.asarray(out, dtype=float), np.asarray(expected, dtype=float), atol=1e-4):
        raise ExplainError(f"grad_cam: model {model.name!r} nests a sub-model inside a graph that is not a plain "
                           "chain of layers; build it flat (keras.applications(..., input_tensor=x), as "
                           "mammokit.transfer does) or name a layer of the outer model")


def grad_cam(model: keras.Model, images: NDArray[np.uint8], layer: str | None = None, class_index: int = 1,
             batch_size: int = 32) -> NDArray[np.float32]:
    """Grad-CAM heatmaps, one per ROI.

    The score differentiated is the class-contrastive logit, taken before the softmax (a
    saturated softmax has no gradient). Each map is scaled to a maximum of 1; an all-zero map
    means nothing in the feature map argued for the class.

    Parameters
    ----------
    model : keras.Model
        Input the ROI, last layer class probabilities (see the module docstring).
    images : numpy.ndarray of shape (S, S), (N, S, S) or (N, S, S, C), uint8
        ROIs of the size the model takes.
    layer : str or None
        A layer name (see :func:`feature_layers`); None = :func:`last_conv_layer`.
    class_index : int
        1 = why malignant (default), 0 = why benign.
    batch_size : int
        ROIs per gradient pass (memory, not result).

    Returns
    -------
    numpy.ndarray of shape (N, S, S), float32 in [0, 1]
    """
    import cv2
    import tensorflow as tf

    name = layer or last_conv_layer(model)
    sub, target = _locate(model, name)
    if not has_feature_map(target):
        raise ExplainError(f"grad_cam: layer {name!r} has output shape {tuple(target.output.shape)}, not a 4-D "
                           f"feature map; choose one of {feature_layers(model)[-3:]}")
    n_out = model.output_shape[-1]
    if not 0 <= class_index < max(n_out, 2):
        raise ExplainError(f"grad_cam: class_index={class_index} but the model has {n_out} output(s); "
                           "use 1 (malignant) or 0 (benign)")
    x_all = _prepare(model, images)
    _check_chain(model, x_all, sub, target)
    side = tuple(int(s) for s in x_all.shape[1:3])
    maps = []
    for start in range(0, int(x_all.shape[0]), batch_size):
        x = x_all[start:start + batch_size]
        with tf.GradientTape() as tape:
            act, out, is_logits = _forward(model, x, sub, target)
            act = tf.cast(act, tf.float32)
            score = _score(out if is_logits else tf.math.log(tf.cast(out, tf.float32) + 1e-7), class_index)
        grads = tape.gradient(score, act)
        if grads is None:
            raise ExplainError(f"grad_cam: the score does not depend on layer {name!r}; pick a layer on the path "
                               "to the output")
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(act * weights, axis=-1)).numpy()
        for c in cam:
            top = float(c.max())
            c = c / top if top > 0 else np.zeros_like(c)
            maps.append(cv2.resize(c.astype(np.float32), (side[1], side[0]), interpolation=cv2.INTER_LINEAR))
    return np.clip(np.stack(maps), 0.0, 1.0).astype(np.float32)


def overlay(roi: NDArray[np.uint8], heatmap: NDArray[np.floating], alpha: float = 0.4,
            cmap: str = "jet") -> NDArray[np.float64]:
    """Blend a heatmap over a grayscale ROI, to show where the model looked.

    Parameters
    ----------
    roi : numpy.ndarray of shape (H, W) or (H, W, 1), uint8 (other dtypes scaled by their max)
    heatmap : numpy.ndarray of shape (H, W), float in [0, 1] (clipped), e.g. from :func:`grad_cam`
    alpha : float in [0, 1], the heatmap's weight
    cmap : str, a matplotlib colormap name

    Returns
    -------
    numpy.ndarray of shape (H, W, 3), float64 RGB in [0, 1]
    """
    import matplotlib

    roi, heatmap = np.asarray(roi), np.asarray(heatmap, dtype=float)
    if roi.ndim == 3 and roi.shape[-1] == 1:
        roi = roi[..., 0]
    if roi.shape != heatmap.shape:
        raise DataError(f"overlay: ROI shape {roi.shape} and heatmap shape {heatmap.shape} differ")
    if not 0.0 <= alpha <= 1.0:
        raise ExplainError(f"overlay: alpha={alpha} must be in [0, 1]")
    gray = roi.astype(float) / (255.0 if roi.dtype == np.uint8 else max(float(roi.max()), 1e-9))
    colour = matplotlib.colormaps[cmap](np.clip(heatmap, 0, 1))[..., :3]
    return np.clip((1 - alpha) * gray[..., None] + alpha * colour, 0.0, 1.0)


def select_cases(labels: npt.ArrayLike, proba: npt.ArrayLike, threshold: float = 0.5,
                 n: int = 4) -> dict[str, NDArray[np.intp]]:
    """Indices of the most confident true positives, false positives, false negatives, true negatives:
    the cases worth looking at.

    Parameters
    ----------
    labels : array_like of shape (N,), int 0 (benign) or 1 (malignant)
    proba : array_like of shape (N,), float in [0, 1], the probability of malignant
    threshold : float in [0, 1]; ``proba >= threshold`` is called malignant
    n : int, the most indices per kind

    Returns
    -------
    dict {"TP", "FP", "FN", "TN": numpy.ndarray of up to n int indices into labels}
        The most confident first: highest proba for TP/FP, lowest for FN/TN.

    >>> cases = select_cases([1, 0, 1, 0, 1], [0.9, 0.8, 0.3, 0.1, 0.6], n=2)
    >>> {kind: idx.tolist() for kind, idx in cases.items()}
    {'TP': [0, 4], 'FP': [1], 'FN': [2], 'TN': [3]}
    """
    y, p = np.asarray(labels).astype(int), np.asarray(proba, dtype=float)
    if y.shape != p.shape:
        raise DataError(f"select_cases: labels {y.shape} and proba {p.shape} differ in shape")
    pred = p >= threshold
    out = {}
    for name, mask, desc in (("TP", pred & (y == 1), True), ("FP", pred & (y == 0), True),
                             ("FN", ~pred & (y == 1), False), ("TN", ~pred & (y == 0), False)):
        idx = np.flatnonzero(mask)
        order = np.argsort(-p[idx] if desc else p[idx], kind="stable")
        out[name] = idx[order][:n]
    return out
