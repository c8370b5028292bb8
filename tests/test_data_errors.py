"""Bad input: each case raises a MammokitError whose message names the file (and line) and the fix."""
from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from mammokit.data import download, load_catalog, read_image, write_pgm
from mammokit.data.dicom import write_dicom
from mammokit.errors import ConfigError, DataError, MammokitError

INFO_HEAD = "MIAS header text\n=====\n"
GOOD_PGM = b"P5\n4 2\n255\n" + bytes(range(8))


def _mias(tmp: Path, rows: str, images=("mdb001",), size: int = 16) -> Path:
    (tmp / "Info.txt").write_text(INFO_HEAD + rows)
    for image_id in images:
        write_pgm(tmp / f"{image_id}.pgm", np.zeros((size, size), np.uint8))
    return tmp


def _file(tmp: Path, name: str, data: bytes) -> Path:
    (tmp / name).write_bytes(data)
    return tmp / name


def _tar(tmp: Path, members: list[tarfile.TarInfo], payload: bytes = b"x") -> Path:
    path = tmp / "all-mias.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for m in members:
            if m.isfile():
                m.size = len(payload)
                tar.addfile(m, io.BytesIO(payload))
            else:
                tar.addfile(m)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    m = tarfile.TarInfo(name)
    m.type, m.linkname = kind, link
    return m


def _install(tmp: Path, archive: Path, sums=None):
    sums = sums or {"x.pgm": "0" * 64}
    return download.install_mias(tmp / "mias", [archive.as_uri()], checksums=sums, builtin_mirrors=False,
                                 progress=False)


def _manifest(tmp: Path, text: str, dicom: bool = True) -> Path:
    if dicom:
        write_dicom(tmp / "a.dcm", np.zeros((20, 30), np.uint16), bits_stored=12)
    (tmp / "m.csv").write_text(text)
    return tmp / "m.csv"


