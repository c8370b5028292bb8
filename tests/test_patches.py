"""Lesion vs normal-tissue windows: negatives clear of lesions, mm scale, patient groups, cache,
preprocessing; the detector recipes' interface; the sliding-window lesion map."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mammokit import patches
from mammokit.errors import ConfigError, DataError
from mammokit.preprocess import PreprocessConfig
from mammokit.roi import RoiDataset

WINDOW_MM = 12.8  # 64 px of a 256-px phantom at MIAS' 0.2 mm per pixel


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory):
    from mammokit.data import load_catalog, synthetic

    folder = synthetic.write_phantoms(tmp_path_factory.mktemp("ph") / "set", n_patients=8, size=256, seed=3)
    return load_catalog(folder)


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMMOKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _build(catalog, cfg=None, **options):
    return patches.build_patch_dataset(catalog, cfg, **{"size": 32, "window_mm": WINDOW_MM, "progress": False,
                                                        **options})


def test_windows_are_labelled_grouped_and_in_mm(phantoms, cache):
    data = _build(phantoms, jitter=2, negatives=5)
    lesions = phantoms[phantoms["abnormality"] != "NORM"]
    assert isinstance(data, RoiDataset) and data.images.dtype == np.uint8 and data.images.shape[1:] == (32, 32)
    assert (data.labels == 1).sum() == 3 * len(lesions)  # each lesion centred + 2 jittered copies
    assert (data.labels == 0).sum() == 5 * phantoms["image_id"].nunique()
    assert data.groups.tolist() == data.table["patient_id"].tolist()
    assert set(data.groups) == set(phantoms["patient_id"])
    t = data.table
    assert set(t.loc[t["label"] == 0, "kind"]) == {patches.NORMAL_FILM, patches.ABNORMAL_FILM}
    assert set(t.loc[t["label"] == 1, "kind"]) <= set(lesions["abnormality"])
    assert (t["window_px"] == 64).all()
    centred = t[(t["label"] == 1) & (t["copy"] == 0)]
    np.testing.assert_allclose(centred[["row", "col"]].to_numpy(), lesions[["row", "col"]].to_numpy())
    moved = t[(t["label"] == 1) & (t["copy"] > 0)]
    assert (np.abs(moved["row"] - moved["lesion_row"]) <= 16).all() and (moved["row"] != moved["lesion_row"]).all()
    # the same physical window on a film with half the pixel pitch spans twice the pixels
    assert patches.window_pixels(WINDOW_MM, 0.1) == 2 * patches.window_pixels(WINDOW_MM) == 128
    with pytest.raises(ConfigError, match="window_mm"):
        patches.window_pixels(0.5)


def test_negatives_never_touch_a_lesion(phantoms, cache):
    """Against the phantoms' true lesion masks, not only the annotated circles."""
    data = _build(phantoms, negatives=40, clearance_mm=2.0)
    half = 32
    truth = {r.image_id: np.load(r.truth)["lesion_mask"] for r in phantoms.itertuples() if r.truth}
    negatives = data.table[data.table["label"] == 0]
    assert len(negatives) > 200
    for r in negatives.itertuples():
        mask = truth[r.image_id]
        top, left = int(round(r.row)) - half, int(round(r.col)) - half
        window = mask[max(top, 0):top + 2 * half, max(left, 0):left + 2 * half]
        assert not window.any(), f"negative window of {r.image_id} at ({r.row}, {r.col}) holds a lesion"
    assert (negatives["tissue"] >= 0.5).all()
    for image_id, part in negatives.groupby("image_id"):  # and clear of the annotated circles + 2 mm
        film = phantoms[(phantoms["image_id"] == image_id) & (phantoms["abnormality"] != "NORM")]
        circles = film[["row", "col", "radius"]].to_numpy(float) + [0, 0, 10]
        assert patches.clear_of_lesions(part["row"].to_numpy(), part["col"].to_numpy(), half, circles).all()


def test_the_cache_is_reused_and_keyed_by_preprocessing(phantoms, cache):
    data = _build(phantoms)
    assert len(list((cache / "patches").iterdir())) == 1
    again = _build(phantoms)
    assert np.array_equal(again.images, data.images)
    pd.testing.assert_frame_equal(again.table, data.table)
    assert len(list((cache / "patches").iterdir())) == 1
    (next((cache / "patches").iterdir()) / "images.npy").write_bytes(b"damaged")
    assert np.array_equal(_build(phantoms).images, data.images)  # a damaged entry is rebuilt
    other = _build(phantoms, PreprocessConfig(clahe_clip=0.0))  # notebook 02's choice: no CLAHE
    assert len(list((cache / "patches").iterdir())) == 2
    pd.testing.assert_frame_equal(other.table[["row", "col"]].iloc[:len(phantoms)],
                                  data.table[["row", "col"]].iloc[:len(phantoms)])
    assert not np.array_equal(other.images, data.images), "the preprocessing given must shape the windows"
    fresh = _build(phantoms, cache=False, seed=1)
    assert not np.array_equal(fresh.table["row"], data.table["row"])  # another seed, other draws
    assert len(list((cache / "patches").iterdir())) == 2


def test_windows_follow_the_preprocessing_exactly(phantoms, cache):
    """A window is the fixed-size crop of the preprocessed film, flipped with it, resized."""
    import cv2

    from mammokit.data.images import read_image
    from mammokit.preprocess import preprocess
    from mammokit.roi import crop_around

    cfg = PreprocessConfig(kernel=3, otsu_offset=10)
    data = _build(phantoms, cfg, jitter=0, negatives=2)
    for i in (0, len(data) - 1):
        r = data.table.iloc[i]
        result = preprocess(read_image(r["path"]), cfg)
        crop = crop_around(result.cleaned, r["row"], r["col"], 64)
        want = cv2.resize(crop, (32, 32), interpolation=cv2.INTER_AREA)
        assert np.array_equal(data.images[i], want[:, ::-1] if result.flipped else want)


def test_bad_inputs_are_named(phantoms, cache):
    with pytest.raises(ConfigError, match="PreprocessConfig"):
        patches.build_patch_dataset(phantoms, {"kernel": 3})
    with pytest.raises(ConfigError, match="negatives"):
        _build(phantoms, negatives=-1)
    with pytest.raises(DataError, match="radius"):
        _build(phantoms.drop(columns="radius"))
