"""Preprocessing: each stage on small synthetic films whose truth we know, plus the MIAS check."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mammokit.errors import ConfigError, DataError, MammokitError
from mammokit.preprocess import PreprocessConfig, add_noise, clahe, denoise, normalise, preprocess, to_uint8
from mammokit.quality import centres_inside, mask_iou, psnr, ssim
from mammokit.segment import breast_mask


def film(side: str = "L", size: int = 256, seed: int = 0):
    """A half-disc 'breast' against the chest wall on ``side``, a bright film label on the other
    side, mild texture. Returns (image uint8, true breast mask)."""
    rng = np.random.default_rng(seed)
    rr, cc = np.mgrid[:size, :size]
    mask = (rr - size / 2) ** 2 + cc ** 2 < (0.42 * size) ** 2
    image = np.where(mask, 120 + 30 * np.sin(rr / 7.0) * np.cos(cc / 11.0), 8)
    image = np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)
    image[10:30, size - 40:size - 12] = 250  # the film label: bright, apart from the breast
    if side == "R":
        return image[:, ::-1].copy(), mask[:, ::-1].copy()
    return image, mask


CFG = PreprocessConfig(morph_kernel=9)


def test_mask_matches_truth_and_drops_the_label():
    image, truth = film()
    res = preprocess(image, CFG)
    assert res.mask.shape == image.shape and res.mask.dtype == bool
    assert mask_iou(res.mask, truth) > 0.95
    assert not res.mask[10:30, -40:-12].any(), "the film label must not be part of the breast"
    assert res.box.left == 0 and res.box.right < 256 - 40  # cropped to the breast, label cut off


def test_sixteen_bit_input_gives_the_same_mask():
    image, truth = film()
    wide = image.astype(np.uint16) * 257  # same picture in 16 bits
    assert mask_iou(preprocess(wide, CFG).mask, preprocess(image, CFG).mask) > 0.99
    assert to_uint8(wide).dtype == np.uint8 and to_uint8(wide).max() == 255


def test_orientation_puts_the_chest_wall_left_and_maps_coordinates():
    image, _ = film("R")
    res = preprocess(image, CFG)
    assert res.flipped
    assert res.image[:, :10].mean() > res.image[:, -10:].mean(), "chest wall (wide side) on the left"
    for row, col in [(128, 200), (100, 240), (150, 180)]:
        r, c = res.to_image_coords(row, col)
        assert res.image[int(r), int(c)] == res.cleaned[row, col]
    left = preprocess(film("L")[0], CFG)
    assert not left.flipped


def test_filters_remove_the_noise_they_are_meant_for():
    image, _ = film()
    for kind, amount, best in [("salt_pepper", 0.05, "median"), ("gaussian", 15, "gaussian")]:
        noisy = add_noise(image, kind, amount, seed=1)
        before = psnr(image, noisy)
        after = psnr(image, denoise(noisy, PreprocessConfig(denoise=best, kernel=5)))
        assert after > before + 3, (kind, before, after)
    speckle = add_noise(image, "speckle", 0.2, seed=1)
    assert speckle.dtype == np.uint8 and psnr(image, speckle) < 30
    bilateral = denoise(add_noise(image, "gaussian", 10), PreprocessConfig(denoise="bilateral", kernel=7))
    assert psnr(image, bilateral) > psnr(image, add_noise(image, "gaussian", 10))


def test_noise_is_repeatable_by_seed():
    image, _ = film()
    assert np.array_equal(add_noise(image, "gaussian", 10, seed=3), add_noise(image, "gaussian", 10, seed=3))
    assert not np.array_equal(add_noise(image, "gaussian", 10, seed=3), add_noise(image, "gaussian", 10, seed=4))


def test_clahe_raises_local_contrast_and_clip_zero_is_identity():
    image = np.tile(np.linspace(100, 120, 128).astype(np.uint8), (128, 1))
    assert np.array_equal(clahe(image, 0), image)
    assert clahe(image, 4.0, 4).std() > image.std() * 1.3  # contrast raised, clip-limited


def test_otsu_offset_moves_the_threshold():
    image, _ = film()
    low, t_low = breast_mask(image, offset=-20, kernel=5)
    high, t_high = breast_mask(image, offset=+20, kernel=5)
    assert t_high - t_low == pytest.approx(40)
    assert low.sum() >= high.sum()


@pytest.mark.parametrize("method", ["minmax", "zscore", "mean"])
def test_normalisations(method):
    image, mask = film()
    out = normalise(image, method, mask)
    assert out.dtype == np.float32
    if method == "minmax":
        assert out.min() >= 0 and out.max() <= 1
    elif method == "zscore":
        assert abs(out[mask].mean()) < 1e-3 and abs(out[mask].std() - 1) < 1e-3
    else:
        assert abs(out[mask].mean()) < 1e-3 and out[mask].std() > 5


@pytest.mark.parametrize("field,value", [("denoise", "wiener"), ("kernel", 4), ("kernel", 0),
                                         ("clahe_clip", -1), ("otsu_offset", 300), ("orient", "yes"),
                                         ("normalise", "l2"), ("morph_kernel", 2.5)])
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ConfigError, match=field) as info:
        PreprocessConfig(**{field: value})
    assert isinstance(info.value, MammokitError)
    with pytest.raises(ConfigError, match="colour"):
        PreprocessConfig.from_dict({"colour": 1})


@pytest.mark.parametrize("build", [
    lambda d: PreprocessConfig(**d),  # as notebook 02 builds it from its PREPROCESS parameter
    PreprocessConfig.from_dict,
    lambda d: dataclasses.replace(PreprocessConfig(), **d),
])
def test_a_misspelt_setting_names_itself_and_the_close_field(build):
    with pytest.raises(ConfigError, match="unknown option 'otsu_ofset' \\(did you mean 'otsu_offset'\\?\\)"):
        build({"otsu_ofset": 10})
    with pytest.raises(ConfigError, match="'colour', 'kernal' \\(did you mean 'kernel'\\?\\)"):
        build({"colour": 1, "kernal": 3})
    assert build({"otsu_offset": 10, "kernel": 3}) == PreprocessConfig(otsu_offset=10, kernel=3)


def test_from_dict_wants_a_dict():
    with pytest.raises(ConfigError, match="dict"):
        PreprocessConfig.from_dict([("kernel", 3)])


def test_bad_images_raise_data_errors():
    with pytest.raises(DataError, match="2-D"):
        preprocess(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(DataError, match="dtype"):
        preprocess(np.zeros((8, 8), bool))


def test_three_class_otsu_separates_background_from_tissue_not_tissue_from_muscle():
    from mammokit.segment import otsu_threshold
    image = np.full((90, 90), 10, np.uint8)
    image[:, 30:] = 90       # tissue
    image[:, 60:] = 220      # pectoral muscle / label: a third, bright class
    assert 10 <= otsu_threshold(image, 3) < 90
    assert 90 <= otsu_threshold(image, 2) < 220  # two classes: tissue goes with the background
    mask, _ = breast_mask(image, kernel=1, classes=3)
    assert mask[:, 30:].all() and not mask[:, :30].any()


@pytest.mark.slow
def test_phantom_masks_match_their_truth_and_keep_every_lesion():
    from mammokit.data import load_catalog, read_image
    catalog = load_catalog("synthetic")
    ious, missed = [], []
    for _, group in catalog.groupby("image_id"):
        first = group.iloc[0]
        truth = np.load(first["truth"])
        res = preprocess(read_image(first["path"]))
        ious.append(mask_iou(res.mask, truth["breast_mask"]))
        assert psnr(truth["clean"], res.denoised) > psnr(truth["clean"], res.original)
        located = group[group["row"].notna()]
        missed += list(located["image_id"][~centres_inside(res.mask, located["row"], located["col"])])
    assert min(ious) > 0.9 and np.mean(ious) > 0.95, (min(ious), np.mean(ious))
    assert not missed


def test_quality_readouts():
    image, mask = film()
    assert ssim(image, image) == pytest.approx(1.0) and psnr(image, image) == float("inf")
    assert ssim(image, add_noise(image, "gaussian", 20)) < 0.9
    assert mask_iou(mask, ~mask) == 0.0
    assert centres_inside(mask, [128, 128, -5], [10, 250, 10]).tolist() == [True, False, False]


def test_pectoral_removal_cuts_a_bright_corner_only():
    image, truth = film(size=256)
    rr, cc = np.mgrid[:256, :256]
    muscle = truth & (cc < 60 - rr * 0.6)  # a bright triangle at the top of the chest wall
    image[muscle] = 230
    res = preprocess(image, PreprocessConfig(morph_kernel=9, remove_pectoral=True))
    kept = res.mask & muscle
    assert kept.sum() < 0.3 * muscle.sum()
    assert res.mask[128, 60] and res.mask[200, 30], "tissue away from the muscle stays"


@pytest.mark.slow
def test_every_mias_lesion_centre_lies_in_its_breast_mask(mias_dev):
    import cv2

    from mammokit.roi import lesion_rows
    catalog = _mias_catalog(mias_dev)
    rows = lesion_rows(catalog)
    assert len(rows) > 50
    missed = []
    for path, group in rows.groupby("path"):
        res = preprocess(cv2.imread(path, cv2.IMREAD_UNCHANGED))
        inside = centres_inside(res.mask, group["row"], group["col"])
        missed += list(group["image_id"][~inside])
    assert not missed, f"lesion centres outside the breast mask: {missed}"


def _mias_catalog(folder):
    from mammokit.data import load_catalog
    return load_catalog(str(folder))
