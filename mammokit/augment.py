"""The paper's Table 1 augmentations as pure functions over one ROI.

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

How they are used in training lives next door: :mod:`mammokit.inflation` makes the paper's
offline copies of a TRAINING split (and the dihedral views for test-time augmentation),
:mod:`mammokit.online` draws Table 1 afresh every batch with Keras layers. Numpy and OpenCV only.

>>> len(variants(distinct=False)), len(variants())  # Table 1 as printed; without the repeated flips
(30, 28)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import cv2
import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from mammokit.errors import ConfigError, DataError

__all__ = ["sharpen", "emboss", "gaussian_blur", "rotate", "edge_detect", "skew", "flip", "shear",
           "Operation", "TABLE1", "variants", "operation", "apply", "table1_frame"]

_IDENTITY = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32)
_BORDER = cv2.BORDER_REFLECT_101  # mirror at the edge: no black corners a model could learn


def _check_roi(image: npt.ArrayLike, where: str) -> NDArray[np.uint8]:
    """``image`` as an array when it is one 2-D uint8 ROI of at least 3×3, else a DataError from
    ``where`` (``"augment.flip"``; :mod:`mammokit.online` uses it too)."""
    image = np.asarray(image)
    if image.ndim != 2 or image.dtype != np.uint8 or min(image.shape) < 3:
        raise DataError(f"{where}: expected a 2-D uint8 ROI of at least 3x3 pixels, got "
                          f"shape {image.shape} dtype {image.dtype}; pass one ROI, e.g. RoiDataset.images[i]")
    return image


def _filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate with a 3×3 kernel (as imgaug does, via cv2.filter2D), round and clip to uint8."""
    out = cv2.filter2D(image.astype(np.float32), -1, kernel.astype(np.float32), borderType=_BORDER)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def sharpen(image: NDArray[np.uint8], lightness: float, alpha: float = 0.2) -> NDArray[np.uint8]:
    """Sharpen: blend of identity and the kernel ``[[-1,-1,-1],[-1,8+lightness,-1],[-1,-1,-1]]``.

    The kernel's weights sum to ``lightness``: 1 keeps the mean brightness, 0.5 darkens, 2
    brightens, while the centre-minus-neighbours part boosts edges. ``alpha`` is the blend
    weight (paper: not given; 0.2 is the top of imgaug's default range — at 0.5 a lightness of
    2 already saturates bright ROIs).

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        One ROI, grey levels 0-255, at least 3×3 pixels.
    lightness : float
        Sum of the kernel's weights (paper: 0.5, 1, 1.5, 2).
    alpha : float, default 0.2
        Blend weight of the sharpening kernel, in [0, 1].

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        The sharpened ROI, rounded and clipped to 0-255.
    """
    image = _check_roi(image, "augment.sharpen")
    effect = np.array([[-1, -1, -1], [-1, 8 + lightness, -1], [-1, -1, -1]], dtype=np.float32)
    return _filter(image, (1 - alpha) * _IDENTITY + alpha * effect)


def emboss(image: NDArray[np.uint8], strength: float, alpha: float = 0.5) -> NDArray[np.uint8]:
    """Emboss: blend of identity and ``[[-1-s,-s,0],[-s,1,s],[0,s,1+s]]`` (s = ``strength``).

    A relief effect: the weights sum to 1 (brightness kept) and the antisymmetric part adds a
    diagonal derivative, so edges look lit from the bottom right. ``alpha``: the blend weight
    (paper: not given; imgaug's default draws it from 0–1, we take the middle).

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        One ROI, grey levels 0-255, at least 3×3 pixels.
    strength : float
        s in the kernel (paper: 0.5, 1, 1.5, 2).
    alpha : float, default 0.5
        Blend weight of the emboss kernel, in [0, 1].

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        The embossed ROI, rounded and clipped to 0-255.
    """
    image = _check_roi(image, "augment.emboss")
    s = float(strength)
    effect = np.array([[-1 - s, -s, 0], [-s, 1, s], [0, s, 1 + s]], dtype=np.float32)
    return _filter(image, (1 - alpha) * _IDENTITY + alpha * effect)


def gaussian_blur(image: NDArray[np.uint8], sigma: float) -> NDArray[np.uint8]:
    """Gaussian blur with standard deviation ``sigma`` pixels (kernel size chosen by OpenCV).

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        One ROI, grey levels 0-255, at least 3×3 pixels.
    sigma : float
        Standard deviation in pixels, > 0 (paper: 0.25, 0.5, 1, 2).

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        The blurred ROI (mirrored at the border).
    """
    image = _check_roi(image, "augment.gaussian_blur")
    if sigma <= 0:
        raise ConfigError(f"augment.gaussian_blur: sigma={sigma} must be > 0 (paper: 0.25, 0.5, 1, 2)")
    return cv2.GaussianBlur(image, (0, 0), sigmaX=float(sigma), borderType=_BORDER)


