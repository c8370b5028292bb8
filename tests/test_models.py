"""The paper's ConvNet: shape, parameter count, initialisation, regularisation, clean errors."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from mammokit import models
from mammokit.errors import ConfigError, MammokitError


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
