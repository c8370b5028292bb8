"""Figures for data (notebook 01): class balance, annotated films, the origin trap, pairs, crops."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from mammokit.errors import ConfigError
from mammokit.plots.style import imshow_gray, subplots

__all__ = ["catalog_balance", "contact_sheet", "mammograms", "origin_trap", "patient_pair", "phantom_truth"]

_COLOURS = {"B": "tab:green", "M": "tab:red", None: "tab:blue"}


@lru_cache(maxsize=64)
def _image(path: str) -> np.ndarray:
    from mammokit.data import read_image

    return read_image(path)


def _circles(ax, rows: pd.DataFrame, rowcol: str = "correct") -> None:
    """Draw each annotation of ``rows`` on ``ax``; ``rowcol='wrong'`` plots y as if it were a row."""
    for r in rows.itertuples():
        if math.isnan(r.row):
            continue
        centre_row = r.y if rowcol == "wrong" else r.row
        colour = _COLOURS.get(r.severity, "tab:blue")
        ax.add_patch(Circle((r.col, centre_row), max(r.radius, 4), fill=False, lw=1.5, color=colour))
        ax.plot(r.col, centre_row, "+", color=colour, ms=8)


def catalog_balance(catalog: pd.DataFrame) -> Figure:
    """Rows per abnormality class and severity, and images per background tissue (seaborn)."""
    import seaborn as sns

    fig, (left, right) = subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
    rows = catalog.assign(severity=catalog["severity"].fillna("normal"))
    sns.countplot(data=rows, x="abnormality", hue="severity", ax=left,
                  order=sorted(rows["abnormality"].unique()), hue_order=[h for h in ("normal", "B", "M")
                                                                         if h in set(rows["severity"])])
    left.set(title="Rows per abnormality class", xlabel="class", ylabel="rows")
    images = catalog.drop_duplicates("image_id").copy()
    images["kind"] = np.where(catalog.groupby("image_id")["abnormality"].apply(lambda s: (s != "NORM").any())
                              .reindex(images["image_id"]).to_numpy(), "abnormal", "normal")
    sns.countplot(data=images, x="background", hue="kind", order=["F", "G", "D"], ax=right)
    right.set(title="Images per background tissue", xlabel="background (F fatty, G glandular, D dense)",
              ylabel="images")
    for ax, name in ((left, "severity"), (right, "image")):  # legends beside the axes: they cover no bar
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.0, 1.0), title=name, frameon=False)
    return fig


def mammograms(catalog: pd.DataFrame, image_ids: list[str], ncols: int = 3) -> Figure:
    """Whole films with every annotated centre circled (green benign, red malignant)."""
    n = len(image_ids)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = subplots(nrows, ncols, figsize=(3.6 * ncols, 3.8 * nrows), squeeze=False,
                             constrained_layout=True)
    for ax, image_id in zip(axes.flat, image_ids):
        rows = catalog[catalog["image_id"] == image_id]
        if rows.empty:
            raise ConfigError(f"mammograms: image {image_id!r} is not in the catalog")
        first = rows.iloc[0]
        what = ", ".join(f"{a} {s}" if s else a for a, s in zip(rows["abnormality"], rows["severity"]))
        imshow_gray(ax, _image(first["path"]), title=f"{image_id} ({first['side']}, {first['background']}): {what}")
        ax.title.set_fontsize(9)
        _circles(ax, rows)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return fig


def origin_trap(catalog: pd.DataFrame, image_id: str) -> Figure:
    """One film annotated twice: row = height-1-y (right) and y used as a row (wrong)."""
    rows = catalog[catalog["image_id"] == image_id]
    image = _image(rows.iloc[0]["path"])
    fig, (wrong, right) = subplots(1, 2, figsize=(9, 4.6), constrained_layout=True)
    imshow_gray(wrong, image, title="WRONG: row = y (origin top-left)")
    _circles(wrong, rows, rowcol="wrong")
    imshow_gray(right, image, title="RIGHT: y counted up from the bottom edge")
    _circles(right, rows)
    fig.suptitle(f"{image_id}: MIAS measures y from the BOTTOM edge")
    return fig


def patient_pair(catalog: pd.DataFrame, patient_id: str) -> Figure:
    """A patient's films side by side (right film left, as radiologists hang them)."""
    ids = sorted(catalog.loc[catalog["patient_id"] == patient_id, "image_id"].unique(),
                 key=lambda i: catalog.loc[catalog["image_id"] == i, "side"].iloc[0], reverse=True)
    if not ids:
        raise ConfigError(f"patient_pair: patient {patient_id!r} is not in the catalog")
    fig = mammograms(catalog, ids, ncols=2)
    fig.suptitle(f"patient {patient_id}: both films belong together in one split")
    return fig


