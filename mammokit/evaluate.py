"""How good is a classifier, and how sure are we? The paper's Eq. 8-11, AUC, intervals and CV.

Everything here takes plain arrays: ``labels`` (N,) of 0 = benign / 1 = malignant,
``proba`` (N,) float in [0, 1], the predicted probability of malignant, and ``groups`` (N,)
the patient of each ROI. Metrics come from scikit-learn so nothing is re-derived by hand.

Three habits the paper does not have, and why:

* the operating threshold is chosen on **validation** data (:func:`choose_threshold`), never
  on the test data it is then scored on — a threshold tuned on test is part of the model;
* intervals come from a **patient** bootstrap (:func:`bootstrap_ci`): two films of one woman
  are not two independent cases, so we resample women, not ROIs;
* cross-validation (``mammokit.crossval``, the next step of the flow) keeps each patient in
  one fold and reports every fold, not only the mean.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import NDArray

from mammokit import checks
from mammokit.checks import integer, require
from mammokit.errors import ConfigError, DataError, MammokitError

METRICS = ("accuracy", "sensitivity", "specificity", "precision", "f_score", "auc")
"""The scores :func:`binary_metrics` returns, in the order tables show them."""

EQUATIONS = {
    "accuracy": "Eq. 8: (TP + TN) / (TP + FN + FP + TN)",
    "sensitivity": "Eq. 9: TP / (TP + FN)  (recall, true-positive rate)",
    "specificity": "TN / (TN + FP)  (1 - false-positive rate; not in the paper)",
    "precision": "Eq. 10: TP / (TP + FP)",
    "f_score": "Eq. 11: 2 * precision * sensitivity / (precision + sensitivity)",
    "auc": "area under the ROC curve (TPR against FPR over all thresholds)",
}


class EvaluationError(MammokitError, ValueError):
    """Inputs to a metric are malformed (shapes, label values, probabilities out of range)."""


# --- checks --------------------------------------------------------------------------------------

def _check(labels: Any, proba: Any = None, groups: Any = None, *, where: str = "metrics"):
    y = checks.binary_labels(labels, where, EvaluationError, hint="drop normal images (label <NA>) first")
    out = [y]
    if proba is not None:
        p = np.asarray(proba, dtype=float)
        if p.shape != y.shape:
            raise EvaluationError(f"{where}: proba has shape {p.shape} but labels have {y.shape}; "
                                  "pass one probability of malignant per ROI (e.g. proba[:, 1] of a softmax)")
        if not np.isfinite(p).all():
            bad = np.flatnonzero(~np.isfinite(p))
            raise EvaluationError(f"{where}: proba holds {bad.size} NaN/infinite value(s) (first at index "
                                  f"{bad[0]}); a probability of malignant is a number in [0, 1]. Did the model "
                                  "diverge (loss NaN)? Lower the learning rate and retrain.")
        if p.min() < 0 or p.max() > 1:
            raise EvaluationError(f"{where}: proba must be finite and in [0, 1] (probability of malignant), "
                                  f"got range [{np.nanmin(p):.3g}, {np.nanmax(p):.3g}]")
        out.append(p)
    if groups is not None:
        g = np.asarray(groups)
        if g.shape != y.shape:
            raise EvaluationError(f"{where}: groups has shape {g.shape} but labels have {y.shape}; "
                                  "pass the patient_id of every ROI")
        out.append(g)
    return out


def _check_threshold(threshold: Any, where: str) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)) \
            or not 0 <= float(threshold) <= 1:
        raise EvaluationError(f"{where}: threshold={threshold!r} must be a probability in [0, 1] "
                              "(0.5 by default; not a percentage)")


# --- point metrics -------------------------------------------------------------------------------

def confusion(labels: npt.ArrayLike, predicted: npt.ArrayLike) -> NDArray[np.int64]:
    """The 2×2 confusion matrix ``[[TN, FP], [FN, TP]]`` (rows: truth, columns: prediction).

    Parameters
    ----------
    labels, predicted : array_like of shape (N,), int 0 (benign) or 1 (malignant)

    Returns
    -------
    numpy.ndarray of shape (2, 2), int64 counts summing to N

    >>> confusion([0, 0, 1, 1], [0, 1, 1, 1]).tolist()
    [[1, 1], [0, 2]]
    """
    from sklearn.metrics import confusion_matrix

    y, = _check(labels, where="confusion")
    yhat, = _check(predicted, where="confusion (predicted)")
    return confusion_matrix(y, yhat, labels=[0, 1])


def binary_metrics(labels: npt.ArrayLike, proba: npt.ArrayLike, threshold: float = 0.5) -> dict[str, float]:
    """Eq. 8-11 plus specificity and AUC for one set of predictions, as a flat dict.

    Scores that are undefined (AUC with one class present, precision with no positive
    prediction) are NaN rather than a misleading 0.

    Parameters
    ----------
    labels : array_like of shape (N,), int 0 (benign) or 1 (malignant)
    proba : array_like of shape (N,), float in [0, 1], the probability of malignant
    threshold : float in [0, 1]; ``proba >= threshold`` counts as malignant

    Returns
    -------
    dict
        :data:`METRICS` (floats in [0, 1] or NaN) plus ``tp, fp, tn, fn, n, threshold``.

    >>> m = binary_metrics([0, 0, 1, 1], [0.1, 0.6, 0.7, 0.9])
    >>> m["accuracy"], m["sensitivity"], m["specificity"], m["auc"]
    (0.75, 1.0, 0.5, 1.0)
    """
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

    y, p = _check(labels, proba, where="binary_metrics")
    _check_threshold(threshold, "binary_metrics")
    yhat = (p >= threshold).astype(int)
    (tn, fp), (fn, tp) = confusion(y, yhat)
    nan = float("nan")
    both = len(np.unique(y)) == 2
    return {
        "accuracy": float(accuracy_score(y, yhat)),
        "sensitivity": float(recall_score(y, yhat, zero_division=nan)),
        "specificity": float(recall_score(y, yhat, pos_label=0, zero_division=nan)),
        "precision": float(precision_score(y, yhat, zero_division=nan)),
        "f_score": float(f1_score(y, yhat, zero_division=nan)),
        "auc": float(roc_auc_score(y, p)) if both else nan,
        "tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn), "n": int(y.size),
        "threshold": float(threshold),
    }


def roc(labels: npt.ArrayLike, proba: npt.ArrayLike) -> pd.DataFrame:
    """The ROC curve as a table, one row per distinct threshold.

    Parameters
    ----------
    labels : array_like of shape (N,), int 0 or 1; both classes present
    proba : array_like of shape (N,), float in [0, 1]

    Returns
    -------
    pandas.DataFrame
        ``fpr, tpr`` (float in [0, 1], rising) and ``threshold`` (falling; the first is inf).
    """
    from sklearn.metrics import roc_curve

    y, p = _check(labels, proba, where="roc")
    if len(np.unique(y)) < 2:
        raise EvaluationError("roc: needs both benign and malignant ROIs; this set has only one class")
    fpr, tpr, thr = roc_curve(y, p, drop_intermediate=False)
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr})


def calibration(labels: npt.ArrayLike, proba: npt.ArrayLike, bins: int = 10) -> pd.DataFrame:
    """Reliability table: per probability bin, mean predicted vs observed fraction malignant.

    A calibrated model's points lie on the diagonal.

    Parameters
    ----------
    labels : array_like of shape (N,), int 0 or 1
    proba : array_like of shape (N,), float in [0, 1]
    bins : int, equal-width bins over [0, 1]

    Returns
    -------
    pandas.DataFrame
        ``bin_low, bin_high, mean_proba, fraction_malignant, count``; empty bins left out.
    """
    y, p = _check(labels, proba, where="calibration")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    rows = []
    for b in range(bins):
        sel = which == b
        if sel.any():
            rows.append({"bin_low": edges[b], "bin_high": edges[b + 1], "mean_proba": p[sel].mean(),
                         "fraction_malignant": y[sel].mean(), "count": int(sel.sum())})
    return pd.DataFrame(rows)


def undo_class_weights(proba: npt.ArrayLike, prevalence: npt.ArrayLike) -> NDArray[np.float64]:
    """Probabilities of a model trained with class-balanced weights, moved back to the real prior.

    Balanced weights (``class_weight="balanced"``, the paper's w_n in Eq. 6) make training act
    as if benign and malignant were equally common, so the model's odds are the likelihood
    ratio alone and its probabilities lean towards 0.5 from the real malignant share.
    Bayes' rule restores it: odds × π / (1 − π).

    Parameters
    ----------
    proba : array_like of shape (N,), float in [0, 1]
    prevalence : float or array_like of shape (N,), in (0, 1)
        π, the malignant share of the training data.

    Returns
    -------
    numpy.ndarray of shape (N,), float64 in (0, 1)

    >>> undo_class_weights([0.5, 0.8], 0.2).round(3).tolist()
    [0.2, 0.5]
    """
    p = np.clip(np.asarray(proba, dtype=float), 1e-7, 1 - 1e-7)
    pi = np.asarray(prevalence, dtype=float)
    if np.any((pi <= 0) | (pi >= 1)):
        raise ConfigError(f"undo_class_weights: prevalence must lie strictly between 0 and 1, got {prevalence!r}")
    odds = p / (1 - p) * pi / (1 - pi)
    return odds / (1 + odds)


def choose_threshold(labels_val: npt.ArrayLike, proba_val: npt.ArrayLike, rule: str = "youden") -> float:
    """The operating threshold, picked on VALIDATION predictions only.

    Parameters
    ----------
    labels_val : array_like of shape (N,), int 0 or 1
    proba_val : array_like of shape (N,), float in [0, 1]
    rule : {"youden", "f_score", "fixed"}
        ``youden`` maximises sensitivity + specificity - 1 (Youden's J); ``f_score``
        maximises Eq. 11; ``fixed`` returns 0.5.

    Returns
    -------
    float in [0, 1]
        0.5 too when the validation set has one class (nothing to tune).
    """
    if rule not in ("youden", "f_score", "fixed"):
        raise EvaluationError(f"choose_threshold: rule={rule!r}; use 'youden', 'f_score' or 'fixed'")
    y, p = _check(labels_val, proba_val, where="choose_threshold")
    if rule == "fixed" or len(np.unique(y)) < 2:
        return 0.5
    candidates = np.unique(p)
    if rule == "youden":
        table = roc(y, p)
        table = table[np.isfinite(table.threshold)]
        best = table.iloc[int(np.argmax(table.tpr - table.fpr))]
        return float(np.clip(best.threshold, 0.0, 1.0))
    scores = [binary_metrics(y, p, t)["f_score"] for t in candidates]
    return float(candidates[int(np.nanargmax(scores))])


# --- patient bootstrap ---------------------------------------------------------------------------

def bootstrap_ci(labels: npt.ArrayLike, proba: npt.ArrayLike, groups: npt.ArrayLike, threshold: float = 0.5, *,
                 n_boot: int = 1000, level: float = 0.95, seed: int = 0,
                 metrics: Sequence[str] = METRICS) -> pd.DataFrame:
    """Percentile confidence intervals from resampling PATIENTS with replacement.

    Each resample draws as many patients as there are, takes all ROIs of each drawn
    patient, and recomputes the metrics at the fixed ``threshold``. Resamples where a
    metric is undefined (e.g. AUC with one class) are skipped for that metric.

    Parameters
    ----------
    labels : array_like of shape (N,), int 0 or 1
    proba : array_like of shape (N,), float in [0, 1]
    groups : array_like of shape (N,), the patient of each ROI
    threshold : float in [0, 1]
    n_boot, level, seed : int >= 1, float in (0, 1), int: resamples, coverage, random seed
    metrics : sequence of str, a subset of :data:`METRICS`

    Returns
    -------
    pandas.DataFrame
        Per metric: ``metric, estimate, ci_low, ci_high, n_valid`` (resamples used), ``n_patients``.
    """
    y, p, g = _check(labels, proba, groups, where="bootstrap_ci")
    _check_threshold(threshold, "bootstrap_ci")
    require(integer(1), n_boot, "bootstrap_ci: n_boot", EvaluationError, hint="(e.g. 1000)")
    if not 0 < level < 1:
        raise EvaluationError(f"bootstrap_ci: level={level} must be between 0 and 1 (e.g. 0.95)")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise EvaluationError(f"bootstrap_ci: unknown metric(s) {unknown}; choose from {METRICS}")
    patients, codes = np.unique(g.astype(str), return_inverse=True)
    members = [np.flatnonzero(codes == i) for i in range(len(patients))]
    rng = np.random.default_rng(seed)
    cols = [METRICS.index(m) for m in metrics]
    draws = np.empty((n_boot, len(metrics)))
    for b in range(n_boot):
        idx = np.concatenate([members[i] for i in rng.integers(0, len(patients), len(patients))])
        draws[b] = _fast_metrics(y[idx], p[idx], threshold)[cols]
    point = binary_metrics(y, p, threshold)
    alpha = (1 - level) / 2
    rows = []
    for j, name in enumerate(metrics):
        ok = draws[np.isfinite(draws[:, j]), j]
        low, high = (np.quantile(ok, [alpha, 1 - alpha]) if ok.size else (np.nan, np.nan))
        rows.append({"metric": name, "estimate": point[name], "ci_low": float(low), "ci_high": float(high),
                     "n_valid": int(ok.size), "n_patients": len(patients)})
    return pd.DataFrame(rows)


def _fast_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> np.ndarray:
    """:func:`binary_metrics` in METRICS order, in plain NumPy (the bootstrap calls it thousands of times).

    Same definitions as scikit-learn (tests check they agree); AUC is the Mann-Whitney
    statistic with average ranks for ties, which is what ``roc_auc_score`` computes.
    """
    from scipy.stats import rankdata

    yhat = p >= threshold
    pos = y == 1
    tp = float(np.sum(yhat & pos)); fp = float(np.sum(yhat & ~pos))
    fn = float(np.sum(~yhat & pos)); tn = float(np.sum(~yhat & ~pos))
    with np.errstate(invalid="ignore", divide="ignore"):
        sens = tp / (tp + fn) if tp + fn else np.nan
        spec = tn / (tn + fp) if tn + fp else np.nan
        prec = tp / (tp + fp) if tp + fp else np.nan
        f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else np.nan
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    auc = np.nan
    if n_pos and n_neg:
        auc = (rankdata(p)[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return np.array([(tp + tn) / y.size, sens, spec, prec, f, auc])


def metrics_table(predictions: pd.DataFrame, *, by: str = "model", threshold: float | Mapping[str, float] = 0.5,
                  ci: bool = False, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per model (``by`` column) of a predictions table with ``label, proba[, patient_id]``.

    ``threshold`` is one number or a mapping model -> threshold (chosen on validation).
    With ``ci=True`` adds ``<metric>_low``/``<metric>_high`` columns from :func:`bootstrap_ci`.
    A missing column or threshold is a :class:`~mammokit.errors.DataError` naming it.
    """
    if not isinstance(predictions, pd.DataFrame):
        raise DataError(f"metrics_table: predictions must be a DataFrame (mammokit.runs.read_predictions), "
                        f"got {type(predictions).__name__}")
    needed = [by, "label", "proba"] + (["patient_id"] if ci else [])
    missing = [c for c in needed if c not in predictions.columns]
    if missing:
        raise DataError(f"metrics_table: the predictions table lacks column(s) {', '.join(map(repr, missing))} "
                        f"(it has {', '.join(map(str, predictions.columns)) or 'none'}); it needs {', '.join(needed)}. "
                        "Read it with mammokit.runs.read_predictions(RUN_DIR), or pass by= the column naming the models.")
    if isinstance(threshold, Mapping) and (lost := [m for m in predictions[by].unique() if m not in threshold]):
        raise DataError(f"metrics_table: threshold has no entry for model(s) {', '.join(map(str, lost))}; "
                        f"give one per model ({', '.join(map(str, threshold))} given) or a single number")
    rows = []
    for name, part in predictions.groupby(by, sort=False):
        t = threshold[name] if isinstance(threshold, Mapping) else threshold
        row = {by: name, **binary_metrics(part["label"].to_numpy(), part["proba"].to_numpy(), t)}
        if ci:
            cis = bootstrap_ci(part["label"], part["proba"], part["patient_id"], t, n_boot=n_boot, seed=seed)
            for r in cis.itertuples():
                row[f"{r.metric}_low"], row[f"{r.metric}_high"] = r.ci_low, r.ci_high
        rows.append(row)
    return pd.DataFrame(rows)


# --- the predictions table of a split (saved by mammokit.runs.save_predictions) ----------------------

def predictions_table(dataset: Any, split: Any, proba: npt.ArrayLike) -> pd.DataFrame:
    """The predictions table of the ROIs of a ``Split``; :func:`mammokit.runs.save_predictions`
    keeps it in the run folder.

    Parameters
    ----------
    dataset : RoiDataset of N ROIs (``table`` with ``image_id, patient_id``; ``labels``)
    split : Split, row indices ``train``, ``val``, ``test`` into ``dataset``
    proba : array_like of shape (N,) or (N, 1), float in [0, 1]
        Probability of malignant for ALL ROIs of ``dataset``.

    Returns
    -------
    pandas.DataFrame
        ``image_id, patient_id, label, proba, split`` (``train``/``val``/``test``), ``roi``
        (row in ``dataset``), one row per ROI of the split.
    """
    proba = np.asarray(proba, dtype=float).reshape(-1)
    table = dataset.table.reset_index(drop=True)
    if len(proba) != len(table):
        raise EvaluationError(f"predictions_table: {len(proba)} probabilities for {len(table)} ROIs")
    parts = []
    for side in ("train", "val", "test"):
        idx = np.asarray(getattr(split, side), dtype=int)
        parts.append(pd.DataFrame({"image_id": table.image_id.to_numpy()[idx], "patient_id": table.patient_id.to_numpy()[idx],
                                   "label": np.asarray(dataset.labels)[idx].astype(int), "proba": proba[idx],
                                   "split": side, "roi": idx}))
    return pd.concat(parts, ignore_index=True)
