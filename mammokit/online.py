"""Online augmentation: Table 1 drawn fresh every batch by Keras preprocessing layers.

The paper used Keras' ``ImageDataGenerator`` for online augmentation; Keras 3 removed it, and
:func:`online_pipeline` builds the modern equivalent from Keras preprocessing layers, for the
training branch of a ``tf.data`` pipeline (:func:`mammokit.datasets.make_dataset` maps it) or in
front of a model. Emboss and edge detection have no Keras layer, so a small one applies them as
fixed 3×3 kernels. :func:`online_samples` draws a few results on one ROI, to look at. Offline
inflation (copies made once, before training) is :mod:`mammokit.inflation`; the operations
themselves are :mod:`mammokit.augment`. Keras is imported inside the functions; ``mk.online``
loads TensorFlow quietly first (``backend.TENSORFLOW_MODULES``).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from mammokit.augment import _IDENTITY, _check_roi


def _kernel_layer_class():
    """A Keras layer applying emboss or edge detection (fixed 3×3 kernels) to some images."""
    import keras

    class RandomTable1Kernel(keras.layers.Layer):
        """With probability ``rate`` per image, emboss (strength 0.5–2, blend 0.5) or edge-detect.

        Edge detection blends in the Laplacian with α 0.1–0.4 only: at Table 1's α = 1 the ROI
        becomes a black image with bright rims, too far from anything a radiologist sees.
        Works on (B, H, W, 1) float images in ``value_range``; identity when not training.
        """

        def __init__(self, rate: float = 0.2, value_range=(0, 255), seed: int | None = None, **kwargs):
            super().__init__(**kwargs)
            self.rate, self.value_range, self.seed = float(rate), tuple(value_range), seed
            self.generator = keras.random.SeedGenerator(seed)
            ident = _IDENTITY
            emb = np.array([[-1, -1, 0], [-1, 1, 1], [0, 1, 1]], np.float32) - ident  # emboss per unit strength
            lap = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32) - ident
            self._kernels = np.stack([ident, emb, lap])  # (3, 3, 3): identity and two directions

        def call(self, images, training=True):
            if not training:
                return images
            ops = keras.ops
            images = ops.cast(images, self.compute_dtype)
            batch = ops.shape(images)[0]
            u = keras.random.uniform((batch, 3), seed=self.generator)
            use = ops.cast(u[:, 0] < self.rate, self.compute_dtype)
            pick_emboss = ops.cast(u[:, 1] < 0.5, self.compute_dtype)
            strength = 0.5 * (0.5 + 1.5 * u[:, 2])  # emboss strength in [0.5, 2], blend alpha 0.5
            alpha = 0.1 + 0.3 * u[:, 2]             # edge alpha in [0.1, 0.4]
            k = ops.convert_to_tensor(self._kernels[:, :, :, None, None])  # (3, 3, 3, 1, 1)
            padded = ops.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="reflect")  # no dark rim
            filtered = [ops.depthwise_conv(padded, k[j], strides=1, padding="valid") for j in (1, 2)]
            w_emb = ops.reshape(use * pick_emboss * strength, (-1, 1, 1, 1))
            w_lap = ops.reshape(use * (1 - pick_emboss) * alpha, (-1, 1, 1, 1))
            out = images + w_emb * filtered[0] + w_lap * filtered[1]
            return ops.clip(out, self.value_range[0], self.value_range[1])

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "rate": self.rate, "value_range": self.value_range,
                    "seed": self.seed}

    return RandomTable1Kernel


def online_pipeline(seed: int = 0, value_range: tuple[float, float] = (0, 255), kernels: bool = True):
    """A ``keras.Sequential`` of random preprocessing layers: Table 1, drawn fresh every batch.

    The modern replacement for the paper's ``ImageDataGenerator``: map it over the TRAINING
    branch of a ``tf.data`` pipeline (``ds.map(lambda x, y: (aug(x, training=True), y))``), or
    put it in front of a model (it is an identity at inference). Input: float (B, H, W, 1) in
    ``value_range``. Layers and their Table-1 rows: flips (Flipping), ±45° rotation (Rotation;
    the paper's text: "rotated between ±45 degrees"), shear up to tan 10° (Shear), perspective
    (Skew), zoom/translation (the paper's "scaling, translations, cropping"), Gaussian blur
    σ 0.25–2, sharpness, contrast, and (``kernels=True``) emboss / edge detection as fixed 3×3
    kernels.
    """
    import keras

    L = keras.layers
    vr = tuple(value_range)
    layers = [
        L.RandomFlip("horizontal_and_vertical", seed=seed),
        L.RandomRotation(45 / 360, fill_mode="reflect", seed=seed + 1),
        L.RandomShear(x_factor=math.tan(math.radians(10)), y_factor=math.tan(math.radians(10)),
                      fill_mode="reflect", seed=seed + 2),
        L.RandomPerspective(factor=0.5, scale=0.1, seed=seed + 3),  # fills with 0: keep it mild
        L.RandomZoom(0.1, fill_mode="reflect", seed=seed + 4),
        L.RandomTranslation(0.05, 0.05, fill_mode="reflect", seed=seed + 5),
        L.RandomGaussianBlur(factor=0.5, kernel_size=5, sigma=(0.25, 2.0), value_range=vr, seed=seed + 6),
        L.RandomSharpness(factor=(0.3, 0.9), value_range=vr, seed=seed + 7),
        L.RandomContrast(0.2, value_range=vr, seed=seed + 8),
    ]
    if kernels:
        layers.append(_kernel_layer_class()(rate=0.2, value_range=vr, seed=seed + 9))
    return keras.Sequential(layers, name="online_augmentation")


def _dihedral_layer_class():
    """A Keras layer applying one of the 8 rotations/flips of the square, drawn per image."""
    import keras

    class RandomDihedral(keras.layers.Layer):
        """Per image: left-right flip, up-down flip and transpose, each with probability 1/2 —
        together the 8 symmetries of a square, uniformly. Exact (no interpolation, no fill);
        identity when not training. Works on (B, S, S, C) images."""

        def __init__(self, seed: int | None = None, **kwargs):
            super().__init__(**kwargs)
            self.seed = seed
            self.generator = keras.random.SeedGenerator(seed)

        def call(self, images, training=True):
            if not training:
                return images
            ops = keras.ops
            u = keras.random.uniform((ops.shape(images)[0], 3), seed=self.generator)

            def pick(j, changed, same):
                return ops.where(ops.reshape(u[:, j] < 0.5, (-1, 1, 1, 1)), changed, same)

            images = pick(0, ops.flip(images, axis=2), images)
            images = pick(1, ops.flip(images, axis=1), images)
            return pick(2, ops.transpose(images, (0, 2, 1, 3)), images)

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "seed": self.seed}

    return RandomDihedral


def dihedral_pipeline(seed: int = 0):
    """Online augmentation by the 8 symmetries of the square only (a random rotation by a
    multiple of 90° and flip per image): exact copies of what a window could look like, with
    none of Table 1's blur, shear or contrast changes. The lesion detector trains with it
    (``benchmarks/README.md``: Table 1's pipeline left its training AUC no higher than its
    validation AUC, a net held back by the augmentation, not by the data)."""
    return _dihedral_layer_class()(seed=seed, name="dihedral_augmentation")


def online_samples(image: NDArray[np.uint8], n: int = 12, seed: int = 0, pipeline=None) -> NDArray[np.uint8]:
    """``n`` random draws of the online pipeline on one ROI, to see what training will be shown.

    Parameters
    ----------
    image : numpy.ndarray of shape (S, S), uint8
        One ROI, grey levels 0-255 (``RoiDataset.images[i]``).
    n : int, default 12
        How many draws.
    seed : int, default 0
        Seeds the pipeline when ``pipeline`` is not given.
    pipeline : keras.Sequential, optional
        A pipeline from :func:`online_pipeline` (value range 0-255); a new one by default.

    Returns
    -------
    numpy.ndarray of shape (n, S, S), uint8
        The draws, rounded and clipped to 0-255.
    """
    image = _check_roi(image, "online.online_samples")
    pipeline = pipeline or online_pipeline(seed)
    batch = np.repeat(image[None, :, :, None].astype(np.float32), int(n), axis=0)
    out = np.asarray(pipeline(batch, training=True))[..., 0]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
