"""The paper's ConvNet (Mahmood et al. 2022, Figs 3-4 and Table 2) as a Keras 3 model.

Reading of the paper, and the choices made where it is ambiguous:

* "four convolution layers ... the first convolution layer is followed by a max-pooling
  layer, and the subsequent three layers follow the same pattern" (Fig 4): four blocks of
  3×3 convolution (stride 1, same padding) → batch normalisation → ReLU → 2×2 max-pool.
  The filters double per block (32-64-128-256 by default), the usual VGG-style schedule;
  the paper does not give the filter counts.
* "twelve weighted layers" cannot be four convolutions plus a dense head in any
  counting that also matches Fig 4; we read it as the twelve layers of the four blocks
  (convolution, normalisation, pooling ×4) and keep the explicit "four convolution layers".
  Weighted layers here: 4 convolutions + 4 batch norms + 2 dense = 10.
* Eq 4 averages the last feature map over its w×h positions before the prediction layer:
  global average pooling, which also keeps the parameter count independent of input size.
* "A dense and softmax activation layers": one hidden dense layer (ReLU), dropout 0.5
  (Table 2), then a 2-way softmax (Eq 7).
* He (MSRA) initialisation and L2 weight decay 5e-5 (Table 2) on every kernel.

Every model in the kit shares two things defined here: the pixel contract
(:func:`check_rois`, :func:`to_model_input`: uint8 ROIs → float32 in [0, 1] with the model's
channels) and the feature-map finder Grad-CAM starts from (:func:`feature_layers`,
:func:`last_conv_layer`).

Keras is imported inside the functions: ``import mammokit`` stays instant.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from mammokit.constants import PAPER_FILTERS
from mammokit.errors import ConfigError, DataError

if TYPE_CHECKING:
    import keras
    import pandas as pd

_NOT_FEATURE_MAPS = ("Pool", "Dropout", "InputLayer", "Resizing", "Rescaling", "Normalization")


# --- the pixel contract ---------------------------------------------------------------------------

def check_rois(images: Any, what: str = "images", empty_ok: bool = False) -> np.ndarray:
    """uint8 ROIs as a 4-D array, or a :class:`DataError` naming ``what`` was wrong.

    Parameters
    ----------
    images : array_like, uint8, shape (N, S, S) or (N, S, S, C) with C in {1, 3}
        ROIs as :func:`mammokit.roi.build_roi_dataset` returns them, values 0-255.
    what : str
        How the error message names the argument.
    empty_ok : bool
        Accept N = 0 (else an empty array is an error).

    Returns
    -------
    np.ndarray, uint8, shape (N, S, S, C)
        The same pixels, a channel axis added to 3-D input (no copy).

    >>> check_rois(np.zeros((2, 8, 8), np.uint8)).shape
    (2, 8, 8, 1)
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise DataError(f"{what}: expected uint8 ROIs (values 0-255) as roi.build_roi_dataset returns, got "
                        f"dtype {images.dtype}; convert with np.clip(x, 0, 255).astype(np.uint8)")
    if images.ndim == 4 and images.shape[-1] in (1, 3) and (empty_ok or images.shape[0] > 0):
        return images
    if images.ndim != 3 or (images.shape[0] == 0 and not empty_ok):
        raise DataError(f"{what}: expected a non-empty array of shape (N, S, S), got shape {images.shape}")
    return images[..., None]


