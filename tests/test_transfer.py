"""Transfer backbones: preprocessing, flat graph, freezing, weights (never the network), features, head."""
from __future__ import annotations

import importlib
import os
import time
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pandas as pd
import pytest

from mammokit import evaluate, finetune, models, paper, train, transfer
from mammokit.errors import ConfigError, DataError, DownloadError  # noqa: E402
from mammokit.splits import Split  # noqa: E402


def _rois(n: int = 8, size: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size), dtype=np.uint8)


@pytest.fixture(scope="module")
def vgg():
    """A small VGG19 transfer model (32 px, random weights), built once for the module."""
    return transfer.build_transfer("VGG19", 32, weights=None, seed=0)


def test_registry_holds_the_papers_five_and_names_a_typo():
    assert transfer.PAPER_BACKBONES == ("VGG19", "InceptionV3", "ResNet152V2", "InceptionResNetV2",
                                        "EfficientNetB5")
    with pytest.raises(ConfigError, match="did you mean 'VGG19'"):
        transfer.backbone_spec("VGG91")


def test_input_size_respects_each_backbones_minimum():
    assert transfer.input_size_for("VGG19", 32) == 32
    assert transfer.input_size_for("InceptionV3", 32) == 75
    assert transfer.input_size_for("InceptionResNetV2", 96) == 96
    with pytest.raises(ConfigError, match="at least 75"):
        transfer.input_size_for("InceptionV3", 96, input_size=64)


@pytest.mark.parametrize("name", transfer.PAPER_BACKBONES)
def test_preprocess_layer_equals_the_backbones_own_preprocess_input(name):
    spec = transfer.backbone_spec(name)
    inputs = keras.Input((16, 16, 1))
    rgb = keras.layers.Concatenate()([inputs, inputs, inputs])
    probe = keras.Model(inputs, [rgb, transfer._preprocess_layer(spec)(rgb)])
    gray = _rois(2, 16)[..., None].astype("float32") / 255.0
    rgb_out, ours = (np.asarray(t) for t in probe(gray))
    module = importlib.import_module(f"keras.applications.{spec.module}")
    reference = np.asarray(module.preprocess_input(rgb_out * 255.0))
    np.testing.assert_allclose(ours, reference, atol=1e-4)


def test_model_is_one_flat_graph_with_a_frozen_backbone_and_a_2_class_head(vgg):
    assert vgg.input_shape == (None, 32, 32, 1) and vgg.output_shape == (None, 2)
    assert not any(isinstance(layer, keras.Model) for layer in vgg.layers), "backbone must not be nested"
    assert models.last_conv_layer(vgg) == "block5_conv4"  # Grad-CAM can reach the last convolution
    assert not any(layer.trainable for layer in transfer.backbone_layers(vgg))
    counts = transfer.count_params(vgg)
    assert counts["trainable"] == 512 * 2 + 2
    assert counts["total"] == counts["backbone"] + counts["trainable"]
    proba = train.predict_proba(vgg, _rois(3))
    assert proba.shape == (3,) and np.all((proba >= 0) & (proba <= 1))


@pytest.mark.slow
def test_small_rois_are_resized_up_to_the_inception_minimum():
    model = transfer.build_transfer("InceptionV3", 32, weights=None)
    assert model.input_shape == (None, 32, 32, 1)
    assert model.get_layer("mk_resize").output.shape[1:3] == (75, 75)
    keras.backend.clear_session()


@pytest.mark.slow
def test_set_trainable_unfreezes_the_top_layers_but_never_batch_norm():
    model = transfer.build_transfer("InceptionV3", 75, weights=None)
    assert transfer.set_trainable(model, 0) == 0
    trained = transfer.set_trainable(model, 10)
    weighted = [layer for layer in transfer.backbone_layers(model) if layer.weights]
    top = weighted[-10:]
    assert all(layer.trainable for layer in top if not isinstance(layer, keras.layers.BatchNormalization))
    assert not any(layer.trainable for layer in weighted[:-10])
    assert not any(layer.trainable for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization))
    assert 0 < trained < 10  # some of the top ten are batch norms and stay frozen
    assert transfer.set_trainable(model, 10_000) == transfer.set_trainable(model, None)  # more than there are
    convs = [layer for layer in weighted if isinstance(layer, keras.layers.Conv2D)]
    assert all(layer.trainable for layer in convs)
    keras.backend.clear_session()


# --- weights: None, a local file, 'imagenet' offline (simulated: tests never touch the network) ----

