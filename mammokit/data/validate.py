"""The catalog as a whole, checked once by every loader: errors for what would silently change
results. (What is legal but worth a look needs the films: :func:`mammokit.data.images.suspicious`.)

A row-by-row parser cannot see that one image is listed under two patients (which defeats the
patient-disjoint splits), that a row was pasted twice (a ROI counted twice), or that a radius
typo is larger than the film. :func:`validate` can: it runs on the finished catalog, with
``where`` naming each row's file and line for the message.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from mammokit.errors import DataError

_KEY = ("image_id", "abnormality", "severity", "x", "y", "radius")


def _fix(where: str, why: str, fix: str) -> DataError:
    return DataError(f"{where}: {why}. {fix}")


def _check_rows(catalog: pd.DataFrame, where: Sequence[str]) -> None:
    """Each row alone: coordinates complete, inside the image, radius sensible."""
    for i, r in enumerate(catalog.itertuples(index=False)):
        has = [not pd.isna(v) for v in (r.x, r.y)]
        if any(has) and not all(has):
            raise _fix(where[i], f"x={r.x!r} but y={r.y!r}: a centre needs both",
                       "Give both x and y, or leave both empty (a lesion without a centre makes no ROI)")
        if not pd.isna(r.radius) and not all(has):
            raise _fix(where[i], f"radius {r.radius:g} without a centre", "Give x and y, or drop the radius")
        if r.height <= 0 or r.width <= 0:
            raise _fix(where[i], f"image {r.image_id} has size {r.width}x{r.height}", "Check the image file")
        if all(has):
            if r.severity is None:
                raise _fix(where[i], "a normal row has a centre",
                           "Give the lesion's label (benign/malignant) or drop the coordinates")
            if not (0 <= r.x < r.width and 0 <= r.y < r.height):
                raise _fix(where[i], f"centre x={r.x:g}, y={r.y:g} lies outside the {r.width}x{r.height} "
                           f"image {r.image_id}", "Correct the coordinates")
        if not pd.isna(r.radius) and not (np.isfinite(r.radius) and 0 < r.radius <= max(r.height, r.width)):
            raise _fix(where[i], f"radius {r.radius:g} is not in (0, {max(r.height, r.width)}] (the image "
                       f"{r.image_id} is {r.width}x{r.height})",
                       "A typo? Correct the radius (for a box: xmin < xmax and ymin < ymax)")


def _first_lines(catalog: pd.DataFrame, mask: np.ndarray, where: Sequence[str], n: int = 2) -> str:
    return " and ".join(where[i] for i in np.flatnonzero(mask)[:n])


def _check_identity(catalog: pd.DataFrame, where: Sequence[str]) -> None:
    """Across rows: one image is one file of one patient; no row twice; normal means no lesion."""
    for key, other in (("image_id", "patient_id"), ("path", "patient_id"), ("image_id", "path"),
                       ("path", "image_id")):
        counts = catalog.groupby(key)[other].nunique()
        clash = counts[counts > 1]
        if len(clash):
            value = clash.index[0]
            mask = (catalog[key] == value).to_numpy()
            seen = ", ".join(sorted(map(str, catalog.loc[mask, other].unique())))
            raise _fix(_first_lines(catalog, mask, where, 3),
                       f"{key} {value} is listed with {len(catalog.loc[mask, other].unique())} different "
                       f"{other}s ({seen})",
                       f"One {key} belongs to one {other}: correct the rows (two patients sharing an image "
                       "would put it in both training and test)")
    keys = catalog[list(_KEY)].astype(object)
    keys = keys.where(keys.notna(), "-").astype(str)  # absent values compare equal
    dup = keys.duplicated(keep=False).to_numpy()
    if dup.any():
        first = np.flatnonzero(dup)[0]
        same = (keys == keys.iloc[first]).all(axis=1).to_numpy()
        raise _fix(_first_lines(catalog, same, where), f"the same row for {catalog['image_id'].iloc[first]} "
                   "appears twice", "Delete the repeated row (it would count one lesion twice)")
    normal = catalog["abnormality"] == "NORM"
    mixed = set(catalog.loc[normal, "image_id"]) & set(catalog.loc[~normal, "image_id"])
    if mixed:
        image = sorted(mixed)[0]
        mask = (catalog["image_id"] == image).to_numpy()
        raise _fix(_first_lines(catalog, mask, where), f"image {image} is listed both as NORM and with an "
                   "abnormality", "Keep either the NORM row or the abnormality rows")


def validate(catalog: pd.DataFrame, where: Sequence[str]) -> pd.DataFrame:
    """Raise :class:`DataError` naming file and line when the catalog would silently change results.

    ``where[i]`` says where row ``i`` came from (``'.../Info.txt line 97'``). Returns ``catalog``.
    """
    if len(where) != len(catalog):
        raise DataError(f"validate: one 'where' per catalog row, got {len(where)} for {len(catalog)} rows")
    _check_rows(catalog, where)
    _check_identity(catalog, where)
    return catalog
