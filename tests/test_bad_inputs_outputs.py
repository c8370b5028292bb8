"""Adversarial outputs: bad output paths fail before work starts with one line and exit 2
(class 4 of issue 12), OS errors never escape as tracebacks, and no writer leaves half a file
or temp debris (class 7)."""
from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pytest
from bad_inputs import check_case, mias, snapshot

from mammokit import cli, files, runs
from mammokit.data import synthetic, write_pgm
from mammokit.errors import OutputError


def _src(tmp: Path) -> str:
    folder = tmp / "src"
    folder.mkdir(exist_ok=True)
    return str(mias(folder, "mdb001 F CIRC B 8 8 3\n"))


def _a_file(tmp: Path, name: str = "taken") -> str:
    (tmp / name).write_text("a user's file")
    return str(tmp / name)


# (id, argv(tmp), needles in the one-line message)
CLI_CASES = [
    ("synth-out-is-a-file", lambda t: ["data", "synth", "--out", _a_file(t)], ("--out", "taken", "is a file")),
    ("synth-out-below-a-file", lambda t: ["data", "synth", "--out", _a_file(t) + "/set"], ("--out", "taken", "is a file")),
    ("download-dest-is-a-file", lambda t: ["data", "download", "mias", "--dest", _a_file(t)], ("--dest", "taken")),
    ("download-dest-below-a-file", lambda t: ["data", "download", "mias", "--dest", _a_file(t) + "/mias"],
     ("--dest", "taken")),
    ("sheet-out-is-a-folder", lambda t: ["data", "contact-sheet", _src(t), str(t)], ("out", "is a folder")),
    ("sheet-out-unknown-suffix", lambda t: ["data", "contact-sheet", _src(t), str(t / "s.xyz")], ("s.xyz", "'.xyz'", ".png")),
    ("sheet-out-no-suffix", lambda t: ["data", "contact-sheet", _src(t), str(t / "sheet")], ("sheet", "no suffix")),
    ("sheet-out-below-a-file", lambda t: ["data", "contact-sheet", _src(t), _a_file(t) + "/s.png"], ("taken", "is a file")),
    ("sheet-dpi-zero", lambda t: ["data", "contact-sheet", _src(t), str(t / "s.png"), "--dpi", "0"], ("--dpi 0",)),
    ("sheet-dpi-negative", lambda t: ["data", "contact-sheet", _src(t), str(t / "s.png"), "--dpi", "-5"], ("--dpi -5",)),
    ("sheet-dpi-huge", lambda t: ["data", "contact-sheet", _src(t), str(t / "s.png"), "--dpi", "100000"], ("--dpi 100000",)),
    ("sheet-size-tiny", lambda t: ["data", "contact-sheet", _src(t), str(t / "s.png"), "--size", "2"], ("size=2",)),
    ("info-source-missing", lambda t: ["data", "info", str(t / "nowhere")], ("nowhere",)),
    ("course-out-is-a-file", lambda t: ["course", "--out", _a_file(t), "--only", "01_data"], ("--out", "taken", "is a file")),
    ("course-out-not-a-run", lambda t: ["course", "--out", str(Path(_a_file(t)).parent), "--only", "01_data",
                                        "--overwrite"], ("not a mammokit run", "--overwrite")),
    ("sweep-out-is-a-file", lambda t: ["sweep", "01_data", "-p", "N_SHOW", "1", "--out", _a_file(t)],
     ("--out", "taken", "is a file")),
]


