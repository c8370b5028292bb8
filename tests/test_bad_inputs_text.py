"""Adversarial text tables (issue 23, item 5.1): DICOM manifests and MIAS Info.txt saved by Excel,
LibreOffice or Notepad — other encodings (UTF-16 LE/BE, byte-order marks, Latin-1) and CSV dialects
(semicolon, tab, trailing commas, quotes, blank lines, CRLF, no header). Either the file reads the
same as its plain UTF-8 comma-separated twin, or the error names the file and line and the fix."""
from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bad_inputs import INFO_HEAD, check_case, file

from mammokit.data import load_catalog, write_pgm
from mammokit.data.dicom import write_dicom
from mammokit.errors import DataError

MANIFEST = "path,patient_id,label,x,y,radius\na.dcm,P1,malignant,5,5,3\nb.dcm,P2,normal,,,\n"
INFO_ROWS = "mdb001 F CIRC B 5 5 3\nmdb002 G NORM\n"


def _dicoms(tmp: Path) -> None:
    for name in ("a.dcm", "b.dcm"):
        if not (tmp / name).exists():
            write_dicom(tmp / name, np.zeros((20, 30), np.uint16), bits_stored=12)


def _manifest(tmp: Path, data: bytes | str) -> pd.DataFrame:
    _dicoms(tmp)
    file(tmp, "m.csv", data.encode() if isinstance(data, str) else data)
    return load_catalog(tmp / "m.csv")


def _info(tmp: Path, data: bytes | str, comment: str | None = None) -> pd.DataFrame:
    for image_id in ("mdb001", "mdb002"):
        write_pgm(tmp / f"{image_id}.pgm", np.full((16, 16), 100, np.uint8), comment=comment)
    file(tmp, "Info.txt", data.encode() if isinstance(data, str) else data)
    return load_catalog(tmp)


def _utf16_no_bom(text: str, endian: str) -> bytes:
    return text.encode(f"utf-16-{endian}")


# --- files that read the same as the plain one ------------------------------------------------------

SAME_MANIFEST = [
    ("utf8-bom", MANIFEST.encode("utf-8-sig")),
    ("utf16-le-bom", codecs.BOM_UTF16_LE + MANIFEST.encode("utf-16-le")),
    ("utf16-be-bom", codecs.BOM_UTF16_BE + MANIFEST.encode("utf-16-be")),
    ("utf16-le-no-bom", _utf16_no_bom(MANIFEST, "le")),
    ("utf16-be-no-bom", _utf16_no_bom(MANIFEST, "be")),
    ("utf32-bom", MANIFEST.encode("utf-32")),
    ("semicolon", MANIFEST.replace(",", ";").encode()),
    ("tab", MANIFEST.replace(",", "\t").encode()),
    ("semicolon-utf16", MANIFEST.replace(",", ";").encode("utf-16")),
    ("trailing-comma-rows", MANIFEST.replace("3\n", "3,\n").replace(",,,\n", ",,,,\n").encode()),
    ("trailing-comma-everywhere", MANIFEST.replace("\n", ",\n").encode()),
    ("trailing-semicolons", MANIFEST.replace(",", ";").replace("\n", ";;\n").encode()),
    ("crlf", MANIFEST.replace("\n", "\r\n").encode()),
    ("crlf-utf16-bom", MANIFEST.replace("\n", "\r\n").encode("utf-16")),
    ("blank-lines", ("\n" + MANIFEST.replace("\na.dcm", "\n\n  \na.dcm") + "\n\n").encode()),
    ("excel-empty-rows", (MANIFEST + ",,,,,\n,,,,,\n").encode()),
    ("quoted-fields", '"path","patient_id","label","x","y","radius"\n"a.dcm","P1","malignant","5","5","3"\n'
                      '"b.dcm","P2","normal","","",""\n'.encode()),
    ("spaces-after-commas", MANIFEST.replace(",", ", ").encode()),
    ("header-case", MANIFEST.replace("path,patient_id,label", "Path,Patient_ID,LABEL").encode()),
    ("semicolon-decimal-comma", MANIFEST.replace(",", ";").replace("5;5;3", "5,0;5,0;3,0").encode()),
    ("no-final-newline", MANIFEST.rstrip("\n").encode()),
]


@pytest.mark.parametrize("data", [c[1] for c in SAME_MANIFEST], ids=[c[0] for c in SAME_MANIFEST])
def test_a_manifest_in_another_dialect_reads_the_same(tmp_path: Path, data: bytes):
    plain = _manifest(tmp_path / "plain", MANIFEST)
    other = _manifest(tmp_path / "other", data)
    plain["path"] = plain["path"].str.replace(str(tmp_path / "plain"), "")
    other["path"] = other["path"].str.replace(str(tmp_path / "other"), "")
    pd.testing.assert_frame_equal(plain, other)


