"""MIAS: Info.txt parsing (every irregularity of the real file), PGM reading, pairing, loading."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mammokit.data import COLUMNS, load_catalog, read_image, read_pgm, write_pgm
from mammokit.data import counts, mias, summarise

HEADER = """              MAMMOGRAPHIC IMAGE ANALYSIS SOCIETY
SW3 6JJ, UK.
mdb files are 1024 pixels x 1024 pixels.
=================================================================

"""


def _folder(tmp_path: Path, rows: str, size: int = 64, ids=None) -> Path:
    (tmp_path / "Info.txt").write_text(HEADER + rows + "\n\n" + "=" * 65 + "\n")
    for image_id in ids or sorted({line.split()[0] for line in rows.splitlines() if line.strip()}):
        write_pgm(tmp_path / f"{image_id}.pgm", np.zeros((size, size), np.uint8))
    return tmp_path


def test_parse_line_variants():
    assert mias.parse_line("mdb003 D NORM ").severity is None
    row = mias.parse_line("mdb005 F CIRC B 477 133 30")
    assert (row.x, row.y, row.radius, row.severity) == (477, 133, 30, "B")
    no_coords = mias.parse_line("mdb059 F CIRC B")
    assert no_coords.severity == "B" and no_coords.x is None
    note = mias.parse_line("mdb216 D CALC M *NOTE 3* ")
    assert note.x is None and note.note == "*NOTE 3*"
    assert mias.parse_line("MDB010\tg  calc   b 1 2  3 \r").image_id == "mdb010"


def test_parser_skips_header_and_blank_lines(tmp_path: Path):
    folder = _folder(tmp_path, "mdb001 G CIRC B 35 42 19\n\nmdb001 G CIRC B 10 10 5  \n   \nmdb002 G NORM \n")
    rows = mias.parse_info(folder / "Info.txt")
    assert [r.image_id for r in rows] == ["mdb001", "mdb001", "mdb002"]
    assert rows[0].line == 6


def test_catalog_of_a_folder(tmp_path: Path):
    folder = _folder(tmp_path, "mdb005 F CIRC B 40 10 8\nmdb005 F CIRC B 20 60 3\nmdb006 F NORM\n")
    c = load_catalog(folder)
    assert list(c.columns) == list(COLUMNS)
    assert c["row"].tolist()[:2] == [63 - 10, 63 - 60], "row = height - 1 - y (origin bottom-left)"
    assert c["col"].tolist()[:2] == [40, 20]
    assert c["patient_id"].tolist() == ["p003"] * 3
    assert c["side"].tolist() == ["R", "R", "L"]
    assert c["label"].tolist()[:2] == [0, 0] and c["label"].isna().tolist()[2]


@pytest.mark.parametrize("image_id,patient,side", [("mdb001", "p001", "R"), ("mdb002", "p001", "L"),
                                                   ("mdb321", "p161", "R"), ("mdb322", "p161", "L")])
def test_patient_pairing(image_id, patient, side):
    assert mias.patient_of(image_id) == (patient, side)


@pytest.mark.parametrize("dtype,maxval", [(np.uint8, 255), (np.uint16, 65535)])
def test_pgm_round_trip(tmp_path: Path, dtype, maxval):
    image = (np.arange(12 * 7).reshape(12, 7) * 997 % (maxval + 1)).astype(dtype)
    path = write_pgm(tmp_path / "a.pgm", image, comment="made by a test")
    back = read_image(path)
    assert back.dtype == dtype and np.array_equal(back, image)


def test_pgm_16bit_is_big_endian_and_keeps_maxval_4095(tmp_path: Path):
    path = tmp_path / "b.pgm"
    path.write_bytes(b"P5\n# a comment\n2 1\n# another\n4095\n" + bytes([0x0F, 0xFF, 0x01, 0x00]))
    assert read_pgm(path).tolist() == [[4095, 256]]


def test_ascii_pgm(tmp_path: Path):
    path = tmp_path / "c.pgm"
    path.write_text("P2\n3 2\n255\n0 1 2\n3 4 255\n")
    assert read_pgm(path).tolist() == [[0, 1, 2], [3, 4, 255]]


def test_png_8_and_16_bit(tmp_path: Path):
    import cv2

    for dtype in (np.uint8, np.uint16):
        image = (np.arange(30).reshape(5, 6) * 50).astype(dtype)
        cv2.imwrite(str(tmp_path / "d.png"), image)
        back = read_image(tmp_path / "d.png")
        assert back.dtype == dtype and np.array_equal(back, image)


def test_auto_falls_back_loudly(capsys, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("MAMMOKIT_DATA_DIR", str(tmp_path / "empty"))
    from mammokit.data import synthetic

    monkeypatch.setattr(synthetic, "default_phantoms", lambda: _folder(tmp_path, "mdb001 G NORM\n"))
    catalog = load_catalog("auto")
    assert len(catalog) == 1
    err = capsys.readouterr().err
    assert "FALLING BACK" in err and "mammokit data download mias" in err


def test_auto_prefers_installed_mias(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("MAMMOKIT_DATA_DIR", str(tmp_path))
    (tmp_path / "mias").mkdir()
    _folder(tmp_path / "mias", "mdb001 G NORM\nmdb002 G NORM\n")
    catalog = load_catalog("auto")
    assert set(catalog["dataset"]) == {"mias"} and len(catalog) == 2


# --- the real development subset ----------------------------------------------------------------

@pytest.fixture(scope="module")
def dev_catalog(mias_dev):
    return load_catalog(mias_dev)


def test_dev_subset_counts(dev_catalog):
    """The numbers in ../shared/mias-dev/README.md."""
    assert counts(dev_catalog) == {
        "images": 214, "patients": 107, "rows": 222, "normal_rows": 139, "benign_rows": 46,
        "malignant_rows": 37, "abnormal_rows_with_centre": 81, "benign_with_centre": 45,
        "malignant_with_centre": 36}


def test_dev_subset_irregular_rows(dev_catalog):
    c = dev_catalog.set_index("image_id")
    assert np.isnan(c.loc["mdb059", "x"]) and c.loc["mdb059", "severity"] == "B"
    assert np.isnan(c.loc["mdb216", "x"]) and c.loc["mdb216", "severity"] == "M"
    assert len(c.loc[["mdb005"]]) == 2
    assert (dev_catalog.groupby("patient_id")["side"].apply(lambda s: set(s)) == {"L", "R"}).all()
    assert dev_catalog["height"].eq(1024).all() and dev_catalog["width"].eq(1024).all()


def test_dev_centres_use_the_bottom_left_origin(dev_catalog):
    """Masses are denser than their film: the correct centre is brighter than the flipped one."""
    masses = dev_catalog[dev_catalog["abnormality"].isin(["CIRC", "SPIC", "MISC"]) & dev_catalog["row"].notna()]
    right = wrong = 0
    for r in masses.itertuples():
        image = read_image(r.path).astype(float)
        k = max(int(r.radius) // 2, 3)
        at = lambda row: image[max(int(row) - k, 0):int(row) + k, max(int(r.col) - k, 0):int(r.col) + k].mean()  # noqa: E731
        right += at(r.row) > at(r.y)
        wrong += at(r.row) < at(r.y)
    assert right > 2 * wrong


def test_summary_names_the_counts(dev_catalog):
    text = summarise(dev_catalog)
    for needle in ("images:           214", "patients:         107", "normal rows:      139",
                   "benign rows:      46", "malignant rows:   37"):
        assert needle in text