def phantom_truth(catalog: pd.DataFrame, image_id: str) -> Figure:
    """A phantom's film beside the ground truth a real dataset lacks: clean image, breast and lesion masks."""
    rows = catalog[catalog["image_id"] == image_id]
    if rows.empty or rows.iloc[0]["truth"] is None:
        raise ConfigError(f"phantom_truth: {image_id!r} has no ground truth (only synthetic phantoms do)")
    truth = np.load(rows.iloc[0]["truth"])
    fig, axes = subplots(1, 4, figsize=(13, 3.6), constrained_layout=True)
    panels = [(_image(rows.iloc[0]["path"]), "film (noisy)"), (truth["clean"], "clean"),
              (truth["breast_mask"], "breast_mask"), (truth["lesion_mask"], "lesion_mask")]
    for ax, (image, title) in zip(axes, panels):
        imshow_gray(ax, image, title=title)
    _circles(axes[0], rows)
    fig.suptitle(f"{image_id}: the phantom's ground truth")
    return fig


def contact_sheet(catalog: pd.DataFrame, size: int = 128, preprocessed: bool = False,
                  ncols: int = 10) -> Figure:
    """A ``size``-pixel crop around every annotated centre, radius circled: are the centres on lesions?

    ``preprocessed=True`` crops the output of :func:`mammokit.preprocess.preprocess` instead of
    the raw film (centres mapped through its crop box and flip).
    """
    from mammokit.roi import crop_around

    located = catalog[catalog["row"].notna()].reset_index(drop=True)
    if located.empty:
        raise ConfigError("contact_sheet: no row of this catalog has a centre (x, y) to crop around")
    if not isinstance(size, int) or size < 8:
        raise ConfigError(f"contact_sheet: size={size!r}; give an integer >= 8 pixels")
    if preprocessed:
        try:
            from mammokit.preprocess import preprocess
        except ImportError:
            raise ConfigError("contact_sheet(preprocessed=True) needs mammokit.preprocess, which is "
                              "not available in this install; drop --preprocessed") from None
    ncols = min(ncols, len(located))
    nrows = math.ceil(len(located) / ncols)
    fig, axes = subplots(nrows, ncols, figsize=(1.6 * ncols, 1.75 * nrows), squeeze=False)
    done: dict[str, object] = {}
    for ax, r in zip(axes.flat, located.itertuples()):
        image, row, col = _image(r.path), r.row, r.col
        if preprocessed:
            result = done.get(r.path) or preprocess(image)
            done[r.path] = result
            row, col = (float(v) for v in result.to_image_coords(row, col))
            image = result.image
        imshow_gray(ax, crop_around(image, row, col, size))
        ax.add_patch(Circle((size // 2, size // 2), r.radius, fill=False, lw=1, color=_COLOURS[r.severity]))
        ax.set_title(f"{r.image_id} {r.abnormality} {r.severity}", fontsize=7)
    for ax in list(axes.flat)[len(located):]:
        ax.axis("off")
    fig.suptitle(f"{len(located)} crops of {size} px around the annotated centres (circle = radius)")
    fig.tight_layout()
    return fig