@pytest.mark.parametrize("argv,needles", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_bad_output_is_one_line_and_exit_2(tmp_path: Path, capsys, argv, needles):
    code = cli.main(argv(tmp_path))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("mammokit: error: ") and "Traceback" not in err
    for needle in needles:
        assert needle in err, f"{needle!r} missing from: {err}"
    assert not (tmp_path / "s.png").exists() and not (tmp_path / "s.xyz").exists()


@pytest.mark.parametrize("code,text,needle", [
    (errno.ENOSPC, "No space left on device", "free some disk space"),
    (errno.EACCES, "Permission denied", "permissions"),
    (errno.EROFS, "Read-only file system", "read-only"),
    (errno.EIO, "Input/output error", "check the path"),
], ids=["disk-full", "no-permission", "read-only", "io-error"])
def test_os_errors_become_one_line(tmp_path: Path, capsys, monkeypatch, code, text, needle):
    def fail(*args, **kwargs):
        raise OSError(code, text, str(tmp_path / "set" / "syn001.pgm"))

    monkeypatch.setattr(synthetic, "write_phantoms", fail)
    assert cli.main(["data", "synth", "--out", str(tmp_path / "set")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert text in err and "syn001.pgm" in err and needle in err


API_CASES = [
    ("check-file-is-folder", lambda t: files.check_output_file(t, "out"), OutputError, ("out", "is a folder")),
    ("check-file-suffix", lambda t: files.check_output_file(t / "a.gif", "out", (".png",)), OutputError, ("'.gif'",)),
    ("check-dir-is-file", lambda t: files.check_output_dir(_a_file(t), "RUN_DIR"), OutputError, ("RUN_DIR", "taken")),
    ("check-dir-below-file", lambda t: files.check_output_dir(_a_file(t) + "/x/y", "dest"), OutputError,
     ("dest", "taken", "is a file")),
]


@pytest.mark.parametrize("action,error,needles", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_output_checks_name_the_parameter(tmp_path: Path, action, error, needles):
    check_case(tmp_path, action, error, needles)


# --- atomic writes: the old file or nothing, never half, never debris -----------------------------

def _no_debris(folder: Path) -> None:
    hidden = [p.name for p in folder.rglob(".*") if p.name != ".mammokit-run"]
    assert hidden == [], f"temp debris left behind: {hidden}"


def test_a_failed_json_write_keeps_the_old_file(tmp_path: Path):
    path = runs.write_json(tmp_path / "m.json", {"auc": 0.5})
    with pytest.raises(TypeError):
        runs.write_json(path, {"auc": object()})
    assert json.loads(path.read_text()) == {"auc": 0.5}
    _no_debris(tmp_path)


def test_a_full_disk_leaves_no_half_image(tmp_path: Path, monkeypatch):
    def half(self, data):
        with open(self, "wb") as fh:
            fh.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", half)
    with pytest.raises(OSError):
        write_pgm(tmp_path / "a.pgm", np.zeros((8, 8), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_leaves_no_half_roi_cache(tmp_path: Path, monkeypatch):
    from mammokit import roi
    from mammokit.data import load_catalog

    monkeypatch.setenv("MAMMOKIT_CACHE", str(tmp_path / "cache"))
    catalog = load_catalog(synthetic.write_phantoms(tmp_path / "set", n_patients=2, size=128, seed=1))

    def full(path, *args, **kwargs):
        Path(path).write_bytes(b"\x93NUMPY half")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(np, "save", full)
    with pytest.raises(OSError):
        roi.build_roi_dataset(catalog, size=32, progress=False)
    monkeypatch.undo()
    assert list((tmp_path / "cache" / "roi").iterdir()) == []


def test_a_truncated_roi_cache_is_rebuilt(tmp_path: Path, monkeypatch):
    from mammokit import roi
    from mammokit.data import load_catalog

    monkeypatch.setenv("MAMMOKIT_CACHE", str(tmp_path / "cache"))
    catalog = load_catalog(synthetic.write_phantoms(tmp_path / "set", n_patients=2, size=128, seed=1))
    first = roi.build_roi_dataset(catalog, size=32, progress=False)
    [entry] = (tmp_path / "cache" / "roi").iterdir()
    images = entry / "images.npy"
    images.write_bytes(images.read_bytes()[:40])  # a copy cut short
    again = roi.build_roi_dataset(catalog, size=32, progress=False)
    assert np.array_equal(first.images, again.images)
    assert np.load(images).shape == first.images.shape  # the damaged entry was replaced


def test_a_failed_contact_sheet_leaves_no_file(tmp_path: Path, monkeypatch, capsys):
    import matplotlib.figure

    def boom(self, *args, **kwargs):
        Path(args[0]).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device", str(args[0]))

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", boom)
    source = _src(tmp_path)
    before = snapshot(tmp_path)
    assert cli.main(["data", "contact-sheet", source, str(tmp_path / "s.png")]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert snapshot(tmp_path) == before