SAME_INFO = [
    ("utf16-bom", (INFO_HEAD + INFO_ROWS).encode("utf-16")),
    ("utf16-be-bom", codecs.BOM_UTF16_BE + (INFO_HEAD + INFO_ROWS).encode("utf-16-be")),
    ("utf16-le-no-bom", _utf16_no_bom(INFO_HEAD + INFO_ROWS, "le")),
    ("latin1-letter", ("Dear Dr Müller, the films of Professeur Hélène\n=====\n" + INFO_ROWS).encode("latin-1")),
    ("utf8-letter", ("Dear Dr Müller\n=====\n" + INFO_ROWS).encode()),
    ("commas", (INFO_HEAD + INFO_ROWS.replace(" ", ",")).encode()),
    ("semicolons", (INFO_HEAD + INFO_ROWS.replace(" ", ";")).encode()),
    ("tabs", (INFO_HEAD + INFO_ROWS.replace(" ", "\t")).encode()),
    ("trailing-commas", (INFO_HEAD + INFO_ROWS.replace(" ", ",").replace("\n", ",\n")).encode()),
    ("quoted-csv", (INFO_HEAD + '"mdb001","F","CIRC","B","5","5","3"\n"mdb002","G","NORM"\n').encode()),
    ("crlf", (INFO_HEAD + INFO_ROWS).replace("\n", "\r\n").encode()),
]


@pytest.mark.parametrize("data", [c[1] for c in SAME_INFO], ids=[c[0] for c in SAME_INFO])
def test_an_info_txt_in_another_encoding_or_dialect_reads_the_same(tmp_path: Path, data: bytes):
    plain = _info(tmp_path / "plain", INFO_HEAD + INFO_ROWS)
    other = _info(tmp_path / "other", data)
    for frame, name in ((plain, "plain"), (other, "other")):
        frame["path"] = frame["path"].str.replace(str(tmp_path / name), "")
    pd.testing.assert_frame_equal(plain, other)


@pytest.mark.parametrize("length", [1020, 1100, 5000, 70000], ids=lambda n: f"comment-{n}-bytes")
def test_a_pgm_whose_header_comment_is_long_is_read(tmp_path: Path, length: int):
    catalog = _info(tmp_path, INFO_HEAD + INFO_ROWS, comment="c" * length)
    assert list(catalog["height"]) == [16, 16] and list(catalog["width"]) == [16, 16]


# --- files that cannot be read: the file, the line and the fix ------------------------------------