# (id, action(tmp) -> raises, substrings the message must contain)
CASES: list[tuple[str, Callable[[Path], object], tuple[str, ...]]] = [
    ("pgm-wrong-magic", lambda t: read_image(_file(t, "a.pgm", b"P6\n4 2\n255\n" + bytes(24))),
     ("a.pgm", "not a PGM", "P5")),
    ("pgm-html-page", lambda t: read_image(_file(t, "b.pgm", b"<html>404 Not Found</html>")),
     ("b.pgm", "HTML")),
    ("pgm-truncated", lambda t: read_image(_file(t, "c.pgm", GOOD_PGM[:-3])), ("c.pgm", "truncated", "again")),
    ("pgm-mis-sized", lambda t: read_image(_file(t, "d.pgm", GOOD_PGM + b"\0" * 5)), ("d.pgm", "mis-sized")),
    ("pgm-header-not-a-number", lambda t: read_image(_file(t, "e.pgm", b"P5\n4 two\n255\n")),
     ("e.pgm", "'two'", "damaged")),
    ("pgm-header-cut", lambda t: read_image(_file(t, "f.pgm", b"P5\n4 ")), ("f.pgm", "truncated")),
    ("pgm-zero-size", lambda t: read_image(_file(t, "g.pgm", b"P5\n0 2\n255\n")), ("g.pgm", "width=0")),
    ("image-missing", lambda t: read_image(t / "nope.pgm"), ("nope.pgm", "not found", "download")),
    ("unknown-format", lambda t: read_image(_file(t, "h.xyz", b"\x00\x01garbage")), ("h.xyz", "PGM, PNG or DICOM")),
    ("png-undecodable", lambda t: read_image(_file(t, "i.png", b"\x89PNG\r\n\x1a\n broken")), ("i.png", "Re-export")),
    ("dicom-unreadable", lambda t: read_image(_file(t, "j.dcm", b"not a dicom at all" * 20)), ("j.dcm", "DICOM")),
    ("dicom-no-pixels", lambda t: read_image(_dicom_without_pixels(t)), ("k.dcm", "no pixel data")),
    ("info-bad-background", lambda t: load_catalog(_mias(t, "mdb001 X NORM\n")),
     ("Info.txt line 3", "background 'X'", "Fix")),
    ("info-missing-severity", lambda t: load_catalog(_mias(t, "mdb001 F CIRC\n")),
     ("Info.txt line 3", "needs a severity", "'mdb001 F CIRC'")),
    ("info-two-coordinates", lambda t: load_catalog(_mias(t, "mdb001 F CIRC B 5 6\n")),
     ("Info.txt line 3", "x y radius")),
    ("info-coordinate-not-number", lambda t: load_catalog(_mias(t, "mdb001 F CIRC B 5 six 3\n")),
     ("Info.txt line 3", "not all numbers")),
    ("info-normal-with-severity", lambda t: load_catalog(_mias(t, "mdb001 F NORM B\n")),
     ("Info.txt line 3", "NORM row")),
    ("info-bad-class", lambda t: load_catalog(_mias(t, "mdb001 F MASS B 1 2 3\n")),
     ("Info.txt line 3", "'MASS'")),
    ("info-bad-reference", lambda t: load_catalog(_mias(t, "mdb001 F NORM\nimage7 F NORM\nmdb002 F NORM\n",
                                                        images=("mdb001", "mdb002"))),
     ("Info.txt line 4",)),
    ("info-image-missing", lambda t: load_catalog(_mias(t, "mdb001 F NORM\nmdb002 F NORM\n")),
     ("Info.txt line 4", "mdb002.pgm does not exist")),
    ("info-centre-outside", lambda t: load_catalog(_mias(t, "mdb001 F CIRC B 5 40 3\n")),
     ("Info.txt line 3", "outside", "16x16")),
    ("info-no-rows", lambda t: load_catalog(_mias(t, "just a letter\n")), ("Info.txt", "no data rows")),
    ("folder-without-info", lambda t: load_catalog(t), ("Info.txt", "mammokit data download mias")),
    ("unknown-source", lambda t: load_catalog("nonexistent-source"), ("'nonexistent-source'", "synthetic")),
    ("manifest-typo-column", lambda t: load_catalog(_manifest(t, "path,patient_id,lable\na.dcm,P1,1\n")),
     ("m.csv line 1", "'lable'", "did you mean 'label'")),
    ("manifest-missing-column", lambda t: load_catalog(_manifest(t, "path,label\na.dcm,1\n")),
     ("m.csv line 1", "patient_id")),
    ("manifest-bad-label", lambda t: load_catalog(_manifest(t, "path,patient_id,label\na.dcm,P1,maybe\n")),
     ("m.csv line 2", "'maybe'")),
    ("manifest-x-not-number", lambda t: load_catalog(_manifest(t, "path,patient_id,label,x,y,radius\na.dcm,P1,1,ten,3,4\n")),
     ("m.csv line 2", "'x'", "'ten'")),
    ("manifest-dicom-missing", lambda t: load_catalog(_manifest(t, "path,patient_id,label\nb.dcm,P1,1\n")),
     ("b.dcm", "not found")),
    ("manifest-centre-outside", lambda t: load_catalog(_manifest(t, "path,patient_id,label,x,y,radius\na.dcm,P1,1,50,3,4\n")),
     ("m.csv line 2", "outside", "30x20")),
    ("manifest-point-and-box", lambda t: load_catalog(_manifest(t, "path,patient_id,label,x,xmin\na.dcm,P1,1,1,1\n")),
     ("m.csv line 1", "not both")),
    ("manifest-empty", lambda t: load_catalog(_manifest(t, "path,patient_id,label\n")), ("m.csv", "no images")),
    ("archive-checksum-mismatch", lambda t: _install(t, _tar(t, [_member("x.pgm")])), ("x.pgm", "SHA-256", "mirror")),
    ("archive-file-missing", lambda t: _install(t, _tar(t, [_member("y.pgm")])), ("x.pgm", "missing")),
    ("archive-member-escapes", lambda t: _install(t, _tar(t, [_member("../evil.pgm")])),
     ("'../evil.pgm'", "outside the target folder")),
    ("archive-absolute-member", lambda t: _install(t, _tar(t, [_member("/etc/evil")])), ("'/etc/evil'", "outside")),
    ("archive-symlink", lambda t: _install(t, _tar(t, [_member("x.pgm", tarfile.SYMTYPE, "/etc/passwd")])),
     ("'x.pgm'", "link")),
    ("archive-not-a-tar", lambda t: _install(t, _file(t, "bad.tar.gz", b"<html>moved</html>")),
     ("bad.tar.gz", "not a readable tar")),
    ("existing-install-incomplete", lambda t: _partial_install(t), ("mias exists but is not a complete", "Move or delete")),
    ("checksum-list-malformed", lambda t: download.read_checksums(_file(t, "sums.txt", b"abc Info.txt\n")),
     ("sums.txt line 1",)),
    ("mirror-bad-scheme", lambda t: download.install_mias(t / "mias", ["ftp://x/all-mias.tar.gz"], checksums={},
                                                          builtin_mirrors=False), ("ftp://", "file:///full/path")),
]


def _partial_install(tmp: Path):
    """A data/mias folder holding only part of the files, e.g. copied by hand and cut short."""
    (tmp / "mias").mkdir()
    _mias(tmp / "mias", "mdb001 F NORM\n")
    return download.install_mias(tmp / "mias", checksums={"Info.txt": "0" * 64, "mdb002.pgm": "0" * 64},
                                 builtin_mirrors=False)


def _dicom_without_pixels(tmp: Path) -> Path:
    import pydicom

    path = write_dicom(tmp / "k.dcm", np.zeros((4, 4), np.uint8))
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path)
    return path


def test_at_least_twenty_distinct_cases():
    assert len({c[0] for c in CASES}) >= 20


@pytest.mark.parametrize("action,needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gives_a_clear_error(tmp_path: Path, action, needles):
    with pytest.raises(MammokitError) as info:
        action(tmp_path)
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} missing from: {message}"
    assert len(message) > 40, "a message says what to do, not just what failed"


def test_data_errors_are_data_errors(tmp_path: Path):
    with pytest.raises(DataError):
        read_image(_file(tmp_path, "a.pgm", b"P6"))
    with pytest.raises(ConfigError):
        from mammokit.plots import contact_sheet

        contact_sheet(load_catalog(_mias(tmp_path, "mdb001 F NORM\n")))
