"""Lesion vs normal tissue: windows of a fixed physical size, and the sliding-window lesion map.

The paper's other task: "The sliding window technique was adopted to conduct coarse localization
of suspicious areas ... Each patch is labeled based on whether or not it includes a lesion"; on
MIAS "We distinguished between normal and abnormal". :func:`build_patch_dataset` cuts

* positives (label 1): windows centred on each annotated lesion, plus ``jitter`` copies whose
  centre is moved by up to a quarter of the window (the lesion stays in the central half);
* negatives (label 0): windows centred in the breast mask of normal films AND of abnormal films
  away from every annotated lesion (no overlap with any lesion circle widened by
  ``clearance_mm``), so that what tells a film with a lesion from one without cannot carry
  the answer — only the tissue in the window can.

Every window is ``window_mm`` on the film (``window_mm / mm_per_pixel`` film pixels; MIAS:
:data:`mammokit.constants.MIAS_MM_PER_PIXEL`), cut from the preprocessed film
(``PreprocessResult.cleaned``, notebook 02's choice when given its ``PreprocessConfig``) in the
input's coordinates, flipped with the film, resized to ``size`` px: exactly as
:func:`mammokit.roi.lesion_roi` cuts a fixed-window ROI. The set is a
:class:`mammokit.roi.RoiDataset` (labels: 1 = lesion), cached like the ROI sets.

:func:`lesion_map` slides that window over a whole film and returns a probability map.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import NDArray

from mammokit.errors import ConfigError, DataError
from mammokit.preprocess import PreprocessConfig, PreprocessResult, preprocess
from mammokit import profiles
from mammokit.cache import file_stats, read_cache, save_cached
from mammokit.checks import integer, require
from mammokit.constants import MIAS_MM_PER_PIXEL
from mammokit.roi import RoiDataset, class_counts, extract_roi

CACHE_VERSION = 1  # bump when the window recipe changes, so old caches are not reused
WINDOW_MM = 25.6
"""Default window: 25.6 mm (128 px of a MIAS film) — holds most masses with some context."""
MULTISCALE = (0.5, 1.0, 2.0)
"""The scales the detector study chose (``benchmarks/bench_detector.py``): 12.8, 25.6 and 51.2 mm
around each centre — MIAS' full 0.2 mm resolution for calcifications, and the context of the
largest masses (radius up to 35 mm)."""
NORMAL_FILM, ABNORMAL_FILM = "normal film", "abnormal film"
TABLE_COLUMNS = ("image_id", "patient_id", "label", "kind", "abnormality", "severity", "row", "col",
                 "radius", "lesion_row", "lesion_col", "copy", "tissue", "window_px", "window_mm", "scales", "dataset",
                 "path", "side", "flipped")
"""One row per window: ``kind`` is the lesion's abnormality code for a positive, else where the
normal tissue came from (:data:`NORMAL_FILM` / :data:`ABNORMAL_FILM`); ``row, col``: the window
centre (input array coordinates); ``radius, lesion_row, lesion_col``: the lesion's annotation
(NaN for negatives); ``copy``: 0 for the centred window, 1.. for jittered copies and negatives;
``tissue``: the share of the window inside the breast mask; ``scales``: the window sizes, as
multiples of ``window_mm``, stacked as channels (:func:`scales_text`)."""


def window_pixels(window_mm: float, mm_per_pixel: float = MIAS_MM_PER_PIXEL) -> int:
    """Film pixels of a window ``window_mm`` wide (MIAS: 25.6 mm -> 128 px).

    >>> window_pixels(25.6), window_pixels(25.6, 0.1)
    (128, 256)
    """
    if isinstance(window_mm, bool) or not isinstance(window_mm, (int, float)) or not 1 <= window_mm <= 500:
        raise ConfigError(f"window_mm={window_mm!r} must be a number of millimetres in [1, 500] (e.g. {WINDOW_MM})")
    if isinstance(mm_per_pixel, bool) or not isinstance(mm_per_pixel, (int, float)) or not 0.005 <= mm_per_pixel <= 5:
        raise ConfigError(f"mm_per_pixel={mm_per_pixel!r} must be the film's pixel spacing in mm (MIAS: 0.2)")
    return max(8, int(round(window_mm / mm_per_pixel)))


def cut_windows(result: PreprocessResult, rows: npt.ArrayLike, cols: npt.ArrayLike, window_px: int,
                size: int) -> NDArray[np.uint8]:
    """Windows centred on film points, cut and flipped as :func:`mammokit.roi.lesion_roi` cuts a fixed window.

    Parameters
    ----------
    result : PreprocessResult of the film
    rows, cols : array_like of shape (N,), float, centres in INPUT film coordinates
    window_px, size : int, the window's side in film px and its side after resizing

    Returns
    -------
    numpy.ndarray of shape (N, size, size), uint8
    """
    rows, cols = np.asarray(rows, float).reshape(-1), np.asarray(cols, float).reshape(-1)
    if not len(rows):
        return np.zeros((0, size, size), np.uint8)
    cleaned = result.cleaned  # computed once, not per window (lesion_roi would redo it each time)
    out = np.stack([extract_roi(cleaned, r, c, np.nan, size, margin=0.0, min_side=window_px)
                    for r, c in zip(rows, cols)]).astype(np.uint8)
    return np.ascontiguousarray(out[:, :, ::-1]) if result.flipped else out


def cut_scales(result: PreprocessResult, rows: npt.ArrayLike, cols: npt.ArrayLike, window_px: int, size: int,
               scales: tuple[float, ...] = (1.0,)) -> NDArray[np.uint8]:
    """:func:`cut_windows` at each of ``scales`` × ``window_px`` around the same centres, one channel
    per scale: the model sees fine detail and context at once (like ``mammokit.roi``'s multiscale ROIs).

    Parameters
    ----------
    result, rows, cols, window_px, size : as :func:`cut_windows`
    scales : tuple of C floats > 0

    Returns
    -------
    numpy.ndarray of shape (N, size, size) for one scale, else (N, size, size, C), uint8
    """
    parts = [cut_windows(result, rows, cols, max(8, int(round(window_px * k))), size) for k in scales]
    return parts[0] if len(parts) == 1 else np.stack(parts, axis=-1)


def scales_text(scales: tuple[float, ...]) -> str:
    """How the table records the scales: ``'0.5,1,2'``."""
    return ",".join(f"{float(k):g}" for k in scales)


def parse_scales(text: Any) -> tuple[float, ...]:
    return tuple(float(k) for k in str(text).split(",")) if text and str(text) != "nan" else (1.0,)


def clear_of_lesions(rows: NDArray[np.floating], cols: NDArray[np.floating], half: float,
                     lesions: npt.ArrayLike) -> NDArray[np.bool_]:
    """Which square windows miss every lesion circle: the closest point of the square to each
    circle's centre is farther than its radius.

    Parameters
    ----------
    rows, cols : numpy.ndarray of shape (N,), float, window centres in film px
    half : float, half the window's side in px
    lesions : array_like of shape (K, 3), float: row, col, radius (clearance included)

    Returns
    -------
    numpy.ndarray of shape (N,), bool

    >>> clear_of_lesions(np.array([0., 100.]), np.array([0., 0.]), 10, np.array([[30., 0., 25.]])).tolist()
    [False, True]
    """
    ok = np.ones(len(rows), bool)
    for lr, lc, rad in np.asarray(lesions, float).reshape(-1, 3):
        dr = np.maximum(np.abs(rows - lr) - half, 0.0)
        dc = np.maximum(np.abs(cols - lc) - half, 0.0)
        ok &= dr ** 2 + dc ** 2 > rad ** 2
    return ok


def _check_catalog(catalog: pd.DataFrame) -> None:
    missing = [c for c in ("image_id", "patient_id", "path", "abnormality", "row", "col", "radius") if c not in catalog]
    if missing:
        raise DataError(f"catalog lacks column(s) {', '.join(missing)}; build it with mammokit.data.load_catalog")


def _films(catalog: pd.DataFrame) -> list[tuple[str, pd.DataFrame, bool]]:
    """(path, rows, usable) per film: a film with an abnormality but no centre for it is not
    usable (its lesion could be anywhere, so neither positives nor negatives come from it)."""
    out = []
    for path, group in catalog.groupby("path", sort=False):
        abnormal = group[group["abnormality"] != "NORM"]
        out.append((path, group, not (abnormal["row"].isna() | abnormal["col"].isna()).any()))
    return out


def cache_key(catalog: pd.DataFrame, cfg: PreprocessConfig, options: dict) -> str:
    """Hash of everything a patch set depends on: config, options, each film's file and annotations."""
    rows = catalog[["image_id", "patient_id", "abnormality", "severity", "row", "col", "radius"]]
    payload = {"version": CACHE_VERSION, "cfg": cfg.to_dict(), "options": options, "files": file_stats(catalog["path"]),
               "rows": rows.astype(str).values.tolist()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    table = table.reindex(columns=list(TABLE_COLUMNS))
    for name in ("row", "col", "radius", "lesion_row", "lesion_col", "tissue", "window_mm"):
        table[name] = table[name].astype(float)
    for name in ("label", "copy", "window_px"):
        table[name] = table[name].astype(np.int64)
    table["flipped"] = table["flipped"].astype(bool)
    for name in ("image_id", "patient_id", "kind", "abnormality", "severity", "scales", "dataset", "path", "side"):
        column = table[name].astype(object)
        table[name] = column.where(column.notna(), None)
    return table.reset_index(drop=True)


def _dataset(images: np.ndarray, table: pd.DataFrame) -> RoiDataset:
    table = _typed(table)
    return RoiDataset(images, table, table["label"].to_numpy(np.int64), table["patient_id"].to_numpy(str))


def tissue_share(mask: NDArray[np.bool_], window_px: int) -> NDArray[np.float32]:
    """Per pixel, the share of a ``window_px`` window centred there that lies in the breast ``mask``.

    Parameters
    ----------
    mask : numpy.ndarray of shape (H, W), bool
    window_px : int, the window's side in px

    Returns
    -------
    numpy.ndarray of shape (H, W), float32 in [0, 1]
    """
    import cv2

    return cv2.boxFilter(mask.astype(np.float32), -1, (window_px, window_px), normalize=True,
                         borderType=cv2.BORDER_CONSTANT)


def _film_windows(result: PreprocessResult, group: pd.DataFrame, window_px: int, window_mm: float, scales: str,
                  jitter: int, negatives: int, clearance_px: float, min_tissue: float,
                  rng: np.random.Generator) -> list[dict]:
    """The window centres of one film: positives (each lesion + jitter copies), then negatives."""
    share = tissue_share(result.mask, window_px)
    h, w = share.shape

    def tissue(r: float, c: float) -> float:
        return float(share[int(np.clip(round(r), 0, h - 1)), int(np.clip(round(c), 0, w - 1))])

    first = group.iloc[0]
    base = {c: first.get(c) for c in ("image_id", "patient_id", "dataset", "path", "side")}
    base.update(window_px=window_px, window_mm=window_mm, scales=scales, flipped=result.flipped)
    lesions = group[group["abnormality"] != "NORM"]
    out = []
    for _, les in lesions.iterrows():
        shifts = np.zeros((1 + jitter, 2))
        shifts[1:] = rng.uniform(-window_px / 4, window_px / 4, size=(jitter, 2))
        for k, (dr, dc) in enumerate(shifts):
            out.append({**base, "label": 1, "kind": les["abnormality"], "abnormality": les["abnormality"],
                        "severity": les.get("severity"), "row": les["row"] + dr, "col": les["col"] + dc,
                        "radius": les["radius"], "lesion_row": les["row"], "lesion_col": les["col"], "copy": k,
                        "tissue": tissue(les["row"] + dr, les["col"] + dc)})
    rows, cols = np.nonzero(result.mask & (share >= min_tissue))
    if rows.size and negatives:
        radius = lesions["radius"].fillna(0.0).to_numpy(float) + clearance_px
        circles = np.stack([lesions["row"].to_numpy(float), lesions["col"].to_numpy(float), radius], axis=1)
        keep = clear_of_lesions(rows.astype(float), cols.astype(float), window_px / 2, circles)
        rows, cols = rows[keep], cols[keep]
        pick = rng.choice(rows.size, size=min(negatives, rows.size), replace=False) if rows.size else []
        kind = ABNORMAL_FILM if len(lesions) else NORMAL_FILM
        for k, i in enumerate(pick, start=1):
            out.append({**base, "label": 0, "kind": kind, "abnormality": "NORM", "severity": None,
                        "row": float(rows[i]), "col": float(cols[i]), "radius": np.nan,
                        "lesion_row": np.nan, "lesion_col": np.nan, "copy": k,
                        "tissue": float(share[rows[i], cols[i]])})
    return out


def build_patch_dataset(catalog: pd.DataFrame, cfg: PreprocessConfig | None = None, *, size: int = 64,
                        window_mm: float = WINDOW_MM, scales: tuple[float, ...] = (1.0,), seed: int = 0,
                        jitter: int = 4, negatives: int = 8,
                        clearance_mm: float = 2.0, min_tissue: float = 0.5, mm_per_pixel: float = MIAS_MM_PER_PIXEL,
                        cache: bool = True, progress: bool = True) -> RoiDataset:
    """Lesion (1) vs normal tissue (0) windows of ``catalog``'s films (module docstring).

    ``size``: model input side in px; ``window_mm``: the window on the film (negatives are clear
    of lesions at this size); ``scales``: more than one gives (N, S, S, C) windows, channel c
    ``scales[c] * window_mm`` wide around the same centre (at most 3, the kit's channel limit); ``jitter``: shifted
    copies per lesion (up to a quarter window each way); ``negatives``: normal-tissue windows per
    film (normal films and abnormal films alike; centres drawn in the breast mask where at least
    ``min_tissue`` of the window is breast — lesions lie in the breast, so a window of mostly
    background would be an easy negative — the window clear of every lesion circle widened by
    ``clearance_mm``); ``cfg``: the preprocessing (None:
    the defaults; pass the run's, e.g. from :func:`mammokit.roi.rois_for_run`); ``seed``:
    the jitter and negative draws. Films with an abnormality that has no centre are skipped.
    Cached under ``paths.cache_dir()/patches/<key>``; ``cache=False`` recomputes, writes nothing.
    ``groups`` are patient ids; the table has :data:`TABLE_COLUMNS`.
    """
    from tqdm.auto import tqdm

    from mammokit import paths
    from mammokit.data.images import read_image

    cfg = cfg or PreprocessConfig()
    if not isinstance(cfg, PreprocessConfig):
        raise ConfigError(f"cfg must be a PreprocessConfig, got {type(cfg).__name__}")
    require(profiles.ROI_SIZE, size, "size", hint="(pixels, e.g. 64)")
    for name, value in (("jitter", jitter), ("negatives", negatives)):
        require(integer(0, 1000), value, name)
    if isinstance(min_tissue, bool) or not isinstance(min_tissue, (int, float)) or not 0 <= min_tissue <= 1:
        raise ConfigError(f"min_tissue={min_tissue!r} must be a share of the window in [0, 1]")
    if isinstance(clearance_mm, bool) or not isinstance(clearance_mm, (int, float)) or not 0 <= clearance_mm <= 100:
        raise ConfigError(f"clearance_mm={clearance_mm!r} must be a number of millimetres in [0, 100]")
    _check_catalog(catalog)
    window_px = window_pixels(window_mm, mm_per_pixel)
    scales = tuple(float(k) for k in scales)
    if not 1 <= len(scales) <= 3 or len(scales) == 2 or not all(0.1 <= k <= 10 for k in scales):
        raise ConfigError(f"scales={scales!r} must be 1 or 3 multiples of window_mm in [0.1, 10], e.g. (0.5, 1, 2)")
    options = {"scales": scales_text(scales), "size": int(size), "window_px": window_px,
               "window_mm": float(window_mm), "seed": int(seed), "jitter": int(jitter), "negatives": int(negatives),
               "clearance_px": clearance_mm / mm_per_pixel, "min_tissue": float(min_tissue)}
    folder = paths.cache_dir() / "patches" / cache_key(catalog, cfg, options)
    cached = read_cache(folder, _dataset, ndims=(3, 4), what="window cache") if cache else None
    if cached is not None:
        return cached
    images, records = [], []
    for i, (path, group, usable) in enumerate(tqdm(_films(catalog), desc="windows", unit="film",
                                                   disable=not progress)):
        if not usable:
            continue
        result = preprocess(read_image(path), cfg)
        rng = np.random.default_rng([int(seed), i])
        found = _film_windows(result, group, window_px, float(window_mm), options["scales"], int(jitter),
                              int(negatives), options["clearance_px"], float(min_tissue), rng)
        images.append(cut_scales(result, [r["row"] for r in found], [r["col"] for r in found], window_px, size,
                                 scales))
        records += found
    if not records:
        raise DataError(f"build_patch_dataset: no windows could be cut from the catalog ({len(catalog)} rows)")
    data = _dataset(np.concatenate(images).astype(np.uint8), pd.DataFrame(records, columns=list(TABLE_COLUMNS)))
    if cache:
        save_cached(folder, data)
    return data


def kind_counts(data: RoiDataset) -> str:
    """'2104 windows of 107 patients: lesion 405 (ARCH 70, ...), normal tissue 1699 (...)'."""
    return class_counts(data, ((1, "lesion"), (0, "normal tissue")), "kind",
                        f"windows of {len(set(data.groups))} patients")


# --- the sliding-window lesion map -----------------------------------------------------------------

STRIDE_MM = 3.2
"""Default step of the lesion map: 3.2 mm (16 MIAS pixels), an eighth of the default window."""


def _map_predict(model_or_detector: Any, windows: np.ndarray, window_mm: float, tta: bool) -> np.ndarray:
    """One probability per window: a detector's ``predict_proba`` on a RoiDataset of the windows
    (without its test-time augmentation unless ``tta``), or a Keras model through the kit's
    pixel contract (:func:`mammokit.train.predict_proba`)."""
    import dataclasses

    if hasattr(model_or_detector, "predict_proba"):
        detector = model_or_detector
        if not tta and getattr(detector, "tta", False) and dataclasses.is_dataclass(detector):
            detector = dataclasses.replace(detector, tta=False)
        table = pd.DataFrame({"window_mm": np.full(len(windows), float(window_mm)), "label": 0, "patient_id": "map",
                              "scales": scales_text(getattr(detector, "scales", (1.0,)))})
        data = RoiDataset(windows, table, np.zeros(len(windows), np.int64), table["patient_id"].to_numpy(str))
        return np.asarray(detector.predict_proba(data), dtype=float).reshape(-1)
    from mammokit.train import predict_proba

    return predict_proba(model_or_detector, windows, batch_size=256)


def lesion_map(model_or_detector: Any, image: NDArray[np.integer] | PreprocessResult,
               cfg: PreprocessConfig | None = None, *, stride_mm: float = STRIDE_MM, window_mm: float | None = None,
               mm_per_pixel: float = MIAS_MM_PER_PIXEL, tta: bool = False) -> NDArray[np.float32]:
    """Sliding-window lesion probability over a whole film: windows every ``stride_mm`` on the breast,
    cut as :func:`build_patch_dataset` cuts them, scored in ONE predict call, interpolated back.

    Parameters
    ----------
    model_or_detector : detector or keras.Model
        A detector (:func:`mammokit.detector.lesion_detector`; its ``window_mm`` and ``scales``
        are used) or a Keras model taking one-scale uint8 windows of its input size.
    image : numpy.ndarray of shape (H, W), uint8 or uint16, or PreprocessResult
        A film as read (preprocessed here with ``cfg``, as the training windows were: pass
        notebook 02's choice), or its preprocessing.
    stride_mm, window_mm, mm_per_pixel : float, mm (``window_mm`` None: the detector's or :data:`WINDOW_MM`)
    tta : bool, also score the detector's 8 dihedral views (8× slower)

    Returns
    -------
    numpy.ndarray of shape (H, W), float32 in [0, 1], NaN outside the breast mask; INPUT coordinates
    """
    import cv2

    result = image if isinstance(image, PreprocessResult) else preprocess(np.asarray(image), cfg or PreprocessConfig())
    if window_mm is None:
        window_mm = getattr(model_or_detector, "window_mm", None) or WINDOW_MM
    if hasattr(model_or_detector, "size"):
        size = int(model_or_detector.size)
    elif hasattr(model_or_detector, "input_shape"):
        size = int(model_or_detector.input_shape[1])
    else:
        raise ConfigError("lesion_map: give a detector (mammokit.detector.lesion_detector) or a Keras model, "
                          f"got {type(model_or_detector).__name__}")
    window_px = window_pixels(window_mm, mm_per_pixel)
    stride = window_pixels(stride_mm, mm_per_pixel) if stride_mm >= 1 else 0
    if not 1 <= stride <= window_px:
        raise ConfigError(f"stride_mm={stride_mm!r} must be between {8 * mm_per_pixel:g} mm and the window "
                          f"({window_mm} mm)")
    mask = result.mask
    h, w = mask.shape
    grid_r, grid_c = np.arange(stride // 2, h, stride), np.arange(stride // 2, w, stride)
    rr, cc = np.meshgrid(grid_r, grid_c, indexing="ij")
    inside = mask[rr, cc]
    grid = np.zeros(rr.shape, np.float32)
    if inside.any():
        windows = cut_scales(result, rr[inside], cc[inside], window_px, size, getattr(model_or_detector, "scales",
                                                                                      (1.0,)))
        grid[inside] = _map_predict(model_or_detector, windows, window_mm, tta)
    full = cv2.resize(grid, (len(grid_c) * stride, len(grid_r) * stride), interpolation=cv2.INTER_LINEAR)[:h, :w]
    return np.where(mask, full, np.nan).astype(np.float32)
