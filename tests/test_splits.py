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


# --- the lockbox: a fixed part of the patients, chosen by rule (issue 20 item 4) ----------------------

def test_lockbox_is_fixed_by_patient_id_alone():
    """The same patients go to the lockbox whatever the run, the row order or the other rows."""
    from mammokit.splits import lockbox

    table = make_table(200)
    dev, box = lockbox(table)
    boxed = set(table.patient_id.iloc[box])
    shuffled = table.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert set(shuffled.patient_id.iloc[lockbox(shuffled)[1]]) == boxed
    half = table[table.patient_id < "p100"].reset_index(drop=True)  # a subset keeps its members' sides
    assert set(half.patient_id.iloc[lockbox(half)[1]]) == boxed & set(half.patient_id)
    assert sorted(boxed)[:4] == ["p000", "p009", "p017", "p018"]  # pinned: a change of rule shows here


def test_lockbox_is_patient_disjoint_covers_the_table_and_meets_the_share_roughly():
    from mammokit.splits import lockbox

    table = make_table(600, seed=2)
    for share in (0.1, 0.2, 0.5):
        dev, box = lockbox(table, share=share)
        assert dev.dtype == box.dtype == np.int64
        assert sorted(np.concatenate([dev, box]).tolist()) == list(range(len(table)))
        assert not set(table.patient_id.iloc[dev]) & set(table.patient_id.iloc[box])
        got = table.patient_id.iloc[box].nunique() / table.patient_id.nunique()
        assert abs(got - share) < 4 * np.sqrt(share * (1 - share) / 600), (share, got)
    small, big = (set(table.patient_id.iloc[lockbox(table, share=s)[1]]) for s in (0.1, 0.2))
    assert small <= big  # a larger share only adds patients


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.2, "0.2", True])
def test_lockbox_rejects_a_share_outside_0_1(share):
    from mammokit.splits import lockbox

    with pytest.raises(ConfigError, match="share"):
        lockbox(make_table(10), share=share)
    with pytest.raises(ConfigError, match="patient_id"):
        lockbox(pd.DataFrame({"image_id": ["a"]}))
