"""DICOM: manifest CSV and pixel reading (rescale, window, VOI LUT, MONOCHROME1, bit depth)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mammokit.data import COLUMNS, load_catalog, read_image
from mammokit.data.dicom import write_dicom

RAMP = (np.arange(40 * 50).reshape(40, 50) * 2 % 4096).astype(np.uint16)


def test_12_bit_depth_is_kept(tmp_path: Path):
    path = write_dicom(tmp_path / "a.dcm", RAMP, bits_stored=12)
    image = read_image(path)
    assert image.dtype == np.uint16 and np.array_equal(image, RAMP)


def test_8_bit_comes_back_uint8(tmp_path: Path):
    image = (RAMP // 16).astype(np.uint8)
    assert read_image(write_dicom(tmp_path / "b.dcm", image)).dtype == np.uint8


def test_monochrome1_is_inverted(tmp_path: Path):
    path = write_dicom(tmp_path / "c.dcm", RAMP, bits_stored=12, photometric="MONOCHROME1")
    assert np.array_equal(read_image(path), 4095 - RAMP)


def test_window_maps_centre_and_width(tmp_path: Path):
    path = write_dicom(tmp_path / "d.dcm", RAMP, bits_stored=12, window=(2048, 1024))
    image = read_image(path).astype(int)
    low, high, mid = RAMP < 1536, RAMP > 2560, np.abs(RAMP.astype(int) - 2048) < 4
    assert (image[low] == 0).all() and (image[high] == 4095).all()
    assert np.abs(image[mid] - 2048).max() < 30


def test_rescale_slope_intercept(tmp_path: Path):
    small = (RAMP // 4).astype(np.uint16)  # up to 1023
    path = write_dicom(tmp_path / "e.dcm", small, bits_stored=12, slope=2.0, intercept=100.0)
    assert np.array_equal(read_image(path), small.astype(int) * 2 + 100)


def test_voi_lut_sequence(tmp_path: Path):
    import pydicom
    from pydicom.dataset import Dataset

    path = write_dicom(tmp_path / "f.dcm", (RAMP // 16).astype(np.uint16), bits_stored=8 + 4)
    ds = pydicom.dcmread(path)
    item = Dataset()
    item.LUTDescriptor = [256, 0, 8]
    item.add_new(0x00283006, "US", list(range(255, -1, -1)))  # LUTData: an inverting LUT over 0..255
    ds.VOILUTSequence = [item]
    ds.save_as(path)
    image = read_image(path).astype(int)
    flat = (RAMP // 16).astype(int)
    expect = np.where(flat > 255, 0, 255 - np.clip(flat, 0, 255)) * 4095 / 255
    assert np.abs(image - expect).max() <= 1


def test_manifest_catalog(tmp_path: Path):
    write_dicom(tmp_path / "a1.dcm", RAMP, bits_stored=12, side="L", patient_id="P1")
    write_dicom(tmp_path / "a2.dcm", RAMP, bits_stored=12, side="R", patient_id="P1")
    (tmp_path / "m.csv").write_text("path,patient_id,label,x,y,radius\n"
                                    "a1.dcm,P1,malignant,10,30,5\n"
                                    "a1.dcm,P1,0,20,5,3\n"
                                    "a2.dcm,P1,,,,\n")
    c = load_catalog(tmp_path / "m.csv")
    assert list(c.columns) == list(COLUMNS)
    assert c["label"].tolist()[:2] == [1, 0] and c["label"].isna().tolist()[2]
    assert c["row"].tolist()[:2] == [30, 5], "DICOM y is already a row (origin top-left)"
    assert c["side"].tolist() == ["L", "L", "R"] and set(c["dataset"]) == {"dicom"}
    assert c["abnormality"].tolist() == ["MISC", "MISC", "NORM"]
    assert (c["height"] == 40).all() and (c["width"] == 50).all()


def test_manifest_with_boxes(tmp_path: Path):
    write_dicom(tmp_path / "a.dcm", RAMP, bits_stored=12)
    (tmp_path / "m.csv").write_text("path,patient_id,label,xmin,ymin,xmax,ymax,abnormality\n"
                                    "a.dcm,P9,B,10,10,20,30,CIRC\n")
    r = load_catalog(tmp_path / "m.csv").iloc[0]
    assert (r["col"], r["row"], r["radius"], r["abnormality"], r["side"]) == (15, 20, 10, "CIRC", "U")
