"""Notebook 06's exercise checks, generated from notebooks/solutions/06_evaluation.md by
`mammokit masters`: edit them there (cells tagged `check`), not here.
"""
from __future__ import annotations

from mammokit.exercises.spec import Exercise, Forbidden
import numpy as np
from mammokit.evaluate import binary_metrics, choose_threshold, confusion, roc
from mammokit.exercises.spec import WrongAnswer, call, expect, rng, value


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


from mammokit.evaluate import bootstrap_ci


def _patient_bootstrap_ci(labels, scores, patients, n_boot, seed) -> tuple[float, float]:
    table = bootstrap_ci(labels, scores, patients, n_boot=n_boot, seed=seed, metrics=("auc",))
    return float(table.ci_low[0]), float(table.ci_high[0])


def _clustered(seed: int, n_patients: int = 24) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Women with 2-5 ROIs each that share her label and look alike: the case where ROIs are not independent."""
    draw = rng(seed)
    label_of = draw.permutation(np.arange(n_patients) % 2)
    level = draw.normal(0.0, 1.0, n_patients) + 0.9 * label_of
    counts = draw.integers(2, 6, n_patients)
    patients = np.repeat([f"p{i:03d}" for i in range(n_patients)], counts)
    which = np.repeat(np.arange(n_patients), counts)
    scores = 1 / (1 + np.exp(-(level[which] + draw.normal(0.0, 0.2, which.size))))
    return label_of[which], scores.round(4), patients


def check_patient_bootstrap(answer) -> None:
    for seed in (651, 652):
        labels, scores, patients = _clustered(seed)
        got = call(answer, labels.copy(), scores.copy(), patients.copy(), 1000, seed,
                   what="patient_bootstrap_ci(labels, scores, patients, n_boot, seed)")
        try:
            low, high = (float(v) for v in got)
        except (TypeError, ValueError):
            raise WrongAnswer(f"return two numbers (low, high), got {got!r}") from None
        want = _patient_bootstrap_ci(labels, scores, patients, 4000, seed + 1)
        width, want_width = high - low, want[1] - want[0]
        expect(0 <= low < high <= 1, f"an AUC interval lies inside [0, 1] with low < high, got ({low:.3f}, {high:.3f})")
        expect(width > 0.75 * want_width, f"your interval ({low:.3f}, {high:.3f}) is much narrower than a patient "
                                          "bootstrap's on these data: do you draw whole patients (all their ROIs), "
                                          "as many patients as there are?")
        expect(width < 1.3 * want_width, f"your interval ({low:.3f}, {high:.3f}) is much wider than a patient "
                                         "bootstrap's on these data: 95% means the 2.5th and 97.5th percentiles")
        expect(abs(low - want[0]) < 0.04 and abs(high - want[1]) < 0.04,
               f"your interval ({low:.3f}, {high:.3f}) is off by more than Monte Carlo error allows: check that a "
               "resample has as many patients as the data, and that you take the 2.5th and 97.5th percentiles")


from mammokit.significance import auc_permutation_test


def _permutation_p_value(labels, scores, n_perm, seed) -> float:
    return auc_permutation_test(labels, scores, n_perm=n_perm, seed=seed)[1]


def _permutation_cases(seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    draw = rng(seed)
    cases = []
    n = 30  # perfectly separated: no shuffle reaches the observed AUC of 1
    labels = draw.permutation(np.repeat([0, 1], n // 2))
    cases.append(("perfectly separated", labels, (labels + draw.uniform(0.05, 0.9, n)) / 2))
    order = draw.permutation(8)  # eight cases, AUC 12/16: many shuffles tie with it
    labels = np.array([1, 1, 0, 1, 0, 0, 1, 0])[order]
    scores = (np.array([0.9, 0.8, 0.7, 0.5, 0.4, 0.3, 0.2, 0.1]) + draw.uniform(-0.02, 0.02, 8))[order]
    cases.append(("eight cases with ties", labels, scores.round(3)))
    labels = draw.integers(0, 2, 40)
    labels[:2] = [0, 1]
    cases.append(("40 cases, weak signal", labels, np.clip(0.12 * labels + draw.uniform(0, 0.88, 40), 0, 1).round(2)))
    return cases


def check_permutation(answer) -> None:
    for name, labels, scores in _permutation_cases(661):
        n_perm = 999 if name == "perfectly separated" else 2000
        got = call(answer, labels.copy(), scores.copy(), n_perm, 7, what="permutation_p_value(labels, scores, n_perm, seed)")
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise WrongAnswer(f"return one p-value (a number), got {got!r}") from None
        expect(0 < got <= 1, f"{name}: p = {got!r}; a permutation p-value lies in (0, 1] — never exactly 0")
        if name == "perfectly separated":
            expect(np.isclose(got, _permutation_p_value(labels, scores, n_perm, 7)),
                   f"{name}, {n_perm} shuffles: p = {got:.5f}. No shuffle reaches the observed AUC here; what does the "
                   "+1 correction make of that?")
            continue
        want = _permutation_p_value(labels, scores, 20000, 8)
        expect(abs(got - want) < 0.04, f"{name}: p = {got:.3f}, off by more than Monte Carlo error allows; shuffle "
                                       "the labels (not the scores), count shuffled AUCs at least as high as the "
                                       "observed one (ties count), and use the +1 correction")


def check_which_wins(answer) -> None:
    """A prediction: only its form is checked (the cell after the recipe table reveals the answer)."""
    got = value(answer, "which_wins_guess")
    expect(got in ("convnet", "size"), "answer 'convnet' or 'size', got " + repr(got))


def _nearest_copy(test_images, train_images) -> np.ndarray:
    a = np.asarray(test_images, dtype=float).reshape(len(test_images), -1)
    b = np.asarray(train_images, dtype=float).reshape(len(train_images), -1)
    return np.corrcoef(a, b)[: len(a), len(a):].max(axis=1)


def _copy_sets(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 test and train images; some training images are altered copies of test images."""
    draw = rng(seed)
    noise = draw.normal(0, 1, (30, 13, 13))
    base = noise[:, 1:, 1:] + noise[:, :-1, 1:] + noise[:, 1:, :-1] + noise[:, :-1, :-1]  # a little smooth
    images = np.clip(128 + 40 * (base - base.mean(axis=(1, 2), keepdims=True)) / base.std(axis=(1, 2), keepdims=True),
                     0, 255).astype(np.uint8)
    test, others = images[:10], images[10:]
    copied = draw.choice(10, 4, replace=False)
    copies = [np.clip(test[i] * draw.uniform(0.6, 0.9) + draw.uniform(20, 60) + draw.normal(0, 3, (12, 12)), 0, 255)
              for i in copied]  # darker or brighter, lower contrast, a little noise: the same image
    train = np.concatenate([others, np.asarray(copies).astype(np.uint8)])[draw.permutation(24)]
    return test, train, copied


