"""How far from chance? The label-permutation test of an AUC, and the smallest AUC a set's counts can detect.

A patient bootstrap (:func:`mammokit.evaluate.bootstrap_ci`) says how much an AUC moves with the
patients we happened to have. Two further questions a small study must answer before it speaks:

* **could chance alone have produced this AUC?** :func:`auc_permutation_test` shuffles the labels
  (breaking every link between score and label) and counts how often a shuffle scores at least as
  high as the real labels, with the +1 correction of Phipson & Smyth (2010) that keeps p above 0;
* **could these counts have detected a useful model at all?** :func:`smallest_detectable_auc`
  is the power statement: the smallest AUC that a two-sided test against AUC = 0.5 detects with
  the wanted power, from the standard error of Hanley & McNeil (1982).

Both treat ROIs as independent cases; where one patient gives several ROIs that is optimistic
(the effective sample is nearer the number of patients).

References: Hanley JA, McNeil BJ. The meaning and use of the area under a receiver operating
characteristic (ROC) curve. *Radiology* 1982;143(1):29-36, doi:10.1148/radiology.143.1.7063747.
Phipson B, Smyth GK. Permutation p-values should never be zero. *Stat Appl Genet Mol Biol*
2010;9(1):39, doi:10.2202/1544-6115.1585.
"""
from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from mammokit.checks import integer, require
from mammokit.errors import ConfigError
from mammokit.evaluate import EvaluationError, _check


def _rank_aucs(labels: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """AUC (Mann-Whitney, ties averaged) of each row of ``labels`` (B, N) 0/1 against fixed ``ranks`` (N,)."""
    n_pos = labels.sum(axis=1)
    n_neg = labels.shape[1] - n_pos
    return (labels @ ranks - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def auc_permutation_test(labels: npt.ArrayLike, proba: npt.ArrayLike, *, n_perm: int = 2000,
                         seed: int = 0) -> tuple[float, float]:
    """The AUC and its one-sided label-permutation p-value: how often shuffled labels score as high.

    ``p = (1 + #{shuffles with AUC >= observed}) / (1 + n_perm)``: the observed labelling counts as
    one of the possible ones, so p is never 0 (a finite number of shuffles cannot show that
    chance *never* does this well). Labels are shuffled across ROIs, which assumes the ROIs are
    exchangeable under "no information": true for one ROI per patient, optimistic otherwise.

    Parameters
    ----------
    labels : array_like of shape (N,), int 0 (benign) or 1 (malignant); both present
    proba : array_like of shape (N,), float in [0, 1], the score of malignant
    n_perm : int >= 1, shuffles
    seed : int, random seed of the shuffles

    Returns
    -------
    tuple of float
        ``(auc, p)``: the observed AUC in [0, 1] and the p-value in (0, 1].

    >>> auc, p = auc_permutation_test([0, 0, 0, 1, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.8, 0.9], n_perm=999)
    >>> auc, round(p, 2)  # 1 labelling of 20 reaches AUC 1.0
    (1.0, 0.05)
    """
    from scipy.stats import rankdata

    y, p = _check(labels, proba, where="auc_permutation_test")
    require(integer(1), n_perm, "auc_permutation_test: n_perm", EvaluationError, hint="(e.g. 2000)")
    if len(np.unique(y)) < 2:
        raise EvaluationError("auc_permutation_test: needs both benign and malignant ROIs; this set has one class")
    ranks = rankdata(p)
    observed = float(_rank_aucs(y[None, :].astype(float), ranks)[0])
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, int(n_perm), 500):  # shuffles in blocks: a (500, N) matrix at a time
        block = min(500, int(n_perm) - start)
        shuffled = rng.permuted(np.broadcast_to(y, (block, y.size)), axis=1).astype(float)
        hits += int(np.sum(_rank_aucs(shuffled, ranks) >= observed - 1e-12))
    return observed, (1 + hits) / (1 + int(n_perm))


def hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUC from ``n_pos`` malignant and ``n_neg`` benign cases (Hanley & McNeil 1982, Eq. 2).

    ``SE² = [A(1 − A) + (n_pos − 1)(Q1 − A²) + (n_neg − 1)(Q2 − A²)] / (n_pos · n_neg)`` with
    ``Q1 = A / (2 − A)`` and ``Q2 = 2A² / (1 + A)``. At A = 0.5 it is the exact null standard error
    of the Mann-Whitney statistic, √((n_pos + n_neg + 1) / (12 · n_pos · n_neg)).

    Parameters
    ----------
    auc : float in [0, 1]
    n_pos, n_neg : int >= 1, malignant and benign cases

    Returns
    -------
    float >= 0

    >>> round(hanley_mcneil_se(0.5, 10, 10), 4)
    0.1323
    """
    _counts(n_pos, n_neg, "hanley_mcneil_se")
    if not isinstance(auc, (int, float, np.number)) or isinstance(auc, bool) or not 0 <= float(auc) <= 1:
        raise ConfigError(f"hanley_mcneil_se: auc={auc!r} must be a number in [0, 1]")
    a = float(auc)
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


def _counts(n_pos: int, n_neg: int, where: str) -> None:
    for name, n in (("n_pos", n_pos), ("n_neg", n_neg)):
        require(integer(1), n, f"{where}: {name}", ConfigError, hint="(the number of malignant / benign cases)")


def smallest_detectable_auc(n_pos: int, n_neg: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """The power statement: the smallest AUC these counts tell from chance (0.5) with this power.

    Solves ``A − 0.5 = z(1 − α/2) · SE(0.5) + z(power) · SE(A)`` for A, with the standard errors
    of :func:`hanley_mcneil_se`: a two-sided test at level ``alpha`` against AUC = 0.5 rejects
    with probability ``power`` when the true AUC is A. A model whose true AUC lies below A will
    usually look "not distinguishable from chance" on this many cases, however real it is.

    Parameters
    ----------
    n_pos, n_neg : int >= 1, malignant and benign cases (ROIs, or patients: see the module note)
    alpha : float in (0, 1), the test's two-sided level
    power : float in (0, 1), the wanted chance of detecting A

    Returns
    -------
    float in (0.5, 1], or NaN
        NaN when even a perfect AUC of 1 would not reach ``power`` (too few cases).

    >>> round(smallest_detectable_auc(50, 50), 3)
    0.659
    """
    _counts(n_pos, n_neg, "smallest_detectable_auc")
    for name, v in (("alpha", alpha), ("power", power)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not 0 < float(v) < 1:
            raise ConfigError(f"smallest_detectable_auc: {name}={v!r} must be a probability strictly between 0 and 1 "
                              f"(e.g. alpha=0.05, power=0.8)")
    from scipy.optimize import brentq
    from scipy.stats import norm

    z_alpha, z_power = norm.ppf(1 - float(alpha) / 2), norm.ppf(float(power))
    null = z_alpha * hanley_mcneil_se(0.5, n_pos, n_neg)

    def excess(a: float) -> float:
        return a - 0.5 - null - z_power * hanley_mcneil_se(a, n_pos, n_neg)

    if excess(1.0) < 0:
        return float("nan")
    if excess(0.5) >= 0:  # power below alpha / 2: chance itself is "detected"
        return 0.5
    return float(brentq(excess, 0.5, 1.0, xtol=1e-10))
