"""Patient-level splits: every ROI on exactly one side, no patient on two, labels balanced."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mammokit.errors import ConfigError, MammokitError
from mammokit.splits import (PatientLeakError, Split, check_patient_disjoint, kfold_by_patient,
                             split_by_patient, split_summary)


def make_table(n_patients: int = 60, seed: int = 0) -> pd.DataFrame:
    """MIAS-like: 1-3 ROIs per patient, ~40% malignant, a patient's ROIs usually share a label."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_patients):
        label = int(rng.random() < 0.4)
        for _ in range(rng.integers(1, 4)):
            flip = rng.random() < 0.1
            rows.append({"image_id": f"mdb{len(rows):03d}", "patient_id": f"p{p:03d}", "label": label ^ flip})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_split_by_patient_partitions_rows_and_patients(seed):
    table = make_table(seed=seed)
    split = split_by_patient(table, seed=seed)
    everything = np.concatenate(split)
    assert sorted(everything.tolist()) == list(range(len(table)))
    sides = [set(table.patient_id.iloc[idx]) for idx in split]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])


def test_split_by_patient_meets_ratios_and_stratifies():
    table = make_table(n_patients=300)
    summary = split_summary(table, split_by_patient(table, seed=3))
    fractions = summary["rois"] / len(table)
    np.testing.assert_allclose(fractions.to_numpy(), [0.6, 0.2, 0.2], atol=0.03)
    overall = table.label.mean()
    np.testing.assert_allclose(summary["malignant_fraction"].to_numpy(), overall, atol=0.05)


def test_split_by_patient_is_seeded():
    table = make_table()
    a, b, c = (split_by_patient(table, seed=s) for s in (5, 5, 6))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a.test, c.test)


def test_zero_validation_ratio_gives_empty_val():
    table = make_table()
    split = split_by_patient(table, ratios=(0.8, 0.0, 0.2))
    assert split.val.size == 0 and split.train.size + split.test.size == len(table)


@pytest.mark.parametrize("ratios", [(0.6, 0.2), (0.7, 0.2, 0.2), (1.2, -0.1, -0.1)])
def test_bad_ratios_name_the_parameter(ratios):
    with pytest.raises(ConfigError, match="ratios"):
        split_by_patient(make_table(), ratios=ratios)


def test_missing_columns_and_missing_labels_are_clear_errors():
    with pytest.raises(ConfigError, match="patient_id"):
        split_by_patient(pd.DataFrame({"label": [0, 1]}))
    table = make_table()
    table.loc[0, "label"] = None
    with pytest.raises(ConfigError, match="no label"):
        split_by_patient(table)


def test_forced_overlap_fails_loudly():
    table = pd.DataFrame({"patient_id": ["p1", "p1", "p2", "p3"], "label": [0, 1, 0, 1]})
    leaky = Split(np.array([0, 2]), np.array([], dtype=np.int64), np.array([1, 3]))  # p1 on both sides
    with pytest.raises(PatientLeakError, match="p1") as info:
        check_patient_disjoint(table, leaky)
    assert isinstance(info.value, MammokitError)
    with pytest.raises(PatientLeakError, match="row"):
        check_patient_disjoint(table, Split(np.array([0, 2]), np.array([2]), np.array([3])))


def test_split_functions_run_the_check(monkeypatch):
    """Every split function passes its result through check_patient_disjoint before returning."""
    import mammokit.splits as S

    table = make_table()
    calls = []
    real = S.check_patient_disjoint
    monkeypatch.setattr(S, "check_patient_disjoint", lambda t, s: calls.append(s) or real(t, s))
    S.split_by_patient(table)
    assert len(calls) == 1
    S.kfold_by_patient(table, k=3)
    assert len(calls) == 4


@pytest.mark.parametrize("k", [2, 5])
def test_kfold_by_patient_covers_every_row_once_and_groups_patients(k):
    table = make_table(n_patients=80)
    folds = kfold_by_patient(table, k=k, seed=1)
    assert len(folds) == k
    tests = np.concatenate([f.test for f in folds])
    assert sorted(tests.tolist()) == list(range(len(table)))
    for f in folds:
        assert f.val.size == 0
        assert sorted(np.concatenate([f.train, f.test]).tolist()) == list(range(len(table)))
        assert not set(table.patient_id.iloc[f.train]) & set(table.patient_id.iloc[f.test])
        assert 0 < table.label.iloc[f.test].mean() < 1  # both classes in each test fold


def test_kfold_bad_k():
    with pytest.raises(ConfigError, match="k=1"):
        kfold_by_patient(make_table(), k=1)
    with pytest.raises(ConfigError, match="number of patients"):
        kfold_by_patient(make_table(n_patients=3), k=4)
