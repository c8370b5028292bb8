"""Hand-crafted lesion features: size, intensity, texture (GLCM) and shape of a segmented lesion.

The baselines a reviewer asks for before believing a ConvNet: if a logistic regression on a few
dozen interpretable numbers does as well, the network has not learned much more. Everything is
plain NumPy/OpenCV over uint8 ROIs, so it runs anywhere the kit runs.

What each feature uses matters for honesty:

* ``radius_mm`` is the **annotated** radius (MIAS: pixels of 200 µm) — part of the same annotation
  that places the ROI, so a size-only model is a model of the radiologist's outline, not of the image;
* the intensity, texture and shape features read only the ROI's pixels, inside the annotated
  circle (intensity, texture) or a segmentation grown from the centre (shape).
"""
from __future__ import annotations

import os
from collections import OrderedDict

import cv2
import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import NDArray

from mammokit.errors import ConfigError
from mammokit.preprocess import PreprocessConfig
from mammokit.constants import MIAS_MM_PER_PIXEL

GLCM_LEVELS = 32
GLCM_PROPS = ("contrast", "dissimilarity", "homogeneity", "energy", "correlation")
FEATURES = ("radius_mm", "mean", "std", "skew", "kurtosis", "contrast_to_ring", "ring_std",
            *(f"glcm_{p}" for p in GLCM_PROPS), "area_ratio", "eccentricity", "solidity", "compactness")
"""The columns of :func:`feature_table`, in order."""


def radius_mm(radius_px: npt.ArrayLike, mm_per_pixel: float = MIAS_MM_PER_PIXEL) -> NDArray[np.float64]:
    """Annotated radius in millimetres; a missing radius (NaN) stays NaN.

    Parameters
    ----------
    radius_px : array_like of shape (N,), float >= 0 or NaN, in film pixels
    mm_per_pixel : float > 0, the film's pixel pitch (MIAS: 0.2)

    Returns
    -------
    numpy.ndarray of shape (N,), float64 mm (NaN where ``radius_px`` is)

    >>> radius_mm([10, np.nan]).tolist()
    [2.0, nan]
    """
    return np.asarray(radius_px, dtype=float) * float(mm_per_pixel)


def disc_mask(size: int, radius: float) -> NDArray[np.bool_]:
    """A disc around the centre of a square, never smaller than the 3×3 centre.

    Parameters
    ----------
    size : int, the square's side in px
    radius : float, px (below 1.5 counts as 1.5)

    Returns
    -------
    numpy.ndarray of shape (size, size), bool

    >>> disc_mask(5, 0).astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]])
    """
    c = (size - 1) / 2
    rr, cc = np.mgrid[:size, :size]
    return (rr - c) ** 2 + (cc - c) ** 2 <= max(float(radius), 1.5) ** 2


def glcm(image: NDArray[np.uint8], mask: NDArray[np.bool_], levels: int = GLCM_LEVELS) -> NDArray[np.float64]:
    """Symmetric, normalised grey-level co-occurrence matrix of pixel pairs one step apart (0°,
    45°, 90°, 135° pooled) with both pixels inside ``mask``: how often grey level i sits next to j.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        Quantised to ``levels`` grey levels first (as ``skimage.feature.graycomatrix`` would be
        given ``image // (256 // levels)``).
    mask : numpy.ndarray of shape (H, W), bool
    levels : int in [2, 256]

    Returns
    -------
    numpy.ndarray of shape (levels, levels), float64 >= 0, symmetric, summing to 1 (0 if no pair)

    A top half black and a bottom half white: a third of the pairs cross the edge each way.

    >>> glcm(np.array([[0, 0], [255, 255]], np.uint8), np.ones((2, 2), bool), levels=2).round(3)
    array([[0.167, 0.333],
           [0.333, 0.167]])
    """
    q = (image.astype(np.int64) * levels) // 256
    m = np.zeros((levels, levels))
    h, w = q.shape
    for dr, dc in ((0, 1), (-1, 1), (-1, 0), (-1, -1)):
        r0, r1 = max(0, -dr), h - max(0, dr)
        c0, c1 = max(0, -dc), w - max(0, dc)
        a, b = q[r0:r1, c0:c1], q[r0 + dr:r1 + dr, c0 + dc:c1 + dc]
        ok = mask[r0:r1, c0:c1] & mask[r0 + dr:r1 + dr, c0 + dc:c1 + dc]
        np.add.at(m, (a[ok], b[ok]), 1)
    m = m + m.T
    total = m.sum()
    return m / total if total else m


