"""The paper's Table 1 augmentations as pure functions, offline inflation, and an online pipeline.

Table 1 of Mahmood et al. lists eight operations with "invariance parameters". Its parameter
names are those of two well-known Python libraries, which tells us what each one most likely
computed, so each function below follows that library's definition:

=====================================  =====================  ===================================
Paper (Table 1)                        values                 here (and the library it names)
=====================================  =====================  ===================================
Sharpen (lightness value)              0.5, 1, 1.5, 2         :func:`sharpen` (imgaug ``Sharpen``)
Emboss (strength value)                0.5, 1, 1.5, 2         :func:`emboss` (imgaug ``Emboss``)
Gaussian Blur (Sigma value)            0.25, 0.5, 1, 2        :func:`gaussian_blur` (imgaug)
Rotation                               45, 90, 135, 180 deg   :func:`rotate`
Edges Detection (alpha value)          0.25, 0.5, 0.75, 1.0   :func:`edge_detect` (imgaug ``EdgeDetect``)
Skew (Tilt)                            Forward, Backward,     :func:`skew` (Augmentor ``skew_tilt``)
                                       Left, Right
Flipping                               Top, Bottom, Left      :func:`flip` (Augmentor ``flip_*``):
                                       side, Right side       top = bottom, left = right
Shear (axis & value)                   X 10 deg, Y 10 deg     :func:`shear`
=====================================  =====================  ===================================

Every function takes a 2-D uint8 ROI (H, W) and returns a new uint8 array of the same shape.
Where the paper gives no number (the blend ``alpha`` of sharpen/emboss, the skew amount), the
default is stated in the function and can be changed.

Inflation (:func:`inflate`) belongs to the TRAINING split only: applied before splitting,
near-copies of one ROI land on both sides and the test set flatters the model (notebook 03's
leakage lab measures by how much). The paper used Keras' ``ImageDataGenerator`` for online
augmentation; Keras 3 removed it, and :func:`online_pipeline` builds the modern equivalent from
Keras preprocessing layers, for the training branch of a ``tf.data`` pipeline.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import cv2
import numpy as np

from mammokit import profiles
from mammokit.checks import require
from mammokit.errors import ConfigError, DataError

__all__ = ["sharpen", "emboss", "gaussian_blur", "rotate", "edge_detect", "skew", "flip", "shear",
           "Operation", "TABLE1", "variants", "apply", "table1_frame", "Inflated", "inflate",
           "online_pipeline", "online_samples"]

_IDENTITY = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32)
_BORDER = cv2.BORDER_REFLECT_101  # mirror at the edge: no black corners a model could learn


def _check_roi(image: np.ndarray, where: str) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 2 or image.dtype != np.uint8 or min(image.shape) < 3:
        raise DataError(f"augment.{where}: expected a 2-D uint8 ROI of at least 3x3 pixels, got "
                          f"shape {image.shape} dtype {image.dtype}; pass one ROI, e.g. RoiDataset.images[i]")
    return image


def _filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate with a 3×3 kernel (as imgaug does, via cv2.filter2D), round and clip to uint8."""
    out = cv2.filter2D(image.astype(np.float32), -1, kernel.astype(np.float32), borderType=_BORDER)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def sharpen(image: np.ndarray, lightness: float, alpha: float = 0.2) -> np.ndarray:
    """Sharpen: blend of identity and the kernel ``[[-1,-1,-1],[-1,8+lightness,-1],[-1,-1,-1]]``.

    The kernel's weights sum to ``lightness``: 1 keeps the mean brightness, 0.5 darkens, 2
    brightens, while the centre-minus-neighbours part boosts edges. ``alpha`` is the blend
    weight (paper: not given; 0.2 is the top of imgaug's default range — at 0.5 a lightness of
    2 already saturates bright ROIs).
    """
    image = _check_roi(image, "sharpen")
    effect = np.array([[-1, -1, -1], [-1, 8 + lightness, -1], [-1, -1, -1]], dtype=np.float32)
    return _filter(image, (1 - alpha) * _IDENTITY + alpha * effect)


