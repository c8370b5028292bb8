"""mammokit.recipes: baselines and ConvNet recipes that train only on what they are given."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mammokit import inflation, recipes, splits
from mammokit.errors import MammokitError
from mammokit.roi import RoiDataset


def _sized(n_patients: int = 24, seed: int = 0) -> RoiDataset:
    """ROIs whose annotated radius carries the label (malignant: larger), one per patient."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n_patients) % 2
    radius = np.where(labels == 1, 60.0, 30.0) + rng.normal(0, 6, n_patients)
    images = rng.integers(0, 256, (n_patients, 32, 32)).astype(np.uint8)
    table = pd.DataFrame({"image_id": [f"i{i}" for i in range(n_patients)],
                          "patient_id": [f"p{i}" for i in range(n_patients)], "label": labels,
                          "radius": radius, "crop_side": np.round(3 * radius).astype(int)})
    return RoiDataset(images, table, labels.astype(np.int64), table.patient_id.to_numpy(str))


def test_size_only_ranks_by_radius_and_picks_its_threshold_on_its_own_validation():
    data = _sized()
    model = recipes.size_only(data.take(np.arange(16)))
    p = model.predict_proba(data.take(np.arange(16, 24)))
    assert p.shape == (8,) and ((p >= 0) & (p <= 1)).all()
    order = np.argsort(data.table.radius.to_numpy()[16:])
    assert (np.diff(p[order]) >= 0).all(), "a larger lesion never gets a lower probability"
    assert 0 < model.threshold < 1


def test_hand_features_use_the_image_and_only_with_size_the_radius():
    data = _sized()
    assert "radius_mm" not in recipes.hand_features(data).columns
    assert "radius_mm" in recipes.hand_features(data, with_size=True).columns
    assert recipes.hand_features(data).predict_proba(data).shape == (len(data),)


def test_a_recipe_needs_patients_to_carve_its_validation():
    with pytest.raises(MammokitError, match="at least 4 patients"):
        recipes.size_only(_sized().take(np.arange(3)))
    fit_part, val = splits.carve_validation(_sized(), seed=1)
    assert not set(fit_part.groups) & set(val.groups) and len(fit_part) + len(val) == 24


def test_dihedral_gives_the_eight_orientations():
    image = np.arange(16, dtype=np.uint8).reshape(1, 4, 4)
    views = inflation.dihedral(image)
    assert len(views) == 8 and len({v.tobytes() for v in views}) == 8
    assert all(v.shape == image.shape for v in views)


def test_recommended_refuses_an_unknown_profile_and_a_plain_array():
    with pytest.raises(MammokitError, match="profile"):
        recipes.recommended(_sized(), profile="fast")
    with pytest.raises(MammokitError, match="RoiDataset"):
        recipes.recommended(np.zeros((4, 8, 8), np.uint8))


def test_candidates_name_every_baseline_and_roi_recipe():
    names = list(recipes.candidates("smoke"))
    assert names[:3] == ["size only (radius, mm)", "hand features", "hand features + size"]
    assert {"ConvNet, normalised crop", "ConvNet, fixed window", "ConvNet, multi-scale", recipes.FUSED} <= set(names)
    assert recipes.RECOMMENDED_RECIPE in names


@pytest.mark.slow
def test_recipes_train_on_phantoms_and_recut_any_rois(tmp_path, monkeypatch):
    from mammokit.data import load_catalog
    from mammokit.roi import build_recipe_rois, build_roi_dataset
    from mammokit.splits import split_by_patient

    monkeypatch.setenv("MAMMOKIT_CACHE", str(tmp_path / "cache"))
    rois = build_roi_dataset(load_catalog("synthetic"), size=32, progress=False)  # the normalised crop
    split = split_by_patient(rois.table, ratios=(0.8, 0.0, 0.2), seed=0)
    test = rois.take(split.test)
    chosen = recipes.recommended(rois.take(split.train), profile="smoke", seed=0)
    assert chosen.predict_proba(test).shape == (len(test),)
    model = recipes.candidates("smoke")[recipes.FUSED](rois.take(split.train), seed=0)
    p = model.predict_proba(test)
    assert p.shape == (len(test),) and ((p >= 0) & (p <= 1)).all() and 0 <= model.threshold <= 1
    fixed = build_recipe_rois(test.table, "fixed", 32, 32.0)
    assert recipes.as_recipe(fixed, "fixed", 32, 32.0) is fixed, "ROIs already cut right are used as given"
    np.testing.assert_allclose(model.predict_proba(fixed), p, atol=1e-6)
    multi = build_recipe_rois(test.table, "multiscale", 32, 32.0)
    assert multi.images.shape == (len(test), 32, 32, 3)
    np.testing.assert_array_equal(multi.images[..., 1], fixed.images)


