"""Notebook 01's exercise checks, generated from notebooks/solutions/01_data.md by
`mammokit masters`: edit them there (cells tagged `check`), not here.
"""
from __future__ import annotations

from mammokit.exercises.spec import Exercise, Forbidden
import numpy as np
import pandas as pd
from mammokit.data import counts
from mammokit.data.mias import patient_of
from mammokit.exercises.spec import WrongAnswer, call, expect, rng, value


def _patient(image_id: str) -> str:
    return patient_of(image_id)[0]


def _side(image_id: str) -> str:
    return patient_of(image_id)[1]


def _class_counts(catalog: pd.DataFrame) -> dict[str, int]:
    c = counts(catalog)
    return {"normal": c["normal_rows"], "benign": c["benign_rows"], "malignant": c["malignant_rows"]}


def _ids(n: int, seed: int) -> list[str]:
    return [f"mdb{k:03d}" for k in rng(seed).integers(1, 323, n)]


def _phantoms() -> pd.DataFrame:
    """The catalog notebook 01 really has without MIAS: the phantoms, every documented column."""
    from mammokit.data import load_catalog

    return load_catalog("synthetic")


def _catalogs(seed: int) -> list[pd.DataFrame]:
    """The phantom catalog, two fresh samples of its rows, and a MIAS-like table with
    ``None`` severities (the columns a loader fills: label consistent with severity)."""
    full, draw = _phantoms(), rng(seed)
    samples = [full.sample(int(draw.integers(10, len(full))), random_state=int(draw.integers(1 << 31)))
               .reset_index(drop=True) for _ in range(2)]
    n = 40
    severity = draw.choice(np.array(["B", "M", None], dtype=object), n, p=[0.3, 0.3, 0.4])
    ids = [f"mdb{k:03d}" for k in range(1, n + 1)]
    mias = pd.DataFrame({"image_id": ids, "patient_id": [_patient(i) for i in ids],
                         "abnormality": np.where(pd.isna(severity), "NORM", draw.choice(["CIRC", "CALC", "SPIC"], n)),
                         "severity": severity,
                         "label": pd.array([{"B": 0, "M": 1}.get(s) for s in severity], dtype="Int64"),
                         "row": draw.choice([np.nan, 100.0], n)})
    return [full, *samples, mias]


def check_class_counts(answer) -> None:
    for catalog in _catalogs(104):
        got = call(answer, catalog.copy(), what="class_counts(catalog)")
        want = _class_counts(catalog)
        expect(isinstance(got, dict), f"class_counts should return a dict like {want}, got {type(got).__name__}")
        try:
            got = {k: int(v) for k, v in got.items()}
        except (TypeError, ValueError):
            raise WrongAnswer(f"class_counts should map each class to a whole number, got {got}") from None
        expect(got == want, f"class_counts on a {len(catalog)}-row catalog gave {got}, expected {want} "
                            "(normal: abnormality NORM; benign/malignant: severity B/M, or label 0/1)")


def check_films_per_patient(answer) -> None:
    """A prediction: only its form is checked (the reveal cell shows the answer)."""
    got = value(answer, "films_per_patient_guess")
    expect(type(got) is int and got >= 1, f"write a whole number of films (1 or more), got {got!r}")


def check_row_index(answer) -> None:
    draw = rng(101)
    for height in (1024, *draw.integers(50, 4000, 4).tolist()):
        y = draw.integers(0, height, 6)
        got = np.asarray(call(answer, y.copy(), height, what="row_index(y, height)"), dtype=float)
        want = (height - 1) - y  # the MIAS loader's rows (mammokit.data.mias)
        expect(got.shape == want.shape, f"row_index(y, height) on an array of {y.size} y values returned shape "
                                        f"{got.shape}; return one row per y (numpy arithmetic does that)")
        bad = np.flatnonzero(got != want)
        expect(bad.size == 0, f"row_index(y={y[bad[0]] if bad.size else ''}, height={height}) gave "
                              f"{got[bad[0]] if bad.size else ''}, which is not the array row of that point: MIAS "
                              "measures y up from the BOTTOM edge, numpy counts rows down from the top row 0")


def check_patient_id(answer) -> None:
    for image_id in ["mdb001", "mdb002", *_ids(10, 102)]:
        got = call(answer, image_id, what="patient_id(image_id)")
        want = _patient(image_id)
        expect(got == want, f"patient_id({image_id!r}) gave {got!r}, expected {want!r}: films 2k-1 and 2k are "
                            "one patient's left/right pair, written 'p' + three digits")


def check_side(answer) -> None:
    for image_id in ["mdb001", "mdb002", *_ids(10, 103)]:
        got = call(answer, image_id, what="side(image_id)")
        want = _side(image_id)
        expect(got == want, f"side({image_id!r}) gave {got!r}, expected {want!r}: in MIAS an even number is a left film")


NB = '01_data'
EXERCISES = [
    Exercise('q01_class_counts', NB, 'class_counts', check_class_counts, fallback=_class_counts, forbids=(Forbidden('mammokit.data.catalog.counts', "it is the kit's own answer (mk.data.counts); the exercise is selecting rows by abnormality and severity yourself"), )),
    Exercise('q01_films_per_patient', NB, 'films_per_patient_guess', check_films_per_patient, kind='predict'),
    Exercise('q01_row_index', NB, 'row_index', check_row_index),
    Exercise('q01_patient_id', NB, 'patient_id', check_patient_id, fallback=_patient, forbids=(Forbidden('mammokit.data.mias.patient_of', "it is the kit's own answer; the exercise is the film-pair arithmetic (2k-1, 2k -> patient k)"), )),
    Exercise('q01_side', NB, 'side', check_side, forbids=(Forbidden('mammokit.data.mias.patient_of', "it is the kit's own answer; the exercise is reading the side from the film number's parity"), )),
]

WRITTEN = [
    'In two or three sentences: why would a model evaluated with one film of a patient in training and her other film in test look better than it is?',
]
