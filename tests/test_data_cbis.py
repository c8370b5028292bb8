"""CBIS-DDSM: a small synthetic TCIA download (four description CSVs with the real columns, case
folders with other uids than the CSVs name, 1-1.dcm / 1-2.dcm in either order) read as a catalog."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from mammokit import cli
from mammokit.data import COLUMNS, cbis, load_catalog
from mammokit.data.dicom import write_dicom
from mammokit.errors import ConfigError, DataError

H, W = 64, 48
MASS = ["patient_id", "breast_density", "left or right breast", "image view", "abnormality id", "abnormality type",
        "mass shape", "mass margins", "assessment", "pathology", "subtlety", "image file path",
        "cropped image file path", "ROI mask file path"]
CALC = ["patient_id", "breast density", "left or right breast", "image view", "abnormality id", "abnormality type",
        "calc type", "calc distribution", "assessment", "pathology", "subtlety", "image file path",
        "cropped image file path", "ROI mask file path"]
# (csv, patient, side, view, abnormality id, density, shape/type, margins/distribution, pathology, centre, radius)
LESIONS = [
    ("mass_train", "P_00001", "LEFT", "CC", 1, 3, "IRREGULAR", "SPICULATED", "MALIGNANT", (20, 15), 5),
    ("mass_train", "P_00001", "LEFT", "CC", 2, 3, "OVAL", "CIRCUMSCRIBED", "BENIGN_WITHOUT_CALLBACK", (45, 30), 3),
    ("calc_train", "P_00002", "RIGHT", "MLO", 1, 1, "PLEOMORPHIC", "CLUSTERED", "BENIGN", (30, 24), 4),
    ("mass_test", "P_00002", "RIGHT", "CC", 1, 1, "ROUND", "ILL_DEFINED", "MALIGNANT", (12, 36), 6),
    ("calc_test", "P_00003", "LEFT", "MLO", 1, 4, "AMORPHOUS", "SEGMENTAL", "MALIGNANT", (50, 10), 2),
    ("mass_train", "P_00004", "RIGHT", "MLO", 1, 2, "ARCHITECTURAL_DISTORTION", "SPICULATED", "BENIGN", (33, 33), 7),
]
FOLDER = {"mass_train": "Mass-Training", "mass_test": "Mass-Test", "calc_train": "Calc-Training", "calc_test": "Calc-Test"}


def _uid(n: int) -> str:
    return f"1.3.6.1.4.1.9590.100.1.2.{n:012d}"


def _save(path: Path, image: np.ndarray, description: str | None = None) -> None:
    import pydicom

    path.parent.mkdir(parents=True, exist_ok=True)
    write_dicom(path, image, bits_stored=12 if image.dtype == np.uint16 else None)
    if description:
        ds = pydicom.dcmread(path)
        ds.SeriesDescription = description
        ds.save_as(path)


def _disc(centre: tuple[int, int], radius: int, shape=(H, W)) -> np.ndarray:
    rr, cc = np.mgrid[:shape[0], :shape[1]]
    return (((rr - centre[0]) ** 2 + (cc - centre[1]) ** 2) <= radius ** 2).astype(np.uint8) * 255


def make_download(root: Path, mask_shape: tuple[int, int] = (H, W)) -> Path:
    """A TCIA-style CBIS-DDSM download: CSVs beside CBIS-DDSM/<case>/<study uid>/<series uid>/1-N.dcm."""
    rows: dict[str, list[list[str]]] = {k: [] for k in FOLDER}
    films = set()
    for i, (key, patient, side, view, ab_id, density, a, b, pathology, centre, radius) in enumerate(LESIONS):
        case = f"{FOLDER[key]}_{patient}_{side}_{view}"
        film_dir = root / "CBIS-DDSM" / case / _uid(100 + i) / _uid(200 + i)  # other uids than the CSV's
        if case not in films:
            films.add(case)
            film = (np.arange(H * W).reshape(H, W) % 4096).astype(np.uint16)
            _save(film_dir / "1-1.dcm", film, "full mammogram images")
        roi_dir = root / "CBIS-DDSM" / f"{case}_{ab_id}" / _uid(300 + i) / _uid(400 + i)
        mask, crop = _disc(centre, radius, mask_shape), np.full((12, 10), 900, np.uint16)
        described = i % 2 == 1  # half with SeriesDescription, and then the crop comes first
        _save(roi_dir / ("1-2.dcm" if described else "1-1.dcm"), mask, "ROI mask images" if described else None)
        _save(roi_dir / ("1-1.dcm" if described else "1-2.dcm"), crop, "cropped images" if described else None)
        csv_path = f"{case}/{_uid(1000 + i)}/{_uid(2000 + i)}/000000.dcm"
        roi_path = f"{case}_{ab_id}/{_uid(3000 + i)}/{_uid(4000 + i)}/000000.dcm"
        rows[key].append([patient, str(density), side, view, str(ab_id), "mass" if "mass" in key else "calcification",
                          a, b, "4", pathology, "3", csv_path, roi_path.replace("000000", "000001"),
                          roi_path + "\n"])  # TCIA's CSVs hold a newline inside some quoted paths
    for key, data in rows.items():
        kind, split = key.split("_")
        with open(root / f"{kind}_case_description_{split}_set.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(MASS if kind == "mass" else CALC)
            writer.writerows(data)
    return root


@pytest.fixture
def download(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("MAMMOKIT_CACHE", str(tmp_path / "cache"))
    return make_download(tmp_path / "cbis")


def _row(catalog, image_id: str, k: int = 0):
    return catalog[catalog["image_id"] == image_id].iloc[k]


def test_catalog_contract_labels_and_classes(download: Path):
    c = load_catalog(download)
    assert list(c.columns) == list(COLUMNS) and len(c) == len(LESIONS)
    assert set(c["dataset"]) == {"cbis-ddsm"} and str(c["label"].dtype) == "Int64"
    assert sorted(c["image_id"].unique()) == ["Calc-Test_P_00003_LEFT_MLO", "Calc-Training_P_00002_RIGHT_MLO",
                                              "Mass-Test_P_00002_RIGHT_CC", "Mass-Training_P_00001_LEFT_CC",
                                              "Mass-Training_P_00004_RIGHT_MLO"]
    by_id = c.set_index(["image_id", "severity"])
    assert by_id.loc[("Mass-Training_P_00001_LEFT_CC", "M"), "abnormality"] == "SPIC"
    assert by_id.loc[("Mass-Training_P_00001_LEFT_CC", "B"), "abnormality"] == "CIRC"
    assert by_id.loc[("Mass-Test_P_00002_RIGHT_CC", "M"), "abnormality"] == "MISC"
    assert by_id.loc[("Mass-Training_P_00004_RIGHT_MLO", "B"), "abnormality"] == "ARCH"
    assert set(c.loc[c["image_id"].str.startswith("Calc"), "abnormality"]) == {"CALC"}
    assert c["label"].tolist() == [1 if lesion[8] == "MALIGNANT" else 0 for lesion in _csv_order()]
    assert _row(c, "Calc-Training_P_00002_RIGHT_MLO")["background"] == "F"
    assert _row(c, "Mass-Training_P_00004_RIGHT_MLO")["background"] == "G"
    assert _row(c, "Calc-Test_P_00003_LEFT_MLO")["background"] == "D"
    assert _row(c, "Mass-Training_P_00001_LEFT_CC")["side"] == "L" and _row(c, "Mass-Test_P_00002_RIGHT_CC")["side"] == "R"
    assert (c["height"] == H).all() and (c["width"] == W).all() and c["truth"].isna().all()


def _csv_order():
    order = ["mass_train", "mass_test", "calc_train", "calc_test"]  # the loader reads the CSVs in this order
    return sorted(LESIONS, key=lambda lesion: order.index(lesion[0]))


def test_benign_without_callback_is_benign(download: Path):
    c = load_catalog(download)
    row = c[(c["image_id"] == "Mass-Training_P_00001_LEFT_CC") & (c["abnormality"] == "CIRC")].iloc[0]
    assert row["severity"] == "B" and row["label"] == 0


def test_centres_and_radii_from_the_masks_whichever_file_order(download: Path):
    c = load_catalog(download)
    for lesion in _csv_order():
        image_id = f"{FOLDER[lesion[0]]}_{lesion[1]}_{lesion[2]}_{lesion[3]}"
        rows = c[c["image_id"] == image_id]
        r = rows.iloc[lesion[4] - 1] if len(rows) > 1 else rows.iloc[0]
        (row, col), radius = lesion[9], lesion[10]
        assert (r["row"], r["col"]) == pytest.approx((row, col), abs=1e-9)
        assert (r["x"], r["y"]) == pytest.approx((col, H - 1 - row)), "MIAS convention: y from the bottom"
        assert r["radius"] == pytest.approx(radius + 0.5), "enclosing radius + half a pixel"


def test_patients_and_official_split(download: Path):
    c = load_catalog(download)
    assert sorted(c["patient_id"].unique()) == ["P_00001", "P_00002", "P_00003", "P_00004"]
    split = c.drop_duplicates("image_id").set_index("image_id")["split"]
    assert split["Mass-Training_P_00001_LEFT_CC"] == "train" and split["Calc-Test_P_00003_LEFT_MLO"] == "test"
    # P_00002: calc film on the train side, mass film on the test side; each film keeps its CSV's split
    assert split["Calc-Training_P_00002_RIGHT_MLO"] == "train" and split["Mass-Test_P_00002_RIGHT_CC"] == "test"


def test_official_split_moves_straddling_patients_to_test(download: Path, capsys):
    c = load_catalog(download)
    s = cbis.official_split(c)
    assert s.moved == ["P_00002"] and "P_00002" in capsys.readouterr().err
    train, test = set(c["patient_id"].iloc[s.train]), set(c["patient_id"].iloc[s.test])
    assert not train & test and train == {"P_00001", "P_00004"} and test == {"P_00002", "P_00003"}
    assert sorted(np.concatenate([s.train, s.test]).tolist()) == list(range(len(c)))
    dropped = cbis.official_split(c, straddling="drop")
    assert dropped.train.tolist() == s.train.tolist() and len(dropped.test) == len(s.test) - 1
    assert set(c["split"].iloc[dropped.test]) == {"test"}, "the official test set stays as published"
    with pytest.raises(ConfigError, match="straddling"):
        cbis.official_split(c, straddling="keep")


def test_official_split_of_a_roi_table_and_of_other_catalogs(download: Path):
    c = load_catalog(download)
    table = c[["image_id", "patient_id", "label"]].iloc[::-1].reset_index(drop=True)  # a ROI table, other order
    s = cbis.official_split(table, catalog=c)
    assert set(table["patient_id"].iloc[s.train]) == {"P_00001", "P_00004"}
    with pytest.raises(DataError, match="only CBIS-DDSM catalogs"):
        cbis.official_split(c.assign(split=None))


def test_kit_patient_splits_keep_each_patient_on_one_side(download: Path):
    from mammokit.splits import check_patient_disjoint, kfold_by_patient

    c = load_catalog(download)
    for fold in kfold_by_patient(c, k=2, seed=0):
        check_patient_disjoint(c, fold)


def test_missing_dicom_is_skipped_with_one_line_or_raised_when_strict(download: Path, capsys):
    shutil.rmtree(download / "CBIS-DDSM" / "Calc-Test_P_00003_LEFT_MLO_1")
    c = load_catalog(download)
    assert len(c) == len(LESIONS) - 1 and "P_00003" not in set(c["patient_id"])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "skipped 1 of 6 CSV rows" in err[0]
    assert "calc_case_description_test_set.csv line 2" in err[0] and "Calc-Test_P_00003_LEFT_MLO_1" in err[0]
    with pytest.raises(DataError, match=r"calc_case_description_test_set\.csv line 2: no DICOM file found at .*"
                                        r"Calc-Test_P_00003_LEFT_MLO_1"):
        cbis.load_folder(download, strict=True)


def test_line_numbers_count_newlines_inside_quoted_paths(download: Path):
    shutil.rmtree(download / "CBIS-DDSM" / "Mass-Training_P_00004_RIGHT_MLO")
    with pytest.raises(DataError, match=r"mass_case_description_train_set\.csv line 6: .*Mass-Training_P_00004"):
        cbis.load_folder(download, strict=True)  # rows 1, 2 each take two lines (newline in a quoted path)


def test_nothing_found_is_an_error(download: Path):
    shutil.rmtree(download / "CBIS-DDSM")
    with pytest.raises(DataError, match="none of the 6 CSV rows has its DICOM files.*NBIA Data Retriever"):
        load_catalog(download)


def test_mask_of_another_size_than_its_film_names_both_files(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MAMMOKIT_CACHE", str(tmp_path / "cache"))
    root = make_download(tmp_path / "cbis", mask_shape=(H // 2, W))
    with pytest.raises(DataError, match=r"line 2: the ROI mask .*Mass-Training_P_00001_LEFT_CC_1.*1-1\.dcm is 48x32 "
                                        r"pixels but its film .*Mass-Training_P_00001_LEFT_CC/.*1-1\.dcm is 48x64"):
        load_catalog(root)


def test_masks_are_read_once_then_cached(download: Path, monkeypatch):
    first = load_catalog(download)

    def fail(path):
        raise AssertionError(f"mask {path} read again")

    monkeypatch.setattr(cbis, "mask_geometry", fail)
    again = load_catalog(download)
    assert again.equals(first)


def test_other_ways_to_point_at_it_and_bad_columns(download: Path):
    n = len(load_catalog(download / "CBIS-DDSM"))
    assert n == len(load_catalog(download / "mass_case_description_test_set.csv")) == len(LESIONS)
    path = download / "calc_case_description_test_set.csv"
    path.write_text(path.read_text().replace("pathology", "diagnosis", 1))
    with pytest.raises(DataError, match=r"calc_case_description_test_set\.csv line 1: column\(s\) 'pathology' missing"):
        load_catalog(download)


def test_data_info_on_a_download(download: Path, capsys):
    assert cli.main(["data", "info", str(download)]) == 0
    out = capsys.readouterr().out
    assert "cbis-ddsm" in out and "images:           5" in out and "patients:         4" in out
    assert "official split (images): test=2, train=3" in out and "malignant rows:   3" in out


def test_unknown_pathology_names_file_and_line(download: Path):
    path = download / "mass_case_description_test_set.csv"
    path.write_text(path.read_text().replace("MALIGNANT", "UNPROVEN"))
    with pytest.raises(DataError, match=r"mass_case_description_test_set\.csv line 2: pathology 'UNPROVEN'"):
        load_catalog(download)


def test_mask_geometry_monochrome1_and_damaged_masks(tmp_path: Path):
    mask = _disc((10, 20), 4)
    write_dicom(tmp_path / "m1.dcm", 255 - mask, photometric="MONOCHROME1")  # lesion = low stored values
    row, col, radius, height, width = cbis.mask_geometry(tmp_path / "m1.dcm")
    assert (row, col, radius, height, width) == (pytest.approx(10), pytest.approx(20), pytest.approx(4.5), H, W)
    (tmp_path / "bad.dcm").write_bytes(b"not a dicom")
    with pytest.raises(DataError, match=r"bad\.dcm"):
        cbis.mask_geometry(tmp_path / "bad.dcm")
    write_dicom(tmp_path / "empty.dcm", np.zeros((H, W), np.uint8))
    with pytest.raises(DataError, match="the ROI mask is empty"):
        cbis.mask_geometry(tmp_path / "empty.dcm")


def test_suspicious_does_not_reread_cbis_films(download: Path, monkeypatch):
    from mammokit.data import images, suspicious

    c = load_catalog(download)
    monkeypatch.setattr(images, "read_image", lambda path: (_ for _ in ()).throw(AssertionError(path)))
    assert suspicious(c) == []


def test_a_row_listed_twice_is_kept_once(download: Path, capsys):
    path = download / "calc_case_description_test_set.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines + lines[1:]))  # the data row (two physical lines) again
    c = load_catalog(download)
    assert len(c) == len(LESIONS) and "kept 1 repeated row(s)" in capsys.readouterr().err
