"""The tf.data input pipeline: uint8 ROIs and 0/1 labels into batches a Keras model trains on.

* :func:`make_dataset` turns uint8 ROIs (N, S, S) into batches of float32 in [0, 1] through
  :func:`mammokit.models.to_model_input`, the kit's one pixel contract, for training and
  inference alike, so a model never sees two different intensity conventions.
* :func:`class_weights`: the paper's per-class loss weights w_n (Eq 6).
* :func:`check_labels`: labels must be 0 (benign) or 1 (malignant), one per image.

:mod:`mammokit.train` feeds :func:`~mammokit.train.fit` and
:func:`~mammokit.train.predict_proba` through these (notebooks reach them as
``mk.train.make_dataset`` and ``mk.train.class_weights`` too). TensorFlow is imported inside
:func:`make_dataset` (importing it takes seconds).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Mapping

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from mammokit import checks, profiles
from mammokit.checks import require
from mammokit.errors import ConfigError, DataError
from mammokit.models import check_rois, to_model_input

if TYPE_CHECKING:
    import tensorflow as tf


def check_labels(labels: npt.ArrayLike, n: int, what: str = "labels") -> NDArray[np.int32]:
    """``labels`` as int32 0/1, one per image, or a ``DataError`` saying what is wrong.

    Parameters
    ----------
    labels : array_like of shape (n,), 0 (benign) or 1 (malignant)
    n : int, the number of images
    what : str, how the error message names ``labels``

    Returns
    -------
    numpy.ndarray of shape (n,), int32 in {0, 1}
    """
    return checks.binary_labels(labels, what, DataError, n=n).astype(np.int32)


def make_dataset(images: NDArray[np.uint8], labels: npt.ArrayLike | None = None, batch_size: int = 32,
                 training: bool = False, augment: Callable | None = None, seed: int = 0,
                 cache: bool = True, repeat: bool = False, channels: int | None = None,
                 parallel: bool | None = None) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of (float32 images in [0, 1], int32 labels) batches.

    Parameters
    ----------
    images : numpy.ndarray of shape (N, S, S) or (N, S, S, C), uint8
    labels : array_like of shape (N,), int 0 or 1, or None
        None for inference: the dataset then yields images only.
    training : bool
        Shuffle (seeded, anew each epoch) and apply ``augment`` — a callable on float32 batches
        in [0, 255], such as ``mammokit.online.online_pipeline(seed)`` — before the scaling
        (:func:`mammokit.models.to_model_input`); inference never augments.
    channels : {None, 1, 3}
        3 repeats a grayscale channel for ImageNet backbones.
    repeat : bool
        Loop forever (for ``steps_per_epoch``). Batches are prefetched either way.
    parallel : bool or None
        Augment several batches at once — faster, but a seeded run is no longer repeatable;
        None = only when a GPU is present (a CPU run stays repeatable).

    Returns
    -------
    tf.data.Dataset of float32 (B, S, S, C) in [0, 1] (and int32 (B,) labels)
    """
    import tensorflow as tf

    x = check_rois(images)
    batch_size = int(require(profiles.BATCH_SIZE, batch_size, "make_dataset: batch_size"))
    if channels is not None and channels not in (x.shape[-1], 3):
        raise ConfigError(f"make_dataset: channels={channels!r} is not possible for images with "
                          f"{x.shape[-1]} channel(s); use {x.shape[-1]} or 3")
    tensors = x if labels is None else (x, check_labels(labels, len(x)))
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size)

    def prepare(batch):
        if training and augment is not None:  # on pixels 0-255, before the scaling
            batch = tf.clip_by_value(tf.cast(augment(tf.cast(batch, tf.float32), training=True), tf.float32),
                                     0.0, 255.0)
        return to_model_input(batch, channels)

    # A seeded augmentation draws from one random state; parallel calls would hand its draws to
    # batches in a race order, so the same seed would not give the same run. One call at a time
    # keeps runs repeatable; without augmentation the map is pure and runs in parallel.
    if parallel is None:
        parallel = bool(tf.config.list_physical_devices("GPU"))
    calls = 1 if (training and augment is not None and not parallel) else tf.data.AUTOTUNE
    if labels is None:
        ds = ds.map(prepare, num_parallel_calls=calls, deterministic=True)
    else:
        ds = ds.map(lambda b, y: (prepare(b), y), num_parallel_calls=calls, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


# --- loss weights (Eq 6) ---------------------------------------------------------------------------

def class_weights(labels: npt.ArrayLike, mode: str | Mapping[int, float] | None = "balanced") -> dict[int, float] | None:
    """The paper's re-scaling weights w_n (Eq 6), one per class.

    Parameters
    ----------
    labels : array_like of shape (N,), int 0 or 1, both present for ``"balanced"``
    mode : "balanced", None, or dict {0: w_benign, 1: w_malignant}
        ``"balanced"``: w_c = N / (2 · N_c), so each class carries half of the loss whatever
        the imbalance (scikit-learn's convention); ``None``: no weighting; a dict as given.

    Returns
    -------
    dict {0: float, 1: float} of positive weights, or None

    Three benign ROIs to one malignant: the malignant one weighs three times as much.

    >>> class_weights([0, 0, 0, 1])
    {0: 0.6666666666666666, 1: 2.0}
    """
    if mode is None:
        return None
    if isinstance(mode, Mapping):
        try:
            weights = {int(k): float(v) for k, v in mode.items()}
        except (TypeError, ValueError):
            weights = {}
        if set(weights) != {0, 1} or not all(np.isfinite(w) and w > 0 for w in weights.values()):
            raise ConfigError(f"class_weight={dict(mode)!r}: give a positive weight for both classes, "
                              "{0: w_benign, 1: w_malignant}, or 'balanced' / None")
        return weights
    if mode != "balanced":
        raise ConfigError(f"class_weight={mode!r}: use 'balanced', None or a dict {{0: w0, 1: w1}}")
    labels = np.asarray(labels).astype(int)
    counts = np.bincount(labels, minlength=2)
    if (counts == 0).any():
        raise ConfigError(f"class_weight='balanced' needs both classes in the training labels, got counts "
                          f"{counts.tolist()} (benign, malignant); use class_weight=None or a bigger split")
    return {c: float(len(labels) / (2 * counts[c])) for c in (0, 1)}
