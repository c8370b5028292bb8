"""mammokit.features: hand-crafted lesion features (size, intensity, GLCM texture, shape)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mammokit import features as F
from mammokit.errors import MammokitError
from mammokit.roi import RoiDataset


def _blob(size: int = 48, radius: float = 10, axes: tuple[float, float] = (1.0, 1.0), seed: int = 0) -> np.ndarray:
    """A bright ellipse on a darker noisy background, uint8."""
    rng = np.random.default_rng(seed)
    c = (size - 1) / 2
    rr, cc = np.mgrid[:size, :size]
    inside = ((rr - c) / (radius * axes[0])) ** 2 + ((cc - c) / (radius * axes[1])) ** 2 <= 1
    image = 60 + rng.normal(0, 5, (size, size)) + 120 * inside
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("levels", [8, 32])
def test_glcm_matches_scikit_image(levels):
    skimage_feature = pytest.importorskip("skimage.feature")
    image = np.random.default_rng(1).integers(0, 256, (24, 24)).astype(np.uint8)
    ours = F.glcm(image, np.ones(image.shape, bool), levels)
    q = (image.astype(int) * levels // 256).astype(np.uint8)
    ref = skimage_feature.graycomatrix(q, [1], [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4], levels=levels,
                                       symmetric=True, normed=False)[:, :, 0, :].sum(axis=-1).astype(float)
    np.testing.assert_allclose(ours, ref / ref.sum(), atol=1e-12)
    props = F.glcm_props(ours)
    for name in F.GLCM_PROPS:
        expected = skimage_feature.graycoprops(ref[:, :, None, None] / ref.sum(), name)[0, 0]
        assert props[name] == pytest.approx(expected, rel=1e-9, abs=1e-12), name


def test_glcm_counts_only_pairs_inside_the_mask():
    image = np.zeros((10, 10), np.uint8)
    image[:, 5:] = 255
    mask = np.zeros((10, 10), bool)
    mask[:, :5] = True  # only the black half
    assert F.glcm_props(F.glcm(image, mask))["contrast"] == 0.0
    assert F.glcm_props(F.glcm(image, np.ones_like(mask)))["contrast"] > 0


def test_shape_features_tell_a_disc_from_an_elongated_blob():
    disc = F.roi_features(_blob(radius=10), 10)
    long = F.roi_features(_blob(radius=10, axes=(1.6, 0.5)), 10)
    assert disc["eccentricity"] < 0.3 < 0.8 < long["eccentricity"]
    assert disc["solidity"] > 0.9 and 0.8 < disc["area_ratio"] < 1.2
    assert 0.9 < disc["compactness"] < 1.4
    assert disc["contrast_to_ring"] > 0.3, "the lesion is brighter than the ring around it"


def test_roi_features_refuse_non_uint8():
    with pytest.raises(MammokitError, match="uint8"):
        F.roi_features(np.zeros((16, 16), float), 4)


def test_feature_table_scales_the_radius_to_the_roi_and_to_millimetres():
    big, small = _blob(48, 12), _blob(48, 6)
    table = pd.DataFrame({"radius": [60.0, 30.0, np.nan], "crop_side": [240, 240, 48]})
    data = RoiDataset(np.stack([big, small, small]), table, np.array([1, 0, 0]), np.array(["a", "b", "c"]))
    out = F.feature_table(data)
    assert list(out.columns) == list(F.FEATURES) and len(out) == 3
    np.testing.assert_allclose(out.radius_mm[:2], [12.0, 6.0])  # 200 µm per pixel
    assert np.isnan(out.radius_mm[2])
    # 60 film px in a 240 px crop resized to 48 px: the lesion has 12 ROI px, as drawn
    assert 0.8 < out.area_ratio[0] < 1.2 and 0.8 < out.area_ratio[1] < 1.2


def _disc(blur_px: float = 0.0, spokes: int = 0, size: int = 201, radius: int = 40) -> np.ndarray:
    import cv2

    yy, xx = np.mgrid[:size, :size] - size // 2
    image = np.where(yy ** 2 + xx ** 2 <= radius ** 2, 180.0, 60.0)
    angle = np.arctan2(yy, xx)
    if spokes:  # bright radial streaks outside the disc, like spicules
        image += 80.0 * ((np.cos(spokes * angle) > 0.8) & (np.hypot(yy, xx) > radius))
    if blur_px:
        image = cv2.GaussianBlur(image, (0, 0), blur_px)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_margin_features_see_a_blurred_border_and_radial_streaks_at_a_fixed_scale():
    from mammokit.features import MARGIN_FEATURES, margin_features

    sharp, blurred, spiky = (margin_features(_disc(**kw), 40.0) for kw in ({}, {"blur_px": 15.0}, {"spokes": 24}))
    assert set(sharp) == set(MARGIN_FEATURES)
    assert sharp["contrast_mm"] > 0.3
    assert sharp["margin_sharpness"] > 1.5 * blurred["margin_sharpness"], "a blurred border drops less per mm"
    assert spiky["tangential_share"] > sharp["tangential_share"] + 0.2, "spokes make gradients across radial lines"
    # 10 mm at 0.2 mm/px or at 0.4 mm/px: the same disc, drawn at half the pixels, measures alike
    half = margin_features(_disc(size=101, radius=20), 20.0, mm_per_pixel=0.4)
    assert abs(half["contrast_mm"] - sharp["contrast_mm"]) < 0.05


def test_margin_features_refuse_a_float_image():
    from mammokit.errors import MammokitError
    from mammokit.features import margin_features

    with pytest.raises(MammokitError, match="uint8"):
        margin_features(np.zeros((32, 32)), 5.0)


def _film_with_a_lesion(folder, size: int = 512):
    """A MIAS-layout folder: one film, a breast on the left holding a bright lesion with a soft edge."""
    import cv2

    from mammokit.data import load_catalog, write_pgm

    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:size, :size]
    film = np.where((yy - size / 2) ** 2 + xx ** 2 <= (0.45 * size) ** 2, 110.0, 5.0)
    film += np.where((yy - 256) ** 2 + (xx - 150) ** 2 <= 30 ** 2, 70.0, 0.0)
    film = cv2.GaussianBlur(film, (0, 0), 3) + rng.normal(0, 12, film.shape)
    write_pgm(folder / "mdb001.pgm", np.clip(film, 0, 255).astype(np.uint8))
    # MIAS: x from the left, y from the bottom; one benign circumscribed mass of radius 30
    (folder / "Info.txt").write_text(f"mdb001 F CIRC B 150 {size - 1 - 256} 30\n")
    return load_catalog(folder)


def test_margin_table_measures_the_preprocessing_it_is_given_and_remembers_each_apart(tmp_path, monkeypatch):
    from mammokit import roi
    from mammokit.preprocess import PreprocessConfig

    monkeypatch.setattr(F, "_MARGIN_MEMO", type(F._MARGIN_MEMO)())
    rois = roi.build_roi_dataset(_film_with_a_lesion(tmp_path), None, 32, cache=False, progress=False)
    cuts = []
    cut = roi.build_roi_dataset
    monkeypatch.setattr(roi, "build_roi_dataset", lambda table, cfg, *a, **k: cuts.append(cfg) or cut(table, cfg, *a, **k))
    plain = PreprocessConfig(denoise="none", clahe_clip=0.0)
    smooth = PreprocessConfig(denoise="gaussian", kernel=31, clahe_clip=0.0)

    first = F.margin_table(rois, plain)
    other = F.margin_table(rois, smooth)
    assert cuts == [plain, smooth], "another preprocessing is measured, not taken from the memo"
    assert not np.allclose(first.to_numpy(), other.to_numpy()), "another preprocessing gives other features"
    assert first["tangential_share"][0] > other["tangential_share"][0], "the noise's gradients are smoothed away"
    pd.testing.assert_frame_equal(F.margin_table(rois, plain), first)
    assert cuts == [plain, smooth], "the same preprocessing again: remembered"
    assert F.margin_table(rois).equals(F.margin_table(rois, PreprocessConfig()))  # None: the defaults

    monkeypatch.setattr(F, "MARGIN_MEMO_SIZE", 1)
    F.margin_table(rois, plain)
    assert len(F._MARGIN_MEMO) == 1, "the memo is bounded"
    with pytest.raises(MammokitError, match="PreprocessConfig"):
        F.margin_table(rois, {"denoise": "none"})