def glcm_props(p: NDArray[np.floating]) -> dict[str, float]:
    """scikit-image's ``graycoprops`` definitions of :data:`GLCM_PROPS` for one normalised GLCM.

    Parameters
    ----------
    p : numpy.ndarray of shape (L, L), float >= 0 summing to 1 (from :func:`glcm`)

    Returns
    -------
    dict of :data:`GLCM_PROPS` to float (``correlation`` in [-1, 1]; 1 for a flat patch)
    """
    i, j = np.mgrid[:p.shape[0], :p.shape[1]]
    mu_i, mu_j = (i * p).sum(), (j * p).sum()
    sd_i, sd_j = np.sqrt(((i - mu_i) ** 2 * p).sum()), np.sqrt(((j - mu_j) ** 2 * p).sum())
    corr = ((i - mu_i) * (j - mu_j) * p).sum() / (sd_i * sd_j) if sd_i * sd_j > 0 else 1.0
    return {"contrast": float(((i - j) ** 2 * p).sum()), "dissimilarity": float((np.abs(i - j) * p).sum()),
            "homogeneity": float((p / (1.0 + (i - j) ** 2)).sum()), "energy": float(np.sqrt((p ** 2).sum())),
            "correlation": float(corr)}


def segment_lesion(roi: NDArray[np.uint8], radius: float) -> NDArray[np.bool_]:
    """The bright blob containing the ROI's centre: Otsu threshold over a disc of 1.5 × ``radius``,
    the connected component nearest the centre (the annotated disc if nothing is brighter).

    Parameters
    ----------
    roi : numpy.ndarray of shape (S, S), uint8
    radius : float, the annotated radius in ROI px

    Returns
    -------
    numpy.ndarray of shape (S, S), bool
    """
    size = roi.shape[0]
    search = disc_mask(size, 1.5 * radius)
    values = roi[search]
    t, _ = cv2.threshold(values.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    blob = ((roi > t) & search).astype(np.uint8)
    n, lab = cv2.connectedComponents(blob)
    if n <= 1:
        return disc_mask(size, radius)
    c = size // 2
    if lab[c, c]:
        return lab == lab[c, c]
    rr, cc = np.nonzero(lab)
    nearest = int(np.argmin((rr - c) ** 2 + (cc - c) ** 2))
    return lab == lab[rr[nearest], cc[nearest]]


def shape_features(mask: NDArray[np.bool_], radius: float) -> dict[str, float]:
    """The shape of a segmented lesion, in numbers a logistic regression can weigh.

    Parameters
    ----------
    mask : numpy.ndarray of shape (S, S), bool (from :func:`segment_lesion`)
    radius : float, the annotated radius in ROI px

    Returns
    -------
    dict
        ``area_ratio`` (area / annotated disc), ``eccentricity`` in [0, 1] (second moments),
        ``solidity`` in (0, 1] (area / convex hull area), ``compactness`` (perimeter² / 4π area;
        1 for a disc).
    """
    area = float(mask.sum())
    m = cv2.moments(mask.astype(np.uint8), binaryImage=True)
    mu20, mu02, mu11 = (m[k] / max(m["m00"], 1) for k in ("mu20", "mu02", "mu11"))
    common = np.sqrt(((mu20 - mu02) / 2) ** 2 + mu11 ** 2)
    l1, l2 = (mu20 + mu02) / 2 + common, (mu20 + mu02) / 2 - common
    ecc = float(np.sqrt(1 - l2 / l1)) if l1 > 0 else 0.0
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    points = np.concatenate(contours) if contours else np.zeros((0, 1, 2), np.int32)
    hull = cv2.contourArea(cv2.convexHull(points)) if len(points) >= 3 else area
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return {"area_ratio": area / (np.pi * max(radius, 1.5) ** 2), "eccentricity": ecc,
            "solidity": area / hull if hull > 0 else 1.0,
            "compactness": perimeter ** 2 / (4 * np.pi * area) if area else 1.0}


def roi_features(roi: NDArray[np.uint8], radius: float) -> dict[str, float]:
    """Intensity, texture and shape features of one ROI.

    Parameters
    ----------
    roi : numpy.ndarray of shape (S, S) or (S, S, 1), uint8
    radius : float, the lesion's radius in the ROI's own px (see :func:`feature_table`)

    Returns
    -------
    dict of :data:`FEATURES` but ``radius_mm`` to float (intensities as fractions of 255)
    """
    roi = np.asarray(roi)
    if roi.ndim == 3:
        roi = roi[..., 0]
    if roi.dtype != np.uint8 or roi.ndim != 2:
        raise ConfigError(f"roi_features: expected a uint8 (S, S) ROI, got {roi.dtype} {roi.shape}")
    inside = disc_mask(roi.shape[0], radius)
    ring = disc_mask(roi.shape[0], 1.5 * radius) & ~inside
    v = roi[inside].astype(float)
    sd = v.std()
    z = (v - v.mean()) / sd if sd > 0 else np.zeros_like(v)
    around = roi[ring].astype(float) if ring.any() else v
    out = {"mean": v.mean() / 255, "std": sd / 255, "skew": float((z ** 3).mean()),
           "kurtosis": float((z ** 4).mean() - 3), "contrast_to_ring": (v.mean() - around.mean()) / 255,
           "ring_std": around.std() / 255}
    out.update({f"glcm_{k}": v for k, v in glcm_props(glcm(roi, inside)).items()})
    out.update(shape_features(segment_lesion(roi, radius), radius))
    return out


def feature_table(dataset, mm_per_pixel: float = MIAS_MM_PER_PIXEL) -> pd.DataFrame:
    """One row of :data:`FEATURES` per ROI of a :class:`mammokit.roi.RoiDataset`.

    The lesion's radius in ROI pixels is ``radius * S / crop_side`` (the crop of ``crop_side`` film
    pixels was resized to S); with no annotated radius, a quarter of the ROI is used.
    """
    images = np.asarray(dataset.images)
    table = dataset.table.reset_index(drop=True)
    for col in ("radius", "crop_side"):
        if col not in table:
            raise ConfigError(f"feature_table: the ROI table lacks {col!r}; build it with mammokit.roi.build_roi_dataset")
    size = images.shape[1]
    rows = []
    for roi, r, side in zip(images, table["radius"].to_numpy(float), table["crop_side"].to_numpy(float)):
        r_roi = r * size / side if np.isfinite(r) else size / 4
        rows.append({"radius_mm": float(r) * mm_per_pixel if np.isfinite(r) else np.nan, **roi_features(roi, r_roi)})
    return pd.DataFrame(rows, columns=list(FEATURES))


# --- margin features at a fixed physical scale -----------------------------------------------------

MARGIN_FEATURES = ("contrast_mm", "margin_sharpness", "tangential_share")
"""The columns of :func:`margin_table`: lesion-to-surround contrast, how sharply the intensity
drops across the annotated border, and the share of gradient running across radial lines just
outside it (spicules and architectural distortion make radial streaks, whose gradient is tangential)."""

MARGIN_WINDOW_MM = 80.0
"""Side of the film-resolution window :func:`margin_table` cuts (holds MIAS's largest radius, 35 mm)."""


def margin_features(roi: NDArray[np.uint8], radius: float, mm_per_pixel: float = MIAS_MM_PER_PIXEL,
                    sigma_mm: float = 1.0, ring_mm: float = 6.0) -> dict[str, float]:
    """:data:`MARGIN_FEATURES` of one window centred on a lesion.

    Every scale is in millimetres, so lesions of every size are measured alike.

    Parameters
    ----------
    roi : numpy.ndarray of shape (S, S), uint8, at film resolution
    radius : float, the lesion's radius in px
    mm_per_pixel : float > 0
    sigma_mm, ring_mm : float > 0, the smoothing and the width of the ring outside the border

    Returns
    -------
    dict of :data:`MARGIN_FEATURES` to float
        ``margin_sharpness`` is the share of the drop from the lesion's core to beyond the
        border that happens within 1 mm of the border.

    >>> yy, xx = np.mgrid[:101, :101]
    >>> disc = np.where((yy - 50) ** 2 + (xx - 50) ** 2 <= 20 ** 2, 200, 50).astype(np.uint8)
    >>> f = margin_features(disc, 20.0)
    >>> f["contrast_mm"] > 0.3 and f["margin_sharpness"] > 0 and f["tangential_share"] < 0.1
    True
    """
    img = np.asarray(roi)
    if img.ndim == 3:
        img = img[..., 0]
    if img.dtype != np.uint8 or img.ndim != 2:
        raise ConfigError(f"margin_features: expected a uint8 (S, S) window, got {img.dtype} {img.shape}")
    img = img.astype(np.float32)
    c = (img.shape[0] - 1) / 2
    dy, dx = np.mgrid[:img.shape[0], :img.shape[1]] - c
    r = np.hypot(dy, dx) + 1e-6
    smooth = cv2.GaussianBlur(img, (0, 0), sigma_mm / mm_per_pixel)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3) / 8
    radial, tangential = (gx * dx + gy * dy) / r, (gy * dx - gx * dy) / r
    magnitude = np.hypot(gx, gy) + 1e-6
    width = ring_mm / mm_per_pixel
    radius = max(float(radius), 1.5)
    inside, outside = r <= radius, (r > radius) & (r <= radius + width)
    core = r <= max(radius - width / 2, radius / 2)
    far = (r > radius + width / 2) & (r <= radius + 1.5 * width)
    near = np.abs(r - radius) <= 1.0 / mm_per_pixel  # 1 mm either side of the border
    contrast = float(img[inside].mean() - img[outside].mean()) / 255
    drop_near = float(-radial[near].mean()) * 2.0 / mm_per_pixel  # grey levels lost across those 2 mm
    drop_all = float(img[core].mean() - img[far].mean())  # ... and from the core to beyond the border
    return {"contrast_mm": contrast, "margin_sharpness": drop_near / (abs(drop_all) + 5.0),
            "tangential_share": float(np.mean(np.abs(tangential[outside]) / magnitude[outside]))}