def test_weights_none_depends_on_the_seed_only():
    a = transfer.build_transfer("VGG19", 32, weights=None, seed=1)
    b = transfer.build_transfer("VGG19", 32, weights=None, seed=1)
    c = transfer.build_transfer("VGG19", 32, weights="random", seed=2)  # the papermill spelling
    kernel = lambda m: m.get_layer("block1_conv1").get_weights()[0]  # noqa: E731
    np.testing.assert_array_equal(kernel(a), kernel(b))
    assert not np.allclose(kernel(a), kernel(c))


def test_a_local_weights_file_loads_into_the_backbone(tmp_path: Path, vgg):
    path = transfer.save_backbone_weights(vgg, tmp_path / "vgg19_backbone.weights.h5")
    loaded = transfer.build_transfer("VGG19", 32, weights=path, seed=7)
    for name in ("block1_conv1", "block5_conv4"):
        np.testing.assert_array_equal(loaded.get_layer(name).get_weights()[0], vgg.get_layer(name).get_weights()[0])


def test_a_hand_downloaded_keras_h5_file_loads(tmp_path: Path, vgg):
    """The ImageNet files are legacy Keras .h5 weights of the bare backbone: write one, load it."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    base = keras.applications.VGG19(include_top=False, weights=None, input_shape=(32, 32, 3))
    base.set_weights([w * 0 + i for i, w in enumerate(base.get_weights())])
    path = tmp_path / transfer.backbone_spec("VGG19").weights_file
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, base)
    loaded = transfer.build_transfer("VGG19", 32, weights=path)
    assert np.all(loaded.get_layer("block1_conv1").get_weights()[0] == 0)
    assert np.all(loaded.get_layer("block1_conv1").get_weights()[1] == 1)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Skipping nested container")
def test_weights_from_another_backbone_or_missing_file_say_what_fits(tmp_path: Path, vgg):
    with pytest.raises(ConfigError, match="no such file"):
        transfer.build_transfer("VGG19", 32, weights=tmp_path / "nope.h5")
    path = transfer.save_backbone_weights(vgg, tmp_path / "vgg.weights.h5")
    with pytest.raises(ConfigError, match="InceptionV3.*inception_v3_weights"):
        transfer.build_transfer("InceptionV3", 75, weights=path)


def test_imagenet_offline_fails_fast_with_how_to_place_the_file(monkeypatch):
    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    start = time.perf_counter()
    with pytest.raises(DownloadError) as info:
        transfer.build_transfer("EfficientNetB5", 32, weights="imagenet")
    assert time.perf_counter() - start < 5, "must fail before building the backbone"
    message = str(info.value)
    spec = transfer.backbone_spec("EfficientNetB5")
    assert spec.weights_url in message and spec.weights_file in message and "weights=None" in message
    assert str(Path(os.environ["KERAS_HOME"]) / "models") in message  # where Keras looks (conftest)


def test_a_cached_weights_file_is_used_without_downloading(monkeypatch):
    spec = transfer.backbone_spec("ResNet152V2")
    target = transfer.keras_models_dir() / spec.weights_file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"placed by hand")
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: pytest.fail("must not download"))
    try:
        assert transfer.fetch_weights("ResNet152V2") == target
    finally:
        target.unlink()


# --- feature extraction, head, fine-tuning -----------------------------------------------------------

def test_features_are_cached_on_disk_and_keyed_by_the_pixels(vgg, monkeypatch):
    rois = _rois(5)
    first = finetune.extract_features("VGG19", rois, weights=None, model=vgg, batch_size=2)
    assert first.shape == (5, 512) and first.dtype == np.float32
    monkeypatch.setattr(transfer, "build_transfer", lambda *a, **k: pytest.fail("cache missed"))
    np.testing.assert_array_equal(finetune.extract_features("VGG19", rois, weights=None), first)
    other = rois.copy()
    other[0, 0, 0] ^= 1
    assert finetune.features_key("VGG19", rois, 32, None) != finetune.features_key("VGG19", other, 32, None)
    with pytest.raises(DataError, match="uint8"):
        finetune.extract_features("VGG19", rois.astype("float32"), weights=None)


def test_fitted_head_separates_the_training_features(vgg):
    rois = _rois(12, seed=3)
    feats = finetune.extract_features("VGG19", rois, weights=None, model=vgg, cache=False)
    labels = np.array([0, 1] * 6)
    head = finetune.fit_head(feats, labels, C=100.0)
    proba = finetune.head_proba(feats, head)
    assert proba.shape == (12,) and ((proba > 0.5) == labels).mean() >= 0.9  # 12 points in 512-D: separable
    with pytest.raises(ConfigError, match="one class"):
        finetune.fit_head(feats, np.zeros(12, int))


@pytest.mark.slow
def test_fine_tune_runs_both_phases_and_only_moves_the_top_layers(tmp_path: Path):
    model = transfer.build_transfer("VGG19", 32, weights=None, seed=0)
    before = {n: model.get_layer(n).get_weights()[0].copy() for n in ("block1_conv1", "block5_conv4")}
    rois, labels = _rois(8, seed=1), np.array([0, 1] * 4)
    history = finetune.fine_tune(model, (rois, labels), None, train.TrainConfig(batch_size=4, augment=False, verbose=0),
                                 head_epochs=1, top_n=1, run_dir=tmp_path, name="vgg19")
    assert history["phase"].tolist() == ["head", "fine-tune"] and history["epoch"].tolist() == [1, 2]
    np.testing.assert_array_equal(model.get_layer("block1_conv1").get_weights()[0], before["block1_conv1"])
    assert not np.array_equal(model.get_layer("block5_conv4").get_weights()[0], before["block5_conv4"])
    assert (tmp_path / "models" / "vgg19.keras").is_file() and (tmp_path / "history" / "vgg19_head.csv").is_file()
    reloaded = train.load_model(tmp_path / "models" / "vgg19.keras")
    np.testing.assert_allclose(train.predict_proba(reloaded, rois), train.predict_proba(model, rois), atol=1e-5)


def test_comparison_table_follows_the_papers_layout():
    rois = SimpleNamespace(table=pd.DataFrame({"image_id": [f"m{i}" for i in range(6)],
                                               "patient_id": [f"p{i}" for i in range(6)]}),
                           labels=np.array([0, 1, 0, 1, 0, 1]))
    split = Split(np.array([0, 1]), np.array([2, 3]), np.array([4, 5]))
    pred = evaluate.predictions_table(rois, split, np.array([.1, .9, .2, .8, .3, .7]))
    both = pd.concat([pred.assign(model="ConvNet"), pred.assign(model="VGG19")])
    out = paper.comparison_table(both)
    assert out["model"].tolist() == ["VGG19", "ConvNet"]  # the paper's row order
    assert out.loc[0, "accuracy"] == 1.0 and out.loc[0, "n"] == 2
    mias = paper.table("MIAS").set_index("model")
    assert out.loc[0, "auc_paper"] == mias.loc["VGG19", "auc"]
    # like with like: no test accuracy for VGG19 in the paper; training accuracy beside ours on train
    assert np.isnan(out.loc[0, "accuracy_paper"]) and out.loc[1, "accuracy_paper"] == 0.93
    assert out.loc[0, "train_accuracy"] == 1.0 and out.loc[0, "train_accuracy_paper"] == 0.72
    with pytest.raises(ConfigError, match="no predictions"):
        paper.comparison_table(both, split="nowhere")


def test_run_backbone_predicts_every_roi_from_cached_features():
    rois = SimpleNamespace(images=_rois(10, seed=5), labels=np.array([0, 1] * 5))
    split = Split(np.arange(6), np.array([6, 7]), np.array([8, 9]))
    proba, info = finetune.run_backbone("VGG19", rois, split, weights=None, feature_batch=4)
    assert proba.shape == (10,) and np.all((proba > 0) & (proba < 1))
    assert info["mode"] == "features" and info["feature_dim"] == 512 and info["params"] == 20_025_410


def test_measured_costs_cover_the_five_backbones():
    costs = transfer.measured_costs()
    assert costs["backbone"].tolist() == list(transfer.PAPER_BACKBONES)
    assert costs.notna().all().all() and (costs["finetune_s_per_step"] > costs["frozen_s_per_step"]).all()


def test_comparison_text_prints_ours_with_interval_beside_the_paper():
    table = pd.DataFrame([{"model": "VGG19", "n": 20, **{f"{m}{s}": v for m in
                           ("precision", "sensitivity", "f_score", "accuracy", "auc")
                           for s, v in (("", 0.5), ("_low", 0.25), ("_high", 0.75))},
                           **{f"{m}_paper": 0.72 for m in ("precision", "sensitivity", "f_score", "accuracy", "auc")}}])
    text = paper.comparison_text(table)
    assert text.loc["VGG19", "AUC (test)"] == "0.50 [0.25, 0.75] | 0.72"
    assert list(text.columns) == ["n test", "Precision", "Sensitivity", "F-Score", "Test accuracy", "AUC (test)"]


def test_the_registry_has_one_entry_per_paper_backbone_in_order():
    from mammokit.course import params

    assert tuple(transfer.BACKBONES) == params.PAPER_BACKBONES == transfer.PAPER_BACKBONES
