"""Adversarial disks (issue 23, items 5.3 and 5.7): every writer of the kit goes through
mammokit.files, so a full disk, a used-up quota, a read-only disk or a permission error is a
WriteError naming the file, the free space and the fix — and leaves no partial file or temp
debris. And the CLI given one image where it takes a data set says what it got and what it takes."""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from bad_inputs import check_case, mias, snapshot

from mammokit import cli, roi, runs
from mammokit.data import load_catalog, synthetic, write_pgm
from mammokit.data.dicom import write_dicom
from mammokit.errors import DataError, WriteError

TEXT = {errno.ENOSPC: "No space left on device", errno.EDQUOT: "Disk quota exceeded",
        errno.EROFS: "Read-only file system", errno.EACCES: "Permission denied"}
REAL_WRITE_BYTES = Path.write_bytes  # the writers below may be patched; the half file is written for real


def _failing(code: int, half: bool = False):
    """A stand-in for a write call that fails with ``code`` (after writing half, when ``half``)."""
    def fail(*args, **kwargs):
        target = next((a for a in args if isinstance(a, (str, os.PathLike))), None)
        if half and target is not None:
            REAL_WRITE_BYTES(Path(target), b"half a file")
        raise OSError(code, TEXT[code], None if target is None else str(target))
    return fail


def _with(patches, action):
    """Run ``action()`` with ``patches`` [(owner, attribute, replacement)] in place."""
    def run(tmp: Path):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("MAMMOKIT_CACHE", str(tmp / "cache"))
            for owner, name, value in patches:
                mp.setattr(owner, name, value)
            return action(tmp)
    return run


def _catalog(tmp: Path):
    return load_catalog(synthetic.write_phantoms(tmp / "set", n_patients=2, size=128, seed=1))


def _rois(tmp: Path):
    catalog = _catalog(tmp)
    return roi.build_roi_dataset(catalog, size=32, progress=False)


TABLE = pd.DataFrame({"image_id": ["a"], "patient_id": ["p"], "label": [1], "proba": [0.9], "split": ["test"]})


def _phantoms_full(tmp: Path):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Path, "write_bytes", _failing(errno.ENOSPC, half=True))
        return synthetic.write_phantoms(tmp / "set", n_patients=2, size=64, seed=1)


def _roi_full(tmp: Path, owner, name, code=errno.ENOSPC):
    catalog = _catalog(tmp)  # the films are written first, the disk fills up while caching
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MAMMOKIT_CACHE", str(tmp / "cache"))
        mp.setattr(owner, name, _failing(code, half=True))
        return roi.build_roi_dataset(catalog, size=32, progress=False)


FULL = "disk is full"
CASES = [
    ("record-disk-full", _with([(Path, "write_text", _failing(errno.ENOSPC, half=True))],
                               lambda t: runs.record(t, "01_data", {"auc": 0.5})),
     WriteError, ("01_data.json", FULL, "free", "Nothing was half-written")),
    ("record-quota", _with([(Path, "write_text", _failing(errno.EDQUOT))], lambda t: runs.record(t, "01_data", {"a": 1})),
     WriteError, ("01_data.json", "quota", "free")),
    ("record-read-only", _with([(tempfile, "mkstemp", _failing(errno.EROFS))], lambda t: runs.record(t, "01_data", {"a": 1})),
     WriteError, ("01_data.json", "read-only", "Write somewhere else")),
    ("record-run-folder-read-only", _with([(Path, "mkdir", _failing(errno.EROFS))],
                                          lambda t: runs.record(t / "run", "01_data", {"a": 1})),
     WriteError, ("run/metrics/01_data.json", "read-only")),
    ("write-json-disk-full", _with([(Path, "write_text", _failing(errno.ENOSPC))], lambda t: runs.write_json(t / "m.json", {})),
     WriteError, ("m.json", FULL)),
    ("save-table-disk-full", _with([(pd.DataFrame, "to_csv", _failing(errno.ENOSPC, half=True))],
                                   lambda t: runs.save_table(t, "results", TABLE)),
     WriteError, ("tables/results.csv", FULL, "free")),
    ("save-table-permission", _with([(tempfile, "mkstemp", _failing(errno.EACCES))],
                                    lambda t: runs.save_table(t, "results", TABLE)),
     WriteError, ("results.csv", "permission denied", "permissions")),
    ("save-table-rename-refused", _with([(os, "replace", _failing(errno.EACCES))],
                                        lambda t: runs.save_table(t, "results", TABLE)),
     WriteError, ("results.csv", "permission denied")),
    ("save-predictions-disk-full", _with([(pd.DataFrame, "to_csv", _failing(errno.ENOSPC, half=True))],
                                         lambda t: runs.save_predictions(t, "convnet", TABLE)),
     WriteError, ("predictions/convnet.csv", FULL)),
    ("save-predictions-quota", _with([(pd.DataFrame, "to_csv", _failing(errno.EDQUOT))],
                                     lambda t: runs.save_predictions(t, "convnet", TABLE)),
     WriteError, ("convnet.csv", "quota")),
    ("roi-cache-images-disk-full", lambda t: _roi_full(t, np, "save"), WriteError, ("images.npy", FULL, "MAMMOKIT_CACHE")),
    ("roi-cache-table-disk-full", lambda t: _roi_full(t, pd.DataFrame, "to_json"), WriteError, ("table.json", FULL)),
    ("roi-cache-checksum-disk-full", lambda t: _roi_full(t, Path, "write_text"), WriteError, ("sha256.json", FULL)),
    ("roi-cache-read-only", lambda t: _roi_full(t, tempfile, "mkdtemp", errno.EROFS), WriteError, ("cache/roi", "read-only")),
    ("write-pgm-disk-full", _with([(Path, "write_bytes", _failing(errno.ENOSPC, half=True))],
                                  lambda t: write_pgm(t / "a.pgm", np.zeros((8, 8), np.uint8))),
     WriteError, ("a.pgm", FULL)),
    ("write-dicom-disk-full", _with([(tempfile, "mkstemp", _failing(errno.ENOSPC))],
                                    lambda t: write_dicom(t / "a.dcm", np.zeros((8, 8), np.uint8))),
     WriteError, ("a.dcm", FULL)),
    ("phantoms-disk-full", _phantoms_full, WriteError, ("set/syn001.pgm", FULL)),
]


