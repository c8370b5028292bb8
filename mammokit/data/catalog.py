"""The catalog table every loader returns: one row per abnormality, a normal image is one row.

The column set and dtypes are the contract of CONTRIBUTING.md; :func:`finish` enforces them
so MIAS, phantoms and DICOM manifests come out identical in shape.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

COLUMNS = (
    "image_id", "patient_id", "path", "dataset", "side", "background", "abnormality",
    "severity", "label", "x", "y", "radius", "row", "col", "height", "width", "truth", "split",
)
BACKGROUNDS = ("F", "G", "D")
ABNORMALITIES = ("CALC", "CIRC", "SPIC", "MISC", "ARCH", "ASYM", "NORM")
SEVERITIES = ("B", "M")
SPLITS = ("train", "test")  # a dataset's own split (CBIS-DDSM); None where the source has none
LABELS = {"B": 0, "M": 1}


def finish(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A DataFrame with exactly :data:`COLUMNS` in order and the contract's dtypes.

    ``label`` is nullable Int64 (``<NA>`` for normal rows); ``x, y, radius, row, col`` are
    float (NaN when absent); ``height, width`` int; text columns hold ``None`` when absent
    (``split``: the dataset's official ``"train"``/``"test"`` side, None for MIAS, phantoms, DICOM).
    """
    frame = pd.DataFrame(list(records), columns=list(COLUMNS))
    for name in ("x", "y", "radius", "row", "col"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    frame["label"] = frame["severity"].map(LABELS).astype("Int64")
    frame["height"] = frame["height"].astype(int)
    frame["width"] = frame["width"].astype(int)
    for name in ("background", "severity", "truth", "split"):
        column = frame[name].astype(object)
        frame[name] = column.where(column.notna(), None)
    for name in ("image_id", "patient_id", "path", "dataset", "side", "abnormality"):
        frame[name] = frame[name].astype(str)
    return frame.reset_index(drop=True)


def counts(catalog: pd.DataFrame) -> dict[str, int]:
    """The headline numbers of a catalog (what ``mammokit data info`` and notebook 01 report)."""
    located = catalog["row"].notna()
    abnormal = catalog["abnormality"] != "NORM"
    return {
        "images": int(catalog["image_id"].nunique()),
        "patients": int(catalog["patient_id"].nunique()),
        "rows": int(len(catalog)),
        "normal_rows": int((~abnormal).sum()),
        "benign_rows": int((catalog["severity"] == "B").sum()),
        "malignant_rows": int((catalog["severity"] == "M").sum()),
        "abnormal_rows_with_centre": int((abnormal & located).sum()),
        "benign_with_centre": int(((catalog["severity"] == "B") & located).sum()),
        "malignant_with_centre": int(((catalog["severity"] == "M") & located).sum()),
    }


def summarise(catalog: pd.DataFrame) -> str:
    """Plain-text counts: images, patients, rows by class, background tissue and side."""
    c = counts(catalog)
    datasets = ", ".join(sorted(catalog["dataset"].unique())) or "-"
    images = catalog.drop_duplicates("image_id")
    lines = [
        f"dataset(s):       {datasets}",
        f"images:           {c['images']}",
        f"patients:         {c['patients']}",
        f"rows:             {c['rows']}  (one per abnormality; a normal image is one row)",
        f"normal rows:      {c['normal_rows']}",
        f"benign rows:      {c['benign_rows']}",
        f"malignant rows:   {c['malignant_rows']}",
        f"abnormal rows with a centre: {c['abnormal_rows_with_centre']}"
        f"  (benign {c['benign_with_centre']}, malignant {c['malignant_with_centre']})",
    ]
    by_bg = images["background"].fillna("?").value_counts().sort_index()
    lines.append("background (images): " + ", ".join(f"{k}={v}" for k, v in by_bg.items()))
    by_side = images["side"].value_counts().sort_index()
    lines.append("side (images):       " + ", ".join(f"{k}={v}" for k, v in by_side.items()))
    by_class = catalog["abnormality"].value_counts().sort_index()
    lines.append("abnormality (rows):  " + ", ".join(f"{k}={v}" for k, v in by_class.items()))
    if "split" in images and images["split"].notna().any():
        by_split = images["split"].fillna("-").value_counts().sort_index()
        lines.append("official split (images): " + ", ".join(f"{k}={v}" for k, v in by_split.items()))
    return "\n".join(lines)


def pick_images(catalog: pd.DataFrame, n: int, seed: int = 0) -> list[str]:
    """``n`` image ids to show: malignant, benign and normal films in turn (seeded, reproducible)."""
    rng = np.random.default_rng(seed)
    kind = catalog.groupby("image_id")["severity"].agg(lambda s: "M" if (s == "M").any() else
                                                        "B" if (s == "B").any() else "N")
    pools = {k: list(rng.permutation(sorted(kind.index[kind == k]))) for k in ("M", "B", "N")}
    chosen: list[str] = []
    while len(chosen) < min(n, len(kind)):
        for k in ("M", "B", "N"):
            if pools[k] and len(chosen) < n:
                chosen.append(str(pools[k].pop()))
    return chosen
