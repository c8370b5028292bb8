"""Train/validation/test splits by patient, stratified by label, made BEFORE any augmentation.

MIAS films come in left/right pairs of one woman (mdb001 + mdb002 are patient ``p001``); two
ROIs of one patient share her breast tissue, film and scanner. If one lands in training and
the other in the test set, the test set no longer measures how the model does on *new*
patients. So every split here keeps each patient on exactly one side, and every function
checks that before returning (:func:`check_patient_disjoint`).

The paper splits 60/20/20 "at random" after augmenting; the kit splits by patient first and
augments the training split only (notebook 03 measures the difference).
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mammokit.constants import PAPER_SPLIT
from mammokit.errors import ConfigError, MammokitError

__all__ = ["Split", "PatientLeakError", "split_by_patient", "kfold_by_patient", "check_patient_disjoint",
           "split_summary", "lockbox", "LOCKBOX_SALT"]


class PatientLeakError(MammokitError, AssertionError):
    """A patient appears on two sides of a split (train/val/test): the test would be optimistic."""


class Split(NamedTuple):
    """Index arrays (int64, positions 0..N-1 into the table) of the three sides; ``val`` may be empty."""

    train: NDArray[np.int64]
    val: NDArray[np.int64]
    test: NDArray[np.int64]


def _check_table(table: pd.DataFrame, where: str) -> None:
    missing = [c for c in ("patient_id", "label") if c not in table.columns]
    if missing:
        raise ConfigError(f"{where}: the table lacks column(s) {missing}; pass RoiDataset.table "
                          f"(columns image_id, patient_id, label, ...)")
    if table["label"].isna().any():
        raise ConfigError(f"{where}: {int(table['label'].isna().sum())} row(s) have no label (normal films?); "
                          f"splits are made over labelled ROIs only — drop them first")
    if len(table) == 0:
        raise ConfigError(f"{where}: the table is empty")


def check_patient_disjoint(table: pd.DataFrame, split: Split) -> Split:
    """Raise :class:`PatientLeakError` if a patient (or a row) sits on two sides of ``split``.

    Returns ``split`` unchanged, so it can wrap a return value. Called by every split function.

    >>> t = pd.DataFrame({"patient_id": ["p0", "p0", "p1"], "label": [0, 1, 0]})
    >>> check_patient_disjoint(t, Split(np.array([0]), np.array([2]), np.array([1])))
    Traceback (most recent call last):
    mammokit.splits.PatientLeakError: split leaks: patient(s) ['p0'] have ROIs in both train and test ...
    """
    patients = table["patient_id"].to_numpy()
    sides = {name: np.asarray(idx, dtype=np.int64) for name, idx in split._asdict().items()}
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        rows = np.intersect1d(sides[a], sides[b])
        if rows.size:
            raise PatientLeakError(f"split leaks: row(s) {rows[:5].tolist()} are in both {a} and {b}")
        shared = np.intersect1d(patients[sides[a]], patients[sides[b]])
        if shared.size:
            raise PatientLeakError(
                f"split leaks: patient(s) {shared[:5].tolist()} have ROIs in both {a} and {b} "
                f"({shared.size} patient(s) in all). Split with split_by_patient/kfold_by_patient, "
                f"which keep each patient on one side.")
    return split


def split_by_patient(table: pd.DataFrame, ratios: Sequence[float] = PAPER_SPLIT, seed: int = 0) -> Split:
    """Split rows of ``table`` into train/val/test so no patient is on two sides.

    ``table`` needs ``patient_id`` and ``label`` columns (RoiDataset.table). ``ratios`` are the
    wanted fractions of ROIs (train, val, test), summing to 1 (paper: 0.6/0.2/0.2); a ratio may
    be 0. Patients are visited in a seeded random order and each one goes to the side whose
    per-label counts are furthest below target, so the label mix is close to equal on all
    sides. Whole patients move, so the fractions are met only approximately on small sets.

    Ten patients with two ROIs each: every ROI lands on one side, and a patient's two ROIs on
    the same side.

    >>> t = pd.DataFrame({"patient_id": [f"p{i // 2}" for i in range(20)], "label": [0, 1] * 10})
    >>> s = split_by_patient(t, seed=1)
    >>> [len(side) for side in s], sorted(np.concatenate(s).tolist()) == list(range(20))
    ([12, 4, 4], True)
    >>> s.test.tolist(), sorted(set(t.patient_id[s.test]))
    ([6, 7, 10, 11], ['p3', 'p5'])
    >>> set(t.patient_id[s.train]) & set(t.patient_id[s.test])
    set()
    """
    _check_table(table, "split_by_patient")
    ratios = np.asarray(ratios, dtype=float)
    if ratios.shape != (3,) or (ratios < 0).any() or not np.isclose(ratios.sum(), 1.0):
        raise ConfigError(f"split_by_patient: ratios={tuple(ratios.tolist())} must be three fractions "
                          f"(train, val, test) >= 0 that sum to 1, e.g. (0.6, 0.2, 0.2)")
    n_patients, sides = table["patient_id"].nunique(), int((ratios > 0).sum())
    if n_patients < sides:
        raise ConfigError(f"split_by_patient: {n_patients} patient(s) cannot fill {sides} sides with ratios "
                          f"{tuple(ratios.tolist())} (whole patients move); use more data or set a ratio to 0")
    labels = pd.factorize(table["label"].to_numpy(), sort=True)[0]
    n_labels = labels.max() + 1
    patient_codes, patient_ids = pd.factorize(table["patient_id"].to_numpy())
    # per-patient label counts: (n_patients, n_labels)
    counts = np.zeros((len(patient_ids), n_labels))
    np.add.at(counts, (patient_codes, labels), 1)
    target = ratios[:, None] * counts.sum(axis=0)[None, :]  # (3, n_labels)
    current = np.zeros_like(target)
    side_of_patient = np.empty(len(patient_ids), dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(patient_ids))
    for p in order:
        # increase of the squared error sum_(s,l) (current - target)^2 if patient p joins side s
        delta = (counts[p] * (2 * (current - target) + counts[p])).sum(axis=1)
        delta[ratios == 0] = np.inf
        side = int(np.argmin(delta))
        side_of_patient[p] = side
        current[side] += counts[p]
    side_of_row = side_of_patient[patient_codes]
    split = Split(*(np.flatnonzero(side_of_row == s).astype(np.int64) for s in range(3)))
    return check_patient_disjoint(table, split)


def kfold_by_patient(table: pd.DataFrame, k: int = 5, seed: int = 0) -> list[Split]:
    """``k`` folds, each a Split(train, val=empty, test), patients grouped, labels stratified.

    Uses scikit-learn's ``StratifiedGroupKFold`` (shuffled with ``seed``): every ROI is in the
    test side of exactly one fold, and a patient's ROIs are always in the same fold.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    _check_table(table, "kfold_by_patient")
    n_patients = table["patient_id"].nunique()
    if not isinstance(k, (int, np.integer)) or k < 2 or k > n_patients:
        raise ConfigError(f"kfold_by_patient: k={k!r} must be an integer from 2 to the number of "
                          f"patients ({n_patients})")
    labels = table["label"].to_numpy().astype(np.int64)
    groups = table["patient_id"].to_numpy()
    per_label = table.groupby("label")["patient_id"].nunique()
    if (per_label < k).any():
        raise ConfigError(f"kfold_by_patient: k={k} folds but only {int(per_label.min())} patient(s) with label "
                          f"{per_label.idxmin()} ({'benign' if per_label.idxmin() == 0 else 'malignant'}): some "
                          f"test folds would miss that class. Use k <= {int(per_label.min())} or more data")
    folds = StratifiedGroupKFold(n_splits=int(k), shuffle=True, random_state=seed)
    empty = np.zeros(0, dtype=np.int64)
    out = []
    for train, test in folds.split(np.zeros(len(table)), labels, groups):
        out.append(check_patient_disjoint(table, Split(train.astype(np.int64), empty, test.astype(np.int64))))
    return out