def test_at_least_fifteen_distinct_disk_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 15


@pytest.mark.parametrize("action,error,needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_full_disk_is_named_and_leaves_nothing_half_written(tmp_path: Path, action, error, needles):
    check_case(tmp_path, action, error, needles)
    debris = [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
              if p.name.startswith(".") or p.name in ("01_data.json", "m.json", "results.csv", "convnet.csv", "a.pgm",
                                                      "a.dcm", "images.npy", "table.json", "sha256.json")]
    assert debris == [], f"left behind: {debris}"


def test_a_write_error_is_still_an_os_error_with_its_errno(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(Path, "write_text", _failing(errno.ENOSPC))
    with pytest.raises(OSError) as info:
        runs.record(tmp_path, "01_data", {"auc": 0.5})
    assert isinstance(info.value, WriteError) and info.value.errno == errno.ENOSPC
    assert info.value.filename == str(tmp_path / "metrics" / "01_data.json")


def test_a_full_disk_keeps_the_old_file(tmp_path: Path, monkeypatch):
    path = runs.record(tmp_path, "01_data", {"auc": 0.5})
    monkeypatch.setattr(Path, "write_text", _failing(errno.ENOSPC, half=True))
    with pytest.raises(WriteError):
        runs.record(tmp_path, "01_data", {"auc": 0.9})
    monkeypatch.undo()
    assert runs.read_records(tmp_path) == {"01_data": {"auc": 0.5}} and path.is_file()


def test_the_cli_says_disk_full_in_one_line(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setattr(Path, "write_bytes", _failing(errno.ENOSPC, half=True))
    assert cli.main(["data", "synth", "--out", str(tmp_path / "set"), "--patients", "2", "--size", "64"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(tmp_path / "set") in err and FULL in err and "free" in err
    assert list(tmp_path.iterdir()) == []


# --- the CLI given one image file -----------------------------------------------------------------

def _image(tmp: Path, kind: str) -> Path:
    pixels = (np.arange(24 * 32) % 200).astype(np.uint8).reshape(24, 32)
    if kind == "pgm":
        return write_pgm(tmp / "x.pgm", pixels)
    if kind == "dcm":
        return write_dicom(tmp / "x.dcm", pixels)
    path = tmp / "x.png"
    path.write_bytes(cv2.imencode(".png", pixels)[1].tobytes())
    return path


@pytest.mark.parametrize("kind", ["pgm", "png", "dcm"])
def test_data_info_on_one_image_shows_it_and_says_what_it_takes(tmp_path: Path, capsys, kind: str):
    path = _image(tmp_path, kind)
    assert cli.main(["data", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: a single image" in out and "32 x 24 px" in out and "uint8" in out and "0..199" in out
    assert "MIAS folder" in out and "manifest" in out and "not found" not in out


# (id, argv(tmp), needles in the one-line message)
CLI_CASES = [
    ("sheet-on-one-image", lambda t: ["data", "contact-sheet", str(_image(t, "pgm")), str(t / "s.png")],
     ("x.pgm", "a single file", "MIAS folder", "manifest")),
    ("info-on-a-cut-image", lambda t: ["data", "info", str(t / "x.pgm")] if (t / "x.pgm").write_bytes(b"P5\n32 24\n255\n")
     else [], ("x.pgm", "truncated", "MIAS folder")),
    ("info-on-a-text-file", lambda t: ["data", "info", str(t / "notes.txt")] if (t / "notes.txt").write_text("hi")
     else [], ("notes.txt", "unknown image format", "MIAS folder")),
    ("info-on-a-latin1-manifest", lambda t: ["data", "info", str(t / "m.csv")] if (t / "m.csv").write_bytes(
        "path,patient_id,label\na.dcm,Zoë,1\n".encode("latin-1")) else [], ("m.csv line 2", "UTF-8")),
    ("info-on-an-xlsx-manifest", lambda t: ["data", "info", str(t / "m.csv")] if (t / "m.csv").write_bytes(
        b"PK\x03\x04" + bytes(30)) else [], ("m.csv", "spreadsheet")),
]


@pytest.mark.parametrize("argv,needles", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_a_wrong_source_is_one_line_and_exit_2(tmp_path: Path, capsys, argv, needles):
    code = cli.main(argv(tmp_path))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("mammokit: error: ") and err.count("\n") == 1 and "Traceback" not in err
    for needle in needles:
        assert needle in err, f"{needle!r} missing from: {err}"
    assert not (tmp_path / "s.png").exists()


def test_a_source_that_is_one_image_is_a_data_error_in_the_api(tmp_path: Path):
    from mammokit.data import load_catalog

    mias(tmp_path, "mdb001 F NORM\n")
    before = snapshot(tmp_path)
    with pytest.raises(DataError):
        load_catalog(tmp_path / "mdb001.pgm")
    assert snapshot(tmp_path) == before
