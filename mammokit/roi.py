"""Regions of interest: crops around annotated lesion centres and sliding-window patches.

The paper's "Patches extractions and normalization": a ROI is a square crop around the
annotated centre, sized from the radius with a margin, resized to the model size (224 in the
paper); sliding windows around the centroid are labelled lesion / no-lesion by their overlap
with the annotated circle; normal tissue comes from inside the breast mask of normal films.
ROIs are cut from the preprocessed image (CLAHE-enhanced, background and labels set to 0), in
the INPUT image's coordinates, then flipped like the preprocessed image (chest wall on the left).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mammokit import profiles
from mammokit.cache import file_stats, read_cache, save_cached
from mammokit.constants import MIAS_MM_PER_PIXEL
from mammokit.checks import require
from mammokit.constants import MIAS_MM_PER_PIXEL
from mammokit.errors import ConfigError, DataError
from mammokit.preprocess import PreprocessConfig, PreprocessResult, preprocess
from mammokit.quality import centres_inside

CACHE_VERSION = 2  # 2: entries carry a checksum; bump when the ROI recipe changes, so old caches are not reused
TABLE_COLUMNS = ("image_id", "patient_id", "label", "abnormality", "severity", "row", "col", "radius",
                 "dataset", "path", "side", "crop_side", "in_mask", "flipped")


def crop_around(image: NDArray[np.generic], row: float, col: float, size: int, fill: float = 0) -> NDArray[np.generic]:
    """A ``size``×``size`` window of a 2-D ``image`` centred on (``row``, ``col``).

    Parts of the window outside the image are ``fill`` (lesions near the film edge keep their
    place in the window instead of being shifted).

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), any dtype (uint8 films)
    row, col : float, the centre in ``image``'s pixels (rounded; may lie outside it)
    size : int, the window's side in px; fill : float, the value outside the image

    Returns
    -------
    numpy.ndarray of shape (size, size), ``image``'s dtype

    >>> crop_around(np.arange(16).reshape(4, 4), 0, 0, 3).tolist()
    [[0, 0, 0], [0, 0, 1], [0, 4, 5]]
    """
    if image.ndim != 2:
        raise DataError(f"crop_around expects a 2-D image, got shape {image.shape}")
    top = int(round(row)) - size // 2
    left = int(round(col)) - size // 2
    out = np.full((size, size), fill, dtype=image.dtype)
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + size, image.shape[0]), min(left + size, image.shape[1])
    if r1 > r0 and c1 > c0:
        out[r0 - top:r1 - top, c0 - left:c1 - left] = image[r0:r1, c0:c1]
    return out


def crop_side(radius: float, margin: float = 1.5, min_side: int = 48) -> int:
    """Side of the square cut around a lesion: ``2 * margin * radius``, at least ``min_side`` px
    (a missing radius gives ``min_side``), so the crop holds the lesion and some context."""
    if radius is None or not np.isfinite(radius):
        return int(min_side)
    return int(max(min_side, round(2 * margin * float(radius))))


def extract_roi(image: NDArray[np.generic], row: float, col: float, radius: float, size: int = 96,
                margin: float = 1.5, min_side: int = 48) -> NDArray[np.generic]:
    """The ROI of one lesion: a crop of :func:`crop_side` px around (row, col) in ``image``'s
    coordinates, zero-padded at the borders, resized to ``size``×``size``.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8 (any dtype cv2.resize takes)
    row, col, radius : float, the lesion's centre and radius in ``image``'s px (radius NaN: ``min_side``)
    size : int, the ROI's side; margin, min_side : as :func:`crop_side`

    Returns
    -------
    numpy.ndarray of shape (size, size), ``image``'s dtype
    """
    require(profiles.ROI_SIZE, size, "extract_roi: size", hint="(pixels; paper: 224)")
    side = crop_side(radius, margin, min_side)
    if side > 4 * max(image.shape):  # a radius typo would otherwise allocate gigabytes
        raise ConfigError(f"extract_roi: radius={radius!r} gives a {side} px crop of a {image.shape[1]}x"
                          f"{image.shape[0]} image; check the radius (pixels) and margin={margin!r}")
    crop = crop_around(image, row, col, side)
    if side == size:
        return crop
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)


def lesion_roi(result: PreprocessResult, row: float, col: float, radius: float, size: int = 96,
               margin: float = 1.5, min_side: int = 48) -> NDArray[np.uint8]:
    """ROI of a lesion at input (row, col), cut from ``result.cleaned`` (uint8), flipped with the image.

    Parameters
    ----------
    result : PreprocessResult of the film
    row, col, radius, size, margin, min_side : as :func:`extract_roi`, in INPUT film coordinates

    Returns
    -------
    numpy.ndarray of shape (size, size), uint8 0-255
    """
    roi = extract_roi(result.cleaned, row, col, radius, size, margin, min_side)
    return np.ascontiguousarray(roi[:, ::-1]) if result.flipped else roi


def circle_overlap(top: float, left: float, side: float, row: float, col: float, radius: float) -> float:
    """Fraction of the circle (row, col, radius) inside the square window at (top, left, side),
    estimated on a 64×64 grid over the circle's bounding box (good to ~1%)."""
    if not radius > 0:
        return float(top <= row < top + side and left <= col < left + side)
    t = (np.arange(64) + 0.5) / 64 * 2 - 1
    dr, dc = np.meshgrid(t * radius, t * radius, indexing="ij")
    inside = dr ** 2 + dc ** 2 <= radius ** 2
    r, c = row + dr, col + dc
    in_win = (r >= top) & (r < top + side) & (c >= left) & (c < left + side)
    return float((inside & in_win).sum() / inside.sum())


