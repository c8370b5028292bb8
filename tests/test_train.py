"""Training plumbing: the tf.data pipeline, class weights (Eq 6), fit's files, prediction, devices."""
from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from mammokit import backend, datasets, models, paper, runs, train
from mammokit.train import TrainConfig
from mammokit.errors import ConfigError, DataError


def _data(n=24, size=16, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
    labels = np.arange(n) % 2
    images[labels == 1, size // 4:-size // 4, size // 4:-size // 4] = 255  # a learnable "mass"
    return images, labels


def _tiny(size=16, seed=0):
    return models.build_convnet((size, size, 1), filters=(4, 8), dense=8, seed=seed)


def _stack(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


def test_inference_dataset_scales_once_and_keeps_order():
    images, labels = _data(10)
    x, y = _stack(datasets.make_dataset(images, labels, batch_size=4, training=False))
    assert x.dtype == np.float32 and x.shape == (10, 16, 16, 1)
    np.testing.assert_allclose(x[..., 0], images / 255.0, rtol=1e-6)
    assert y.tolist() == labels.tolist()
    np.testing.assert_allclose(models.to_model_input(images)[..., 0], images / 255.0, rtol=1e-6)


def test_training_dataset_shuffles_and_augments_only_when_training():
    images, labels = _data(32)
    seen = []

    def marker(batch, training=False):  # records that it ran, and brightens everything by 10
        seen.append(training)
        return batch + 10.0

    x, y = _stack(datasets.make_dataset(images, labels, 8, training=True, augment=marker, seed=1))
    assert seen == [True]  # traced once inside the graph
    order = [int(np.argmin(np.abs(images / 255.0 - xi[..., 0] + 10 / 255.0).reshape(32, -1).sum(1))) for xi in x]
    assert sorted(order) == list(range(32)) and order != list(range(32))
    assert x.max() <= 1.0  # clipped back into range after augmentation
    x_inf, _ = _stack(datasets.make_dataset(images, labels, 8, training=False, augment=marker))
    np.testing.assert_allclose(x_inf[..., 0], images / 255.0, rtol=1e-6)  # inference ignores augment


def test_dataset_for_inference_without_labels_and_three_channels():
    images, _ = _data(6)
    batches = list(datasets.make_dataset(images, None, 4, channels=3))
    assert [tuple(b.shape) for b in batches] == [(4, 16, 16, 3), (2, 16, 16, 3)]


@pytest.mark.parametrize("images, labels, word", [
    (np.zeros((4, 8, 8), np.float32), [0, 1, 0, 1], "uint8"),
    (np.zeros((8, 8), np.uint8), None, "shape"),
    (np.zeros((4, 8, 8), np.uint8), [0, 1], "4 labels"),
    (np.zeros((4, 8, 8), np.uint8), [0, 1, 2, 1], "0 (benign) or 1"),
])
def test_bad_data_is_a_data_error_naming_the_problem(images, labels, word):
    with pytest.raises(DataError, match=word.replace("(", r"\(").replace(")", r"\)")):
        datasets.make_dataset(images, labels, 2)


def test_bad_options_are_config_errors():
    images = np.zeros((4, 8, 8), np.uint8)
    for batch_size in (0, "eight", None, True):
        with pytest.raises(ConfigError, match="batch_size"):
            datasets.make_dataset(images, None, batch_size)
    with pytest.raises(ConfigError, match="learning_rate='fast'"):
        train.compile_model(_tiny(), "fast")
    with pytest.raises(ConfigError, match="channels=2"):
        datasets.make_dataset(images, None, 2, channels=2)


def test_class_weights_follow_eq6_balanced():
    weights = datasets.class_weights(np.array([0, 0, 0, 1]))
    assert weights == {0: pytest.approx(4 / 6), 1: pytest.approx(2.0)}
    # each class then carries the same total weight
    assert 3 * weights[0] == pytest.approx(1 * weights[1])
    assert datasets.class_weights([0, 1], None) is None
    assert datasets.class_weights([0, 1], {0: 1, 1: 3}) == {0: 1.0, 1: 3.0}
    with pytest.raises(ConfigError, match="both classes"):
        datasets.class_weights(np.zeros(5, int))
    with pytest.raises(ConfigError, match="class_weight"):
        datasets.class_weights([0, 1], "inverse")


@pytest.mark.slow
def test_fit_learns_writes_files_and_restores_best(tmp_path):
    images, labels = _data(48)
    model = _tiny()
    history = train.fit(model, (images, labels), (images[:16], labels[:16]),
                        TrainConfig(epochs=6, batch_size=8, learning_rate=1e-2, augment=False, verbose=0),
                        run_dir=tmp_path, name="tiny")
    assert history["epoch"].tolist() == [1, 2, 3, 4, 5, 6]
    assert {"loss", "accuracy", "auc", "val_loss", "val_accuracy", "val_auc"} <= set(history)
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    assert (tmp_path / "models" / "tiny.keras").is_file() and runs.model_path(tmp_path, "tiny").is_file()
    assert runs.read_history(runs.history_path(tmp_path, "tiny")).equals(history)
    assert not (tmp_path / "backup" / "tiny").exists(), "the backup is removed after a finished run"
    # restore_best: the weights in memory are the saved best model's
    reloaded = train.load_model(tmp_path / "models" / "tiny.keras")
    np.testing.assert_allclose(train.predict_proba(reloaded, images), train.predict_proba(model, images), atol=1e-6)
    assert history["val_auc"].max() > 0.9  # the bright square is easy


@pytest.mark.slow
def test_fit_with_steps_per_epoch_loops_the_data_and_without_run_dir():
    images, labels = _data(12)
    history = train.fit(_tiny(), (images, labels),
                        config=TrainConfig(epochs=2, batch_size=8, steps_per_epoch=5, augment=False, verbose=0))
    assert isinstance(history, pd.DataFrame) and len(history) == 2
    assert "val_loss" not in history


@pytest.mark.slow
def test_fit_with_the_kits_online_augmentation():
    images, labels = _data(16, size=32)
    model = models.build_convnet((32, 32, 1), filters=(4, 8), dense=8)
    history = train.fit(model, (images, labels), config=TrainConfig(batch_size=8, augment=True, verbose=0))
    assert np.isfinite(history["loss"]).all()


@pytest.mark.slow
@pytest.mark.parametrize("augment", ["flip", "kit"])
def test_same_seed_same_data_same_history_on_cpu(augment):
    images, labels = _data(32, size=32)

    def run():
        pipeline = (keras.layers.RandomFlip("horizontal", seed=5) if augment == "flip"
                    else True)  # True: mammokit.online.online_pipeline(seed)
        model = models.build_convnet((32, 32, 1), filters=(4, 8), dense=8, seed=5)
        return train.fit(model, (images, labels), (images[:8], labels[:8]),
                         TrainConfig(epochs=3, batch_size=8, augment=pipeline, seed=5, verbose=0))

    first, second = run(), run()
    pd.testing.assert_frame_equal(first, second, check_exact=False, rtol=1e-6)
    # and a different seed gives a different run (the test would notice a pipeline ignoring seeds)
    other = train.fit(models.build_convnet((32, 32, 1), filters=(4, 8), dense=8, seed=6), (images, labels),
                      config=TrainConfig(batch_size=8, augment=augment == "kit", seed=6, verbose=0))
    assert other["loss"].iloc[0] != pytest.approx(first["loss"].iloc[0], rel=1e-6)


def test_compile_builds_the_optimizer_and_metrics_so_no_variable_initialising_graph_stays():
    """Variables created inside the first traced step make TensorFlow keep that step's graph for
    the life of the process (~20 MB a model); compile_model creates them eagerly instead, so
    fitting and dropping models leaves none of the graphs' variable-initialising conds behind."""
    import gc

    from tensorflow.python.framework.func_graph import FuncGraph

    def conds():
        gc.collect()
        return sum(isinstance(o, FuncGraph) and "_cond_" in o.name for o in gc.get_objects())

    before = conds()
    images, labels = _data()
    for seed in (0, 1):
        model = _tiny(seed=seed)
        train.compile_model(model)
        assert model.optimizer.built
        train.fit(model, (images, labels), None, TrainConfig(epochs=1, batch_size=8, verbose=0, seed=seed))
        del model
    assert conds() <= before  # (others may be collected meanwhile; none may be added)


def test_fit_rejects_mismatched_sizes_and_bad_knobs():
    images, labels = _data(8)
    with pytest.raises(ConfigError, match="input_shape=\\(16, 16, 1\\)"):
        train.fit(models.build_convnet((32, 32, 1), filters=(4,)), (images, labels),
                  config=TrainConfig(augment=False, verbose=0))
    with pytest.raises(ConfigError, match="epochs"):
        train.fit(_tiny(), (images, labels), config=TrainConfig(epochs=0, verbose=0))
    with pytest.raises(ConfigError, match="epochs=-1"):
        TrainConfig(epochs=-1)
    with pytest.raises(ConfigError, match="augment"):
        TrainConfig(augment="yes")
    with pytest.raises(ConfigError, match="learning_rate"):
        TrainConfig(learning_rate=5)
    with pytest.raises(ConfigError, match="unknown option.*'epoch'"):
        TrainConfig(epoch=3)
    with pytest.raises(ConfigError, match="class_weight"):
        TrainConfig().replace(class_weight="balance")
    with pytest.raises(ConfigError, match=r"config=TrainConfig\(epochs="):  # the old keyword way is named
        train.fit(_tiny(), (images, labels), epochs=3)
    with pytest.raises(ConfigError, match="not an option of fit"):
        train.fit(_tiny(), (images, labels), run_dri="x")
    with pytest.raises(ConfigError, match="no model file"):
        train.load_model("/nonexistent/model.keras")


def test_replace_keeps_the_augment_layer_itself_and_checks_the_changes():
    layer = keras.layers.RandomFlip("horizontal", seed=5)
    config = TrainConfig(augment=layer, class_weight={0: 1.0, 1: 3.0}, verbose=0)
    changed = config.replace(epochs=4, seed=9)
    assert changed.augment is layer, "the same Keras layer, not a deep copy of it"
    assert changed.class_weight is config.class_weight
    assert (changed.epochs, changed.seed, changed.batch_size) == (4, 9, config.batch_size)
    assert config.epochs == 1, "the original is left as it was"
    with pytest.raises(ConfigError, match="unknown option 'epoch' \\(did you mean 'epochs'\\?\\)"):
        config.replace(epoch=4)
    with pytest.raises(ConfigError, match="seed"):
        config.replace(seed="nine")


def test_predict_proba_is_the_malignant_column():
    images, _ = _data(5)
    model = _tiny()
    proba = train.predict_proba(model, images)
    expected = np.asarray(model(images[..., None].astype("float32") / 255.0, training=False))[:, 1]
    assert proba.shape == (5,) and ((0 <= proba) & (proba <= 1)).all()
    np.testing.assert_allclose(proba, expected, atol=1e-6)


def test_device_report_on_this_machine():
    report = backend.configure_device("auto")
    assert "CPU" in report and "precision policy" in report and "strategy" in report
    assert keras.mixed_precision.global_policy().name in ("float32", "mixed_float16")
    if "GPU: none" in report:
        assert keras.mixed_precision.global_policy().name == "float32"


class _Boom(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt  # like a user pressing stop in Jupyter after two epochs


@pytest.mark.slow
def test_interrupted_fit_resumes_in_process_and_refuses_a_different_model(tmp_path):
    images, labels = _data(16)
    quiet4 = TrainConfig(epochs=4, batch_size=8, augment=False, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        train.fit(_tiny(), (images, labels), (images, labels), quiet4, run_dir=tmp_path, callbacks=[_Boom()])
    # the user's callbacks run before the kit's, so epoch 2 never reached the CSV nor the backup
    assert runs.read_history(runs.history_path(tmp_path, "convnet"))["epoch"].tolist() == [1]
    other = models.build_convnet((16, 16, 1), filters=(4, 16), dense=8)
    with pytest.raises(ConfigError, match="another model"):
        train.fit(other, (images, labels), config=quiet4, run_dir=tmp_path)
    history = train.fit(_tiny(), (images, labels), (images, labels), quiet4, run_dir=tmp_path)
    assert history["epoch"].tolist() == [1, 2, 3, 4]
    fresh = train.fit(_tiny(), (images, labels), (images, labels), quiet4.replace(epochs=1), run_dir=tmp_path,
                      resume=False)
    assert fresh["epoch"].tolist() == [1], "resume=False starts a new history"


def test_hyperparameter_table_sets_table2_beside_the_run():
    table = paper.hyperparameter_table(batch_size=16, epochs=3, roi_size=32)
    assert table.loc["batch_size", "paper (Table 2)"] == "32" and table.loc["batch_size", "this run"] == "16"
    assert table.loc["roi_size", "this run"] == "32"


def test_learning_curves_plot_both_sides_and_mark_the_best_epoch():
    from mammokit.plots import learning_curves

    history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [0.9, 0.6, 0.4], "val_loss": [0.8, 0.5, 0.7],
                            "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.5, 0.8, 0.6]})
    fig = learning_curves(history)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        labels = [line.get_label() for line in ax.get_lines()]
        assert labels[:2] == ["training", "validation"] and "best epoch (2)" in labels
    with pytest.raises(DataError, match="epoch"):
        learning_curves(pd.DataFrame())


def test_inflate_grows_the_training_split_only_and_is_checked():
    """TrainConfig(inflate=k): fit trains on k Table-1 copies of each training ROI, never the validation."""
    seen = []

    class Count(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.params.get("steps"))

    images, labels = _data(16)
    config = train.TrainConfig(epochs=1, batch_size=4, augment=False, inflate=3, verbose=0)
    train.fit(_tiny(), (images, labels), (images[:4], labels[:4]), config, callbacks=[Count()])
    assert seen == [12]  # 16 ROIs x 3 copies / batch 4
    with pytest.raises(ConfigError, match="inflate"):
        train.TrainConfig(inflate=0)