def margin_table(dataset, cfg: PreprocessConfig | None = None, *,
                 mm_per_pixel: float = MIAS_MM_PER_PIXEL) -> pd.DataFrame:
    """One row of :data:`MARGIN_FEATURES` per ROI, measured on a window of :data:`MARGIN_WINDOW_MM`
    at film resolution re-cut from the films named in ``dataset.table`` — whatever recipe cut
    ``dataset`` itself — preprocessed as ``cfg`` says (notebook 02's choice: pass it; None: the
    defaults). A missing radius gives 5 mm.

    Each lesion's features are remembered by film (and its size and time stamp), centre, radius,
    scale and ``cfg``, for the last :data:`MARGIN_MEMO_SIZE` lesions: a cross-validation measures
    each lesion once, and another preprocessing measures it anew."""
    from mammokit.roi import build_roi_dataset

    cfg = PreprocessConfig() if cfg is None else cfg
    if not isinstance(cfg, PreprocessConfig):
        raise ConfigError(f"margin_table: cfg must be a mammokit.preprocess.PreprocessConfig, got {type(cfg).__name__}")
    table = dataset.table.reset_index(drop=True)
    if "path" not in table:
        raise ConfigError("margin_table: the ROI table carries no film paths; build it with mammokit.roi.build_roi_dataset")
    keys = [_margin_key(cfg, p, r, c, rad, mm_per_pixel)
            for p, r, c, rad in zip(table["path"], table["row"], table["col"], table["radius"])]
    found = {k: _MARGIN_MEMO[k] for k in keys if k in _MARGIN_MEMO}
    missing = [i for i, k in enumerate(keys) if k not in found]
    if missing:  # each fold's part is a new subset: cut only lesions not measured yet, uncached on disk
        side = int(round(MARGIN_WINDOW_MM / mm_per_pixel))
        windows = build_roi_dataset(table.iloc[missing], cfg, side, margin=0.0, min_side=side, cache=False,
                                    progress=False)
        for (_, row), w in zip(windows.table.iterrows(), windows.images):
            rad = float(row["radius"])
            key = _margin_key(cfg, row["path"], row["row"], row["col"], rad, mm_per_pixel)
            found[key] = margin_features(w, rad if np.isfinite(rad) else 5.0 / mm_per_pixel, mm_per_pixel)
    for key in keys:  # most recently used last; the oldest go first
        _MARGIN_MEMO[key] = found[key]
        _MARGIN_MEMO.move_to_end(key)
    while len(_MARGIN_MEMO) > MARGIN_MEMO_SIZE:
        _MARGIN_MEMO.popitem(last=False)
    return pd.DataFrame([found[k] for k in keys], columns=list(MARGIN_FEATURES))


def _margin_key(cfg: PreprocessConfig, path, row, col, radius, mm_per_pixel) -> tuple:
    radius = float(radius)
    try:
        stat = os.stat(path)
        stamp = (stat.st_size, stat.st_mtime_ns)  # a film replaced on disk is measured anew
    except OSError:
        stamp = None  # build_roi_dataset says what is wrong with the file
    return (cfg, str(path), stamp, float(row), float(col), radius if np.isfinite(radius) else -1.0,
            float(mm_per_pixel))


MARGIN_MEMO_SIZE = 4096
"""How many lesions' margin features :func:`margin_table` remembers (a few dozen bytes each)."""

_MARGIN_MEMO: OrderedDict[tuple, dict[str, float]] = OrderedDict()
"""Margin features by (preprocessing, film, its size and time stamp, row, col, radius, mm per pixel),
least recently used first."""