def sliding_patches(image: NDArray[np.generic], row: float, col: float, radius: float, patch: int = 96,
                    stride: int | None = None, steps: int = 2,
                    min_overlap: float = 0.5) -> tuple[NDArray[np.generic], pd.DataFrame]:
    """Sliding windows of ``patch`` px around the centroid (row, col), ``stride`` apart (default
    ``patch // 2``: half overlapping), ``steps`` windows each way (a (2*steps+1)² grid).

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), any dtype (uint8 films)
    row, col, radius : float, the annotated lesion circle in ``image``'s px
    patch, stride, steps : int; min_overlap : float in [0, 1]

    Returns
    -------
    patches : numpy.ndarray of shape (N, patch, patch), N = (2*steps+1)², ``image``'s dtype, zero-padded
    table : DataFrame of N rows: ``top, left``, ``overlap`` (share of the circle inside the window,
        in [0, 1]) and ``label`` (1 = lesion when overlap >= ``min_overlap``, else 0 = no lesion)
    """
    stride = stride or max(1, patch // 2)
    patches, rows = [], []
    for i in range(-steps, steps + 1):
        for j in range(-steps, steps + 1):
            r, c = row + i * stride, col + j * stride
            top, left = int(round(r)) - patch // 2, int(round(c)) - patch // 2
            overlap = circle_overlap(top, left, patch, row, col, radius)
            patches.append(crop_around(image, r, c, patch))
            rows.append({"top": top, "left": left, "overlap": overlap, "label": int(overlap >= min_overlap)})
    return np.stack(patches), pd.DataFrame(rows)


def normal_patches(image: NDArray[np.generic], mask: NDArray[np.bool_], n: int = 8, patch: int = 96,
                   seed: int = 0) -> tuple[NDArray[np.generic], NDArray[np.integer]]:
    """``n`` windows of ``patch`` px lying wholly inside the breast ``mask``, centres drawn at random.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), any dtype (uint8 films)
    mask : numpy.ndarray of shape (H, W), bool (or 0/1), the breast
    n, patch, seed : int, how many windows, their side in px, the draw's seed

    Returns
    -------
    patches : numpy.ndarray of shape (k, patch, patch), ``image``'s dtype
    centres : numpy.ndarray of shape (k, 2), int (row, col); k < n only when the mask is too
        small to hold that many distinct windows
    """
    half = patch // 2
    inner = cv2.erode(mask.astype(np.uint8), np.ones((patch + 1, patch + 1), np.uint8),
                      borderType=cv2.BORDER_CONSTANT, borderValue=0)
    rows, cols = np.nonzero(inner)
    if rows.size == 0:
        return np.zeros((0, patch, patch), image.dtype), np.zeros((0, 2), int)
    pick = np.random.default_rng(seed).choice(rows.size, size=min(n, rows.size), replace=False)
    centres = np.stack([rows[pick], cols[pick]], axis=1)
    out = np.stack([image[r - half:r - half + patch, c - half:c - half + patch] for r, c in centres])
    return out, centres


# --- the ROI dataset of a catalog ---------------------------------------------------------------

@dataclass(frozen=True)
class RoiDataset:
    """``images`` (N, S, S) uint8 (or (N, S, S, C): scales stacked as channels); ``table`` one row
    per ROI (``TABLE_COLUMNS``); ``labels`` (N,) int64 (0 benign, 1 malignant); ``groups`` (N,)
    patient ids, for patient-grouped splits."""

    images: np.ndarray
    table: pd.DataFrame
    labels: np.ndarray
    groups: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, index: np.ndarray) -> "RoiDataset":
        """The ROIs at ``index`` (positions 0..N-1), table renumbered: a fold's part for a recipe."""
        index = np.asarray(index, dtype=np.int64)
        return RoiDataset(self.images[index], self.table.iloc[index].reset_index(drop=True),
                          self.labels[index], self.groups[index])