def emboss(image: np.ndarray, strength: float, alpha: float = 0.5) -> np.ndarray:
    """Emboss: blend of identity and ``[[-1-s,-s,0],[-s,1,s],[0,s,1+s]]`` (s = ``strength``).

    A relief effect: the weights sum to 1 (brightness kept) and the antisymmetric part adds a
    diagonal derivative, so edges look lit from the bottom right. ``alpha``: the blend weight
    (paper: not given; imgaug's default draws it from 0–1, we take the middle).
    """
    image = _check_roi(image, "emboss")
    s = float(strength)
    effect = np.array([[-1 - s, -s, 0], [-s, 1, s], [0, s, 1 + s]], dtype=np.float32)
    return _filter(image, (1 - alpha) * _IDENTITY + alpha * effect)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (kernel size chosen by OpenCV)."""
    image = _check_roi(image, "gaussian_blur")
    if sigma <= 0:
        raise ConfigError(f"augment.gaussian_blur: sigma={sigma} must be > 0 (paper: 0.25, 0.5, 1, 2)")
    return cv2.GaussianBlur(image, (0, 0), sigmaX=float(sigma), borderType=_BORDER)


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate counter-clockwise by ``degrees`` about the centre.

    Multiples of 90° are exact (``np.rot90``, square ROIs); other angles interpolate bilinearly
    and mirror the image into the corners the rotation uncovers.
    """
    image = _check_roi(image, "rotate")
    if degrees % 90 == 0 and image.shape[0] == image.shape[1]:
        return np.ascontiguousarray(np.rot90(image, k=int(degrees // 90) % 4))
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), float(degrees), 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=_BORDER)


def edge_detect(image: np.ndarray, alpha: float) -> np.ndarray:
    """Edge detection: blend of identity and the Laplacian kernel ``[[0,1,0],[1,-4,1],[0,1,0]]``.

    ``alpha`` = 1 keeps only the (positive part of the) Laplacian, a mostly dark image with
    bright rims; smaller values keep more of the original (imgaug ``EdgeDetect(alpha)``).
    """
    image = _check_roi(image, "edge_detect")
    effect = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32)
    return _filter(image, (1 - alpha) * _IDENTITY + alpha * effect)


_SKEWS = ("forward", "backward", "left", "right")


def skew(image: np.ndarray, direction: str, amount: float = 0.2) -> np.ndarray:
    """Perspective tilt, as Augmentor's ``skew_tilt``: one side of the ROI comes closer.

    ``direction``: ``"forward"`` (top edge stretched), ``"backward"`` (bottom edge),
    ``"left"`` or ``"right"`` (that side stretched). The two corners of that side move outwards
    by ``amount`` × side length (paper: not given; Augmentor draws it at random); the result is
    cropped back to the ROI's frame, so nothing outside the image has to be invented.
    """
    image = _check_roi(image, "skew")
    if direction not in _SKEWS:
        raise ConfigError(f"augment.skew: direction={direction!r}; use one of {', '.join(_SKEWS)}")
    h, w = image.shape
    s = amount * max(h, w)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])  # (x, y): TL, TR, BR, BL
    dst = src.copy()
    moved = {"left": [(0, 1, -s), (3, 1, s)], "right": [(1, 1, -s), (2, 1, s)],
             "forward": [(0, 0, -s), (1, 0, s)], "backward": [(3, 0, -s), (2, 0, s)]}[direction]
    for corner, axis, shift in moved:
        dst[corner, axis] += shift
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=_BORDER)


_FLIPS = {"top": "top-bottom", "bottom": "top-bottom", "left": "left-right", "right": "left-right"}


