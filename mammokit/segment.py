"""Segmenting the breast from the film: Otsu threshold, morphology, largest component, pectoral muscle.

The mask stages of :func:`mammokit.preprocess.preprocess` (the paper's "Mammogram
preprocessing" section): an Otsu threshold (two classes, or the lower threshold of three) plus an
offset -> opening (drops specks, thin tape) -> closing (bridges gaps) -> largest connected
component (drops film labels) -> holes filled. :func:`mask_steps` keeps every step, for notebook
02's figures; :func:`breast_mask` is the result. Then which side the chest wall is on, and an
optional cut of the pectoral muscle of MLO views. Images are 2-D uint8 (grey levels 0-255); masks
are bool at the input's shape.

>>> import numpy as np
>>> image = np.zeros((32, 32), np.uint8); image[4:28, :20] = 160; image[2:5, 26:30] = 255  # + a film label
>>> mask, threshold = breast_mask(image, kernel=3, classes=2)
>>> bool(mask[16, 10]), bool(mask[3, 27]), chest_wall_on_right(mask)  # breast kept, label dropped, wall left
(True, False, False)
"""
from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

MASK_WIDTH = 256  # the mask is computed on a copy this wide: same shape, ~16x less work
_T1_BELOW_T2 = np.triu(np.ones((256, 256), bool), 1)  # valid (t1, t2) pairs of 3-class Otsu


