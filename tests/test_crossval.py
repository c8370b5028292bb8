"""mammokit.crossval: patient-grouped k-fold CV of a model (cross_validate) or a recipe (cross_validate_recipe)."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from mammokit import crossval as cv
from mammokit.errors import MammokitError
from mammokit.evaluate import METRICS
from mammokit.train import TrainConfig
from tiny_rois import tiny_rois


def test_shift_to_half_keeps_each_folds_decisions():
    p = np.linspace(0, 1, 101)
    for t in (0.1, 0.37, 0.5, 0.9):
        shifted = cv._shift_to_half(p, np.full_like(p, t))
        assert ((shifted >= 0.5) == (p >= t)).all()
        assert np.all(np.diff(shifted) >= 0)


# --- cross-validation -------------------------------------------------------------------------------



def _sklearn_fit(seen: list):
    def fit(model, x, y, xv, yv):
        seen.append((len(x), len(xv)))
        return model.fit(x.reshape(len(x), -1) / 255.0, y)
    return fit


def _sklearn_predict(model, x):
    return model.predict_proba(x.reshape(len(x), -1) / 255.0)[:, 1]


def test_cross_validate_is_grouped_by_patient_and_covers_every_roi_once():
    from sklearn.linear_model import LogisticRegression

    data, seen = tiny_rois(), []
    result = cv.cross_validate(lambda: LogisticRegression(max_iter=500), data, k=5, fit=_sklearn_fit(seen),
                               predict=_sklearn_predict, n_boot=100, progress=False)
    assert len(result.folds) == 5 and len(seen) == 5
    assert sorted(result.predictions.image_id) == sorted(data.table.image_id)
    fold_of = result.predictions.groupby("patient_id").fold.nunique()
    assert (fold_of == 1).all(), "a patient's ROIs must all be in one test fold"
    assert all(nv > 0 for _, nv in seen), "each fold carves validation patients for the threshold"
    assert (result.folds.n_train + result.folds.n_val + result.folds.n_test == len(data.labels)).all()
    summary = result.summary.set_index("metric")
    assert summary.loc["auc", "mean"] == pytest.approx(result.folds.auc.mean())
    assert summary.loc["auc", "estimate"] > 0.9  # brightness separates the classes
    assert summary.loc["auc", "ci_low"] <= summary.loc["auc", "estimate"] <= summary.loc["auc", "ci_high"]
    assert set(result.long().metric) == set(METRICS)
    assert "folds" in result.headline()


def test_cross_validate_refuses_folds_that_leak_patients():
    from mammokit.splits import Split
    from sklearn.linear_model import LogisticRegression

    data = tiny_rois(6)
    n = len(data.labels)
    leaky = [Split(np.arange(0, n - 1), np.zeros(0, int), np.arange(n - 2, n))]
    with pytest.raises(MammokitError, match="both test"):
        cv.cross_validate(lambda: LogisticRegression(), data, fit=_sklearn_fit([]), predict=_sklearn_predict,
                          folds=leaky, progress=False)


@pytest.mark.slow
def test_cross_validate_trains_a_keras_convnet_with_mammokit_train():
    from mammokit.models import build_convnet

    data = tiny_rois(12)
    data.images = np.repeat(np.repeat(data.images, 2, axis=1), 2, axis=2)  # 16 px
    result = cv.cross_validate(lambda: build_convnet((16, 16, 1), filters=(4,), dense=8), data, k=2, n_boot=50,
                               config=TrainConfig(batch_size=8, augment=False, verbose=0), progress=False)
    assert len(result.folds) == 2 and len(result.predictions) == len(data.labels)
    assert result.predictions.proba.between(0, 1).all()




# --- recipes -----------------------------------------------------------------------------------------

def _rois(n_patients: int = 30):
    from mammokit.roi import RoiDataset

    data = tiny_rois(n_patients)
    return RoiDataset(data.images, data.table, data.labels.astype(np.int64), data.groups.astype(str))


class _Brightness:
    """A recipe: remembers whom it trained on; predicts from the mean brightness."""

    def __init__(self, train, log: list, threshold: float = 0.37, wrong_length: bool = False):
        log.append(set(train.groups))
        self.threshold, self.wrong_length = threshold, wrong_length

    def predict_proba(self, rois):
        p = rois.images.reshape(len(rois), -1).mean(axis=1) / 255.0
        return p[:-1] if self.wrong_length else p


def test_cross_validate_recipe_trains_on_training_patients_only():
    rois, log = _rois(), []
    result = cv.cross_validate_recipe(lambda train: _Brightness(train, log), rois, k=5, n_boot=50, progress=False)
    assert len(log) == 5 and sorted(result.predictions.image_id) == sorted(rois.table.image_id)
    for fold, trained_on in enumerate(log):
        tested = set(result.predictions.loc[result.predictions.fold == fold, "patient_id"])
        assert tested and not tested & trained_on, "a recipe must never see its test patients"
        assert len(trained_on | tested) == 30
    assert (result.folds.threshold == 0.37).all(), "the predictor's own threshold is used"
    assert (result.folds.n_val == 0).all()
    assert result.summary.set_index("metric").loc["auc", "estimate"] > 0.9


def test_cross_validate_recipe_refuses_a_predictor_with_the_wrong_number_of_probabilities():
    with pytest.raises(MammokitError, match="one per ROI"):
        cv.cross_validate_recipe(lambda train: _Brightness(train, [], wrong_length=True), _rois(), k=2,
                                 n_boot=10, progress=False)


def test_compare_recipes_scores_every_recipe_on_the_same_folds():
    rois, log = _rois(), []
    table, results = cv.compare_recipes({"bright": lambda train, seed=0: _Brightness(train, log),
                                         "dark": lambda train, seed=0: _Dark(train)}, rois, k=3, n_boot=50,
                                        progress=False)
    assert list(table.recipe) == ["bright", "dark"] and (table.seconds >= 0).all()
    assert table.auc[0] > 0.9 > 0.1 > table.auc[1]
    assert (table.auc_low <= table.auc).all() and (table.auc <= table.auc_high).all()
    folds = [r.predictions.sort_values("image_id").fold.to_numpy() for r in results.values()]
    np.testing.assert_array_equal(*folds)
    alone = cv.cross_validate_recipe(lambda train: _Dark(train), rois, k=3, n_boot=50, progress=False)
    row = alone.recipe_row("dark", 0.0)  # notebook 06 cross-validates one recipe first, then adds its row
    assert {k: v for k, v in row.items() if k != "seconds"} == table.drop(columns="seconds").iloc[1].to_dict()


class _Dark(_Brightness):
    def __init__(self, train):
        super().__init__(train, [])

    def predict_proba(self, rois):
        return 1 - super().predict_proba(rois)


def test_permutation_null_breaks_the_link_between_image_and_label():
    null = cv.permutation_null(lambda train, seed=0: _Brightness(train, []), _rois(), n=6, k=3)
    assert null.shape == (6,) and ((null >= 0) & (null <= 1)).all()
    assert abs(null.mean() - 0.5) < 0.15, "with shuffled labels brightness predicts nothing"


def test_auc_intervals_plot():
    from mammokit import plots

    table = pd.DataFrame({"recipe": ["a", "b"], "auc": [0.6, 0.7], "auc_low": [0.5, 0.55], "auc_high": [0.7, 0.8]})
    fig = plots.auc_intervals(table, paper={"ConvNet": 0.95})
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("AUC") and {t.get_text() for t in ax.get_yticklabels()} == {"a", "b"}
    assert any("0.95" in t.get_text() for t in fig.legends[0].get_texts())
    assert fig.get_suptitle().startswith("Grouped-CV AUC")
