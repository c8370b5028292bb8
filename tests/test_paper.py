"""mammokit.paper: the paper's numbers as typed in, their internal consistency, and the side-by-side table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mammokit import paper
from mammokit.errors import MammokitError


@pytest.mark.parametrize("dataset, source", [("MIAS", "Table 4"), ("private", "Table 3")])
def test_tables_hold_six_models_with_scores_in_range(dataset, source):
    t = paper.table(dataset)
    assert list(t.paper_model) == list(paper.MODELS) and (t.source == source).all()
    assert t.model.iloc[-1] == "ConvNet"
    scores = t[["precision", "sensitivity", "f_score", "accuracy", "auc"]].to_numpy()
    assert ((scores > 0.5) & (scores < 1)).all()


def test_headline_figures_match_the_tables():
    mias = paper.table("MIAS").set_index("model").loc["ConvNet"]
    private = paper.table("Private").set_index("model").loc["ConvNet"]
    assert paper.HEADLINE["mias_auc"] == mias.auc == 0.95
    assert paper.HEADLINE["private_auc"] == private.auc == 0.99
    assert (paper.HEADLINE["mias_f_score"], paper.HEADLINE["mias_precision"], paper.HEADLINE["mias_sensitivity"]) \
        == (mias.f_score, mias.precision, mias.sensitivity)
    # the text's MIAS test accuracy (0.93) and Table 4's (0.94) differ: both are kept as printed
    assert paper.HEADLINE["mias_test_accuracy"] == 0.93 and mias.accuracy == 0.94


def test_protocol_arithmetic_is_the_papers():
    # 5568 inflated images split 60/20: 3341 train and 1114 test, the counts the paper states
    assert round(5568 * paper.HYPERPARAMETERS["train_split"]) == 3341
    assert round(5568 * paper.HYPERPARAMETERS["test_split"]) == 1114
    assert "BEFORE splitting" in paper.PROTOCOL["augmentation"]
    table = paper.protocols()
    assert {"paper", "this kit"} <= set(table.columns) and "threshold" in set(table.aspect)


def test_consistency_finds_f_scores_that_no_confusion_matrix_gives():
    c = paper.consistency("MIAS").set_index("model")
    assert c.loc["ConvNet", "consistent"]  # 2·0.88·0.94/(0.88+0.94) = 0.909 ≈ 0.91
    assert not c.loc["VGG19", "consistent"]  # P 0.72, R 0.64 give F 0.68, printed 0.76
    assert c.loc["VGG19", "f_from_eq11"] == pytest.approx(0.678, abs=1e-3)


def test_compare_puts_ours_beside_the_paper():
    ours = pd.DataFrame([{"model": "ConvNet", "auc": 0.80, "auc_low": 0.70, "auc_high": 0.90, "accuracy": 0.75},
                         {"model": "VGG19", "auc": 0.83, "auc_low": 0.75, "auc_high": 0.90},
                         {"model": "SomethingElse", "auc": 0.5}])
    t = paper.compare(ours).set_index(["model", "metric"])
    assert t.loc[("ConvNet", "auc"), "paper"] == 0.95
    assert t.loc[("ConvNet", "auc"), "difference"] == pytest.approx(-0.15)
    assert t.loc[("ConvNet", "auc"), "paper_inside_ci"] is False or not t.loc[("ConvNet", "auc"), "paper_inside_ci"]
    assert t.loc[("VGG19", "auc"), "paper_inside_ci"]
    assert np.isnan(t.loc[("ConvNet", "accuracy"), "ours_low"])
    assert "SomethingElse" not in t.index.get_level_values(0)


def test_unknown_dataset_or_table_shape_is_explained():
    with pytest.raises(MammokitError, match="Table 4"):
        paper.table("DDSM")
    with pytest.raises(MammokitError, match="'model' column"):
        paper.compare(pd.DataFrame({"auc": [0.5]}))
