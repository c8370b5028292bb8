"""Adversarial API use (class 6 of issue 12): wrong shapes, thresholds, folders and tables reach
the kit's own error, naming the argument, never a Keras, TensorFlow, numpy or scikit-learn one."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bad_inputs import check_case, file, mias

from mammokit import evaluate as ev
from mammokit import datasets, finetune, roi, runs, splits, train
from mammokit.data import load_catalog
from mammokit.errors import ConfigError, DataError
from mammokit.evaluate import EvaluationError


def _table(patients: int, per_patient: int = 2, malignant_patients: int | None = None) -> pd.DataFrame:
    malignant = patients // 2 if malignant_patients is None else malignant_patients
    rows = [{"patient_id": f"p{p}", "label": int(p < malignant)} for p in range(patients) for _ in range(per_patient)]
    return pd.DataFrame(rows)


def _normals_only(tmp: Path):
    from mammokit import roi

    return roi.build_roi_dataset(load_catalog(mias(tmp, "mdb001 F NORM\nmdb002 F CALC B\n", images=("mdb001", "mdb002"))),
                                 cache=False, progress=False)


Y, P = [0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8]
CASES = [
    ("split-one-patient", lambda t: splits.split_by_patient(_table(1, 4, 1)), ConfigError,
     ("split_by_patient", "1 patient(s)", "3 sides")),
    ("split-two-patients-three-sides", lambda t: splits.split_by_patient(_table(2)), ConfigError, ("2 patient(s)",)),
    ("split-ratios-negative", lambda t: splits.split_by_patient(_table(6), ratios=(1.2, -0.1, -0.1)), ConfigError,
     ("ratios=",)),
    ("split-normal-rows", lambda t: splits.split_by_patient(pd.DataFrame({"patient_id": ["a"], "label": [None]})),
     ConfigError, ("no label",)),
    ("kfold-more-folds-than-malignant-patients", lambda t: splits.kfold_by_patient(_table(12, 2, 3), k=5), ConfigError,
     ("k=5", "3 patient(s)", "malignant", "k <= 3")),
    ("kfold-more-folds-than-benign-patients", lambda t: splits.kfold_by_patient(_table(12, 2, 10), k=4), ConfigError,
     ("k=4", "benign")),
    ("kfold-one-fold", lambda t: splits.kfold_by_patient(_table(6), k=1), ConfigError, ("k=1",)),
    ("kfold-float-k", lambda t: splits.kfold_by_patient(_table(6), k=2.5), ConfigError, ("k=2.5",)),
    ("metrics-threshold-percent", lambda t: ev.binary_metrics(Y, P, threshold=50), EvaluationError,
     ("threshold=50", "[0, 1]", "percentage")),
    ("metrics-threshold-negative", lambda t: ev.binary_metrics(Y, P, threshold=-0.1), EvaluationError, ("threshold=-0.1",)),
    ("metrics-threshold-text", lambda t: ev.binary_metrics(Y, P, threshold="0.5"), EvaluationError, ("threshold='0.5'",)),
    ("metrics-threshold-bool", lambda t: ev.binary_metrics(Y, P, threshold=True), EvaluationError, ("threshold=True",)),
    ("metrics-proba-nan", lambda t: ev.binary_metrics(Y, [0.1, np.nan, 0.2, 0.8]), EvaluationError,
     ("1 NaN", "index 1")),
    ("metrics-proba-inf", lambda t: ev.binary_metrics(Y, [0.1, 0.3, np.inf, 0.8]), EvaluationError, ("index 2",)),
    ("metrics-proba-percent", lambda t: ev.binary_metrics(Y, [10, 90, 20, 80]), EvaluationError, ("[0, 1]",)),
    ("metrics-labels-normal", lambda t: ev.binary_metrics([0, 1, 2, 1], P), EvaluationError, ("found [2]",)),
    ("metrics-proba-short", lambda t: ev.binary_metrics(Y, P[:3]), EvaluationError, ("shape (3,)",)),
    ("bootstrap-threshold-percent", lambda t: ev.bootstrap_ci(Y, P, ["a", "b", "c", "d"], threshold=50),
     EvaluationError, ("bootstrap_ci", "threshold=50")),
    ("bootstrap-zero-resamples", lambda t: ev.bootstrap_ci(Y, P, ["a", "b", "c", "d"], n_boot=0), EvaluationError,
     ("n_boot=0",)),
    ("bootstrap-groups-short", lambda t: ev.bootstrap_ci(Y, P, ["a"]), EvaluationError, ("groups",)),
    ("predictions-run-misspelled", lambda t: runs.read_predictions(t / "rnu"), DataError,
     ("rnu", "not a folder", "spelling")),
    ("predictions-missing-column", lambda t: (file(t / "predictions", "m.csv", b"image_id,label\na,1\n"),
                                              runs.read_predictions(t)), DataError, ("m.csv", "proba")),
    ("predictions-save-missing-column", lambda t: runs.save_predictions(t, "m", pd.DataFrame({"proba": [0.5]})),
     ConfigError, ("save_predictions", "image_id")),
    ("predictions-table-length", lambda t: ev.predictions_table(type("D", (), {"table": _table(2)})(), None, [0.5]),
     EvaluationError, ("1 probabilities", "4 ROIs")),
    ("rois-normals-only", _normals_only, DataError, ("no benign or malignant lesion with a centre",)),
    ("class-weight-missing-class", lambda t: datasets.class_weights(np.array([0, 1]), {0: 1.0}), ConfigError,
     ("class_weight={0: 1.0}", "both classes")),
    ("class-weight-negative", lambda t: datasets.class_weights(np.array([0, 1]), {0: 1.0, 1: -2.0}), ConfigError,
     ("-2.0",)),
    ("class-weight-text", lambda t: datasets.class_weights(np.array([0, 1]), {0: "a", 1: 1}), ConfigError, ("'a'",)),
    ("class-weight-extra-class", lambda t: datasets.class_weights(np.array([0, 1]), {0: 1, 1: 1, 2: 1}), ConfigError,
     ("2: 1",)),
    ("class-weight-unknown-mode", lambda t: datasets.class_weights(np.array([0, 1]), "balance"), ConfigError, ("'balance'",)),
    ("class-weight-one-class", lambda t: datasets.class_weights(np.array([0, 0]), "balanced"), ConfigError, ("[2, 0]",)),
    ("history-empty-file", lambda t: runs.read_history(file(t, "convnet.csv", b"")), DataError,
     ("convnet.csv", "empty or damaged")),
    ("history-missing", lambda t: runs.read_history(runs.history_path(t, "convnet")), DataError,
     ("convnet.csv", "train first")),
    ("history-not-a-history", lambda t: runs.read_history(file(t, "h.csv", b"a,b\n1,2\n")), DataError,
     ("h.csv", "'epoch'")),
    ("model-missing", lambda t: train.load_model(t / "convnet.keras"), ConfigError, ("convnet.keras", "train it first")),
    ("features-float-images", lambda t: finetune.extract_features("VGG19", np.zeros((2, 8, 8))), DataError,
     ("extract_features", "uint8")),
    ("roi-radius-typo", lambda t: roi.extract_roi(np.zeros((64, 64), np.uint8), 10, 10, 300000), ConfigError,
     ("radius=300000", "64x64")),
    ("roi-size-zero", lambda t: roi.extract_roi(np.zeros((64, 64), np.uint8), 10, 10, 5, size=0), ConfigError,
     ("size=0",)),
    ("record-damaged-json", lambda t: (file(t / "metrics", "04_convnet.json", b'{"auc": 0.'),
                                       runs.record(t, "04_convnet", {"auc": 1})), DataError,
     ("04_convnet.json", "not a readable metrics record")),
    ("records-not-an-object", lambda t: (file(t / "metrics", "01_data.json", b"[1, 2]"), runs.read_records(t)),
     DataError, ("01_data.json", "JSON object", "list")),
    ("features-unknown-backbone", lambda t: finetune.extract_features("VGG20", np.zeros((2, 8, 8), np.uint8)),
     ConfigError, ("VGG20",)),
]


def test_at_least_thirty_distinct_api_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize("action,error,needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_api_misuse_is_named(tmp_path: Path, action, error, needles):
    check_case(tmp_path, action, error, needles)


# --- the cases that need Keras (a model is built once) -------------------------------------------

@pytest.fixture(scope="module")
def convnet():
    from mammokit import models

    return models.build_convnet(input_shape=(32, 32, 1), filters=(4, 8), dense=8)


def _rois(n: int, size: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (n, size, size), dtype=np.uint8)


def _half_model(tmp: Path, model) -> None:
    path = tmp / "convnet.keras"
    model.save(path)
    path.write_bytes(path.read_bytes()[:2000])  # a copy cut short
    train.load_model(path)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["val-size", "predict-size", "class-weight", "half-model"])
def test_keras_misuse_is_named(tmp_path: Path, convnet, case):
    labels = np.array([0, 1] * 4)
    quiet = train.TrainConfig(augment=False, verbose=0)
    actions = {
        "val-size": (lambda t: train.fit(convnet, (_rois(8, 32), labels), (_rois(4, 48), labels[:4]), quiet,
                                         run_dir=t), ConfigError, ("validation ROIs", "(48, 48)")),
        "predict-size": (lambda t: train.predict_proba(convnet, _rois(4, 40)), ConfigError,
                         ("predict_proba", "(40, 40)", "size=32")),
        "class-weight": (lambda t: train.TrainConfig(class_weight={1: 2.0}), ConfigError, ("both classes",)),
        "half-model": (lambda t: _half_model(t, convnet), DataError, ("convnet.keras", "half-copied")),
    }
    action, error, needles = actions[case]
    check_case(tmp_path, action, error, needles)
    history = tmp_path / "history" / "convnet.csv"
    assert not history.exists(), "a refused fit must not leave a 0-byte history"


# --- the same mistake raises the same class everywhere ---------------------------------------------

def test_a_wrong_image_is_a_data_error_in_every_module(convnet):
    from mammokit import augment, explain, models, preprocess, roi

    volume = np.zeros((2, 32, 32), np.uint8)  # a stack where one 2-D image belongs
    floats = np.zeros((2, 32, 32), np.float32)  # not uint8 ROIs
    calls = {
        "preprocess": lambda: preprocess.preprocess(volume, preprocess.PreprocessConfig()),
        "roi.crop_around": lambda: roi.crop_around(volume, 1, 1, 3),
        "augment": lambda: augment.sharpen(floats[0], 1),
        "models.check_rois": lambda: models.check_rois(floats),
        "datasets.make_dataset": lambda: datasets.make_dataset(floats),
        "train.predict_proba": lambda: train.predict_proba(convnet, floats),
        "finetune.extract_features": lambda: finetune.extract_features("VGG19", floats),
        "explain.grad_cam": lambda: explain.grad_cam(convnet, floats),
    }
    for call in calls.values():
        with pytest.raises(DataError):
            call()