def test_annotation_baseline_reads_the_lesion_class_and_is_never_a_candidate():
    data = _sized()
    kinds = np.array(recipes.LESION_CLASSES)[np.arange(len(data)) % 6]
    data = RoiDataset(data.images, data.table.assign(abnormality=kinds), data.labels, data.groups)
    inputs = recipes.model_inputs(data, recipes.ANNOTATION)
    assert list(inputs.columns) == list(recipes.ANNOTATION)
    assert (inputs.filter(like="class_").sum(axis=1) == 1).all()
    assert inputs.loc[0, "class_CIRC"] == 1.0 and inputs.loc[1, "class_SPIC"] == 1.0
    model = recipes.annotation_baseline(data)
    assert model.predict_proba(data).shape == (len(data),)
    assert recipes.RECOMMENDED_RECIPE not in recipes.EXPLORED
    assert not set(recipes.EXPLORED) & set(recipes.candidates("smoke"))
    with pytest.raises(MammokitError, match="unknown column"):
        recipes.model_inputs(data, ["radius_mm", "birads"])


def test_the_recommended_recipe_is_still_the_radius_alone():
    # re-measured in benchmarks/bench_recipes.py --explored: no image feature beat it over 5 fold seeds
    data = _sized()
    model = recipes.recommended(data)
    p = model.predict_proba(data)

    def changed(images=None, **columns) -> RoiDataset:
        return RoiDataset(data.images if images is None else images, data.table.assign(**columns), data.labels,
                          data.groups)

    noise = changed(np.random.default_rng(9).integers(0, 256, data.images.shape).astype(np.uint8))
    np.testing.assert_allclose(model.predict_proba(noise), p, err_msg="other pixels, same predictions")
    np.testing.assert_allclose(model.predict_proba(changed(abnormality="SPIC")), p, err_msg="reads no lesion class")
    assert (model.predict_proba(changed(radius=data.table.radius * 1.5)) > p).all(), "a larger lesion: more malignant"
    np.testing.assert_allclose(recipes.recommended(noise).predict_proba(data), p, err_msg="trains on the radius alone")
    np.testing.assert_allclose(recipes.candidates("smoke")[recipes.RECOMMENDED_RECIPE](data).predict_proba(data), p)


def test_candidates_train_each_net_once_with_the_training_options_given(monkeypatch):
    from mammokit.train import TrainConfig

    trained = []
    monkeypatch.setattr(recipes, "_train_nets", lambda fit_part, val, roi, size, filters, members, config, seed:
                        trained.append((roi, config.epochs, seed, len(fit_part))) or ["net"])
    monkeypatch.setattr("mammokit.train.predict_proba", lambda net, images: np.full(len(images), 0.5))
    data = _sized()
    data = RoiDataset(data.images, data.table.assign(crop_side=160), data.labels, data.groups)  # 32 mm at 0.2 mm/px
    pool = recipes.candidates("smoke", config=TrainConfig(epochs=3, verbose=0))
    pool["ConvNet, fixed window"](data, seed=0)
    fused = pool[recipes.FUSED](data, seed=0)
    assert trained == [("fixed", 3, 0, trained[0][3])], "the fused recipe reuses the fixed window's nets"
    assert fused.tta and fused.size_model is not None
    pool[recipes.FUSED](data, seed=1)
    pool[recipes.FUSED](data.take(np.arange(20)), seed=0)
    assert len(trained) == 3, "another seed or other training ROIs train anew"
    assert recipes.candidates("smoke")["ConvNet, fixed window"](data, seed=0) and len(trained) == 4, \
        "a new candidates() starts with no nets"
    with pytest.raises(MammokitError, match="TrainConfig"):
        recipes.candidates("smoke", config={"epochs": 3})


def test_convnet_recipes_recut_their_rois_with_the_preprocessing_given(monkeypatch):
    from mammokit.preprocess import PreprocessConfig

    chosen, seen = PreprocessConfig(otsu_offset=10), []

    def recut(table, roi, size, window_mm, cfg=None):
        seen.append(cfg)
        return RoiDataset(np.zeros((len(table), size, size), np.uint8), table, table.label.to_numpy(),
                          table.patient_id.to_numpy(str))

    monkeypatch.setattr(recipes, "build_recipe_rois", recut)
    monkeypatch.setattr(recipes, "_train_nets", lambda *args: ["net"])
    monkeypatch.setattr("mammokit.train.predict_proba", lambda net, images: np.full(len(images), 0.5))
    data = _sized()
    data = RoiDataset(data.images, data.table.assign(path="film.pgm"), data.labels, data.groups)
    model = recipes.candidates("smoke", preprocess=chosen)["ConvNet, fixed window"](data, seed=0)  # must re-cut
    model.predict_proba(data.take(np.arange(4)))
    assert seen and all(cfg is chosen for cfg in seen), "training and test ROIs are cut with notebook 02's choice"
    with pytest.raises(MammokitError, match="PreprocessConfig"):
        recipes.candidates("smoke", preprocess={"otsu_offset": 10})
