"""Notebook 03's exercise checks, generated from notebooks/solutions/03_augmentation.md by
`mammokit masters`: edit them there (cells tagged `check`), not here.
"""
from __future__ import annotations

from mammokit.exercises.spec import Exercise, Forbidden
import numpy as np
import pandas as pd
from mammokit.augment import flip, rotate
from mammokit.inflation import inflate
from mammokit.exercises.spec import WrongAnswer, call, expect, rng, value
from mammokit.splits import PatientLeakError, Split, check_patient_disjoint, split_by_patient


def _patient_split(table: pd.DataFrame, seed: int = 0) -> Split:
    return split_by_patient(table, ratios=(0.6, 0.2, 0.2), seed=seed)


def _rotate90(image: np.ndarray, k: int) -> np.ndarray:
    return rotate(image, 90 * k)


def _table(seed: int, n_patients: int = 30) -> pd.DataFrame:
    draw = rng(seed)
    per = draw.integers(1, 4, n_patients)
    patients = np.repeat([f"p{i:03d}" for i in draw.permutation(n_patients)], per)
    return pd.DataFrame({"patient_id": patients, "label": draw.integers(0, 2, len(patients))})


def _rois(seed: int, n: int = 4) -> np.ndarray:
    return rng(seed).integers(0, 256, (n, 12, 12), dtype=np.uint8)


def check_patient_split(answer) -> None:
    for seed in (301, 302, 303):
        table = _table(seed)
        got = call(answer, table.copy(), seed, what="patient_split(table, seed)")
        try:
            split = Split(*(np.asarray(part, dtype=np.int64) for part in got))
        except (TypeError, ValueError):
            raise WrongAnswer(f"patient_split should return (train, val, test) index arrays, got {type(got).__name__}")
        try:
            check_patient_disjoint(table, split)
        except PatientLeakError as exc:
            raise WrongAnswer(f"check_patient_disjoint rejects your split: {exc}") from None
        rows = np.sort(np.concatenate(split))
        expect(np.array_equal(rows, np.arange(len(table))), f"every row must be on exactly one side: your split "
                                                            f"covers {len(np.unique(rows))} of {len(table)} rows")
        for name, part, lo, hi in (("train", split.train, 0.45, 0.75), ("test", split.test, 0.1, 0.35)):
            frac = len(part) / len(table)
            expect(lo <= frac <= hi, f"{name} holds {frac:.0%} of the ROIs; aim for 60/20/20 (whole patients move, "
                                     "so near is fine)")


def check_leaked_patients(answer) -> None:
    for seed in (311, 312):
        table = _table(seed)
        order = rng(seed).permutation(len(table))
        naive = Split(*np.split(order, [int(0.6 * len(order)), int(0.8 * len(order))]))
        for split in (naive, _patient_split(table, seed)):
            got = call(answer, table.copy(), split, what="leaked_patients(table, split)")
            patients = table["patient_id"].to_numpy()
            want = set(np.intersect1d(patients[split.train], patients[split.test]).tolist())
            expect(isinstance(got, (set, list, tuple, np.ndarray)), f"leaked_patients should return a set of patient "
                                                                    f"ids, got {type(got).__name__}")
            got = set(got.tolist()) if isinstance(got, np.ndarray) else set(got)
            expect(got == want, f"on a {len(table)}-row table you found {len(set(got))} patient(s) in both train "
                                     f"and test, expected {len(want)}: compare the patient_id values of the rows")


def _patients(seed: int, n_patients: int) -> np.ndarray:
    """One id per ROI, 1-3 ROIs per patient, rows shuffled so a patient's ROIs are not neighbours."""
    draw = rng(seed)
    ids = np.array([f"p{i:03d}" for i in draw.permutation(n_patients)])
    return draw.permutation(np.repeat(ids, draw.integers(1, 4, n_patients)))


def check_group_kfold(answer) -> None:
    for seed, n_patients, k in ((361, 40, 5), (362, 25, 3), (363, 12, 2), (364, 60, 10)):
        patients = _patients(seed, n_patients)
        n = len(patients)
        got = call(answer, patients.copy(), k, what="group_kfold(patients, k)")
        expect(isinstance(got, (list, tuple)) and len(got) == k,
               f"group_kfold(patients, k={k}) should return a list of {k} (train_idx, test_idx) pairs, got "
               f"{len(got) if isinstance(got, (list, tuple)) else type(got).__name__}")
        tested = []
        for f, pair in enumerate(got):
            try:
                train, test = (np.asarray(part) for part in pair)
            except (TypeError, ValueError):
                raise WrongAnswer(f"fold {f}: expected a pair (train_idx, test_idx) of index arrays") from None
            train, test = (part.astype(np.int64) if part.size == 0 else part for part in (train, test))
            expect(train.dtype.kind in "iu" and test.dtype.kind in "iu",
                   f"fold {f}: train_idx and test_idx should be integer row indices (np.flatnonzero gives them)")
            expect(train.ndim == test.ndim == 1 and len(train) + len(test) == n
                   and np.array_equal(np.sort(np.r_[train, test]), np.arange(n)),
                   f"fold {f}: train_idx and test_idx together must hold every row 0…{n - 1} once "
                   f"(yours: {len(train)} + {len(test)} indices for {n} rows)")
            both = set(patients[train]) & set(patients[test])
            expect(not both, f"fold {f} (k={k}): {len(both)} patient(s) have rows in both train and test")
            expect(0.4 * n / k <= len(test) <= 2 * n / k,
                   f"fold {f} (k={k}, {n} rows) tests {len(test)} rows; aim for about {n / k:.0f} per fold")
            tested.append(test)
        rows = np.sort(np.concatenate(tested))
        expect(np.array_equal(rows, np.arange(n)), f"with k={k}, every row must be tested in exactly one fold: your "
                                                   f"folds test {len(rows)} rows, {len(np.unique(rows))} distinct, "
                                                   f"of {n}")


