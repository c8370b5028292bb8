"""The paper's ConvNet: shape, parameter count, initialisation, regularisation, clean errors."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from mammokit import models
from mammokit.errors import ConfigError, DataError, MammokitError


def _conv_bn_params(filters, channels=1):
    total, previous = 0, channels
    for f in filters:
        total += 3 * 3 * previous * f + 4 * f  # kernel (no bias: BN follows) + BN gamma/beta/mean/var
        previous = f
    return total


def test_paper_default_architecture_and_parameter_count():
    model = models.build_convnet((96, 96, 1))
    assert model.output_shape == (None, 2)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 64, 128, 256]
    assert all(c.kernel_size == (3, 3) and c.strides == (1, 1) and c.padding == "same" for c in convs)
    pools = [layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert len(pools) == 4 and all(p.pool_size == (2, 2) for p in pools)
    assert model.get_layer("block4_pool").output.shape[1:3] == (6, 6)  # 96 / 2**4
    assert model.get_layer("dropout").rate == 0.5
    expected = _conv_bn_params((32, 64, 128, 256)) + (256 * 128 + 128) + (128 * 2 + 2)
    assert model.count_params() == expected
    assert models.count_weighted_layers(model) == 10  # 4 conv + 4 BN + 2 dense
    # Global average pooling: the parameter count does not depend on the input size.
    assert models.build_convnet((224, 224, 1)).count_params() == expected


def test_he_init_l2_and_float32_softmax():
    model = models.build_convnet((32, 32, 1), filters=(8, 16), l2=5e-5)
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            assert type(layer.kernel_initializer).__name__ == "HeNormal"
            assert layer.kernel_regularizer is not None
            assert layer.kernel_regularizer.get_config()["l2"] == pytest.approx(5e-5)
    assert len(model.losses) == 4  # two convs + two dense kernels
    x = np.random.default_rng(0).random((5, 32, 32, 1), dtype=np.float32)
    out = np.asarray(model(x, training=False))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    assert models.build_convnet((32, 32, 1), filters=(8,), l2=0).losses == []


def test_same_seed_same_weights_other_seed_other_weights():
    a = models.build_convnet((32, 32, 1), filters=(8, 16), seed=3).get_weights()
    b = models.build_convnet((32, 32, 1), filters=(8, 16), seed=3).get_weights()
    c = models.build_convnet((32, 32, 1), filters=(8, 16), seed=4).get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_options_change_the_graph():
    no_head = models.build_convnet((32, 32, 3), filters=(8, 16), dense=None, dropout=0.0, n_classes=3)
    names = [layer.name for layer in no_head.layers]
    assert "dense" not in names and "dropout" not in names
    assert no_head.input_shape == (None, 32, 32, 3) and no_head.output_shape == (None, 3)
    table = models.layer_table(no_head)
    assert table["params"].sum() == no_head.count_params()


@pytest.mark.parametrize("kwargs, word", [
    ({"input_shape": (96, 96)}, "input_shape"),
    ({"input_shape": (8, 8, 1)}, "too small"),
    ({"filters": ()}, "filters"),
    ({"dropout": 1.0}, "dropout"),
    ({"l2": -1}, "l2"),
    ({"n_classes": 1}, "n_classes"),
    ({"dense": -5}, "dense"),
])
def test_bad_arguments_name_the_parameter(kwargs, word):
    with pytest.raises(ConfigError) as info:
        models.build_convnet(**kwargs)
    assert word in str(info.value)
    assert isinstance(info.value, MammokitError)


def test_architecture_diagram_draws_one_box_per_layer():
    from mammokit.plots import architecture_diagram

    model = models.build_convnet((32, 32, 1), filters=(8, 16))
    fig = architecture_diagram(model)
    texts = [t.get_text() for t in fig.axes[0].texts if t.get_text()]  # arrows are empty annotations
    assert len(texts) == len(model.layers)
    assert any("block2_conv — Conv2D" in t and "1,152 params" in t for t in texts)  # 3*3*8*16
    assert f"{model.count_params():,} parameters" in fig.axes[0].get_title()


# --- one pixel contract: training, feature extraction and Grad-CAM feed a model the same input ---------

def _identity_encoder(size: int):
    """A stand-in transfer model whose "pooled features" are its input: shows what the model is fed."""
    import keras

    inputs = keras.Input((size, size, 1))
    return keras.Model(inputs, keras.layers.Identity(name="mk_pool")(inputs))


def test_training_features_and_grad_cam_feed_a_model_identical_inputs():
    from mammokit import datasets, explain, finetune

    rois = np.random.default_rng(7).integers(0, 256, (5, 16, 16), dtype=np.uint8)
    rois[0, 0, :3] = (0, 128, 255)  # both ends of the range and the middle
    contract = {c: models.to_model_input(rois, c) for c in (1, 3)}
    assert contract[3].shape == (5, 16, 16, 3) and contract[3].dtype == np.float32
    assert contract[1].min() == 0.0 and contract[1].max() == 1.0
    for channels in (1, 3):
        dataset = np.concatenate([b.numpy() for b in datasets.make_dataset(rois, None, 2, channels=channels)])
        model = models.build_convnet((16, 16, channels), filters=(4,), dense=None, dropout=0.0)
        cam_input = explain._prepare(model, rois)
        np.testing.assert_array_equal(dataset, contract[channels])
        np.testing.assert_array_equal(np.asarray(cam_input), contract[channels])
    features = finetune.extract_features("VGG19", rois, model=_identity_encoder(16), cache=False, batch_size=2)
    np.testing.assert_array_equal(features, contract[1])


def test_to_model_input_gives_the_kind_it_was_given():
    import tensorflow as tf

    rois = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    as_tensor = models.to_model_input(tf.constant(rois), 3)
    assert tf.is_tensor(as_tensor)
    np.testing.assert_array_equal(as_tensor.numpy(), models.to_model_input(rois, 3))


@pytest.mark.parametrize("images, word", [
    (np.zeros((2, 8, 8), np.float32), "uint8"), (np.zeros((8, 8), np.uint8), "shape"),
    (np.zeros((0, 8, 8), np.uint8), "non-empty"), (np.zeros((2, 8, 8, 2), np.uint8), "shape"),
])
def test_wrong_rois_are_data_errors(images, word):
    with pytest.raises(DataError, match=word):
        models.check_rois(images)


def test_the_feature_map_finder_skips_pooling():
    model = models.build_convnet((32, 32, 1), filters=(4, 8, 16, 32))  # block4 maps are 4×4, pooled 2×2
    names = models.feature_layers(model)
    assert names[0] == "block1_conv" and not any("pool" in n for n in names)
    assert models.last_conv_layer(model) == "block4_relu"
