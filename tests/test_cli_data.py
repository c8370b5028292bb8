"""`mammokit data ...`: synth, info, contact-sheet, download (offline), with clean errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mammokit import cli
from mammokit.data import download


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "ph"
    assert cli.main(["data", "synth", "--out", str(out), "--patients", "3", "--size", "128", "--seed", "1"]) == 0
    return out


def test_synth_then_info(phantoms: Path, capsys):
    capsys.readouterr()
    assert cli.main(["data", "info", str(phantoms)]) == 0
    out = capsys.readouterr().out
    assert "images:           6" in out and "patients:         3" in out and "synthetic" in out


def test_info_on_the_dev_subset(mias_dev, capsys):
    assert cli.main(["data", "info", str(mias_dev)]) == 0
    out = capsys.readouterr().out
    assert "images:           214" in out and "benign rows:      46" in out and "malignant rows:   37" in out


def test_contact_sheet_png(phantoms: Path, tmp_path: Path):
    out = tmp_path / "sheet.png"
    assert cli.main(["data", "contact-sheet", str(phantoms), str(out), "--size", "48", "--dpi", "40"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_contact_sheet_preprocessed(phantoms: Path, tmp_path: Path):
    out = tmp_path / "sheet.png"
    assert cli.main(["data", "contact-sheet", str(phantoms), str(out), "--size", "48", "--preprocessed"]) == 0
    assert out.stat().st_size > 1000


def test_bad_source_exits_2_without_traceback(tmp_path: Path, capsys):
    (tmp_path / "Info.txt").write_text("=====\nmdb001 Q NORM\n")
    assert cli.main(["data", "info", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Info.txt line 2" in err and "Traceback" not in err


def test_download_offline_exits_2_with_advice(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setattr(download, "MIRRORS", ())  # tests never touch the internet
    missing = (tmp_path / "nowhere.tar.gz").as_uri()
    assert cli.main(["data", "download", "mias", "--dest", str(tmp_path / "mias"), "--mirror", missing]) == 2
    err = capsys.readouterr().err
    assert "by hand" in err and str(tmp_path / "mias") in err


def test_console_entry_point_runs(phantoms: Path):
    result = subprocess.run([sys.executable, "-m", "mammokit.cli", "data", "info", str(phantoms)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "patients:         3" in result.stdout


@pytest.mark.slow
def test_contact_sheet_of_the_dev_subset(mias_dev, artifacts_dir: Path):
    """Leaves test-artifacts/contact-sheet-mias-dev.png for a person to check centres sit on lesions."""
    out = artifacts_dir / "contact-sheet-mias-dev.png"
    assert cli.main(["data", "contact-sheet", str(mias_dev), str(out), "--size", "128", "--dpi", "50"]) == 0
    assert out.stat().st_size > 50_000
