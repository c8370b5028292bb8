"""Adversarial data: Info.txt, images and DICOM manifests that are wrong in ways a row-by-row
reader misses (class 2 of issue 12), and files that are not regular files (class 8: no hangs)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from bad_inputs import check_case, fifo, file, mias, within

from mammokit.data import load_catalog, read_image
from mammokit.data.dicom import write_dicom
from mammokit.data.images import suspicious
from mammokit.errors import DataError


def _manifest(tmp: Path, text: str, extra: tuple[str, ...] = ()) -> Path:
    for name in ("a.dcm", *extra):
        write_dicom(tmp / name, np.zeros((20, 30), np.uint16), bits_stored=12)
    (tmp / "m.csv").write_text(text)
    return tmp / "m.csv"


def _info(tmp: Path, rows: str, **kwargs):
    return load_catalog(mias(tmp, rows, **kwargs))


def _image_fifo(tmp: Path):
    mias(tmp, "mdb001 F NORM\n", images=())
    fifo(tmp, "mdb001.pgm")
    return load_catalog(tmp)


def _info_fifo(tmp: Path):
    fifo(tmp, "Info.txt")
    return load_catalog(tmp)


def _dicom_cut(tmp: Path):
    path = write_dicom(tmp / "cut.dcm", np.arange(4096, dtype=np.uint16).reshape(64, 64), bits_stored=12)
    path.write_bytes(path.read_bytes()[:2000])
    return read_image(path)


def _image_folder(tmp: Path):
    (tmp / "mdb001.pgm").mkdir()
    return read_image(tmp / "mdb001.pgm")


H = "path,patient_id,label,x,y,radius\n"
B = "path,patient_id,label,xmin,ymin,xmax,ymax\n"
L3 = "Info.txt line 3"
CASES = [
    # --- Info.txt: rows a row-by-row reader used to drop, double or accept ---
    ("info-first-row-reference-typo", lambda t: _info(t, "mbd001 F NORM\nmdb002 F NORM\n", images=("mdb002",)),
     DataError, (L3, "mbd001.pgm does not exist")),
    ("info-last-row-reference-typo", lambda t: _info(t, "mdb001 F NORM\nmdb0O2 F NORM\n"),
     DataError, ("Info.txt line 4", "'mdb0o2'")),
    ("info-only-row-reference-typo", lambda t: _info(t, "mdbOO1 F NORM\n"), DataError, (L3, "'mdboo1'")),
    ("info-last-row-class-typo", lambda t: _info(t, "mdb001 F NORM\nmdb002 F NROM\n", images=("mdb001", "mdb002")),
     DataError, ("Info.txt line 4", "'NROM'")),
    ("info-row-pasted-twice", lambda t: _info(t, "mdb001 F CIRC B 5 5 3\nmdb001 F CIRC B 5 5 3\n"),
     DataError, (L3, "line 4", "twice")),
    ("info-normal-pasted-twice", lambda t: _info(t, "mdb001 F NORM\nmdb001 F NORM\n"),
     DataError, (L3, "line 4", "twice")),
    ("info-normal-and-lesion", lambda t: _info(t, "mdb001 F NORM\nmdb001 F CIRC B 5 5 3\n"),
     DataError, (L3, "both as NORM")),
    ("info-radius-typo-300000", lambda t: _info(t, "mdb001 F CIRC B 5 5 300000\n"),
     DataError, (L3, "radius 300000", "16x16")),
    ("info-radius-beyond-film", lambda t: _info(t, "mdb001 F CIRC B 5 5 17\n"), DataError, (L3, "radius 17")),
    ("info-radius-nan", lambda t: _info(t, "mdb001 F CIRC B 5 5 nan\n"), DataError, (L3, "finite")),
    ("info-radius-zero", lambda t: _info(t, "mdb001 F CIRC B 5 5 0\n"), DataError, (L3, "radius > 0")),
    ("info-x-negative", lambda t: _info(t, "mdb001 F CIRC B -5 5 3\n"), DataError, (L3, ">= 0")),
    ("info-x-infinite", lambda t: _info(t, "mdb001 F CIRC B inf 5 3\n"), DataError, (L3, "finite")),
    ("info-y-on-edge", lambda t: _info(t, "mdb001 F CIRC B 5 16 3\n"), DataError, (L3, "y=16", "outside")),
    ("info-x-on-edge", lambda t: _info(t, "mdb001 F CIRC B 16 5 3\n"), DataError, (L3, "x=16", "outside")),
    ("info-severity-typo", lambda t: _info(t, "mdb001 F CIRC X 5 5 3\n"), DataError, (L3, "'X'")),
    ("info-four-numbers", lambda t: _info(t, "mdb001 F CIRC B 5 5 3 3\n"), DataError, (L3, "4 number(s)")),
    ("info-one-field", lambda t: _info(t, "mdb001 F NORM\nmdb001\n"), DataError, ("Info.txt line 4", "1 field")),
    ("info-two-fields", lambda t: _info(t, "mdb001 F\n"), DataError, (L3, "2 field")),
    ("info-normal-with-coordinates", lambda t: _info(t, "mdb001 F NORM 1 2 3\n"), DataError, (L3, "NORM row")),
    ("info-garbage-mid-file", lambda t: _info(t, "mdb001 F NORM\nhello world\nmdb002 F NORM\n",
                                               images=("mdb001", "mdb002")),
     DataError, ("Info.txt line 4", "'hello world'")),
    ("info-lower-case-background-typo", lambda t: _info(t, "mdb001 x NORM\n"), DataError, (L3, "'x'")),
    ("info-is-a-fifo", _info_fifo, DataError, ("Info.txt", "no Info.txt")),
    ("info-image-is-a-fifo", _image_fifo, DataError, (L3, "mdb001.pgm")),
    ("info-image-empty-file", lambda t: (file(t, "mdb001.pgm", b""), load_catalog(mias(t, "mdb001 F NORM\n", images=()))),
     DataError, ("mdb001.pgm", "not a PGM")),
    ("info-image-of-other-size", lambda t: _info(t, "mdb001 F CIRC B 40 40 3\n", size=32),
     DataError, (L3, "32x32", "outside")),
    # --- image files ---
    ("pgm-ascii-above-maxval", lambda t: read_image(file(t, "a.pgm", b"P2\n2 1\n255\n0 300\n")),
     DataError, ("a.pgm", "300", "0..255")),
    ("pgm-ascii-negative", lambda t: read_image(file(t, "b.pgm", b"P2\n2 1\n255\n0 -1\n")),
     DataError, ("b.pgm", "-1", "0..255")),
    ("pgm-ascii-16bit-above-maxval", lambda t: read_image(file(t, "c.pgm", b"P2\n2 1\n1000\n0 1001\n")),
     DataError, ("c.pgm", "1001", "0..1000")),
    ("pgm-ascii-too-few-values", lambda t: read_image(file(t, "d.pgm", b"P2\n2 2\n255\n0 1 2\n")),
     DataError, ("d.pgm", "3 pixel values")),
    ("pgm-ascii-not-a-number", lambda t: read_image(file(t, "e.pgm", b"P2\n2 1\n255\n0 x\n")),
     DataError, ("e.pgm", "non-number")),
    ("pgm-maxval-zero", lambda t: read_image(file(t, "f.pgm", b"P5\n2 1\n0\n\0\0")), DataError, ("f.pgm", "maxval=0")),
    ("pgm-maxval-too-big", lambda t: read_image(file(t, "g.pgm", b"P5\n2 1\n70000\n" + bytes(4))),
     DataError, ("g.pgm", "maxval=70000")),
    ("pgm-16bit-truncated", lambda t: read_image(file(t, "h.pgm", b"P5\n2 1\n65535\n" + bytes(3))),
     DataError, ("h.pgm", "truncated")),
    ("pgm-negative-width", lambda t: read_image(file(t, "i.pgm", b"P5\n-2 1\n255\n\0\0")), DataError, ("i.pgm", "'-2'")),
    ("pgm-magic-only", lambda t: read_image(file(t, "j.pgm", b"P5")), DataError, ("j.pgm", "truncated")),
    ("image-is-a-fifo", lambda t: read_image(fifo(t, "k.pgm")), DataError, ("k.pgm", "not a regular file")),
    ("image-is-a-fifo-png", lambda t: read_image(fifo(t, "k.png")), DataError, ("k.png", "not a regular file")),
    ("image-is-a-device", lambda t: read_image("/dev/zero"), DataError, ("/dev/zero", "not a regular file")),
    ("image-is-a-folder", _image_folder, DataError, ("mdb001.pgm", "is a folder")),
    ("png-empty-file", lambda t: read_image(file(t, "l.png", b"")), DataError, ("l.png", "could not decode")),
    ("png-header-only", lambda t: read_image(file(t, "m.png", b"\x89PNG\r\n\x1a\n")), DataError, ("m.png", "decode")),
    ("jpeg-garbage", lambda t: read_image(file(t, "n.jpg", b"\xff\xd8\xff garbage")), DataError, ("n.jpg", "decode")),
    ("dicom-empty-file", lambda t: read_image(file(t, "o.dcm", b"")), DataError, ("o.dcm", "DICOM")),
    ("dicom-cut-short", _dicom_cut, DataError, ("cut.dcm",)),
    ("dicom-is-a-fifo", lambda t: read_image(fifo(t, "p.dcm")), DataError, ("p.dcm", "not a regular file")),
    # --- DICOM manifests: identity, duplicates, ranges ---
    ("manifest-one-dicom-two-patients", lambda t: load_catalog(_manifest(t, "path,patient_id,label\na.dcm,P1,1\na.dcm,P2,0\n")),
     DataError, ("m.csv line 2", "m.csv line 3", "patient_id", "P1, P2")),
    ("manifest-one-id-two-files", lambda t: load_catalog(_manifest(
        t, "path,patient_id,label,image_id\na.dcm,P1,1,img\nb.dcm,P1,0,img\n", extra=("b.dcm",))),
     DataError, ("m.csv line 2", "image_id img", "path")),
    ("manifest-x-without-y", lambda t: load_catalog(_manifest(t, H + "a.dcm,P1,1,5,,3\n")),
     DataError, ("m.csv line 2", "x=5.0", "needs both")),
    ("manifest-y-without-x", lambda t: load_catalog(_manifest(t, H + "a.dcm,P1,1,,5,3\n")),
     DataError, ("m.csv line 2", "y=5.0", "needs both")),
    ("manifest-radius-without-centre", lambda t: load_catalog(_manifest(t, H + "a.dcm,P1,1,,,3\n")),
     DataError, ("m.csv line 2", "radius 3 without a centre")),
    ("manifest-box-min-max-swapped", lambda t: load_catalog(_manifest(t, B + "a.dcm,P1,1,10,10,2,2\n")),
     DataError, ("m.csv line 2", "radius -4", "xmin < xmax")),
    ("manifest-box-empty", lambda t: load_catalog(_manifest(t, B + "a.dcm,P1,1,5,5,5,5\n")),
     DataError, ("m.csv line 2", "radius 0")),
    ("manifest-radius-typo", lambda t: load_catalog(_manifest(t, H + "a.dcm,P1,1,5,5,300000\n")),
     DataError, ("m.csv line 2", "radius 300000", "30x20")),
    ("manifest-radius-negative", lambda t: load_catalog(_manifest(t, H + "a.dcm,P1,1,5,5,-3\n")),
     DataError, ("m.csv line 2", "radius -3")),
    ("manifest-row-twice", lambda t: load_catalog(_manifest(t, H + "a.dcm,P1,1,5,5,3\na.dcm,P1,1,5,5,3\n")),
     DataError, ("m.csv line 2", "m.csv line 3", "twice")),
    ("manifest-normal-with-centre", lambda t: load_catalog(_manifest(t, H + "a.dcm,P1,normal,5,5,3\n")),
     DataError, ("m.csv line 2", "normal row has a centre")),
    ("manifest-normal-and-lesion", lambda t: load_catalog(_manifest(t, H + "a.dcm,P1,normal,,,\na.dcm,P1,1,5,5,3\n")),
     DataError, ("m.csv line 2", "both as NORM")),
    ("manifest-centre-negative", lambda t: load_catalog(_manifest(t, H + "a.dcm,P1,1,-1,5,3\n")),
     DataError, ("m.csv line 2", "x=-1", "outside")),
    ("manifest-centre-infinite", lambda t: load_catalog(_manifest(t, H + "a.dcm,P1,1,inf,5,3\n")),
     DataError, ("m.csv line 2", "outside")),
    ("manifest-bad-side", lambda t: load_catalog(_manifest(t, "path,patient_id,label,side\na.dcm,P1,1,X\n")),
     DataError, ("m.csv line 2", "side 'X'")),
    ("manifest-bad-background", lambda t: load_catalog(_manifest(t, "path,patient_id,label,background\na.dcm,P1,1,Q\n")),
     DataError, ("m.csv line 2", "background 'Q'")),
    ("manifest-bad-abnormality", lambda t: load_catalog(_manifest(t, "path,patient_id,label,abnormality\na.dcm,P1,1,MASS\n")),
     DataError, ("m.csv line 2", "'MASS'")),
    ("manifest-empty-patient", lambda t: load_catalog(_manifest(t, "path,patient_id,label\na.dcm,,1\n")),
     DataError, ("m.csv line 2", "patient_id")),
    ("manifest-empty-path", lambda t: load_catalog(_manifest(t, "path,patient_id,label\n,P1,1\n")),
     DataError, ("m.csv line 2", "'path'")),
    ("manifest-dicom-is-a-fifo", lambda t: (fifo(t, "f.dcm"), load_catalog(_manifest(t, "path,patient_id,label\nf.dcm,P1,1\n"))),
     DataError, ("f.dcm", "not found")),
    ("manifest-not-utf8", lambda t: load_catalog(file(t, "m.csv", b"path,patient_id,label\n\xff\xfe,P1,1\n")),
     DataError, ("m.csv", "UTF-8")),
    ("manifest-is-a-folder", lambda t: (t / "x.csv").mkdir() or load_catalog(t / "x.csv"), DataError, ("x.csv", "not found")),
]


def test_at_least_sixty_distinct_data_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 60


@pytest.mark.parametrize("action,error,needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_data_is_named(tmp_path: Path, action, error, needles):
    check_case(tmp_path, action, error, needles)


def test_a_utf8_byte_order_mark_keeps_the_first_row(tmp_path: Path):
    mias(tmp_path, "mdb001 F NORM\n")
    (tmp_path / "Info.txt").write_bytes(b"\xef\xbb\xbfmdb001 F CIRC B 5 5 3\nmdb002 F NORM\n")
    (tmp_path / "mdb002.pgm").write_bytes((tmp_path / "mdb001.pgm").read_bytes())
    catalog = load_catalog(tmp_path)
    assert list(catalog["image_id"]) == ["mdb001", "mdb002"]


def test_the_real_mias_subset_passes_the_validator(mias_dev):
    catalog = load_catalog(mias_dev)
    assert len(catalog) > 200 and catalog["image_id"].nunique() == 214


def test_a_centre_on_the_film_background_is_a_warning_not_an_error(tmp_path: Path, capsys):
    from mammokit import cli

    mias(tmp_path, "mdb001 F CIRC B 8 8 3\nmdb001 F CALC M 1 14 2\n")
    film = np.full((16, 16), 120, np.uint8)
    film[:6, :6] = 0  # top-left corner is film background: x=1, y=14 (origin bottom-left) lies there
    from mammokit.data import write_pgm

    write_pgm(tmp_path / "mdb001.pgm", film)
    catalog = load_catalog(tmp_path)
    found = suspicious(catalog)
    assert len(found) == 1 and "mdb001 CALC M at x=1, y=14" in found[0] and "film background" in found[0]
    assert cli.main(["data", "info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "warning: mdb001 CALC M at x=1, y=14" in out


def test_reading_a_fifo_returns_at_once(tmp_path: Path):
    with pytest.raises(DataError):
        within(10, lambda: read_image(fifo(tmp_path, "q.pgm")))
