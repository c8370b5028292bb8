"""The lesion-type confound: why hand features can point one way in training and the other in test.

On MIAS the lesion types differ in how often they are malignant (few circumscribed masses are,
many architectural distortions are), and image features mostly tell lesion types apart. A
feature's relation to malignancy can then reverse from one type to another, and a fold's mix of
types decides which sign a model learns. Two readouts make that visible (``benchmarks/README.md``,
"Why hand features can score below 0.5 under grouped CV"):

* :func:`malignant_share` — per lesion type, how many ROIs and what share of them is malignant;
* :func:`sign_flips` — per feature and fold, the feature's AUC (malignant vs benign) in the
  training part and in the test fold; a **flip** is a feature whose direction of association
  (AUC above or below 0.5) differs between the two, so what a model learned from it points the
  wrong way on the test patients. :func:`flip_summary` counts them per feature.

Pure functions over tables and arrays; the folds come from :func:`mammokit.splits.kfold_by_patient`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import NDArray

from mammokit.errors import ConfigError, DataError

ALL = "all types"
"""The label of :func:`malignant_share`'s last row: every ROI together."""


def malignant_share(table: pd.DataFrame, by: str = "abnormality") -> pd.DataFrame:
    """Per lesion type, the ROIs and the share of them that is malignant, and the same for all ROIs.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per ROI with a 0/1 ``label`` (1 = malignant) and the column ``by``
        (``RoiDataset.table``).
    by : str, the column that names the type (MIAS: ``abnormality``, e.g. CALC, CIRC, SPIC)

    Returns
    -------
    pandas.DataFrame
        Index: each type (sorted), then :data:`ALL`; columns ``rois`` (int), ``malignant`` (int)
        and ``malignant_share`` (float in [0, 1]).

    >>> t = pd.DataFrame({"abnormality": ["CIRC", "CIRC", "ARCH", "ARCH"], "label": [0, 0, 1, 0]})
    >>> malignant_share(t).malignant_share.tolist()
    [0.5, 0.0, 0.25]
    """
    for column in ("label", by):
        if column not in getattr(table, "columns", ()):
            raise DataError(f"malignant_share: the table lacks a {column!r} column; pass RoiDataset.table")
    labels = pd.to_numeric(table["label"], errors="coerce")
    if labels.isna().any() or not labels.isin([0, 1]).all():
        raise DataError("malignant_share: label must be 0 (benign) or 1 (malignant) on every row")
    frame = pd.DataFrame({"type": table[by].astype(str).to_numpy(), "label": labels.astype(int).to_numpy()})
    out = frame.groupby("type").label.agg(rois="size", malignant="sum")
    out.loc[ALL] = [len(frame), int(frame.label.sum())]
    out = out.astype(int)
    out["malignant_share"] = out.malignant / out.rois
    out.index.name = by
    return out


def feature_aucs(features: npt.ArrayLike, labels: npt.ArrayLike) -> NDArray[np.float64]:
    """Each feature's AUC as a score of malignancy: above 0.5, malignant ROIs have the larger values.

    Parameters
    ----------
    features : array_like of shape (N, F), float (NaN: a value that could not be measured, left out)
    labels : array_like of shape (N,), 0/1

    Returns
    -------
    numpy.ndarray of shape (F,), float64 in [0, 1]; NaN where a feature's measured values hold one class only

    >>> feature_aucs([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]], [0, 1, 1]).tolist()
    [1.0, 0.0]
    """
    x = np.asarray(features, dtype=float)
    y = np.asarray(labels)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise DataError(f"feature_aucs: features must be (N, F) and labels (N,); got {x.shape} and {y.shape}")
    out = np.full(x.shape[1], np.nan)
    for j in range(x.shape[1]):
        ok = np.isfinite(x[:, j])
        pos, neg = x[ok & (y == 1), j], x[ok & (y == 0), j]
        if len(pos) and len(neg):
            diff = pos[:, None] - neg[None, :]
            out[j] = float(((diff > 0) + 0.5 * (diff == 0)).mean())
    return out


def sign_flips(features: pd.DataFrame, labels: npt.ArrayLike, folds: Sequence[Any]) -> pd.DataFrame:
    """Per feature and fold: its AUC in the training part and in the test fold, and whether they disagree.

    Parameters
    ----------
    features : pandas.DataFrame of shape (N, F), float (``mammokit.features.feature_table``)
    labels : array_like of shape (N,), 0/1 (1 = malignant)
    folds : sequence of splits with ``train`` and ``test`` int index arrays into the rows
        (:func:`mammokit.splits.kfold_by_patient`; ``val``, if any, is ignored)

    Returns
    -------
    pandas.DataFrame
        One row per fold × feature: ``fold`` (int), ``feature`` (str), ``train_auc`` and
        ``test_auc`` (float), ``flipped`` (bool: the two lie on opposite sides of 0.5; a side
        exactly at 0.5 or NaN is no flip).
    """
    if not isinstance(features, pd.DataFrame):
        raise ConfigError(f"sign_flips: features must be a pandas.DataFrame (one column per feature), "
                          f"got {type(features).__name__}")
    y = np.asarray(labels)
    if y.shape != (len(features),):
        raise DataError(f"sign_flips: {len(features)} feature rows but labels of shape {y.shape}")
    x = features.to_numpy(float)
    rows = []
    for i, fold in enumerate(folds):
        train, test = np.asarray(fold.train, dtype=int), np.asarray(fold.test, dtype=int)
        a, b = feature_aucs(x[train], y[train]), feature_aucs(x[test], y[test])
        flipped = np.sign(a - 0.5) * np.sign(b - 0.5) < 0  # NaN compares False: no flip
        rows += [{"fold": i, "feature": str(name), "train_auc": a[j], "test_auc": b[j], "flipped": bool(flipped[j])}
                 for j, name in enumerate(features.columns)]
    return pd.DataFrame(rows, columns=["fold", "feature", "train_auc", "test_auc", "flipped"])


def flip_summary(flips: pd.DataFrame) -> pd.DataFrame:
    """:func:`sign_flips`' table per feature: ``folds``, ``flips`` (int) and ``share`` (float in
    [0, 1]) of folds whose test fold reverses the training part's direction, most flips first."""
    if not {"feature", "flipped"} <= set(getattr(flips, "columns", ())):
        raise DataError("flip_summary: pass the table of mammokit.confound.sign_flips")
    out = flips.groupby("feature", sort=False).flipped.agg(folds="size", flips="sum")
    out["flips"] = out.flips.astype(int)
    out["share"] = out.flips / out.folds
    return out.sort_values("share", ascending=False, kind="stable")
