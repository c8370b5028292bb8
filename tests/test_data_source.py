"""The setup cell's first output names the data the notebook runs on (issue 20, item 6)."""
from __future__ import annotations

from pathlib import Path

from mammokit.course import params
from mammokit.data import describe_source


def _mias_folder(folder: Path, films: int = 2, phantom: bool = False) -> Path:
    folder.mkdir(parents=True)
    (folder / "Info.txt").write_text("mdb001 G CIRC B 535 425 197\n")
    for i in range(1, films + 1):
        (folder / f"mdb{i:03d}.pgm").write_bytes(b"")
    if phantom:
        (folder / "phantoms.json").write_text("{}")
    return folder


def test_each_kind_of_source_is_named(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MAMMOKIT_DATA_DIR", str(tmp_path / "empty"))
    assert describe_source("auto").startswith("*** Data: no MIAS found") and "FALLING BACK" in describe_source("auto")
    assert "SYNTHETIC PHANTOMS" in describe_source("synthetic")
    assert describe_source(_mias_folder(tmp_path / "mias")).startswith("Data: MIAS-layout folder")
    assert "(2 films" in describe_source(tmp_path / "mias")
    assert "SYNTHETIC PHANTOMS" in describe_source(_mias_folder(tmp_path / "ph", phantom=True))
    (tmp_path / "m.csv").write_text("path\n")
    assert describe_source(tmp_path / "m.csv") == f"Data: DICOM manifest {tmp_path / 'm.csv'}"
    (tmp_path / "cbis").mkdir()
    (tmp_path / "cbis" / "mass_case_description_train_set.csv").write_text("")
    assert describe_source(tmp_path / "cbis").startswith("Data: CBIS-DDSM download")
    assert "not found" in describe_source(tmp_path / "nothing")


def test_the_setup_cell_prints_the_data_line(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("MAMMOKIT_DATA_DIR", str(tmp_path / "empty"))
    for name in ("MAMMOKIT_DATA", "MAMMOKIT_PROFILE", "MAMMOKIT_PINNED"):
        monkeypatch.delenv(name, raising=False)
    params.resolve("01_data", {"PROFILE": "smoke", "RUN_DIR": str(tmp_path / "run")})
    out = capsys.readouterr().out
    assert "Data: SYNTHETIC PHANTOMS" in out
    params.resolve("01_data", {"PROFILE": "classroom", "RUN_DIR": str(tmp_path / "run")})
    assert "FALLING BACK to SYNTHETIC PHANTOMS" in capsys.readouterr().out


def test_notebook_01_offers_mias_and_falls_back_loudly(tmp_path: Path, monkeypatch, capsys):
    """DOWNLOAD on, DATA 'auto', nothing installed: the licence is shown, then the download is
    tried; offline it fails at once and the line says the phantoms are used; a copy that arrives
    is named; DOWNLOAD off or another DATA never touch the network."""
    from mammokit import data
    from mammokit.data import mias
    from mammokit.errors import DownloadError

    monkeypatch.setenv("MAMMOKIT_DATA_DIR", str(tmp_path / "data"))
    calls = []

    def offline(dest, **kwargs):
        calls.append(dest)
        raise DownloadError("could not download MIAS from any mirror:\n  http://x: Name or service not known\n"
                            "To install by hand: ...")

    monkeypatch.setattr(mias, "download", offline)
    line = data.offer_mias("auto", True)
    assert "research use ONLY" in capsys.readouterr().out and calls == [tmp_path / "data" / "mias"]
    assert line.startswith("*** MIAS download failed: could not download MIAS") and "FALLING BACK" in line
    assert "To install by hand" not in line and "\n" not in line
    assert "DOWNLOAD=False" in data.offer_mias("auto", False) and "FALLING BACK" in data.offer_mias("auto", False)
    assert data.offer_mias("synthetic", True) == "DATA='synthetic': nothing to download"
    assert len(calls) == 1

    monkeypatch.setattr(mias, "download", lambda dest, **kwargs: _mias_folder(Path(dest), films=3))
    assert data.offer_mias("auto", True).startswith("MIAS downloaded and verified. Data: MIAS-layout folder")
    assert "nothing to download" in data.offer_mias("auto", True)
