"""mammokit.evaluate: Eq. 8-11 and AUC, thresholds on validation, patient bootstrap, grouped CV, figures."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from mammokit import evaluate as ev
from mammokit.errors import MammokitError
from tiny_rois import tiny_rois


def _scores(seed: int = 0, n: int = 120, ties: bool = False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1)
    return y, (np.round(p, 1) if ties else p)


# --- point metrics ---------------------------------------------------------------------------------

def test_metrics_follow_the_papers_equations():
    # 3 TP, 1 FN, 2 FP, 4 TN at threshold 0.5
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.6, 0.2, 0.7, 0.55, 0.4, 0.3, 0.1, 0.0])
    m = ev.binary_metrics(y, p)
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (3, 1, 2, 4)
    assert m["accuracy"] == pytest.approx(7 / 10)          # Eq 8
    assert m["sensitivity"] == pytest.approx(3 / 4)        # Eq 9
    assert m["precision"] == pytest.approx(3 / 5)          # Eq 10
    assert m["f_score"] == pytest.approx(2 * 0.6 * 0.75 / (0.6 + 0.75))  # Eq 11
    assert m["specificity"] == pytest.approx(4 / 6)
    assert m["auc"] == pytest.approx(19 / 24)  # 19 of the 24 malignant/benign pairs are ordered correctly


def test_threshold_moves_the_operating_point_but_not_the_auc():
    y, p = _scores()
    low, high = ev.binary_metrics(y, p, 0.2), ev.binary_metrics(y, p, 0.8)
    assert low["sensitivity"] > high["sensitivity"] and low["specificity"] < high["specificity"]
    assert low["auc"] == high["auc"]


def test_undefined_scores_are_nan_not_zero():
    m = ev.binary_metrics([0, 0, 0], [0.1, 0.2, 0.3])
    assert m["accuracy"] == 1.0 and m["specificity"] == 1.0
    assert np.isnan(m["auc"]) and np.isnan(m["sensitivity"]) and np.isnan(m["precision"])


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.71])
def test_fast_bootstrap_metrics_agree_with_scikit_learn(ties, threshold):
    for seed in range(5):
        y, p = _scores(seed, n=40, ties=ties)
        m = ev.binary_metrics(y, p, threshold)
        np.testing.assert_allclose(ev._fast_metrics(y, p, threshold), [m[k] for k in ev.METRICS])


def test_confusion_layout_is_tn_fp_fn_tp():
    assert ev.confusion([0, 0, 1, 1, 1], [0, 1, 0, 1, 1]).tolist() == [[1, 1], [1, 2]]


@pytest.mark.parametrize("labels, proba, words", [
    ([0, 1, 2], [0.1, 0.2, 0.3], "0 (benign) or 1"),
    ([0, 1], [0.1, 1.2], "[0, 1]"),
    ([0, 1], [0.1, 0.2, 0.3], "shape"),
    ([], [], "non-empty"),
])
def test_bad_inputs_say_what_is_wrong(labels, proba, words):
    with pytest.raises(MammokitError, match=words.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        ev.binary_metrics(labels, proba)


def test_roc_and_calibration_tables():
    y, p = _scores()
    curve = ev.roc(y, p)
    assert curve.fpr.is_monotonic_increasing and curve.tpr.is_monotonic_increasing
    assert (curve.fpr.iloc[0], curve.tpr.iloc[-1]) == (0.0, 1.0)
    cal = ev.calibration(y, p, bins=5)
    assert cal["count"].sum() == len(y)
    assert ((cal.mean_proba >= cal.bin_low) & (cal.mean_proba <= cal.bin_high)).all()
    with pytest.raises(MammokitError, match="only one class"):
        ev.roc([1, 1], [0.2, 0.3])


# --- threshold on validation -----------------------------------------------------------------------

def test_youden_threshold_separates_a_separable_validation_set():
    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([0.05, 0.1, 0.3, 0.35, 0.6, 0.9])
    t = ev.choose_threshold(y, p, "youden")
    assert 0.3 < t <= 0.35
    assert ev.binary_metrics(y, p, t)["accuracy"] == 1.0
    assert ev.choose_threshold(y, p, "f_score") == pytest.approx(0.35)
    assert ev.choose_threshold([1, 1], [0.2, 0.9]) == 0.5  # nothing to tune with one class
    with pytest.raises(MammokitError, match="rule"):
        ev.choose_threshold(y, p, "test")


# --- patient bootstrap -----------------------------------------------------------------------------

def test_bootstrap_interval_brackets_the_estimate_and_is_repeatable():
    y, p = _scores()
    groups = np.arange(len(y)) // 2
    a = ev.bootstrap_ci(y, p, groups, n_boot=300, seed=3)
    b = ev.bootstrap_ci(y, p, groups, n_boot=300, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert (a.ci_low <= a.estimate + 1e-12).all() and (a.estimate <= a.ci_high + 1e-12).all()
    assert (a.n_patients == 60).all()


def test_bootstrap_resamples_patients_not_rois():
    """Five copies of each ROI in one patient add no information: the patient CI does not shrink."""
    y, p = _scores(n=60)
    g = np.arange(60)
    base = ev.bootstrap_ci(y, p, g, n_boot=300, seed=1).set_index("metric")
    y5, p5, g5 = np.repeat(y, 5), np.repeat(p, 5), np.repeat(g, 5)
    by_patient = ev.bootstrap_ci(y5, p5, g5, n_boot=300, seed=1).set_index("metric")
    by_roi = ev.bootstrap_ci(y5, p5, np.arange(300), n_boot=300, seed=1).set_index("metric")
    width = lambda t: (t.ci_high - t.ci_low)  # noqa: E731
    np.testing.assert_allclose(width(by_patient), width(base), atol=1e-9)
    assert (width(by_roi) < 0.7 * width(base)).all()  # treating copies as independent fakes certainty


def test_metrics_table_per_model_with_intervals():
    y, p = _scores()
    preds = pd.DataFrame({"model": ["a"] * 60 + ["b"] * 60, "label": y, "proba": p,
                          "patient_id": [f"p{i // 2}" for i in range(120)]})
    table = ev.metrics_table(preds, threshold={"a": 0.5, "b": 0.4}, ci=True, n_boot=100)
    assert list(table.model) == ["a", "b"]
    assert table.threshold.tolist() == [0.5, 0.4]
    assert (table.auc_low <= table.auc).all() and (table.auc <= table.auc_high).all()


def test_saved_predictions_read_back_stacked_with_their_model(tmp_path):
    from mammokit import runs

    assert runs.read_predictions(tmp_path).empty  # a run folder before notebook 04
    cols = {"image_id": ["mdb001"], "patient_id": ["p001"], "label": [1], "proba": [0.7], "split": ["test"],
            "roi": [0]}
    assert runs.save_predictions(tmp_path, "convnet", pd.DataFrame(cols)) == tmp_path / "predictions" / "convnet.csv"
    runs.save_predictions(tmp_path, "VGG19", pd.DataFrame(cols))
    table = runs.read_predictions(tmp_path)
    assert sorted(table.model) == ["VGG19", "convnet"] and table.patient_id.iloc[0] == "p001"
    assert list(table.columns) == [*runs.PREDICTION_COLUMNS, "model"]  # the contract's columns only
    pd.DataFrame({"image_id": ["x"], "label": [1]}).to_csv(tmp_path / "predictions" / "bad.csv", index=False)
    with pytest.raises(MammokitError, match="bad.csv.*patient_id"):
        runs.read_predictions(tmp_path)
    assert runs.save_table(tmp_path, "t", pd.DataFrame({"a": [1]})).read_text() == "a\n1\n"


# --- run-folder predictions ---------------------------------------------------------------------




# --- figures -----------------------------------------------------------------------------------------

def test_figures_are_built_with_titles_and_labels():
    from mammokit import plots

    y, p = _scores()
    preds = {"ConvNet": (y, p), "VGG19": (y, 1 - p)}
    fig = plots.roc_curves(preds, operating_points={"ConvNet": 0.5}, paper_auc={"ConvNet": 0.95})
    ax = fig.axes[0]
    assert "false-positive" in ax.get_xlabel() and "paper 0.95" in ax.get_legend().get_texts()[0].get_text()
    assert len(plots.confusion_heatmaps({"a": ev.confusion(y, p >= 0.5), "b": np.eye(2, dtype=int)}).axes) == 2
    folds = pd.DataFrame([{"fold": i, **ev.binary_metrics(y, p, 0.5)} for i in range(3)])
    assert plots.fold_strip(folds, paper={"auc": 0.95}).axes[0].get_title()
    assert plots.reliability_curve(preds).axes[0].get_xlabel().startswith("mean predicted")
    rois = np.zeros((4, 8, 8), np.uint8)
    grid = plots.grad_cam_grid(rois, np.zeros((4, 8, 8)), {"TP": [0, 1], "FP": [2], "FN": []}, proba=p[:4])
    assert len([a for a in grid.axes if a.images]) == 6


def test_predictions_table_follows_the_run_folder_contract():
    from mammokit.splits import split_by_patient

    data = tiny_rois(10)
    split = split_by_patient(data.table, seed=0)
    proba = np.linspace(0, 1, len(data.labels))
    table = ev.predictions_table(data, split, proba)
    from mammokit.runs import PREDICTION_COLUMNS

    assert list(table.columns[:5]) == list(PREDICTION_COLUMNS)
    assert len(table) == len(data.labels) and set(table.split) == {"train", "val", "test"}
    np.testing.assert_allclose(table.proba.to_numpy(), proba[table.roi.to_numpy()])
    assert (table.label.to_numpy() == data.labels[table.roi.to_numpy()]).all()
    with pytest.raises(MammokitError, match="probabilities for"):
        ev.predictions_table(data, split, proba[:-1])


def test_importing_the_plots_leaves_matplotlib_alone_until_a_figure_is_made():
    import subprocess
    import sys

    code = ("import matplotlib as mpl; before = dict(mpl.rcParams); import mammokit.plots as p; "
            "same = dict(mpl.rcParams) == before; p.style.figure(); print(same, dict(mpl.rcParams) != before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True", "True"], out.stderr[-1500:]
