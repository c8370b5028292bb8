"""Notebook 01's exercises: MIAS coordinates, patient ids, sides and class counts.

Each check draws fresh inputs and compares the student's answer with the package
(``mammokit.data``), the answer key.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mammokit.data import counts
from mammokit.data.mias import patient_of
from mammokit.exercises import Exercise, WrongAnswer, call, expect

NB = "01_data"
_RNG = np.random.default_rng


def ref_row_index(y, height):
    """MIAS gives y from the bottom edge; array rows count from the top."""
    return height - 1 - y


def ref_patient_id(image_id: str) -> str:
    return patient_of(image_id)[0]


def ref_side(image_id: str) -> str:
    return patient_of(image_id)[1]


def ref_class_counts(catalog: pd.DataFrame) -> dict[str, int]:
    c = counts(catalog)
    return {"normal": c["normal_rows"], "benign": c["benign_rows"], "malignant": c["malignant_rows"]}


def _ids(n: int, seed: int) -> list[str]:
    return [f"mdb{k:03d}" for k in _RNG(seed).integers(1, 323, n)]


def check_row_index(answer) -> None:
    rng = _RNG(101)
    for height in (1024, *rng.integers(50, 4000, 4).tolist()):
        y = rng.integers(0, height, 6)
        got = np.asarray(call(answer, y, height, what="row_index(y, height)"), dtype=float)
        want = ref_row_index(y, height)
        expect(got.shape == want.shape, f"row_index(y, height) on an array of {y.size} y values returned shape "
                                        f"{got.shape}; return one row per y (numpy arithmetic does that)")
        bad = np.flatnonzero(got != want)
        expect(bad.size == 0, f"row_index(y={y[bad[0]] if bad.size else ''}, height={height}) gave "
                              f"{got[bad[0]] if bad.size else ''}, expected {want[bad[0]] if bad.size else ''}: "
                              "y = 0 is the BOTTOM row, i.e. row height - 1")


def check_patient_id(answer) -> None:
    for image_id in ["mdb001", "mdb002", *_ids(10, 102)]:
        got = call(answer, image_id, what="patient_id(image_id)")
        want = ref_patient_id(image_id)
        expect(got == want, f"patient_id({image_id!r}) gave {got!r}, expected {want!r}: films 2k-1 and 2k are "
                            "one patient's left/right pair, written 'p' + three digits")


def check_side(answer) -> None:
    for image_id in ["mdb001", "mdb002", *_ids(10, 103)]:
        got = call(answer, image_id, what="side(image_id)")
        want = ref_side(image_id)
        expect(got == want, f"side({image_id!r}) gave {got!r}, expected {want!r}: in MIAS an even number is a left film")


def _random_catalog(seed: int, n: int = 40) -> pd.DataFrame:
    rng = _RNG(seed)
    severity = rng.choice(["B", "M", None], n, p=[0.3, 0.3, 0.4])
    abnormality = np.where(pd.isna(severity), "NORM", rng.choice(["CIRC", "CALC", "SPIC"], n))
    ids = [f"mdb{k:03d}" for k in range(1, n + 1)]
    return pd.DataFrame({"image_id": ids, "patient_id": [ref_patient_id(i) for i in ids], "abnormality": abnormality,
                         "severity": severity, "row": rng.choice([np.nan, 100.0], n)})


def check_class_counts(answer) -> None:
    for seed in (104, 105, 106):
        catalog = _random_catalog(seed)
        got = call(answer, catalog.copy(), what="class_counts(catalog)")
        want = ref_class_counts(catalog)
        expect(isinstance(got, dict), f"class_counts should return a dict like {want}, got {type(got).__name__}")
        got = {k: int(v) for k, v in got.items()}
        expect(got == want, f"class_counts on a {len(catalog)}-row catalog gave {got}, expected {want} "
                            "(normal: abnormality NORM; benign/malignant: severity B/M)")


def check_films_per_patient(answer) -> None:
    want = pd.Series([ref_patient_id(f"mdb{k:03d}") for k in range(1, 323)]).value_counts().unique()
    expect(len(want) == 1, "the package's patient ids no longer pair films")  # guards the key itself
    try:
        got = int(answer)
    except (TypeError, ValueError):
        raise WrongAnswer(f"films_per_patient should be a number, got {answer!r}") from None
    expect(got == int(want[0]), f"you predicted {got}; run the next cell to see the real number")


EXERCISES = [
    Exercise(
        "q01_row_index", NB, "row_index", check_row_index, ref_row_index, anchor="mk.plots.origin_trap(",
        prompt="**Exercise (q01_row_index).** MIAS's `Info.txt` measures `y` from the *bottom* of the film; numpy "
               "rows count from the *top*. Write `row_index(y, height)` that turns one `y` (or a numpy array of "
               "them) into the array row of the same point.",
        solution="def row_index(y, height):\n    \"\"\"Array row of a MIAS y coordinate (origin bottom-left).\"\"\"\n"
                 "    # BEGIN SOLUTION\n    return height - 1 - y\n    # END SOLUTION",
        follow="row_of = mk.exercises.use(\"q01_row_index\", row_index)\n"
               "lesions = catalog[catalog[\"y\"].notna()]\n"
               "print(\"rows agree with the catalog:\", bool((row_of(lesions[\"y\"], lesions[\"height\"]) == lesions[\"row\"]).all()))"),
    Exercise(
        "q01_patient_id", NB, "patient_id", check_patient_id, ref_patient_id, anchor="films_per_patient =",
        prompt="**Exercise (q01_patient_id).** In MIAS, films `mdb001`/`mdb002` are one woman's two breasts, "
               "`mdb003`/`mdb004` the next, and so on. Write `patient_id(image_id)` that returns `'p001'` for "
               "`'mdb001'` and `'mdb002'`, `'p002'` for `'mdb003'`, ….",
        solution="def patient_id(image_id):\n    \"\"\"'mdb005' -> 'p003': two consecutive films per patient.\"\"\"\n"
                 "    # BEGIN SOLUTION\n    number = int(image_id[3:])\n    return f\"p{(number + 1) // 2:03d}\"\n"
                 "    # END SOLUTION",
        follow="pid = mk.exercises.use(\"q01_patient_id\", patient_id)\n"
               "print(\"patient of\", catalog.image_id.iloc[0], \"->\", pid(catalog.image_id.iloc[0]))"),
    Exercise(
        "q01_side", NB, "side", check_side, ref_side, anchor="films_per_patient =",
        prompt="**Exercise (q01_side).** Write `side(image_id)`: `'L'` for a left film (even number in MIAS), "
               "`'R'` for a right one.",
        solution="def side(image_id):\n    \"\"\"'L' for an even MIAS number, 'R' for an odd one.\"\"\"\n"
                 "    # BEGIN SOLUTION\n    return \"L\" if int(image_id[3:]) % 2 == 0 else \"R\"\n    # END SOLUTION"),
    Exercise(
        "q01_class_counts", NB, "class_counts", check_class_counts, ref_class_counts, anchor="counts = mk.data.counts(",
        prompt="**Exercise (q01_class_counts).** Write `class_counts(catalog)` returning a dict "
               "`{'normal': …, 'benign': …, 'malignant': …}` of catalog rows (normal: `abnormality == 'NORM'`; "
               "benign/malignant: `severity` `'B'`/`'M'`).",
        solution="def class_counts(catalog):\n    \"\"\"Rows per class: the imbalance every later notebook fights.\"\"\"\n"
                 "    # BEGIN SOLUTION\n    return {\"normal\": int((catalog[\"abnormality\"] == \"NORM\").sum()),\n"
                 "            \"benign\": int((catalog[\"severity\"] == \"B\").sum()),\n"
                 "            \"malignant\": int((catalog[\"severity\"] == \"M\").sum())}\n    # END SOLUTION",
        follow="print(mk.exercises.use(\"q01_class_counts\", class_counts)(catalog))"),
    Exercise(
        "q01_films_per_patient", NB, "films_per_patient_guess", check_films_per_patient, 2,
        anchor="counts = mk.data.counts(", kind="predict",
        prompt="**Predict, then run (q01_films_per_patient).** Before the patient-pair cell below: how many films "
               "does one MIAS patient have? Write a number.",
        solution="films_per_patient_guess = 2  # SOLUTION"),
]

WRITTEN = [
    "In two or three sentences: why would a model evaluated with one film of a patient in training and her "
    "other film in test look better than it is?",
]