def rotate(image: NDArray[np.uint8], degrees: float) -> NDArray[np.uint8]:
    """Rotate counter-clockwise by ``degrees`` about the centre.

    Multiples of 90° are exact (``np.rot90``, square ROIs); other angles interpolate bilinearly
    and mirror the image into the corners the rotation uncovers.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        One ROI, grey levels 0-255, at least 3×3 pixels.
    degrees : float
        Counter-clockwise angle (paper: 45, 90, 135, 180).

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        The rotated ROI, same frame (a multiple of 90° on a square ROI moves pixels exactly).
    """
    image = _check_roi(image, "augment.rotate")
    if degrees % 90 == 0 and image.shape[0] == image.shape[1]:
        return np.ascontiguousarray(np.rot90(image, k=int(degrees // 90) % 4))
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), float(degrees), 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=_BORDER)


def edge_detect(image: NDArray[np.uint8], alpha: float) -> NDArray[np.uint8]:
    """Edge detection: blend of identity and the Laplacian kernel ``[[0,1,0],[1,-4,1],[0,1,0]]``.

    ``alpha`` = 1 keeps only the (positive part of the) Laplacian, a mostly dark image with
    bright rims; smaller values keep more of the original (imgaug ``EdgeDetect(alpha)``).

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        One ROI, grey levels 0-255, at least 3×3 pixels.
    alpha : float
        Blend weight of the Laplacian, in [0, 1] (paper: 0.25, 0.5, 0.75, 1.0).

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        The blend, rounded and clipped to 0-255.
    """
    image = _check_roi(image, "augment.edge_detect")
    effect = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32)
    return _filter(image, (1 - alpha) * _IDENTITY + alpha * effect)


_SKEWS = ("forward", "backward", "left", "right")


def skew(image: NDArray[np.uint8], direction: str, amount: float = 0.2) -> NDArray[np.uint8]:
    """Perspective tilt, as Augmentor's ``skew_tilt``: one side of the ROI comes closer.

    ``direction``: ``"forward"`` (top edge stretched), ``"backward"`` (bottom edge),
    ``"left"`` or ``"right"`` (that side stretched). The two corners of that side move outwards
    by ``amount`` × side length (paper: not given; Augmentor draws it at random); the result is
    cropped back to the ROI's frame, so nothing outside the image has to be invented.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        One ROI, grey levels 0-255, at least 3×3 pixels.
    direction : {"forward", "backward", "left", "right"}
        The side that comes closer.
    amount : float, default 0.2
        Outward shift of that side's corners, as a fraction of the ROI's longer side.

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        The tilted ROI, same frame (mirrored where the warp uncovers the border).
    """
    image = _check_roi(image, "augment.skew")
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


def flip(image: NDArray[np.uint8], side: str) -> NDArray[np.uint8]:
    """Mirror the ROI. ``"top"`` / ``"bottom"``: upside down; ``"left"`` / ``"right"``: left-right.

    Table 1 lists four flips, but a top flip and a bottom flip are the same mirror image (as are
    left and right), so they are two operations; :func:`variants` keeps one of each pair.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        One ROI, grey levels 0-255, at least 3×3 pixels.
    side : {"top", "bottom", "left", "right"}
        Table 1's flip.

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        The mirror image.

    Examples
    --------
    >>> import numpy as np
    >>> roi = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], np.uint8)
    >>> flip(roi, "top").tolist(), flip(roi, "left").tolist()
    ([[7, 8, 9], [4, 5, 6], [1, 2, 3]], [[3, 2, 1], [6, 5, 4], [9, 8, 7]])
    >>> np.array_equal(flip(roi, "top"), flip(roi, "bottom"))
    True
    """
    image = _check_roi(image, "augment.flip")
    if side not in _FLIPS:
        raise ConfigError(f"augment.flip: side={side!r}; use one of {', '.join(_FLIPS)}")
    out = np.flipud(image) if _FLIPS[side] == "top-bottom" else np.fliplr(image)
    return np.ascontiguousarray(out)


def shear(image: NDArray[np.uint8], axis: str, degrees: float = 10.0) -> NDArray[np.uint8]:
    """Shear about the centre: ``axis="x"`` slides rows sideways by tan(``degrees``) per row.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        One ROI, grey levels 0-255, at least 3×3 pixels.
    axis : {"x", "y"}
        ``"x"``: rows slide sideways; ``"y"``: columns slide up or down (paper: X 10°, Y 10°).
    degrees : float, default 10.0
        Shear angle.

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        The sheared ROI, same frame (mirrored at the border).
    """
    image = _check_roi(image, "augment.shear")
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


def operation(key: str) -> Operation:
    """The row of Table 1 called ``key`` (``"rotate"``); a ConfigError lists the keys."""
    if key not in _BY_KEY:
        raise ConfigError(f"augment.apply: unknown operation {key!r}; use one of original, {', '.join(_BY_KEY)}")
    return _BY_KEY[key]


def apply(image: NDArray[np.uint8], key: str, value: Any) -> NDArray[np.uint8]:
    """Apply the Table-1 operation ``key`` with parameter ``value``: one ``(key, value)`` of :func:`variants`.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        One ROI, grey levels 0-255, at least 3×3 pixels.
    key : str
        An operation of :data:`TABLE1` (``"rotate"``), or ``"original"`` for an unchanged copy.
    value : Any
        Its parameter (``45``; ignored for ``"original"``).

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        A new array (never ``image`` itself).
    """
    if key == "original":
        return np.array(_check_roi(image, "augment.apply"), copy=True)
    return operation(key).func(image, value)


def table1_frame():
    """Table 1 as a DataFrame: paper's name, values, the function that implements it."""
    import pandas as pd

    return pd.DataFrame([{"paper": op.paper, "values": ", ".join(map(str, op.values)),
                          "function": f"mk.augment.{op.func.__name__}"} for op in TABLE1])