def flip(image: np.ndarray, side: str) -> np.ndarray:
    """Mirror the ROI. ``"top"`` / ``"bottom"``: upside down; ``"left"`` / ``"right"``: left-right.

    Table 1 lists four flips, but a top flip and a bottom flip are the same mirror image (as are
    left and right), so they are two operations; :func:`variants` keeps one of each pair.
    """
    image = _check_roi(image, "flip")
    if side not in _FLIPS:
        raise ConfigError(f"augment.flip: side={side!r}; use one of {', '.join(_FLIPS)}")
    out = np.flipud(image) if _FLIPS[side] == "top-bottom" else np.fliplr(image)
    return np.ascontiguousarray(out)


def shear(image: np.ndarray, axis: str, degrees: float = 10.0) -> np.ndarray:
    """Shear about the centre: ``axis="x"`` slides rows sideways by tan(``degrees``) per row."""
    image = _check_roi(image, "shear")
    if axis not in ("x", "y"):
        raise ConfigError(f"augment.shear: axis={axis!r}; use 'x' or 'y' (paper: X-axis 10°, Y-axis 10°)")
    h, w = image.shape
    t = math.tan(math.radians(degrees))
    if axis == "x":
        matrix = np.float32([[1, t, -t * (h - 1) / 2], [0, 1, 0]])
    else:
        matrix = np.float32([[1, 0, 0], [t, 1, -t * (w - 1) / 2]])
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=_BORDER)


@dataclass(frozen=True)
class Operation:
    """One row of Table 1: the paper's name, its parameter, the values, and our function."""

    key: str
    paper: str
    values: tuple
    func: Callable[..., np.ndarray]

    def label(self, value: Any) -> str:
        unit = "°" if self.key == "rotate" else ""
        if self.key == "shear":
            return f"shear {value}-axis 10°"
        return f"{self.key} {value}{unit}"


TABLE1: tuple[Operation, ...] = (
    Operation("sharpen", "Sharpen (lightness value)", (0.5, 1, 1.5, 2), sharpen),
    Operation("emboss", "Emboss (strength value)", (0.5, 1, 1.5, 2), emboss),
    Operation("gaussian_blur", "Gaussian Blur (Sigma value)", (0.25, 0.5, 1, 2), gaussian_blur),
    Operation("rotate", "Rotation", (45, 90, 135, 180), rotate),
    Operation("edge_detect", "Edges Detection (alpha value)", (0.25, 0.5, 0.75, 1.0), edge_detect),
    Operation("skew", "Skew (Tilt)", ("forward", "backward", "left", "right"), skew),
    Operation("flip", "Flipping", ("top", "bottom", "left", "right"), flip),
    Operation("shear", "Shear (axis & value)", ("x", "y"), shear),
)
_BY_KEY = {op.key: op for op in TABLE1}


def variants(distinct: bool = True) -> list[tuple[str, Any]]:
    """Every (operation key, value) of Table 1, in table order: 30 as printed, 28 distinct.

    ``distinct=True`` drops the flips that repeat an image (bottom = top, right = left).
    """
    out = [(op.key, v) for op in TABLE1 for v in op.values]
    if distinct:
        out = [(k, v) for k, v in out if not (k == "flip" and v in ("bottom", "right"))]
    return out


def apply(image: np.ndarray, key: str, value: Any) -> np.ndarray:
    """Apply the Table-1 operation ``key`` with parameter ``value`` (``"original"`` = a copy)."""
    if key == "original":
        return np.array(_check_roi(image, "apply"), copy=True)
    if key not in _BY_KEY:
        raise ConfigError(f"augment.apply: unknown operation {key!r}; use one of original, {', '.join(_BY_KEY)}")
    return _BY_KEY[key].func(image, value)


def table1_frame():
    """Table 1 as a DataFrame: paper's name, values, the function that implements it."""
    import pandas as pd

    return pd.DataFrame([{"paper": op.paper, "values": ", ".join(map(str, op.values)),
                          "function": f"mk.augment.{op.func.__name__}"} for op in TABLE1])


