"""ROIs: crops keep the lesion centred, patches are labelled by overlap, the dataset is cached."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mammokit.errors import ConfigError, DataError
from mammokit.preprocess import PreprocessConfig
from mammokit.roi import (RoiDataset, build_roi_dataset, cache_key, circle_overlap, crop_side,
                          extract_roi, normal_patches, sliding_patches)


def test_roi_is_centred_sized_and_padded():
    image = np.zeros((200, 200), np.uint8)
    image[95:106, 145:156] = 255  # a bright 'lesion' at (100, 150)
    roi = extract_roi(image, 100, 150, radius=10, size=64, margin=2.0)
    assert roi.shape == (64, 64) and roi.dtype == np.uint8
    rows, cols = np.nonzero(roi > 128)
    assert abs(rows.mean() - 31.5) < 2 and abs(cols.mean() - 31.5) < 2
    edge = extract_roi(image, 5, 195, radius=20, size=32)  # half outside: padded with zeros
    assert edge.shape == (32, 32) and edge[:8].max() == 0 and edge[:, -8:].max() == 0


def test_crop_side_from_radius():
    assert crop_side(40, margin=1.5, min_side=48) == 120
    assert crop_side(5, min_side=48) == 48
    assert crop_side(float("nan"), min_side=48) == 48
    with pytest.raises(ConfigError, match="size"):
        extract_roi(np.zeros((10, 10), np.uint8), 5, 5, 3, size=3)


def test_circle_overlap():
    assert circle_overlap(0, 0, 100, 50, 50, 10) == pytest.approx(1.0)
    assert circle_overlap(0, 50, 100, 50, 50, 10) == pytest.approx(0.5, abs=0.03)
    assert circle_overlap(0, 200, 10, 50, 50, 10) == 0.0


def test_sliding_patches_are_labelled_by_overlap():
    image = np.arange(300 * 300, dtype=np.uint32).reshape(300, 300).astype(np.uint16)
    patches, table = sliding_patches(image, 150, 150, radius=20, patch=40, stride=20, steps=2)
    assert patches.shape == (25, 40, 40) and len(table) == 25
    centre = table.iloc[12]
    assert centre["overlap"] > 0.99 and centre["label"] == 1
    corner = table.iloc[0]
    assert corner["overlap"] == 0 and corner["label"] == 0
    assert set(table["label"]) == {0, 1}
    np.testing.assert_array_equal(patches[12], image[130:170, 130:170])


def test_normal_patches_lie_inside_the_mask():
    mask = np.zeros((200, 200), bool)
    mask[20:180, 0:120] = True
    image = np.where(mask, 100, 0).astype(np.uint8)
    patches, centres = normal_patches(image, mask, n=10, patch=32, seed=0)
    assert patches.shape == (10, 32, 32) and (patches == 100).all()
    assert (centres[:, 1] < 120 - 15).all()
    again, _ = normal_patches(image, mask, n=10, patch=32, seed=0)
    assert np.array_equal(again, patches)
    none, _ = normal_patches(image, np.zeros_like(mask), n=3, patch=32)
    assert none.shape == (0, 32, 32)


def _phantom_catalog(folder):
    """Three films (two patients) with lesions and one normal film, written as PGMs."""
    import cv2
    rr, cc = np.mgrid[:256, :256]
    recs = []
    for i, (pid, label, side) in enumerate([("p1", 0, "L"), ("p1", 1, "R"), ("p2", 1, "L"), ("p2", None, "R")]):
        image = np.where((rr - 128) ** 2 + cc ** 2 < 100 ** 2, 120, 5).astype(np.uint8)
        image[120:137, 50:67] = 220
        if side == "R":
            image = image[:, ::-1].copy()
        path = folder / f"f{i}.pgm"
        cv2.imwrite(str(path), image)
        col = 58.0 if side == "L" else 255 - 58.0
        recs.append(dict(image_id=f"f{i}", patient_id=pid, path=str(path), dataset="synthetic", side=side,
                         abnormality="CIRC" if label is not None else "NORM",
                         severity={0: "B", 1: "M"}.get(label), label=label,
                         row=128.0 if label is not None else np.nan, col=col if label is not None else np.nan,
                         radius=12.0 if label is not None else np.nan))
    frame = pd.DataFrame(recs)
    frame["label"] = frame["label"].astype("Int64")
    return frame


def test_build_roi_dataset_and_its_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMMOKIT_CACHE", str(tmp_path / "cache"))
    catalog = _phantom_catalog(tmp_path)
    cfg = PreprocessConfig(morph_kernel=9)
    data = build_roi_dataset(catalog, cfg, size=32, progress=False)
    assert isinstance(data, RoiDataset) and len(data) == 3  # the normal film gives no ROI
    assert data.images.shape == (3, 32, 32) and data.images.dtype == np.uint8
    assert data.labels.tolist() == [0, 1, 1] and data.groups.tolist() == ["p1", "p1", "p2"]
    assert data.table["in_mask"].all() and data.table["flipped"].tolist() == [False, True, False]
    # flipping the right film makes its ROI look like the left one's
    assert np.abs(data.images[0].astype(int) - data.images[1]).mean() < 2
    assert data.images[:, 16, 16].min() > 150, "the bright lesion sits at the ROI centre"
    cached = list((tmp_path / "cache" / "roi").iterdir())
    assert len(cached) == 1
    again = build_roi_dataset(catalog, cfg, size=32, progress=False)
    assert np.array_equal(again.images, data.images)
    pd.testing.assert_frame_equal(again.table, data.table)
    assert cache_key(catalog, cfg, 32, 1.5, 48) != cache_key(catalog, PreprocessConfig(), 32, 1.5, 48)
    assert cache_key(catalog, cfg, 32, 1.5, 48) != cache_key(catalog, cfg, 64, 1.5, 48)


def test_build_roi_dataset_rejects_a_bad_catalog():
    with pytest.raises(DataError, match="radius"):
        build_roi_dataset(pd.DataFrame({"image_id": ["a"], "patient_id": ["p"], "path": ["x"],
                                        "label": [1], "row": [1.0], "col": [1.0]}))


@pytest.mark.slow
def test_mias_rois_show_breast_tissue(mias_dev, tmp_path, monkeypatch, artifacts_dir):
    """Every MIAS lesion gives a ROI centred on tissue, not background; a contact sheet is saved
    for a person to look at (test-artifacts/mias_dev_rois.png)."""
    from mammokit.data import load_catalog
    from mammokit.plots import roi_contact_sheet

    monkeypatch.setenv("MAMMOKIT_CACHE", str(tmp_path / "cache"))
    catalog = load_catalog(mias_dev)
    data = build_roi_dataset(catalog, size=96, progress=False)
    located = catalog[catalog["label"].notna() & catalog["row"].notna()]
    assert len(data) == len(located) > 50
    assert data.table["in_mask"].all(), data.table.loc[~data.table["in_mask"], "image_id"].tolist()
    centre = data.images[:, 40:56, 40:56].mean(axis=(1, 2))
    assert centre.min() > 60, "a ROI centre is dark: background instead of breast tissue"
    assert (data.images == 0).mean(axis=(1, 2)).max() < 0.5, "a ROI is mostly background"
    titles = [f"{r.image_id} {'M' if r.label else 'B'}" for r in data.table.itertuples()]
    roi_contact_sheet(data.images, titles, ncols=12).savefig(artifacts_dir / "mias_dev_rois.png", dpi=80)


def test_rois_for_run_uses_notebook_02s_choice_and_the_lesion_filter(tmp_path, monkeypatch):
    from mammokit import data as data_module
    from mammokit import roi, runs

    monkeypatch.setenv("MAMMOKIT_CACHE", str(tmp_path / "cache"))
    catalog = _phantom_catalog(tmp_path)
    monkeypatch.setattr(data_module, "load_catalog", lambda source: catalog if source == "phantoms" else None)
    runs.save_preprocess_choice(tmp_path / "run", PreprocessConfig(morph_kernel=9).to_dict())
    lines = []
    rois, cfg = roi.rois_for_run("phantoms", tmp_path / "run", size=32, lesions="masses", log=lines.append)
    assert cfg == PreprocessConfig(morph_kernel=9) and len(rois) == 3 and rois.images.shape[1:] == (32, 32)
    assert "notebook 02" in lines[0] and lines[1].startswith("3 lesion ROIs")
    with pytest.raises(ConfigError, match="LESIONS"):
        roi.rois_for_run("phantoms", tmp_path / "run", size=32, lesions="mass", log=None)
