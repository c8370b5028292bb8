"""Nothing lost (class 1 of issue 12): no kit call deletes or overwrites a user's files outside a
folder it created in that call — phantom sets of other settings, course runs without
``--overwrite``, a folder that is not a run even with ``--overwrite``, downloads."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from bad_inputs import snapshot

from mammokit import cli
from mammokit.data import load_catalog, mias, synthetic
from mammokit.errors import DataError, DownloadError, MammokitError


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("MAMMOKIT_DATA_DIR", str(folder))
    return folder


def test_phantom_sets_of_other_settings_live_side_by_side(data_dir: Path):
    small = synthetic.write_phantoms(n_patients=2, size=128)
    other = synthetic.write_phantoms(n_patients=2, size=128, seed=5)
    assert small != other and small.parent == other.parent == data_dir
    assert small.name == "synthetic-g3-p2-s128-seed0"
    assert synthetic.write_phantoms(n_patients=2, size=128) == small  # reused, not rewritten


@pytest.mark.slow  # generates the default phantom set (80 films) once
def test_an_instructors_set_and_notes_in_data_synthetic_survive(data_dir: Path, capsys):
    """The issue's case: `mammokit data synth --patients 10 --out data/synthetic` plus a notes file,
    then a notebook's load_catalog("auto") without MIAS, and load_catalog("synthetic")."""
    mine = data_dir / "synthetic"
    assert cli.main(["data", "synth", "--out", str(mine), "--patients", "2", "--size", "128"]) == 0
    (mine / "notes.txt").write_text("week 3: use these 4 films")
    before = snapshot(mine)
    auto = load_catalog("auto")
    again = load_catalog("synthetic")
    assert snapshot(mine) == before
    assert len(auto) == len(again) > len(load_catalog(mine))  # the defaults, from their own folder
    default = Path(auto["path"].iloc[0]).parent
    assert default != mine and default.parent == data_dir
    assert "left untouched" in capsys.readouterr().out


def test_an_older_or_foreign_folder_is_never_replaced(data_dir: Path):
    mine = data_dir / "synthetic"
    mine.mkdir()
    (mine / mias.PHANTOM_MARKER).write_text("{not json")  # damaged marker
    (mine / "lesson.md").write_text("mine")
    before = snapshot(mine)
    with pytest.raises(DataError, match="leaves it untouched"):
        synthetic.write_phantoms(mine)
    assert snapshot(mine) == before


def test_write_phantoms_refuses_a_folder_with_other_settings(data_dir: Path):
    folder = synthetic.write_phantoms(data_dir / "set", n_patients=2, size=128)
    before = snapshot(folder)
    with pytest.raises(DataError, match="already exists"):
        synthetic.write_phantoms(folder, n_patients=3, size=128)
    assert snapshot(folder) == before
    assert json.loads((folder / mias.PHANTOM_MARKER).read_text())["n_patients"] == 2


@pytest.mark.parametrize("overwrite", [False, True], ids=["without-overwrite", "overwrite-not-a-run"])
def test_course_keeps_a_users_folder(tmp_path: Path, capsys, overwrite):
    out = tmp_path / "thesis"
    (out / "chapter1").mkdir(parents=True)
    (out / "chapter1" / "draft.tex").write_text("months of work")
    before = snapshot(out)
    assert cli.main(["course", "--out", str(out), "--only", "01_data", *(["--overwrite"] if overwrite else [])]) == 2
    assert str(out) in capsys.readouterr().err
    assert snapshot(out) == before


def test_sweep_keeps_a_users_folder(tmp_path: Path):
    from mammokit.course.sweep import run_sweep

    out = tmp_path / "results"
    out.mkdir()
    (out / "table.csv").write_text("a,b\n1,2\n")
    before = snapshot(out)
    for overwrite in (False, True):
        with pytest.raises(MammokitError):
            run_sweep("01_data", {"N_SHOW": [1]}, out=out, overwrite=overwrite)
    assert snapshot(out) == before


def test_download_keeps_a_users_folder(tmp_path: Path):
    from mammokit.data import download

    dest = tmp_path / "mias"
    dest.mkdir()
    (dest / "mdb001.pgm").write_bytes(b"my own scan")
    before = snapshot(tmp_path)
    with pytest.raises(DataError, match="Move or delete"):
        download.install_mias(dest, ["file:///nowhere.tar.gz"], checksums={"mdb001.pgm": "0" * 64},
                              builtin_mirrors=False)
    with pytest.raises(DownloadError):
        download.install_mias(tmp_path / "other", ["file:///nowhere.tar.gz"], checksums={"x": "0" * 64},
                              builtin_mirrors=False, timeout=1)
    assert snapshot(tmp_path) == before and not (tmp_path / "other").exists()