def check_same_flip(answer) -> None:
    """A prediction: only its form is checked (the next cell reveals the answer)."""
    answer = value(answer, "same_flip_guess")
    expect(isinstance(answer, bool), f"answer True or False, got {answer!r}")


def check_rotate90(answer) -> None:
    for k in (0, 1, 2, 3):
        image = _rois(330 + k)[0]
        got = np.asarray(call(answer, image.copy(), k, what="rotate90(image, k)"))
        expect(got.shape == image.shape and np.array_equal(got, _rotate90(image, k)),
               f"rotate90(image, {k}) differs from augment.rotate(image, {90 * k}) (counter-clockwise, like np.rot90)")


def _symmetric_images(seed: int, side: int = 6) -> list[np.ndarray]:
    """ROIs with 8, 4, 2 and 1 distinct symmetries (random; mirror-symmetric; 90°-symmetric; constant)."""
    draw = rng(seed)
    generic = draw.integers(0, 256, (side, side), dtype=np.uint8)
    half = draw.integers(0, 256, (side, side // 2), dtype=np.uint8)
    mirror = np.hstack([half, half[:, ::-1]])
    quarter = draw.integers(0, 256, (side // 2, side // 2), dtype=np.uint8)
    turning = np.block([[quarter, np.rot90(quarter, -1)], [np.rot90(quarter, 1), np.rot90(quarter, 2)]])
    flat = np.full((side, side), int(draw.integers(0, 256)), dtype=np.uint8)
    return [generic, mirror, turning, flat]


def check_symmetries(answer) -> None:
    for seed, side in ((371, 6), (372, 8)):
        for image in _symmetric_images(seed, side):
            eight = [np.rot90(m, k) for m in (image, flip(image, "left")) for k in range(4)]
            want = {m.tobytes() for m in eight}
            got = call(answer, image.copy(), what="distinct_symmetries(image)")
            expect(isinstance(got, (list, tuple)), f"distinct_symmetries should return a list of images, got "
                                                   f"{type(got).__name__}")
            arrays = [np.asarray(m) for m in got]
            expect(all(a.shape == image.shape for a in arrays),
                   f"each image in your list should have the ROI's shape {image.shape}")
            keys = [a.astype(image.dtype).tobytes() for a in arrays]
            expect(all(key in want for key in keys), "your list holds an image that is no rotation or reflection "
                                                     "of the ROI")
            expect(len(set(keys)) == len(keys), f"your list holds the same image twice ({len(keys)} images, "
                                                f"{len(set(keys))} different)")
            expect(len(keys) == len(want), f"for a {side}×{side} ROI you found {len(keys)} different images; "
                                           "some rotation or reflection is missing")


def check_inflated_size(answer) -> None:
    """A prediction: only its form is checked (the cell after the inflation reveals the answer)."""
    got = value(answer, "inflated_size_guess")
    expect(type(got) is int and got >= 0, f"write a whole number of images, got {got!r}")


def check_leakage_gap(answer) -> None:
    """A prediction: only its form is checked (a later cell reveals the answer)."""
    got = value(answer, "leakage_gap_guess")
    expect(type(got) in (int, float) and -1 <= got <= 1, "write a number between -1 and 1, got " + repr(got))


NB = '03_augmentation'
EXERCISES = [
    Exercise('q03_patient_split', NB, 'patient_split', check_patient_split, fallback=_patient_split, forbids=(Forbidden('mammokit.splits.split_by_patient', "it is the kit's own answer; the exercise is shuffling patients, not rows, yourself"), Forbidden('mammokit.splits.kfold_by_patient', "it is the kit's own grouped split; the exercise is shuffling patients, not rows, yourself"), Forbidden('sklearn.model_selection.GroupShuffleSplit', "it is scikit-learn's grouped split in one call; the exercise is shuffling patients yourself"), Forbidden('sklearn.model_selection.GroupKFold', "it is scikit-learn's grouped split in one call; the exercise is shuffling patients yourself"), )),
    Exercise('q03_leaked_patients', NB, 'leaked_patients', check_leaked_patients, forbids=(Forbidden('mammokit.splits.check_patient_disjoint', 'it finds the leaked patients for you (its error lists them); the exercise is comparing patient ids yourself'), )),
    Exercise('q03_group_kfold', NB, 'group_kfold', check_group_kfold, forbids=(Forbidden('mammokit.splits.kfold_by_patient', "it is the kit's own grouped k-fold, the one this exercise rebuilds"), Forbidden('sklearn.model_selection.GroupKFold', 'deal the patients into folds yourself'), Forbidden('sklearn.model_selection.StratifiedGroupKFold', 'deal the patients into folds yourself'), )),
    Exercise('q03_same_flip', NB, 'same_flip_guess', check_same_flip, kind='predict'),
    Exercise('q03_rotate90', NB, 'rotate90', check_rotate90, fallback=_rotate90, forbids=(Forbidden('mammokit.augment.rotate', "it is the kit's own answer; np.rot90 is fine, the kit's Table 1 rotation is not"), )),
    Exercise('q03_symmetries', NB, 'distinct_symmetries', check_symmetries),
    Exercise('q03_inflated_size', NB, 'inflated_size_guess', check_inflated_size, kind='predict'),
    Exercise('q03_leakage_gap', NB, 'leakage_gap_guess', check_leakage_gap, kind='predict'),
]

WRITTEN = [
    "The paper's split counts suggest it augmented the pooled data before splitting. In your own words, why would that flatter the test score, and what did the leakage lab measure in this run — and how sure is it?",
]
