"""mammokit.explain: Grad-CAM points where the evidence is, for flat, nested, transfer and reloaded models."""
from __future__ import annotations

import numpy as np
import pytest

from mammokit import explain
from mammokit.errors import ConfigError, DataError, MammokitError


def _brightness_model(nested: bool = False):
    """A CNN whose malignant logit is the mean brightness: Grad-CAM must light up the bright pixels."""
    import keras

    conv = keras.layers.Conv2D(1, 1, use_bias=False, activation="relu", name="feat",
                               kernel_initializer="ones")
    inputs = keras.Input((16, 16, 1))
    if nested:
        inner_in = keras.Input((16, 16, 1))
        backbone = keras.Model(inner_in, conv(inner_in), name="backbone")
        x = backbone(inputs)
    else:
        x = conv(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    head = keras.layers.Dense(2, activation="softmax", name="head")
    outputs = head(x)
    model = keras.Model(inputs, outputs)
    head.set_weights([np.array([[-5.0, 5.0]], dtype="float32"), np.zeros(2, "float32")])
    return model


def _bright_corner(n: int = 2) -> np.ndarray:
    rois = np.full((n, 16, 16), 10, np.uint8)
    rois[:, :5, :5] = 250  # the "lesion", top-left
    return rois


@pytest.mark.parametrize("nested", [False, True])
def test_heatmap_peaks_on_the_evidence(nested):
    model = _brightness_model(nested)
    assert explain.last_conv_layer(model) == "feat"
    maps = explain.grad_cam(model, _bright_corner())
    assert maps.shape == (2, 16, 16) and maps.dtype == np.float32
    assert maps.min() >= 0 and maps.max() == pytest.approx(1.0)
    assert maps[:, :5, :5].mean() > 5 * maps[:, 8:, 8:].mean()
    # nothing in the image argues for "benign" in this model: the benign map is empty
    assert np.allclose(explain.grad_cam(model, _bright_corner(), class_index=0), 0)


def test_convnet_and_its_reloaded_copy_give_the_same_maps(tmp_path):
    from mammokit.models import build_convnet
    from mammokit.train import load_model

    model = build_convnet((32, 32, 1), filters=(4, 8), dense=8)
    assert explain.last_conv_layer(model) == "block2_relu"
    rois = np.random.default_rng(0).integers(0, 256, (3, 32, 32), dtype=np.uint8)
    maps = explain.grad_cam(model, rois)
    model.save(tmp_path / "convnet.keras")
    again = explain.grad_cam(load_model(tmp_path / "convnet.keras"), rois)
    np.testing.assert_allclose(maps, again, atol=1e-5)
    assert explain.grad_cam(model, rois, layer="block1_relu").shape == (3, 32, 32)


def test_transfer_backbone_uses_its_last_convolution():
    from mammokit.transfer import build_transfer

    model = build_transfer("VGG19", 32, weights=None)
    assert explain.last_conv_layer(model) == "block5_conv4"
    maps = explain.grad_cam(model, np.random.default_rng(1).integers(0, 256, (2, 32, 32), dtype=np.uint8))
    assert maps.shape == (2, 32, 32) and np.isfinite(maps).all()


def test_bad_requests_name_the_fix():
    model = _brightness_model()
    rois = _bright_corner(1)
    with pytest.raises(MammokitError, match="no layer named 'nope'.*feat"):
        explain.grad_cam(model, rois, layer="nope")
    with pytest.raises(DataError, match="uint8"):  # wrong ROIs: a DataError, as everywhere
        explain.grad_cam(model, rois.astype(np.float32))
    with pytest.raises(ConfigError, match=r"\(16, 16\) px"):  # as train.predict_proba
        explain.grad_cam(model, np.zeros((1, 8, 8), np.uint8))
    with pytest.raises(ConfigError, match="class_index"):  # a wrong option: ExplainError, a ConfigError
        explain.grad_cam(model, rois, class_index=2)


def test_overlay_and_case_selection():
    rgb = explain.overlay(np.full((4, 4), 255, np.uint8), np.zeros((4, 4)), alpha=0.0)
    assert rgb.shape == (4, 4, 3) and np.allclose(rgb, 1.0)
    with pytest.raises(DataError, match="shape"):
        explain.overlay(np.zeros((4, 4), np.uint8), np.zeros((3, 3)))
    labels = np.array([1, 1, 0, 0, 1, 0])
    proba = np.array([0.9, 0.6, 0.8, 0.1, 0.2, 0.55])
    cases = explain.select_cases(labels, proba, threshold=0.5, n=2)
    assert cases["TP"].tolist() == [0, 1] and cases["FP"].tolist() == [2, 5]
    assert cases["FN"].tolist() == [4] and cases["TN"].tolist() == [3]
