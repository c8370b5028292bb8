"""Synthetic phantoms: MIAS layout, ground truth that agrees with Info.txt, reproducible, atomic."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from mammokit.data import COLUMNS, load_catalog, read_image
from mammokit.data import mias, synthetic
from mammokit.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return synthetic.write_phantoms(tmp_path_factory.mktemp("ph") / "set", n_patients=8, size=256, seed=3)


@pytest.fixture(scope="module")
def default_catalog():
    return load_catalog("synthetic")


def test_writes_the_mias_layout(small: Path):
    assert (small / "Info.txt").is_file() and (small / mias.PHANTOM_MARKER).is_file()
    catalog = mias.load_folder(small)
    assert list(catalog.columns) == list(COLUMNS)
    assert set(catalog["dataset"]) == {"synthetic"}
    assert catalog["image_id"].nunique() == 16 and catalog["patient_id"].nunique() == 8
    image = read_image(catalog["path"].iloc[0])
    assert image.dtype == np.uint8 and image.shape == (256, 256)
    assert (catalog["height"] == 256).all()
    assert str(catalog["label"].dtype) == "Int64"


def test_truth_agrees_with_info_txt(small: Path):
    """Each annotated centre (converted from the bottom-left origin) lies on its lesion mask."""
    catalog = mias.load_folder(small)
    for r in catalog.itertuples():
        truth = np.load(r.truth)
        assert set(truth.files) == {"clean", "breast_mask", "lesion_mask"}
        assert truth["clean"].dtype == np.uint8 and truth["breast_mask"].dtype == bool
        if r.abnormality == "NORM":
            assert not truth["lesion_mask"].any()
            continue
        assert r.row == r.height - 1 - r.y
        assert truth["lesion_mask"][int(r.row), int(r.col)], f"{r.image_id}: centre not on the lesion"
        assert truth["breast_mask"][int(r.row), int(r.col)]


@pytest.mark.slow
def test_default_set_is_big_enough_to_train_on(default_catalog):
    c = default_catalog
    located = c[c["row"].notna()]
    assert (located["severity"] == "B").sum() >= 30 and (located["severity"] == "M").sum() >= 30
    assert (c["abnormality"] == "NORM").sum() >= 10
    assert set(c["side"]) == {"L", "R"} and set(c["background"]) == {"F", "G", "D"}
    assert c.groupby("patient_id")["image_id"].nunique().eq(2).all()
    assert c.groupby("image_id").size().max() >= 2, "some films carry two masses, as in MIAS"


def test_films_look_like_mammograms(default_catalog):
    """Dark background, a bright label outside the breast, lesions denser than their surroundings."""
    brighter = []
    for r in default_catalog.drop_duplicates("image_id").head(24).itertuples():
        image, truth = read_image(r.path), np.load(r.truth)
        breast = truth["breast_mask"]
        assert np.median(image[~breast]) < 20 < np.median(image[breast])
        assert (image[~breast] > 200).sum() > 50, "the film label should be a bright patch off the breast"
        lesion = truth["lesion_mask"]
        if lesion.any():
            ring = cv2.dilate(lesion.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool) & ~lesion & breast
            brighter.append(truth["clean"][lesion].mean() > truth["clean"][ring].mean())
    assert np.mean(brighter) >= 0.8


def _circularity(mask: np.ndarray) -> float:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    c = max(contours, key=cv2.contourArea)
    return 4 * np.pi * cv2.contourArea(c) / cv2.arcLength(c, True) ** 2


def test_malignant_outlines_are_less_regular(default_catalog):
    single = default_catalog.groupby("image_id").filter(lambda g: len(g) == 1)
    scores = {"B": [], "M": []}
    for r in single[single["severity"].notna()].itertuples():
        scores[r.severity].append(_circularity(np.load(r.truth)["lesion_mask"]))
    assert np.median(scores["B"]) > np.median(scores["M"]) + 0.1
    assert min(scores["B"]) < max(scores["M"]), "shapes should overlap a little: not a trivial task"


def test_sizes_overlap_between_classes(default_catalog):
    located = default_catalog[default_catalog["row"].notna()]
    b, m = located[located["severity"] == "B"]["radius"], located[located["severity"] == "M"]["radius"]
    assert b.max() > m.median() and m.min() < b.median()


def test_reproducible_and_seeded(tmp_path: Path, small: Path):
    again = synthetic.write_phantoms(tmp_path / "again", n_patients=8, size=256, seed=3)
    for name in ("Info.txt", "syn001.pgm", "syn016.pgm"):
        assert (again / name).read_bytes() == (small / name).read_bytes()
    other = synthetic.write_phantoms(tmp_path / "other", n_patients=8, size=256, seed=4)
    assert (other / "syn001.pgm").read_bytes() != (small / "syn001.pgm").read_bytes()


def test_reuses_same_settings_and_refuses_others(small: Path):
    assert synthetic.write_phantoms(small, n_patients=8, size=256, seed=3) == small
    with pytest.raises(DataError, match="already exists"):
        synthetic.write_phantoms(small, n_patients=9, size=256, seed=3)


def test_failure_leaves_nothing_behind(tmp_path: Path, monkeypatch):
    def boom(folder, settings):
        (folder / "Info.txt").write_text("half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(synthetic, "_write_into", boom)
    with pytest.raises(RuntimeError):
        synthetic.write_phantoms(tmp_path / "set", n_patients=2, size=128)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs", [{"n_patients": 0}, {"size": 10}, {"seed": -1}, {"size": 100.5}])
def test_bad_settings(tmp_path: Path, kwargs):
    with pytest.raises(ConfigError):
        synthetic.write_phantoms(tmp_path / "x", **kwargs)


def test_an_older_generators_set_is_kept_and_the_default_goes_beside_it(default_catalog):
    folder = Path(default_catalog["path"].iloc[0]).parent
    marker = folder / mias.PHANTOM_MARKER
    settings = json.loads(marker.read_text())
    marker.write_text(json.dumps({**settings, "generator_version": 0}))
    try:
        fresh = synthetic.default_phantoms()
        assert fresh != folder and fresh.parent == folder.parent
        assert json.loads((fresh / mias.PHANTOM_MARKER).read_text()) == settings
        assert json.loads(marker.read_text())["generator_version"] == 0  # the old set is untouched
    finally:
        marker.write_text(json.dumps(settings, sort_keys=True))


def test_chest_wall_side_matches_mias(default_catalog):
    """MIAS left films (even ids) have the breast on the left of the array, right films on the right."""
    for r in default_catalog.drop_duplicates("image_id").head(12).itertuples():
        mask = np.load(r.truth)["breast_mask"]
        left_heavy = mask[:, : r.width // 2].sum() > mask[:, r.width // 2:].sum()
        assert left_heavy == (r.side == "L"), r.image_id