def check_nearest_copy(answer) -> None:
    for seed in (671, 672, 673):
        test, train, copied = _copy_sets(seed)
        got = np.asarray(call(answer, test.copy(), train.copy(), what="nearest_copy(test_images, train_images)"),
                         dtype=float)
        want = _nearest_copy(test, train)
        expect(got.shape == want.shape, f"return one number per test image, shape {want.shape}; got shape {got.shape}")
        expect(np.all(np.abs(got) <= 1 + 1e-9), "a correlation lies in [-1, 1]; standardise each image (its own mean "
                                                "and standard deviation) and divide the product by the pixel count")
        found = set(np.flatnonzero(got > 0.9).tolist())
        expect(found == set(copied.tolist()), f"your values flag test image(s) {sorted(found)} as copied (r > 0.9); on "
                                              "these images that is not right — did you convert uint8 to float, and "
                                              "standardise each image by its own mean and spread?")
        expect(np.allclose(got, want, atol=1e-6), "your correlations differ from Pearson's r: subtract each image's own "
                                                  "mean, divide by its own standard deviation, and average the products")


NB = '06_evaluation'
EXERCISES = [
    Exercise('q06_confusion_matrix', NB, 'confusion_matrix', check_confusion_matrix, forbids=(Forbidden('sklearn.metrics.confusion_matrix', "it is scikit-learn's one-liner; the exercise is counting the four outcomes yourself"), Forbidden('mammokit.evaluate.confusion', "it is the kit's own answer; the exercise is counting the four outcomes yourself"), )),
    Exercise('q06_metrics', NB, 'metrics_from_confusion', check_metrics, forbids=(Forbidden('mammokit.evaluate.binary_metrics', "it is the kit's own answer; the exercise is Eq. 8-11 from the four counts"), Forbidden('sklearn.metrics.precision_score', "the exercise is Eq. 8-11 from the four counts, not scikit-learn's metrics"), Forbidden('sklearn.metrics.recall_score', "the exercise is Eq. 8-11 from the four counts, not scikit-learn's metrics"), Forbidden('sklearn.metrics.f1_score', "the exercise is Eq. 8-11 from the four counts, not scikit-learn's metrics"), Forbidden('sklearn.metrics.accuracy_score', "the exercise is Eq. 8-11 from the four counts, not scikit-learn's metrics"), )),
    Exercise('q06_sensitivity_direction', NB, 'sensitivity_guess', check_sensitivity_direction, kind='predict'),
    Exercise('q06_auc', NB, 'rank_auc', check_auc, forbids=(Forbidden('sklearn.metrics.roc_auc_score', 'the prompt says without scikit-learn: the exercise is the AUC as a ranking probability, counted over pairs'), Forbidden('sklearn.metrics.roc_curve', 'the prompt says without scikit-learn: the exercise is the AUC as a ranking probability, counted over pairs'), Forbidden('sklearn.metrics.auc', 'the prompt says without scikit-learn: the exercise is the AUC as a ranking probability, counted over pairs'), Forbidden('mammokit.evaluate.binary_metrics', 'it computes the AUC with scikit-learn; the exercise is counting the pairs yourself'), Forbidden('mammokit.evaluate.roc', "it is scikit-learn's roc_curve; the exercise is counting the pairs yourself"), Forbidden('scipy.stats.mannwhitneyu', 'its U statistic / (n1 * n0) is the AUC in one call; the exercise is counting the pairs yourself'), )),
    Exercise('q06_youden', NB, 'youden_threshold', check_youden, fallback=_youden_threshold, forbids=(Forbidden('mammokit.evaluate.choose_threshold', "it is the kit's own answer; the exercise is sweeping the thresholds and maximising J yourself"), Forbidden('sklearn.metrics.roc_curve', 'it sweeps the thresholds for you; the exercise is that sweep'), Forbidden('mammokit.evaluate.roc', "it sweeps the thresholds for you (scikit-learn's roc_curve); the exercise is that sweep"), )),
    Exercise('q06_patient_bootstrap', NB, 'patient_bootstrap_ci', check_patient_bootstrap, fallback=_patient_bootstrap_ci, forbids=(Forbidden('mammokit.evaluate.bootstrap_ci', "it is the kit's own patient bootstrap; the exercise is to write the resampling yourself"), Forbidden('mammokit.evaluate.metrics_table', "it calls the kit's patient bootstrap"), Forbidden('scipy.stats.bootstrap', 'write the resampling loop yourself, drawing patients'), )),
    Exercise('q06_permutation', NB, 'permutation_p_value', check_permutation, fallback=_permutation_p_value, forbids=(Forbidden('mammokit.significance.auc_permutation_test', "it is the kit's own permutation test; the exercise is to write it"), Forbidden('sklearn.model_selection.permutation_test_score', 'it refits a model per shuffle; write the shuffle-and-score loop yourself'), Forbidden('scipy.stats.permutation_test', 'write the shuffle-and-score loop yourself'), )),
    Exercise('q06_which_wins', NB, 'which_wins_guess', check_which_wins, kind='predict'),
    Exercise('q06_nearest_copy', NB, 'nearest_copy', check_nearest_copy, fallback=_nearest_copy, forbids=(Forbidden('numpy.corrcoef', 'standardise the images and take one matrix product yourself: that is the exercise'), )),
]

WRITTEN = [
    "The paper reports 0.95 AUC on MIAS; set it beside this notebook's patient-level cross-validated AUC and its interval. Name two candidate explanations of the difference (in the protocol, the task scored or the model), say what this course's evidence says for or against each, and which number you would quote to a radiologist.",
]