def to_model_input(images: Any, channels: int | None = None) -> Any:
    """Pixels 0-255 → what every model of the kit takes: float32 in [0, 1], ``channels`` deep.

    The one place the kit scales pixels: training and inference batches
    (:func:`mammokit.datasets.make_dataset`), feature extraction
    (:func:`mammokit.finetune.extract_features`) and Grad-CAM all call it.

    Parameters
    ----------
    images : np.ndarray or tf.Tensor, shape (N, S, S) or (N, S, S, C)
        uint8 ROIs, or float pixels still in 0-255 (a batch after online augmentation).
    channels : {None, 1, 3}
        3 repeats a single gray channel for ImageNet backbones; None keeps the channels.

    Returns
    -------
    np.ndarray or tf.Tensor (the kind given), float32, shape (N, S, S, C), values in [0, 1]

    >>> x = to_model_input(np.array([[[0, 51], [255, 102]]], np.uint8), channels=3)
    >>> x.shape, x.dtype
    ((1, 2, 2, 3), dtype('float32'))
    >>> x[0, :, :, 0].astype(float).round(3).tolist()
    [[0.0, 0.2], [1.0, 0.4]]
    """
    tf = sys.modules.get("tensorflow")
    if tf is not None and tf.is_tensor(images):
        x = tf.cast(images, tf.float32) / 255.0
        if x.shape.rank == 3:
            x = x[..., None]
        return tf.repeat(x, 3, axis=-1) if channels == 3 and x.shape[-1] == 1 else x
    x = np.asarray(images).astype(np.float32) / np.float32(255.0)
    if x.ndim == 3:
        x = x[..., None]
    return np.repeat(x, 3, axis=-1) if channels == 3 and x.shape[-1] == 1 else x


# --- the feature-map finder (Grad-CAM's starting point) ------------------------------------------

def is_submodel(layer: Any) -> bool:
    """True for a model used as one layer of another (a nested backbone)."""
    return hasattr(layer, "layers") and hasattr(layer, "inputs")


def has_feature_map(layer: Any) -> bool:
    """True when ``layer`` outputs a spatial map: 4-D (batch, H, W, C) with H, W > 1."""
    try:
        shape = tuple(layer.output.shape)
    except (AttributeError, ValueError):
        return False
    return len(shape) == 4 and (shape[1] or 2) > 1 and (shape[2] or 2) > 1


def feature_layers(model: keras.Model) -> list[str]:
    """Names of the layers with a spatial feature map (4-D output, more than 1×1; not pooling,
    resizing or rescaling), input to output. Layers of a nested sub-model are listed by their own name."""
    names: list[str] = []
    for layer in model.layers:
        if is_submodel(layer):
            names += feature_layers(layer)
        elif has_feature_map(layer) and not any(s in type(layer).__name__ for s in _NOT_FEATURE_MAPS):
            names.append(layer.name)
    return names


def last_conv_layer(model: keras.Model) -> str:
    """The last feature map before the classifier head: the layer Grad-CAM reads by default.

    ConvNet: ``block4_relu``; VGG19: ``block5_conv4``; ResNet152V2: ``post_relu``;
    InceptionV3: ``mixed10``; EfficientNetB5: ``top_activation`` (at inputs large enough
    that the map is more than 1×1; else the last one that is).

    >>> last_conv_layer(build_convnet((32, 32, 1), filters=(8, 16)))
    'block2_relu'
    """
    names = feature_layers(model)
    if not names:
        raise ConfigError(f"model {model.name!r} has no convolutional feature map (no layer with a 4-D output "
                          "larger than 1×1); Grad-CAM needs a CNN")
    return names[-1]