LOCKBOX_SALT = "mammokit-lockbox-v1"
"""Mixed into every patient's hash: changing it would draw another lockbox, so it never changes."""


def lockbox(table: pd.DataFrame, share: float = 0.2) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Set aside a fixed part of the PATIENTS, chosen by rule, to be scored once at the very end.

    The rule: a patient is in the lockbox when the SHA-256 hash of ``LOCKBOX_SALT:patient_id``,
    read as a number in [0, 1), is below ``share``. It depends on the patient's id alone — not on
    a seed, the run, the other rows or any result — so every run, on any subset of MIAS, puts
    the same women in it, and a patient's ROIs are all on one side.

    Parameters
    ----------
    table : pandas.DataFrame with a ``patient_id`` column (RoiDataset.table, or a catalog)
    share : float in (0, 1), the expected share of patients in the lockbox (met roughly)

    Returns
    -------
    tuple of numpy.ndarray
        ``(development, lockbox)``: int64 row positions (0..N-1) into ``table``, disjoint, covering it.

    >>> t = pd.DataFrame({"patient_id": ["p001", "p001", "p002", "p003", "p004", "p005"]})
    >>> [i.tolist() for i in lockbox(t, share=0.5)]
    [[0, 1, 4, 5], [2, 3]]
    """
    import hashlib

    if "patient_id" not in getattr(table, "columns", ()):
        raise ConfigError("lockbox: the table lacks a patient_id column; pass RoiDataset.table or a catalog")
    if isinstance(share, bool) or not isinstance(share, (int, float, np.number)) or not 0 < float(share) < 1:
        raise ConfigError(f"lockbox: share={share!r} must be a fraction strictly between 0 and 1 (e.g. 0.2)")
    ids = table["patient_id"].astype(str).to_numpy()
    unit = {p: int.from_bytes(hashlib.sha256(f"{LOCKBOX_SALT}:{p}".encode()).digest()[:8], "big") / 2.0 ** 64
            for p in set(ids)}
    boxed = np.array([unit[p] < float(share) for p in ids], dtype=bool)
    return np.flatnonzero(~boxed).astype(np.int64), np.flatnonzero(boxed).astype(np.int64)


def split_summary(table: pd.DataFrame, split: Split) -> pd.DataFrame:
    """Counts per side: ROIs, patients, benign, malignant, malignant fraction (for a notebook table)."""
    rows = []
    for name, idx in split._asdict().items():
        part = table.iloc[np.asarray(idx, dtype=np.int64)]
        labels = part["label"].astype(int)
        rows.append({"side": name, "rois": len(part), "patients": part["patient_id"].nunique(),
                     "benign": int((labels == 0).sum()), "malignant": int((labels == 1).sum()),
                     "malignant_fraction": float(labels.mean()) if len(part) else float("nan")})
    return pd.DataFrame(rows).set_index("side")


def carve_validation(train: "RoiDataset", fraction: float = 0.25, seed: int = 0) -> tuple["RoiDataset", "RoiDataset"]:
    """Split a recipe's ``train`` ROIs by patient into (fit part, validation part), label-stratified:
    a recipe trains on what it is given and chooses its epochs and threshold on patients it carved."""
    fit_idx, val_idx = carve_indices(train, fraction, seed)
    return train.take(fit_idx), train.take(val_idx)


def carve_indices(train: "RoiDataset", fraction: float = 0.25,
                  seed: int = 0) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """:func:`carve_validation` as positions in ``train``, for a caller that must know which
    window each validation score belongs to (the bagged lesion detector).

    Parameters
    ----------
    train : RoiDataset of N ROIs or windows, with ``groups`` = patients (at least 4)
    fraction : float, the share of patients carved for validation
    seed : int

    Returns
    -------
    (fit, val) : two numpy.ndarray of int64 positions in [0, N), disjoint, whole patients each
    """
    if len(set(train.groups)) < 4:
        raise ConfigError(f"a recipe needs ROIs of at least 4 patients to carve a validation part, got "
                          f"{len(set(train.groups))}; give it more training data")
    split = split_by_patient(train.table, ratios=(1 - fraction, fraction, 0.0), seed=seed)
    return np.asarray(split.train, dtype=np.int64), np.asarray(split.val, dtype=np.int64)
