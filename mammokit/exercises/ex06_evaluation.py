"""Notebook 06's exercise checks, generated from notebooks/solutions/06_evaluation.md by
`mammokit masters`: edit them there (cells tagged `check`), not here.
"""
from __future__ import annotations

from mammokit.exercises import Exercise
import numpy as np
from mammokit.evaluate import binary_metrics, choose_threshold, confusion, roc
from mammokit.exercises import WrongAnswer, call, expect, rng, value


METRICS = ("accuracy", "sensitivity", "precision", "f_score")  # Eq. 8-11


def _youden_threshold(labels, proba) -> float:
    return choose_threshold(labels, proba, rule="youden")


def _scores(seed: int, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    draw = rng(seed)
    labels = draw.integers(0, 2, n)
    labels[:2] = [0, 1]
    proba = np.clip(0.3 * labels + draw.uniform(0, 0.7, n), 0, 1).round(3)  # informative, with ties
    return labels, proba


def _youden(labels, proba, threshold) -> float:
    m = binary_metrics(labels, proba, threshold)
    return m["sensitivity"] + m["specificity"] - 1


def check_confusion_matrix(answer) -> None:
    for seed in (601, 602, 603):
        labels, proba = _scores(seed)
        predicted = (proba >= 0.5).astype(int)
        got = np.asarray(call(answer, labels.copy(), predicted.copy(), what="confusion_matrix(labels, predicted)"))
        want = confusion(labels, predicted)
        expect(got.shape == (2, 2), f"return a 2×2 array [[TN, FP], [FN, TP]], got shape {got.shape}")
        expect(np.array_equal(got, want), f"you gave {got.tolist()}, expected {want.tolist()} "
                                          "(rows: truth 0/1; columns: prediction 0/1)")


def check_metrics(answer) -> None:
    for seed in (611, 612, 613):
        labels, proba = _scores(seed)
        want = binary_metrics(labels, proba)
        cm = confusion(labels, (proba >= 0.5).astype(int))
        got = call(answer, cm.copy(), what="metrics_from_confusion(cm)")
        try:
            values = {m: float(got[m]) for m in METRICS}
        except (TypeError, KeyError):
            raise WrongAnswer(f"return a dict with keys {METRICS}, got {got!r}") from None
        wrong = [m for m in METRICS if not np.isclose(values[m], want[m])]
        expect(not wrong, f"for cm = {cm.tolist()}: " + ", ".join(
            f"{m} {values[m]:.3f} (expected {want[m]:.3f})" for m in wrong) + " — see Eq. 8-11")


def check_sensitivity_direction(answer) -> None:
    answer = value(answer, "sensitivity_guess")
    choices = ("up", "down", "same")
    expect(isinstance(answer, str) and answer.lower() in choices, f"answer one of {choices}, got {answer!r}")
    labels, proba = _scores(641, 200)
    high, low = binary_metrics(labels, proba, 0.5)["sensitivity"], binary_metrics(labels, proba, 0.2)["sensitivity"]
    want = "up" if low > high else "down" if low < high else "same"
    expect(answer.lower() == want, f"you predicted {answer!r}; count the malignant cases above 0.5 and above 0.2")


def check_auc(answer) -> None:
    for seed in (631, 632, 633):
        labels, proba = _scores(seed)
        got = call(answer, labels.copy(), proba.copy(), what="rank_auc(labels, proba)")
        want = binary_metrics(labels, proba)["auc"]
        expect(np.isclose(float(got), want), f"rank_auc gave {float(got):.4f}, expected {want:.4f}: the chance that a "
                                             "random malignant case scores above a random benign one (ties count ½)")


def check_youden(answer) -> None:
    for seed in (621, 622, 623):
        labels, proba = _scores(seed)
        got = call(answer, labels.copy(), proba.copy(), what="youden_threshold(labels, proba)")
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise WrongAnswer(f"youden_threshold should return one threshold, got {got!r}") from None
        table = roc(labels, proba)
        best = float((table.tpr - table.fpr).max())
        j = _youden(labels, proba, got)
        expect(np.isclose(j, best), f"at your threshold {got:.3f}, sensitivity + specificity - 1 = {j:.3f}; the best "
                                    f"on these scores is {best:.3f} (at {_youden_threshold(labels, proba):.3f}). "
                                    "Try every distinct score as a threshold (proba >= t is malignant)")


NB = '06_evaluation'
EXERCISES = [
    Exercise('q06_confusion_matrix', NB, 'confusion_matrix', check_confusion_matrix),
    Exercise('q06_metrics', NB, 'metrics_from_confusion', check_metrics),
    Exercise('q06_sensitivity_direction', NB, 'sensitivity_guess', check_sensitivity_direction, kind='predict'),
    Exercise('q06_auc', NB, 'rank_auc', check_auc),
    Exercise('q06_youden', NB, 'youden_threshold', check_youden, fallback=_youden_threshold),
]

WRITTEN = [
    "The paper reports 0.95 AUC on MIAS; set it beside this notebook's patient-level cross-validated AUC and its interval. Name two candidate explanations of the difference (in the protocol, the task scored or the model), say what this course's evidence says for or against each, and which number you would quote to a radiologist.",
]