H = "path,patient_id,label\n"
L2 = "m.csv line 2"
CASES = [
    # encodings
    ("manifest-latin1-patient", lambda t: _manifest(t, (H + "a.dcm,Müller,1\n").encode("latin-1")),
     DataError, (L2, "0xfc", "not UTF-8", "Latin-1", "Save it as UTF-8")),
    ("manifest-cp1252-header", lambda t: _manifest(t, "path,patient_id,label,côté\n".encode("cp1252")),
     DataError, ("m.csv line 1", "0xf4", "UTF-8")),
    ("manifest-latin1-late-line", lambda t: _manifest(t, (H + "a.dcm,P1,1\n" * 3 + "b.dcm,Zoë,0\n").encode("latin-1")),
     DataError, ("m.csv line 5", "not UTF-8")),
    ("manifest-utf16-cut-short", lambda t: _manifest(t, (H + "a.dcm,P1,1\n").encode("utf-16")[:-1]),
     DataError, ("m.csv", "UTF-16", "cut short", "Save it as UTF-8")),
    ("manifest-xlsx-renamed", lambda t: _manifest(t, b"PK\x03\x04\x14\x00\x06\x00" + bytes(40)),
     DataError, ("m.csv", "spreadsheet", "Save As", "CSV")),
    ("manifest-old-xls-renamed", lambda t: _manifest(t, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(40)),
     DataError, ("m.csv", "Excel")),
    ("manifest-binary", lambda t: _manifest(t, bytes(range(256)) * 4), DataError, ("m.csv", "binary", "UTF-8")),
    ("info-xlsx-renamed", lambda t: _info(t, b"PK\x03\x04" + bytes(60)), DataError, ("Info.txt", "spreadsheet")),
    ("info-binary", lambda t: _info(t, bytes(range(256)) * 4), DataError, ("Info.txt", "binary")),
    ("info-utf16-cut-short", lambda t: _info(t, (INFO_HEAD + INFO_ROWS).encode("utf-16")[:-1]),
     DataError, ("Info.txt", "UTF-16", "cut short")),
    ("info-utf16-bad-row", lambda t: _info(t, (INFO_HEAD + "mdb001 F NORM\nmdb002 Q NORM\n").encode("utf-16")),
     DataError, ("Info.txt line 4", "'Q'")),
    ("info-latin1-bad-background", lambda t: _info(t, (INFO_HEAD + "mdb001 F NORM\nmdb002 É NORM\n").encode("latin-1")),
     DataError, ("Info.txt line 4", "'É'")),
    # CSV dialects
    ("manifest-empty-file", lambda t: _manifest(t, b""), DataError, ("m.csv", "empty", "first line names the columns")),
    ("manifest-blank-lines-only", lambda t: _manifest(t, "\n \n\r\n"), DataError, ("m.csv", "empty")),
    ("manifest-no-header", lambda t: _manifest(t, "a.dcm,P1,1\nb.dcm,P2,0\n"),
     DataError, ("m.csv line 1", "header line missing", "path,patient_id,label")),
    ("manifest-no-header-semicolon", lambda t: _manifest(t, "a.dcm;P1;1\n"), DataError, ("m.csv line 1", "header")),
    ("manifest-header-after-blank-line-typo", lambda t: _manifest(t, "\n\npath,patient,label\na.dcm,P1,1\n"),
     DataError, ("m.csv line 3", "'patient'", "did you mean 'patient_id'")),
    ("manifest-tab-column-typo", lambda t: _manifest(t, "path\tpatiend_id\tlabel\na.dcm\tP1\t1\n"),
     DataError, ("m.csv line 1", "'patiend_id'", "did you mean 'patient_id'")),
    ("manifest-extra-value", lambda t: _manifest(t, H + "a.dcm,P1,1,5\n"),
     DataError, (L2, "4 values", "names 3 columns", "Remove")),
    ("manifest-unquoted-comma-in-path", lambda t: _manifest(t, H + "scans/a,b.dcm,P1,1\n"),
     DataError, (L2, "4 values", "quote a value that holds a comma")),
    ("manifest-semicolon-extra-value", lambda t: _manifest(t, H.replace(",", ";") + "a.dcm;P1;1;x\n"),
     DataError, (L2, "semicolon")),
    ("manifest-header-unnamed-column", lambda t: _manifest(t, "path,,patient_id,label\na.dcm,x,P1,1\n"),
     DataError, ("m.csv line 1", "column 2", "no name")),
    ("manifest-column-twice", lambda t: _manifest(t, "path,patient_id,label,Label\na.dcm,P1,1,1\n"),
     DataError, ("m.csv line 1", "label", "twice")),
    ("manifest-unterminated-quote", lambda t: _manifest(t, H + 'a.dcm,P1,1\n"b.dcm,P2,0\n'),
     DataError, ("m.csv line 3", "quotes")),
    ("manifest-stray-quote", lambda t: _manifest(t, H + '"a.dcm"x,P1,1\n'), DataError, (L2, "quotes")),
    ("manifest-trailing-comma-bad-label", lambda t: _manifest(t, H + "a.dcm,P1,Q,\n"), DataError, (L2, "label 'Q'")),
    ("manifest-blank-line-keeps-line-numbers", lambda t: _manifest(t, H + "\n\na.dcm,P1,X\n"),
     DataError, ("m.csv line 4", "label 'X'")),
    ("manifest-crlf-keeps-line-numbers", lambda t: _manifest(t, (H + "a.dcm,P1,1\nb.dcm,P1,X\n").replace("\n", "\r\n")),
     DataError, ("m.csv line 3", "label 'X'")),
    ("manifest-multiline-quote-keeps-line-numbers", lambda t: _manifest(
        t, 'path,patient_id,label,image_id\na.dcm,P1,1,"two\nlines"\nb.dcm,P2,X,z\n'), DataError, ("m.csv line 4", "'X'")),
    ("manifest-utf16-keeps-line-numbers", lambda t: _manifest(t, (H + "a.dcm,P1,1\n\nb.dcm,P1,X\n").encode("utf-16")),
     DataError, ("m.csv line 4", "label 'X'")),
    ("manifest-semicolon-two-decimal-commas", lambda t: _manifest(
        t, "path;patient_id;label;x;y;radius\na.dcm;P1;1;5,5,5;5;3\n"), DataError, (L2, "'5,5,5'", "not a number")),
    ("info-semicolon-class-typo", lambda t: _info(t, INFO_HEAD + "mdb001;F;CIRQ;B\n"), DataError, ("Info.txt line 3", "'CIRQ'")),
    ("info-trailing-comma-bad-number", lambda t: _info(t, INFO_HEAD + "mdb001 F CIRC B 5 5 x,\n"),
     DataError, ("Info.txt line 3", "not all numbers")),
]


def test_at_least_thirty_distinct_text_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize("action,error,needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_an_unreadable_text_table_is_named(tmp_path: Path, action, error, needles):
    check_case(tmp_path, action, error, needles)