def _disc(size: int) -> NDArray[np.uint8]:
    """A filled disc (ellipse) of ``size`` × ``size`` pixels, 0/1: the morphology's structuring element."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _largest_component(binary: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The biggest 8-connected blob of a 0/255 image, as 0/255 (all 0 when there is none)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 1:
        return np.zeros_like(binary)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return (labels == biggest).astype(np.uint8) * 255


def _fill_holes(binary: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Fill background pockets enclosed by the breast (dark fatty areas, dark lesions)."""
    padded = cv2.copyMakeBorder(binary, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    flood = padded.copy()
    cv2.floodFill(flood, None, (0, 0), 255)
    return binary | cv2.bitwise_not(flood)[1:-1, 1:-1]


def otsu_threshold(image: NDArray[np.uint8], classes: int = 2) -> float:
    """Otsu's threshold: the grey level that best separates the histogram's classes.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        Grey levels 0-255.
    classes : {2, 3}, default 2
        2: classic Otsu (OpenCV's); 3: the lower of the two thresholds maximising the
        between-class variance of three classes (robust when a bright pectoral muscle or film
        label forms a third class).

    Returns
    -------
    float
        The threshold, a grey level in [0, 255]; pixels above it are foreground.

    Examples
    --------
    >>> import numpy as np
    >>> film = np.repeat(np.array([10, 100, 250], np.uint8), [50, 30, 20]).reshape(10, 10)
    >>> otsu_threshold(film, 2), otsu_threshold(film, 3)  # 2 classes: tissue goes with the background
    (100.0, 10.0)
    """
    if classes == 2:
        return float(cv2.threshold(image, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0])
    p = cv2.calcHist([image], [0], None, [256], [0, 256]).ravel() / image.size
    w, m = np.cumsum(p), np.cumsum(p * np.arange(256))
    w0, m0 = w[:, None], m[:, None]  # class 1: [0, t1]; class 2: (t1, t2]; class 3: (t2, 255]
    w1, m1 = w[None, :] - w0, m[None, :] - m0
    w2, m2 = 1 - w[None, :], m[-1] - m[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = m0 ** 2 / w0 + m1 ** 2 / w1 + m2 ** 2 / w2
    between[~_T1_BELOW_T2 | ~np.isfinite(between)] = -1
    return float(np.unravel_index(int(np.argmax(between)), between.shape)[0])


def mask_steps(image: NDArray[np.uint8], offset: float = 0.0, kernel: int = 25, classes: int = 3) -> dict:
    """The breast-mask recipe step by step, for teaching (notebook 02 draws each step).

    Otsu threshold (see :func:`otsu_threshold`) + ``offset`` -> ``binary`` -> ``opened`` (drops
    specks, thin tape) -> ``closed`` (bridges gaps) -> ``largest`` connected component (drops
    film labels) -> ``filled`` (holes filled).

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        The denoised film, grey levels 0-255.
    offset : float, default 0.0
        Added to Otsu's threshold (negative keeps more of the faint skin line); the sum is clipped to [0, 254].
    kernel : int, default 25
        Side of the opening/closing disc in input pixels (scaled with the copy, made odd).
    classes : {2, 3}, default 3
        Passed to :func:`otsu_threshold`.

    Returns
    -------
    dict
        ``"otsu"``, ``"threshold"``: floats (grey levels); ``"binary"``, ``"opened"``,
        ``"closed"``, ``"largest"``, ``"filled"``: (h, w) uint8 0/255 on a copy at most
        ``MASK_WIDTH`` wide; ``"mask"``: (H, W) bool at the input's shape.
    """
    scale = min(1.0, MASK_WIDTH / image.shape[1])
    small = image if scale == 1.0 else cv2.resize(
        image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    otsu = otsu_threshold(small, classes)
    threshold = float(np.clip(otsu + offset, 0, 254))
    steps: dict = {"otsu": float(otsu), "threshold": threshold}
    steps["binary"] = binary = (small > threshold).astype(np.uint8) * 255
    k = max(1, int(round(kernel * scale))) | 1  # odd: an even disc shifts edges
    steps["opened"] = opened = cv2.morphologyEx(binary, cv2.MORPH_OPEN, _disc(k)) if k > 1 else binary
    steps["closed"] = closed = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, _disc(k)) if k > 1 else opened
    steps["largest"] = largest = _largest_component(closed)
    steps["filled"] = filled = _fill_holes(largest)
    if scale != 1.0:  # a light blur first, so upscaled edges are smooth rather than staircased
        filled = cv2.resize(cv2.GaussianBlur(filled, (3, 3), 0), (image.shape[1], image.shape[0]),
                            interpolation=cv2.INTER_LINEAR)
    steps["mask"] = filled > 127
    return steps


def breast_mask(image: NDArray[np.uint8], offset: float = 0.0, kernel: int = 25,
                classes: int = 3) -> tuple[NDArray[np.bool_], float]:
    """The breast of a film, without background, film labels or tape marks.

    Otsu threshold + ``offset``, opening then closing with a disc, largest connected component,
    holes filled (see :func:`mask_steps`). Film labels and tape marks are separate bright blobs,
    so the largest component drops them.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        The denoised film, grey levels 0-255.
    offset, kernel, classes
        As in :func:`mask_steps`.

    Returns
    -------
    mask : numpy.ndarray of shape (H, W), bool
        True on the breast.
    threshold : float
        The grey level used (Otsu + offset, in [0, 254]).
    """
    steps = mask_steps(image, offset, kernel, classes)
    return steps["mask"], steps["threshold"]


def chest_wall_on_right(mask: NDArray[np.bool_]) -> bool:
    """Which side the chest wall is on, so every film can be turned to face one way.

    Parameters
    ----------
    mask : numpy.ndarray of shape (H, W), bool
        The breast mask.

    Returns
    -------
    bool
        True when most of the breast lies in the right half (the chest wall is the wide side).
    """
    half = mask.shape[1] // 2
    return int(mask[:, half:].sum()) > int(mask[:, :half].sum())


def remove_pectoral(image: NDArray[np.uint8], mask: NDArray[np.bool_], right: bool) -> NDArray[np.bool_]:
    """Drop the pectoral muscle of an MLO view from ``mask``: the bright region (Otsu within the
    breast) touching the chest-wall edge near the top. A heuristic; checked by eye in notebook 02.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        The enhanced film, grey levels 0-255.
    mask : numpy.ndarray of shape (H, W), bool
        Its breast mask.
    right : bool
        The chest wall is on the right (:func:`chest_wall_on_right`).

    Returns
    -------
    numpy.ndarray of shape (H, W), bool
        ``mask`` without the muscle; unchanged when none is found or the candidate covers 40 % of
        the breast or more (then it is dense tissue).
    """
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return mask
    top, bottom = rows.min(), rows.max() + 1
    band = slice(top, top + (bottom - top) // 2)
    region = np.where(mask, image, 0)[band]
    level, _ = cv2.threshold(image[mask].reshape(-1, 1), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    bright = cv2.morphologyEx((region > level).astype(np.uint8), cv2.MORPH_OPEN, _disc(9))
    n, labels = cv2.connectedComponents(bright)
    wall_col = cols.max() if right else cols.min()
    seeds = labels[: max(1, (bottom - top) // 6), max(wall_col - 2, 0):wall_col + 3] if right else \
        labels[: max(1, (bottom - top) // 6), wall_col:wall_col + 3]
    ids = [i for i in np.unique(seeds) if i]
    out = mask.copy()
    if ids:
        muscle = np.isin(labels, ids)
        if muscle.sum() < 0.4 * mask.sum():  # a 'muscle' bigger than that is dense tissue
            out[band] &= ~muscle
    return out
