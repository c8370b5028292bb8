"""mammokit.domain: benign vs malignant from the lesion detector's convolutions, beside the same
net from random weights; both train only on the windows of the patients they are given."""
from __future__ import annotations

import numpy as np
import pytest

from mammokit import domain
from mammokit.errors import ConfigError
from mammokit.roi import RoiDataset


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory):
    from mammokit.data import load_catalog, synthetic

    folder = synthetic.write_phantoms(tmp_path_factory.mktemp("ph") / "set", n_patients=12, size=256, seed=3)
    return load_catalog(folder)


@pytest.fixture()
def data(phantoms, tmp_path, monkeypatch):
    """(ROIs, the catalog's window set, train part, test part), split by patient."""
    from mammokit.roi import build_roi_dataset
    from mammokit.splits import split_by_patient

    monkeypatch.setenv("MAMMOKIT_CACHE", str(tmp_path / "cache"))
    rois = build_roi_dataset(phantoms, size=32, progress=False)
    windows = domain.lesion_windows(phantoms, None, "smoke")
    split = split_by_patient(rois.table, ratios=(0.75, 0.0, 0.25), seed=0)
    return rois, windows, rois.take(split.train), rois.take(split.test)


def test_windows_are_cut_as_the_detectors_and_kept_to_the_training_patients(data):
    from mammokit import patches

    rois, windows, train, test = data
    assert windows.images.shape[1:] == (32, 32, len(patches.MULTISCALE))
    own = domain.training_windows(train, windows)
    assert set(own.groups) == set(train.groups) and not set(own.groups) & set(test.groups)
    assert (own.labels == 0).any() and (own.labels == 1).any(), "the detector gets lesions and normal tissue"
    lesions = domain.severity_windows(own)
    assert set(lesions.table["severity"]) == {"B", "M"}
    np.testing.assert_array_equal(lesions.labels, (lesions.table["severity"] == "M").to_numpy())
    np.testing.assert_array_equal(lesions.labels, lesions.table["label"].to_numpy())
    with pytest.raises(ConfigError, match="train must be"):
        domain.training_windows(train.images, windows)


def test_centred_windows_are_the_detectors_positives_looked_up_or_cut_from_the_film(data):
    rois, windows, train, test = data
    looked_up = domain.centred_windows(test, windows)
    assert looked_up.images.shape == (len(test), *windows.images.shape[1:])
    np.testing.assert_array_equal(looked_up.labels, test.labels)
    # with no lesion window to look up, the same pixels are cut from the films
    normal_only = windows.take(np.flatnonzero(windows.labels == 0))
    np.testing.assert_array_equal(domain.centred_windows(test, normal_only).images, looked_up.images)
    t = windows.table
    first = np.flatnonzero((windows.labels == 1) & (t["copy"] == 0))
    assert any(np.array_equal(looked_up.images[0], windows.images[i]) for i in first)


@pytest.mark.slow
def test_copy_conv_blocks_takes_the_convolutions_and_leaves_the_head():
    from mammokit.models import build_convnet

    source = build_convnet((16, 16, 3), filters=(4, 8), seed=1)
    target = build_convnet((16, 16, 3), filters=(4, 8), seed=2)
    head_before = target.get_layer("softmax").get_weights()[0].copy()
    copied = domain.copy_conv_blocks(source, target)
    assert copied == ["block1_conv", "block1_bn", "block2_conv", "block2_bn"]
    for name in copied:
        for a, b in zip(source.get_layer(name).get_weights(), target.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(target.get_layer("softmax").get_weights()[0], head_before)
    assert not np.array_equal(source.get_layer("softmax").get_weights()[0], head_before)
    with pytest.raises(ConfigError, match="same filters"):
        domain.copy_conv_blocks(source, build_convnet((16, 16, 1), filters=(4, 8)))


@pytest.mark.slow
def test_both_arms_train_on_the_training_patients_alone_and_differ_only_in_the_start(data, phantoms, monkeypatch):
    from mammokit import detector

    rois, windows, train, test = data
    seen = []
    real = detector.lesion_detector

    def spy(windows_given, **options):
        seen.append(set(windows_given.groups))
        return real(windows_given, **options)

    monkeypatch.setattr(detector, "lesion_detector", spy)
    arms = domain.arms(phantoms, None, "smoke")
    assert list(arms) == [domain.DETECTOR_INIT, domain.RANDOM_INIT]
    warm = arms[domain.DETECTOR_INIT](train, seed=0)
    cold = arms[domain.RANDOM_INIT](train, seed=0)
    assert seen == [set(train.groups)], "the detector is trained once, on the training patients' windows only"
    assert warm.start == "detector" and warm.copied and cold.start == "random" and cold.copied == []
    assert warm.net.count_params() == cold.net.count_params()
    for model in (warm, cold):
        p = model.predict_proba(test)
        assert p.shape == (len(test),) and ((p >= 0) & (p <= 1)).all() and 0 <= model.threshold <= 1
    assert not np.allclose(warm.predict_proba(test), cold.predict_proba(test))


def test_arms_refuse_an_unknown_profile(phantoms):
    with pytest.raises(ConfigError, match="profile"):
        domain.arms(phantoms, None, "fast")
    assert "VGG19 features (random weights)" in domain.arms(phantoms, None, "smoke", backbone="VGG19", weights=None)


@pytest.mark.slow
def test_the_backbone_arm_fits_a_head_on_frozen_features_of_the_training_rois(data):
    from mammokit.finetune import extract_features, head_proba

    rois, windows, train, test = data
    model = domain.backbone_features(train, backbone="VGG19", weights=None, seed=0)
    p = model.predict_proba(test)
    assert p.shape == (len(test),) and ((p >= 0) & (p <= 1)).all() and 0 <= model.threshold <= 1
    np.testing.assert_allclose(p, head_proba(extract_features("VGG19", test.images, weights=None, seed=0),
                                             model.head), atol=1e-6)
    assert not np.allclose(model.head.coef, 0)
