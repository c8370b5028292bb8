"""The lesion-type confound: malignant share by type, and features whose direction flips between folds."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mammokit.confound import ALL, feature_aucs, flip_summary, malignant_share, sign_flips
from mammokit.errors import ConfigError, DataError
from sklearn.metrics import roc_auc_score
from mammokit.splits import Split, kfold_by_patient


def test_malignant_share_counts_each_type_and_all():
    table = pd.DataFrame({"abnormality": ["CIRC"] * 5 + ["ARCH"] * 3 + ["CALC"] * 2,
                          "label": [0, 0, 0, 0, 1, 1, 1, 0, 1, 0]})
    got = malignant_share(table)
    assert list(got.index) == ["ARCH", "CALC", "CIRC", ALL]
    assert got.rois.tolist() == [3, 2, 5, 10] and got.malignant.tolist() == [2, 1, 1, 4]
    assert np.allclose(got.malignant_share, [2 / 3, 0.5, 0.2, 0.4])


def test_malignant_share_refuses_a_table_without_labels():
    with pytest.raises(DataError, match="label"):
        malignant_share(pd.DataFrame({"abnormality": ["CIRC"]}))
    with pytest.raises(DataError, match="0 .benign. or 1"):
        malignant_share(pd.DataFrame({"abnormality": ["CIRC"], "label": [2]}))


def test_feature_aucs_agree_with_the_kit_auc_and_skip_missing_values():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 40)
    x = np.stack([labels + rng.normal(0, 1, 40), -labels + rng.normal(0, 1, 40)], axis=1)
    got = feature_aucs(x, labels)
    assert np.allclose(got, [roc_auc_score(labels, x[:, j]) for j in range(2)])
    assert got[0] > 0.5 > got[1]
    x[:3, 0] = np.nan
    assert np.isclose(feature_aucs(x, labels)[0], roc_auc_score(labels[3:], x[3:, 0]))
    assert np.isnan(feature_aucs(x[labels == 1], labels[labels == 1])).all()  # one class: no AUC


def test_a_feature_whose_relation_reverses_by_type_flips_when_the_type_mix_moves():
    # type A: malignant lesions are bright; type B: malignant lesions are dark. Fold 0 trains on A, tests on B.
    labels = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    bright = np.array([1.0, 2.0, 8.0, 9.0, 8.0, 9.0, 1.0, 2.0])
    steady = np.array([1.0, 2.0, 8.0, 9.0, 1.0, 2.0, 8.0, 9.0])
    features = pd.DataFrame({"brightness": bright, "size": steady})
    folds = [Split(np.arange(4), np.arange(0), np.arange(4, 8)), Split(np.arange(4, 8), np.arange(0), np.arange(4))]
    flips = sign_flips(features, labels, folds)
    assert len(flips) == 4 and set(flips.columns) == {"fold", "feature", "train_auc", "test_auc", "flipped"}
    assert flips.set_index(["fold", "feature"]).flipped.to_dict() == {
        (0, "brightness"): True, (0, "size"): False, (1, "brightness"): True, (1, "size"): False}
    summary = flip_summary(flips)
    assert summary.index[0] == "brightness" and summary.loc["brightness", "share"] == 1.0
    assert summary.loc["size", "flips"] == 0


def test_sign_flips_on_patient_folds_and_bad_input():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"patient_id": [f"p{i // 2}" for i in range(40)], "label": np.repeat(rng.integers(0, 2, 20), 2)})
    features = pd.DataFrame({"noise": rng.normal(size=40)})
    flips = sign_flips(features, table.label, kfold_by_patient(table, k=4, seed=0))
    assert sorted(flips.fold.unique()) == [0, 1, 2, 3]
    with pytest.raises(ConfigError, match="DataFrame"):
        sign_flips(features.to_numpy(), table.label, [])
    with pytest.raises(DataError, match="labels"):
        sign_flips(features, table.label[:5], [])
