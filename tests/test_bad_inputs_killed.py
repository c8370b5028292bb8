"""Adversarial leftovers (issue 23, items 5.2 and 5.4-5.6): files cut short by a killed run, an
interrupted copy or download — images (PGM with long comments, PNG, DICOM), the ROI cache, and the
run folder's predictions, histories and metrics. Each is named with the file (and line) and the fix,
or, for the kit's own cache, rebuilt with a one-line notice; never a pandas, numpy or pydicom error."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from bad_inputs import INFO_HEAD, check_case, file

from mammokit import evaluate as ev
from mammokit import cache, roi, runs
from mammokit.data import load_catalog, read_image, synthetic
from mammokit.data.dicom import write_dicom
from mammokit.errors import ConfigError, DataError

PRED_HEAD = "image_id,patient_id,label,proba,split\n"
HIST_HEAD = "epoch,loss,val_loss\n"


def _dicom_bytes(tmp: Path) -> bytes:
    path = write_dicom(tmp / "full.dcm", np.arange(4096, dtype=np.uint16).reshape(64, 64), bits_stored=12)
    data = path.read_bytes()
    path.unlink()
    return data


def _dicom_cut(tmp: Path, keep) -> np.ndarray:
    data = _dicom_bytes(tmp)
    return read_image(file(tmp, "cut.dcm", data[:keep(len(data))]))


def _manifest_cut_dicom(tmp: Path) -> pd.DataFrame:
    file(tmp, "a.dcm", _dicom_bytes(tmp)[:300])
    return load_catalog(file(tmp, "m.csv", b"path,patient_id,label\na.dcm,P1,normal\n"))


def _png(cut) -> bytes:
    ok, buffer = cv2.imencode(".png", (np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8))
    data = buffer.tobytes()
    return data[:cut(len(data))]


def _info_with_film(tmp: Path, film: bytes) -> pd.DataFrame:
    file(tmp, "Info.txt", (INFO_HEAD + "mdb001 F NORM\n").encode())
    file(tmp, "mdb001.pgm", film)
    return load_catalog(tmp)


def _predictions(tmp: Path, text: bytes | str) -> pd.DataFrame:
    file(tmp / "predictions", "convnet.csv", text.encode() if isinstance(text, str) else text)
    return runs.read_predictions(tmp)


def _history(tmp: Path, text: bytes | str) -> pd.DataFrame:
    return runs.read_history(file(tmp / "history", "convnet.csv", text.encode() if isinstance(text, str) else text))


def _records(tmp: Path, data: bytes):
    file(tmp / "metrics", "01_data.json", data)
    return runs.read_records(tmp)


PREDS = pd.DataFrame({"model": ["a", "a", "b", "b"], "label": [0, 1, 0, 1], "proba": [0.2, 0.8, 0.3, 0.7],
                      "patient_id": ["p1", "p2", "p1", "p2"]})
LONG = b"# " + b"c" * 3000 + b"\n"  # a legal comment, longer than the 1 KiB pgm_shape used to read

CASES = [
    # --- images cut short ---
    ("pgm-long-comment-cut-in-header", lambda t: _info_with_film(t, b"P5\n" + LONG[:2000]), DataError,
     ("mdb001.pgm", "truncated")),
    ("pgm-long-comment-cut-before-maxval", lambda t: _info_with_film(t, b"P5\n" + LONG + b"16 16"), DataError,
     ("mdb001.pgm", "header ends early", "truncated")),
    ("pgm-long-comment-cut-in-pixels", lambda t: read_image(file(t, "a.pgm", b"P5\n" + LONG + b"16 16\n255\n" + bytes(100))),
     DataError, ("a.pgm", "100 bytes", "256 bytes", "truncated")),
    ("pgm-comment-after-width-cut", lambda t: read_image(file(t, "b.pgm", b"P5\n16\n" + LONG)), DataError,
     ("b.pgm", "truncated")),
    ("pgm-8bit-cut-in-pixels", lambda t: read_image(file(t, "c.pgm", b"P5\n4 4\n255\n" + bytes(15))), DataError,
     ("c.pgm", "15 bytes", "truncated")),
    ("png-cut-in-half", lambda t: read_image(file(t, "a.png", _png(lambda n: n // 2))), DataError,
     ("a.png", "truncated", "bytes")),
    ("png-without-end-chunk", lambda t: read_image(file(t, "b.png", _png(lambda n: n - 12))), DataError,
     ("b.png", "truncated", "no end chunk")),
    ("dicom-cut-in-pixels", lambda t: _dicom_cut(t, lambda n: n - 4000), DataError,
     ("cut.dcm", "truncated", "bytes", "export it again")),
    ("dicom-cut-one-byte-short", lambda t: _dicom_cut(t, lambda n: n - 1), DataError, ("cut.dcm", "truncated")),
    ("dicom-cut-in-header", lambda t: _dicom_cut(t, lambda n: 300), DataError, ("cut.dcm", "truncated", "300 bytes")),
    ("dicom-cut-in-pixel-element-header", lambda t: _dicom_cut(t, lambda n: n - 8192 - 6), DataError,
     ("cut.dcm", "truncated", "stray byte")),
    ("dicom-cut-in-preamble", lambda t: _dicom_cut(t, lambda n: 100), DataError, ("cut.dcm", "cut short?", "100 bytes")),
    ("manifest-dicom-cut-in-header", _manifest_cut_dicom, DataError, ("m.csv line 2", "a.dcm", "300 bytes", "truncated")),
    # --- a killed run's predictions ---
    ("predictions-empty-file", lambda t: _predictions(t, b""), DataError, ("convnet.csv", "empty", "rerun")),
    ("predictions-blank-lines", lambda t: _predictions(t, "\n\n\n"), DataError, ("convnet.csv", "empty")),
    ("predictions-header-cut", lambda t: _predictions(t, "image_id,patient_id,lab"), DataError,
     ("convnet.csv", "missing column", "proba")),
    ("predictions-last-row-cut", lambda t: _predictions(t, PRED_HEAD + "a,p1,1,0.9,test\nb,p2,0"), DataError,
     ("convnet.csv line 3", "proba", "Delete the file")),
    ("predictions-label-missing", lambda t: _predictions(t, PRED_HEAD + "a,p1,,0.9,test\n"), DataError,
     ("convnet.csv line 2", "label")),
    ("predictions-proba-not-a-number", lambda t: _predictions(t, PRED_HEAD + "a,p1,1,0.9x,test\n"), DataError,
     ("convnet.csv line 2", "'0.9x'")),
    ("predictions-ragged-row", lambda t: _predictions(t, PRED_HEAD + "a,p1,1,0.9,test\nb,p2,0,0.1,test,x,y\n"),
     DataError, ("convnet.csv", "damaged")),
    ("predictions-binary", lambda t: _predictions(t, b"\xff\xfe\x00\x01\x9c" * 40), DataError, ("convnet.csv", "damaged")),
    # --- a killed run's history and metrics ---
    ("history-blank-lines", lambda t: _history(t, "\n\n"), DataError, ("convnet.csv", "empty or damaged")),
    ("history-epoch-missing", lambda t: _history(t, HIST_HEAD + "0,0.5,0.6\n,0.4,0.5\n"), DataError,
     ("convnet.csv line 3", "epoch", "train again")),
    ("history-epoch-fraction", lambda t: _history(t, HIST_HEAD + "0.5,0.5,0.6\n"), DataError,
     ("convnet.csv line 2", "whole number")),
    ("history-ragged-row", lambda t: _history(t, HIST_HEAD + "0,0.5,0.6\n1,0.4,0.5,9,9\n"), DataError,
     ("convnet.csv", "damaged")),
    ("history-binary", lambda t: _history(t, b"\x00\xff\xfe\x80" * 50), DataError, ("convnet.csv", "damaged")),
    ("records-empty-json", lambda t: _records(t, b""), DataError, ("01_data.json", "not a readable metrics record")),
    ("records-json-cut-in-string", lambda t: _records(t, b'{"auc": 0.5, "no'), DataError, ("01_data.json", "delete it")),
    ("records-utf16-json", lambda t: _records(t, '{"auc": 0.5}'.encode("utf-16")), DataError, ("01_data.json",)),
    ("record-into-empty-json", lambda t: (file(t / "metrics", "02_preprocessing.json", b""),
                                          runs.record(t, "02_preprocessing", {"auc": 1})), DataError,
     ("02_preprocessing.json", "rerun")),
    ("preprocess-choice-cut-json", lambda t: (file(t / "metrics", "02_preprocessing.json", b'{"config": {"cla'),
                                              runs.preprocess_choice(t)), DataError, ("02_preprocessing.json",)),
    # --- tables handed to metrics_table ---
    ("metrics-table-without-proba", lambda t: ev.metrics_table(PREDS.drop(columns="proba")), DataError,
     ("metrics_table", "'proba'", "read_predictions")),
    ("metrics-table-without-model", lambda t: ev.metrics_table(PREDS.drop(columns="model")), DataError,
     ("'model'", "by=")),
    ("metrics-table-by-typo", lambda t: ev.metrics_table(PREDS, by="modle"), DataError, ("'modle'",)),
    ("metrics-table-ci-without-patient", lambda t: ev.metrics_table(PREDS.drop(columns="patient_id"), ci=True),
     DataError, ("'patient_id'",)),
    ("metrics-table-threshold-missing-model", lambda t: ev.metrics_table(PREDS, threshold={"a": 0.5}), DataError,
     ("threshold", "model(s) b")),
    ("metrics-table-not-a-table", lambda t: ev.metrics_table({"label": [0, 1]}), DataError, ("DataFrame", "dict")),
    ("metrics-table-killed-run", lambda t: ev.metrics_table(_predictions(t, PRED_HEAD + "a,p1,1,0.9,test\nb,p2,0,")),
     DataError, ("convnet.csv line 3", "proba")),
]


def test_at_least_thirty_distinct_leftover_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize("action,error,needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_file_cut_short_is_named(tmp_path: Path, action, error, needles):
    check_case(tmp_path, action, error, needles)


def test_a_header_only_predictions_file_is_no_predictions(tmp_path: Path):
    table = _predictions(tmp_path, PRED_HEAD)
    assert table.empty and list(table.columns) == [*runs.PREDICTION_COLUMNS, "model"]


@pytest.mark.slow
@pytest.mark.parametrize("data", [b"", b"PK\x03\x04" + bytes(30)], ids=["empty", "zip-cut-short"])
def test_a_model_cut_short_is_named(tmp_path: Path, data: bytes):
    from mammokit import train

    check_case(tmp_path, lambda t: train.load_model(file(t / "models", "convnet.keras", data)), DataError,
               ("convnet.keras", "half-copied or damaged"))


def test_a_missing_model_is_named(tmp_path: Path):
    from mammokit import train

    check_case(tmp_path, lambda t: train.load_model(t / "models" / "convnet.keras"), ConfigError,
               ("convnet.keras", "train it first"))


# --- the ROI cache: a damaged entry is rebuilt, with one line saying so ------------------------------

def _cut(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _swap_images(entry: Path) -> None:
    images = np.load(entry / "images.npy")
    np.save(entry / "images.npy", images[:, ::-1])  # same shape, other pixels: only the checksum tells


DAMAGE = [
    ("images-cut-short", lambda e: _cut(e / "images.npy")),
    ("images-header-only", lambda e: (e / "images.npy").write_bytes((e / "images.npy").read_bytes()[:128])),
    ("images-empty", lambda e: (e / "images.npy").write_bytes(b"")),
    ("images-other-pixels", _swap_images),
    ("table-cut-short", lambda e: _cut(e / "table.json")),
    ("table-missing", lambda e: (e / "table.json").unlink()),
    ("checksum-missing", lambda e: (e / "sha256.json").unlink()),
    ("checksum-cut-short", lambda e: _cut(e / "sha256.json")),
]


@pytest.mark.parametrize("damage", [d[1] for d in DAMAGE], ids=[d[0] for d in DAMAGE])
def test_a_damaged_roi_cache_is_rebuilt_with_a_notice(tmp_path: Path, monkeypatch, capsys, damage):
    monkeypatch.setenv("MAMMOKIT_CACHE", str(tmp_path / "cache"))
    catalog = load_catalog(synthetic.write_phantoms(tmp_path / "set", n_patients=2, size=128, seed=1))
    first = roi.build_roi_dataset(catalog, size=32, progress=False)
    [entry] = (tmp_path / "cache" / "roi").iterdir()
    capsys.readouterr()
    damage(entry)
    again = roi.build_roi_dataset(catalog, size=32, progress=False)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(entry) in err and "damaged" in err and "rebuilding" in err, err
    assert np.array_equal(first.images, again.images)
    pd.testing.assert_frame_equal(first.table, again.table)
    roi.build_roi_dataset(catalog, size=32, progress=False)  # repaired: read back without a word
    assert capsys.readouterr().err == ""
    assert json.loads((entry / "sha256.json").read_text()) == cache.digest(entry)
