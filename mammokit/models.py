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

Keras is imported inside the functions: ``import mammokit`` stays instant.
"""
from __future__ import annotations

from typing import Sequence

from mammokit.errors import ConfigError

PAPER_FILTERS = (32, 64, 128, 256)


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
                  name: str = "convnet"):
    """The paper's ConvNet: ``len(filters)`` conv blocks, global average pooling, dense, softmax.

    Input: float32 images in [0, 1] of ``input_shape`` (H, W, C) — feed uint8 ROIs through
    :func:`mammokit.train.make_dataset`, which does that scaling in one place. Output:
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


def layer_table(model) -> "pd.DataFrame":  # noqa: F821
    """One row per layer: name, kind, output shape, parameters — the architecture as a table."""
    import pandas as pd

    rows = []
    for layer in model.layers:
        shape = getattr(layer, "output", None)
        shape = tuple(shape.shape) if shape is not None else None
        rows.append({"layer": layer.name, "kind": type(layer).__name__,
                     "output_shape": shape, "params": int(layer.count_params())})
    return pd.DataFrame(rows)


def count_weighted_layers(model) -> int:
    """Layers that hold trainable weights (convolutions, batch norms, dense)."""
    return sum(1 for layer in model.layers if layer.trainable_weights)