class Inflated(NamedTuple):
    """Result of :func:`inflate`: the copies and where each came from (for provenance/leakage)."""

    images: np.ndarray   # (M, S, S) uint8
    labels: np.ndarray   # (M,) labels of the copies
    source: np.ndarray   # (M,) int64 index into the input of each copy's original
    variant: np.ndarray  # (M,) str: "original" or e.g. "rotate 45°"


def _copies_per_image(labels: np.ndarray, factor: int, balance: bool) -> np.ndarray:
    if not balance:
        return np.full(len(labels), factor, dtype=np.int64)
    classes, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    per_class = factor * len(labels) / len(classes)  # the total stays factor × N, split evenly
    copies = np.empty(len(labels), dtype=np.int64)
    for c in range(len(classes)):
        members = np.flatnonzero(inverse == c)
        want = max(int(round(per_class)), sizes[c])  # never fewer than one copy (the original)
        base, extra = divmod(want, sizes[c])
        copies[members] = base
        copies[members[:extra]] += 1
    return copies


def inflate(images: np.ndarray, labels: np.ndarray, factor: int = 8, seed: int = 0,
            balance: bool = False) -> Inflated:
    """Inflate a (TRAINING) set ``factor`` times with Table-1 variants, as the paper did.

    Each ROI keeps its original as copy 0, plus ``factor - 1`` different Table-1 variants
    drawn at random (seeded) from the 28 distinct ones; beyond 29 copies variants repeat.
    The paper inflated every ROI 8× without balancing (1296 benign = 8 × 162, 4272 malignant =
    8 × 534). ``balance=True`` instead gives each class the same number of copies, the total
    staying about ``factor`` × N: the minority class gets more copies per ROI.

    ``images``: (N, S, S) uint8. Returns :class:`Inflated`; ``source`` maps each copy to its
    original, so a split of the copies can be checked for leakage.
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3 or images.dtype != np.uint8 or len(images) != len(labels):
        raise DataError(f"augment.inflate: expected images (N, S, S) uint8 and N labels, got images "
                        f"{images.shape} {images.dtype} and {labels.shape} labels (pass RoiDataset.images/.labels)")
    require(profiles.INFLATE, factor, "augment.inflate: factor", hint="(paper: 8)")
    pool = variants(distinct=True)
    rng = np.random.default_rng(seed)
    copies = _copies_per_image(labels, int(factor), balance)
    out_images, out_source, out_variant = [], [], []
    for i, n in enumerate(copies):
        picks: list[tuple[str, Any]] = [("original", None)]
        while len(picks) < n:
            order = rng.permutation(len(pool))
            picks.extend(pool[j] for j in order[: n - len(picks)])
        for key, value in picks:
            out_images.append(apply(images[i], key, value))
            out_source.append(i)
            out_variant.append("original" if key == "original" else _BY_KEY[key].label(value))
    source = np.asarray(out_source, dtype=np.int64)
    stacked = np.stack(out_images) if out_images else images[:0].copy()
    return Inflated(stacked, labels[source], source, np.asarray(out_variant, dtype=object))


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


def online_samples(image: np.ndarray, n: int = 12, seed: int = 0, pipeline=None) -> np.ndarray:
    """``n`` random draws of the online pipeline on one uint8 ROI: (n, S, S) uint8 (to look at)."""
    image = _check_roi(image, "online_samples")
    pipeline = pipeline or online_pipeline(seed)
    batch = np.repeat(image[None, :, :, None].astype(np.float32), int(n), axis=0)
    out = np.asarray(pipeline(batch, training=True))[..., 0]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def dihedral(images: np.ndarray) -> list[np.ndarray]:
    """The 8 rotations/flips of a batch (N, S, S[, C]): a mass has no preferred orientation."""
    out = []
    for k in range(4):
        r = np.rot90(images, k, axes=(1, 2))
        out += [np.ascontiguousarray(r), np.ascontiguousarray(r[:, :, ::-1])]
    return out