def lesion_rows(catalog: pd.DataFrame) -> pd.DataFrame:
    """The catalog rows that become ROIs: benign/malignant with a centre (in catalog order)."""
    missing = [c for c in ("image_id", "patient_id", "path", "label", "row", "col", "radius") if c not in catalog]
    if missing:
        raise DataError(f"catalog lacks column(s) {', '.join(missing)}; build it with mammokit.data.load_catalog")
    keep = catalog["label"].notna() & catalog["row"].notna() & catalog["col"].notna()
    return catalog[keep]


def cache_key(catalog: pd.DataFrame, cfg: PreprocessConfig, size: int, margin: float, min_side: int) -> str:
    """Hash of everything a ROI set depends on: config, size, crop recipe, and each lesion's
    file path, file size/mtime and annotation."""
    rows = lesion_rows(catalog)
    payload = {
        "version": CACHE_VERSION, "cfg": cfg.to_dict(), "size": int(size), "margin": float(margin),
        "min_side": int(min_side), "files": file_stats(rows["path"]),
        "rows": rows[["image_id", "label", "row", "col", "radius"]].astype(str).values.tolist(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """The table's dtypes, the same whether just built or read back from the cache."""
    table = table.reindex(columns=list(TABLE_COLUMNS))
    for name in ("row", "col", "radius"):
        table[name] = table[name].astype(float)
    for name in ("label", "crop_side"):
        table[name] = table[name].astype(np.int64)
    for name in ("in_mask", "flipped"):
        table[name] = table[name].astype(bool)
    for name in ("image_id", "patient_id", "abnormality", "dataset", "path", "side", "severity"):
        table[name] = table[name].astype(object)
    return table.reset_index(drop=True)


def _dataset(images: np.ndarray, table: pd.DataFrame) -> RoiDataset:
    table = _typed(table)
    return RoiDataset(images, table, table["label"].to_numpy(np.int64), table["patient_id"].to_numpy(str))


def build_roi_dataset(catalog: pd.DataFrame, cfg: PreprocessConfig | None = None, size: int = 96,
                      margin: float = 1.5, min_side: int = 48, cache: bool = True,
                      progress: bool = True) -> RoiDataset:
    """ROIs of every benign/malignant lesion with a centre in ``catalog`` (see :class:`RoiDataset`).

    Each film is read and preprocessed once (``cfg``, default :class:`PreprocessConfig`); each
    lesion's ROI is :func:`lesion_roi`. Cached under ``paths.cache_dir()/roi/<key>`` (key:
    :func:`cache_key`); ``cache=False`` recomputes and does not write.
    """
    from tqdm.auto import tqdm

    from mammokit import paths
    from mammokit.data.images import read_image

    cfg = cfg or PreprocessConfig()
    if not isinstance(cfg, PreprocessConfig):
        raise ConfigError(f"cfg must be a PreprocessConfig, got {type(cfg).__name__}")
    rows = lesion_rows(catalog)
    if rows.empty:
        raise DataError(f"build_roi_dataset: the catalog ({len(catalog)} rows) has no benign or malignant lesion "
                        "with a centre, so there are no ROIs to cut (normal films only, or lesions without "
                        "x, y?). Use a catalog with located lesions, e.g. load_catalog('synthetic').")
    folder = paths.cache_dir() / "roi" / cache_key(catalog, cfg, size, margin, min_side)
    cached = read_cache(folder, _dataset) if cache else None
    if cached is not None:
        return cached
    images, records = [], []
    for path, group in tqdm(rows.groupby("path", sort=False), desc="ROIs", unit="film", disable=not progress):
        result = preprocess(read_image(path), cfg)
        inside = centres_inside(result.mask, group["row"], group["col"])
        for (_, r), in_mask in zip(group.iterrows(), inside):
            images.append(lesion_roi(result, r["row"], r["col"], r["radius"], size, margin, min_side))
            records.append({**{c: r.get(c) for c in TABLE_COLUMNS[:11]},
                            "crop_side": crop_side(r["radius"], margin, min_side),
                            "in_mask": bool(in_mask), "flipped": result.flipped})
    stack = np.stack(images).astype(np.uint8) if images else np.zeros((0, size, size), np.uint8)
    data = _dataset(stack, pd.DataFrame(records, columns=list(TABLE_COLUMNS)))
    if cache:
        save_cached(folder, data)
    return data


# --- the course's ROI set: the run's preprocessing, the chosen lesion kinds ----------------------

MASSES = ("CIRC", "SPIC", "MISC")
"""MIAS's mass classes (circumscribed, spiculated, ill-defined); CALC, ARCH and ASYM are the others."""
LESIONS = ("all", "masses")


def describe_config(cfg: PreprocessConfig) -> str:
    """One line a student can read: the chain, then what differs from the defaults.

    >>> describe_config(PreprocessConfig(otsu_offset=10))
    'median 5, CLAHE clip 2.0, 3-class Otsu; changed from the defaults: otsu_offset=+10'
    """
    chain = f"{cfg.denoise} {cfg.kernel}, CLAHE clip {cfg.clahe_clip}, {cfg.otsu_classes}-class Otsu"
    default = PreprocessConfig().to_dict()
    changed = [f"{k}={v:+g}" if k == "otsu_offset" else f"{k}={v!r}"
               for k, v in cfg.to_dict().items() if v != default[k]]
    return chain + ("; changed from the defaults: " + ", ".join(changed) if changed else "; the defaults")


def select_lesions(data: RoiDataset, lesions: str = "all") -> RoiDataset:
    """``"all"``: every benign/malignant ROI (masses, CALC, ARCH, ASYM); ``"masses"``: only
    CIRC/SPIC/MISC, the paper's subject ("breast masses")."""
    if lesions not in LESIONS:
        raise ConfigError(f"LESIONS={lesions!r} is not allowed; expected one of {', '.join(map(repr, LESIONS))}")
    if lesions == "all":
        return data
    keep = data.table["abnormality"].isin(MASSES).to_numpy()
    return _dataset(data.images[keep], data.table[keep])


def class_counts(data: RoiDataset, labels: tuple[tuple[int, str], ...] = ((0, "benign"), (1, "malignant")),
                 column: str = "abnormality", noun: str = "lesion ROIs") -> str:
    """'81 lesion ROIs: benign 46 (CALC 12, CIRC 20, ...), malignant 35 (...)' for a notebook's print:
    each label's count, split by ``column``."""
    parts = []
    for label, name in labels:
        rows = data.table[data.table["label"] == label]
        kinds = ", ".join(f"{k} {n}" for k, n in rows[column].value_counts().sort_index().items())
        parts.append(f"{name} {len(rows)}" + (f" ({kinds})" if kinds else ""))
    return f"{len(data)} {noun}: " + ", ".join(parts)


def rois_for_run(data: str | Path, run_dir: Path | str, size: int = 96, lesions: str = "all",
                 log: Callable[[str], None] | None = print) -> tuple[RoiDataset, PreprocessConfig]:
    """The ROIs a run's later notebooks start from: the catalog of ``data`` (as
    :func:`mammokit.data.load_catalog` takes it), preprocessed as chosen for ``run_dir``
    (:func:`mammokit.runs.preprocess_choice`: the recorded choice, else the defaults), cut at
    ``size`` px and narrowed to ``lesions`` (:func:`select_lesions`). ``log`` gets where the
    preprocessing came from and the class counts.

    Returns ``(rois, cfg)``: the :class:`RoiDataset` and the :class:`PreprocessConfig` used.
    """
    from mammokit import runs
    from mammokit.data import load_catalog

    catalog = load_catalog(data)
    choice = runs.preprocess_choice(run_dir)
    cfg = PreprocessConfig.from_dict(choice.settings)
    if log:
        log(f"preprocessing {choice.source}: {describe_config(cfg)}" if choice.recorded
            else f"preprocessing: {choice.source}")
    rois = select_lesions(build_roi_dataset(catalog, cfg, size=size), lesions)
    if log:
        log(class_counts(rois))
    return rois, cfg


# --- ROI recipes: what scale the model sees ------------------------------------------------------

ROI_RECIPES = ("normalised", "fixed", "multiscale")
"""``normalised``: the crop of 3 × radius resized to the model size (the lesion always fills the
same share of the ROI, so its absolute size is gone); ``fixed``: a window of ``window_mm`` around
the centre whatever the radius (size stays visible); ``multiscale``: three channels — the
normalised crop and fixed windows of ``window_mm`` and twice that."""


def build_recipe_rois(catalog: pd.DataFrame, recipe: str = "normalised", size: int = 96,
                      window_mm: float = 32.0, cfg: PreprocessConfig | None = None,
                      mm_per_pixel: float = MIAS_MM_PER_PIXEL, progress: bool = False) -> RoiDataset:
    """The ROIs of ``catalog`` cut by one of :data:`ROI_RECIPES` (each scale cached as usual).

    A fixed window is :func:`build_roi_dataset` with ``margin=0`` and ``min_side`` = the window
    in film pixels (``window_mm / mm_per_pixel``). ``multiscale`` images are (N, S, S, 3) uint8.
    A :class:`RoiDataset`'s table also works as ``catalog`` (it has every column needed).
    """
    if recipe not in ROI_RECIPES:
        raise ConfigError(f"ROI recipe {recipe!r} is not known; use one of {', '.join(ROI_RECIPES)}")
    if not (isinstance(window_mm, (int, float)) and 1 <= window_mm <= 500):
        raise ConfigError(f"window_mm={window_mm!r} must be a number of millimetres in [1, 500] (e.g. 32)")
    window = int(round(window_mm / mm_per_pixel))
    if recipe == "normalised":
        return build_roi_dataset(catalog, cfg, size, progress=progress)
    if recipe == "fixed":
        return build_roi_dataset(catalog, cfg, size, margin=0.0, min_side=window, progress=progress)
    parts = [build_roi_dataset(catalog, cfg, size, progress=progress),
             build_roi_dataset(catalog, cfg, size, margin=0.0, min_side=window, progress=progress),
             build_roi_dataset(catalog, cfg, size, margin=0.0, min_side=2 * window, progress=progress)]
    return RoiDataset(np.stack([p.images for p in parts], axis=-1), parts[0].table, parts[0].labels, parts[0].groups)
