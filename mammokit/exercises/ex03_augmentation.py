"""Notebook 03's exercise checks, generated from notebooks/solutions/03_augmentation.md by
`mammokit masters`: edit them there (cells tagged `check`), not here.
"""
from __future__ import annotations

from mammokit.exercises import Exercise
import numpy as np
import pandas as pd
from mammokit.augment import flip, inflate, rotate
from mammokit.exercises import WrongAnswer, call, expect, rng, value
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


def _inflated_size(n: int, factor: int) -> int:
    images = _rois(341, n)
    return len(inflate(images, np.arange(n) % 2, factor=factor, seed=0).images)


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


def check_same_flip(answer) -> None:
    answer = value(answer, "same_flip_guess")
    expect(isinstance(answer, bool), f"answer True or False, got {answer!r}")
    image = _rois(351)[0]
    want = bool(np.array_equal(flip(image, "top"), flip(image, "bottom")))
    expect(answer == want, "you predicted wrong: compare flip(example, 'top') with flip(example, 'bottom')")


def check_flip(answer) -> None:
    for image in _rois(321):
        got = np.asarray(call(answer, image.copy(), what="flip_left_right(image)"))
        expect(got.shape == image.shape and np.array_equal(got, flip(image, "left")),
               "your flip differs from Table 1's left/right flip (mirror the columns, keep the rows)")


def check_rotate90(answer) -> None:
    for k in (0, 1, 2, 3):
        image = _rois(330 + k)[0]
        got = np.asarray(call(answer, image.copy(), k, what="rotate90(image, k)"))
        expect(got.shape == image.shape and np.array_equal(got, _rotate90(image, k)),
               f"rotate90(image, {k}) differs from augment.rotate(image, {90 * k}) (counter-clockwise, like np.rot90)")


def check_inflated_size(answer) -> None:
    answer = value(answer, "inflated_size_guess")
    try:
        got = int(answer)
    except (TypeError, ValueError):
        raise WrongAnswer(f"inflated_size_guess should be a number, got {answer!r}") from None
    want = _inflated_size(10, 8)
    expect(got == want, f"you predicted {got}; inflate(10 ROIs, factor=8) returns {want} images — run it and see why")


NB = '03_augmentation'
EXERCISES = [
    Exercise('q03_patient_split', NB, 'patient_split', check_patient_split, fallback=_patient_split),
    Exercise('q03_leaked_patients', NB, 'leaked_patients', check_leaked_patients),
    Exercise('q03_same_flip', NB, 'same_flip_guess', check_same_flip, kind='predict'),
    Exercise('q03_flip', NB, 'flip_left_right', check_flip),
    Exercise('q03_rotate90', NB, 'rotate90', check_rotate90, fallback=_rotate90),
    Exercise('q03_inflated_size', NB, 'inflated_size_guess', check_inflated_size, kind='predict'),
]

WRITTEN = [
    "The paper's split counts suggest it augmented the pooled data before splitting. In your own words, why would that flatter the test score, and what did the leakage lab measure in this run — and how sure is it?",
]