def _check(input_shape: Sequence[int], filters: Sequence[int], dense: int | None,
           dropout: float, l2: float, n_classes: int) -> tuple[int, int, int]:
    """Validate the arguments and say which one is wrong (before Keras would)."""
    if len(input_shape) != 3 or any(int(s) < 1 for s in input_shape):
        raise ConfigError(f"build_convnet: input_shape={tuple(input_shape)!r} must be (height, width, channels), "
                          "e.g. (96, 96, 1) for grayscale ROIs")
    h, w, c = (int(s) for s in input_shape)
    if not filters or any(int(f) < 1 for f in filters):
        raise ConfigError(f"build_convnet: filters={tuple(filters)!r} must be a non-empty list of positive "
                          "integers, one per block (paper: 32, 64, 128, 256)")
    smallest = 2 ** len(filters)
    if h < smallest or w < smallest:
        raise ConfigError(f"build_convnet: input_shape={tuple(input_shape)!r} is too small for {len(filters)} "
                          f"2×2 poolings; use at least {smallest}×{smallest} px or fewer blocks")
    if dense is not None and int(dense) < 0:
        raise ConfigError(f"build_convnet: dense={dense!r} must be a positive number of units, or 0/None for none")
    if not 0.0 <= float(dropout) < 1.0:
        raise ConfigError(f"build_convnet: dropout={dropout!r} must be in [0, 1) (paper: 0.5)")
    if float(l2) < 0:
        raise ConfigError(f"build_convnet: l2={l2!r} must be >= 0 (paper: 5e-5)")
    if int(n_classes) < 2:
        raise ConfigError(f"build_convnet: n_classes={n_classes!r} must be >= 2 (benign/malignant: 2)")
    return h, w, c


def build_convnet(input_shape: Sequence[int] = (96, 96, 1),
                  filters: Sequence[int] = PAPER_FILTERS,
                  dense: int | None = 128,
                  dropout: float = 0.5,
                  l2: float = 5e-5,
                  n_classes: int = 2,
                  seed: int = 0,
                  name: str = "convnet") -> keras.Model:
    """The paper's ConvNet: ``len(filters)`` conv blocks, global average pooling, dense, softmax.

    Input: float32 images in [0, 1] of ``input_shape`` (H, W, C), as :func:`to_model_input`
    makes them (:func:`mammokit.datasets.make_dataset` does it for uint8 ROIs). Output:
    (batch, ``n_classes``) softmax probabilities in float32 (also under mixed precision);
    column 1 is "malignant". ``seed`` fixes every initialiser and the dropout mask, so two
    builds with one seed are identical.

    >>> build_convnet((32, 32, 1), filters=(8, 16)).output_shape
    (None, 2)
    """
    import keras
    from keras import layers

    _check(input_shape, filters, dense, dropout, l2, n_classes)
    reg = keras.regularizers.L2(l2) if l2 else None

    def he(i: int):
        return keras.initializers.HeNormal(seed=seed + i)

    inputs = keras.Input(shape=tuple(int(s) for s in input_shape), name="roi")
    x = inputs
    for i, n in enumerate(filters, start=1):
        x = layers.Conv2D(int(n), 3, strides=1, padding="same", use_bias=False, kernel_initializer=he(i),
                          kernel_regularizer=reg, name=f"block{i}_conv")(x)
        x = layers.BatchNormalization(name=f"block{i}_bn")(x)
        x = layers.Activation("relu", name=f"block{i}_relu")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{i}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)  # Eq 4: average over the w×h positions
    if dense:
        x = layers.Dense(int(dense), activation="relu", kernel_initializer=he(100),
                         kernel_regularizer=reg, name="dense")(x)
    if dropout:
        x = layers.Dropout(float(dropout), seed=seed + 200, name="dropout")(x)
    outputs = layers.Dense(int(n_classes), activation="softmax", kernel_initializer=he(300),
                           kernel_regularizer=reg, dtype="float32", name="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


def layer_table(model: keras.Model) -> pd.DataFrame:
    """One row per layer: name, kind, output shape, parameters — the architecture as a table."""
    import pandas as pd

    rows = []
    for layer in model.layers:
        shape = getattr(layer, "output", None)
        shape = tuple(shape.shape) if shape is not None else None
        rows.append({"layer": layer.name, "kind": type(layer).__name__,
                     "output_shape": shape, "params": int(layer.count_params())})
    return pd.DataFrame(rows)


def count_weighted_layers(model: keras.Model) -> int:
    """Layers that hold trainable weights (convolutions, batch norms, dense)."""
    return sum(1 for layer in model.layers if layer.trainable_weights)
