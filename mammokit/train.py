"""Training: ``fit`` with the callbacks a user needs, and prediction.

* The input pipeline lives in :mod:`mammokit.datasets`: :func:`~mammokit.datasets.make_dataset`
  feeds every model the kit's one pixel contract, and :func:`~mammokit.datasets.class_weights`
  gives Eq 6's loss weights. Both are also reachable here (``mk.train.make_dataset``, as the
  notebooks call them).
* :class:`TrainConfig` holds every training option (epochs, batch size, learning rate, ...);
  :func:`fit`, :mod:`mammokit.finetune`, :mod:`mammokit.crossval`, :mod:`mammokit.leakage`
  and :mod:`mammokit.recipes` all take one.
* :func:`fit` compiles with Adam (Table 2: 1e-3, β1 0.9), weights the loss per class (the
  paper's w_n in Eq 6), and, given a ``run_dir``, keeps the best model, the per-epoch history
  and a backup from which a rerun resumes after a crash or a Colab disconnect
  (``keras.callbacks.BackupAndRestore``), where :mod:`mammokit.runs` says they belong.
* Devices (mixed precision, ``MirroredStrategy``) are set up in :mod:`mammokit.backend`.

TensorFlow/Keras are imported inside the functions (importing them takes seconds).
"""
from __future__ import annotations

import dataclasses
import functools
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import NDArray

from mammokit import profiles, runs
from mammokit.backend import distribution_strategy
from mammokit.checks import allows, boolean, check_fields, integer, optional, require, strict_fields
from mammokit.datasets import check_labels, class_weights, make_dataset  # noqa: F401 (mk.train.class_weights)
from mammokit.errors import ConfigError, DataError
from mammokit.models import check_rois

if TYPE_CHECKING:
    import keras


# --- checks ----------------------------------------------------------------------------------------

def _check_size(model: keras.Model, images: np.ndarray, what: str) -> None:
    """The ROIs' side must be the model's (Keras' own shape error names neither)."""
    want = tuple(model.input_shape[1:3])
    if images.ndim >= 3 and tuple(images.shape[1:3]) != want:
        raise ConfigError(f"{what}: the model takes {want} px images but these ROIs are {tuple(images.shape[1:3])}; "
                          f"build the ROIs with size={want[0]}, or the model with input_shape=({images.shape[1]}, "
                          f"{images.shape[2]}, {model.input_shape[-1]})")


# --- training --------------------------------------------------------------------------------------

@functools.cache
def _malignant_auc_class():
    import keras

    @keras.saving.register_keras_serializable(package="mammokit", name="MalignantAUC")
    class MalignantAUC(keras.metrics.AUC):
        """ROC AUC of the malignant column of a softmax output, against 0/1 labels."""

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = keras.ops.reshape(y_true, (-1,))
            y_pred = y_pred[:, -1] if len(y_pred.shape) == 2 else y_pred
            return super().update_state(y_true, y_pred, sample_weight)

    return MalignantAUC


def _check_rate(learning_rate: Any) -> float:
    return float(require(profiles.LEARNING_RATE, learning_rate, "learning_rate", hint="(paper: 0.001)"))


def compile_model(model: keras.Model, learning_rate: float = 1e-3) -> None:
    """Adam(learning_rate, β1 0.9) on sparse cross-entropy, with accuracy and malignant AUC.

    The optimizer's and metrics' state is created here, eagerly, not inside the first traced
    training step: TensorFlow keeps a traced step that created variables (and its graph) alive for
    the life of the process — about 20 MB per trained model, which is what ran notebook 06 out of
    Binder's 2 GiB (``README.md``, "Binder's memory"); built here, under 10 MB stays."""
    import keras

    rate = _check_rate(learning_rate)
    binary = model.output_shape[-1] == 1
    with distribution_strategy().scope():
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=rate, beta_1=0.9),
            loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
            metrics=["binary_accuracy" if binary else "accuracy", _malignant_auc_class()(name="auc")],
        )
        model.optimizer.build(model.trainable_variables)
        if (not isinstance(model.input_shape, tuple) or None in model.input_shape[1:]
                or distribution_strategy().num_replicas_in_sync > 1):
            return  # several inputs, any input size, or several GPUs (Keras builds there itself): the first step does
        x = np.zeros((2, *model.input_shape[1:]), np.float32)
        y = np.zeros((2, 1) if binary else (2,), np.int32)
        y_pred = model(x, training=False)
        model.compute_metrics(x, y, y_pred)
        model.compute_loss(x, y, y_pred)
        model.reset_metrics()


def _keep_best_callback(monitor: str):
    """Remember the best weights in memory (used when there is no run folder to checkpoint to)."""
    import keras

    class KeepBest(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best, self.weights = np.inf, None

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get(monitor)
            if value is not None and value < self.best:
                self.best, self.weights = value, self.model.get_weights()

    return KeepBest()


def _check_backup_fits(model: keras.Model, backup: Path) -> None:
    """Fail with a clear message when a backup was written by a different model (another size)."""
    weights = backup / "latest.weights.h5"
    if not weights.exists():
        return
    probe = model.__class__.from_config(model.get_config())
    try:
        probe.load_weights(str(weights), skip_mismatch=False)
    except ValueError as exc:
        raise ConfigError(f"fit: the backup in {backup} was written by another model ({str(exc)[:160]}...); "
                          "rerun with resume=False, use another name=, or delete that folder") from None


def _augment_pipeline(augment: Any, seed: int, channels: int = 1):
    if augment is True:  # Table 1's kernel filters (emboss, edges) are 1-channel: others skip them
        from mammokit.online import online_pipeline  # left of train in the data flow

        return online_pipeline(seed, kernels=channels == 1)
    if isinstance(augment, str) and augment == "dihedral":
        from mammokit.online import dihedral_pipeline

        return dihedral_pipeline(seed)
    if augment is False or augment is None:
        return None
    return require(_augment_allowed, augment, "augment")


def _augment_allowed(value: Any) -> str | None:
    """The check of ``TrainConfig.augment``."""
    ok = value is True or value is False or value is None or value == "dihedral" or callable(value)
    return None if ok else "True (the kit's online pipeline), \"dihedral\" (rotations/flips only), False, or a Keras layer"


@strict_fields  # a misspelt field is a ConfigError naming the close match, not a TypeError
@dataclass(frozen=True)
class TrainConfig:
    """Every training option, in one place; :func:`fit` and everything that trains a ConvNet take one.

    ``epochs`` (0 only for :func:`mammokit.finetune.fine_tune`: the head phase alone);
    ``batch_size``; ``steps_per_epoch`` (None: one pass over the training split; a number loops
    the data, Table 2: 80); ``learning_rate`` (Adam, Table 2: 1e-3);
    ``class_weight`` (``"balanced"``, None or ``{0: w0, 1: w1}``, Eq 6); ``augment`` (True: the
    kit's online pipeline; ``"dihedral"``: the 8 rotations/flips only,
    :func:`mammokit.online.dihedral_pipeline`; False; or a Keras layer); ``early_stopping`` (patience in epochs, or
    None); ``restore_best`` (leave the best epoch's weights in the model); ``seed``;
    ``verbose`` (Keras' progress output); ``inflate``: Table 1 copies per training ROI, made by
    :func:`mammokit.inflation.inflate` inside :func:`fit`, so only the training split is inflated
    (the paper profile: 8; 1: none). A wrong value or an unknown field is a ``ConfigError``.

    >>> TrainConfig(epochs=3).replace(batch_size=8).batch_size
    8
    """

    # what each field allows is declared once, here (allows); the shared knobs' checks live in
    # mammokit.profiles, where the notebook parameters read them too
    epochs: int = field(default=1, metadata=allows(integer(0), "(0 only for fine_tune's head phase)"))
    batch_size: int = field(default=32, metadata=allows(profiles.BATCH_SIZE))
    steps_per_epoch: int | None = field(default=None, metadata=allows(profiles.STEPS_PER_EPOCH))
    learning_rate: float = field(default=1e-3, metadata=allows(profiles.LEARNING_RATE, "(paper: 0.001)"))
    class_weight: str | Mapping[int, float] | None = "balanced"
    augment: Any = field(default=True, metadata=allows(_augment_allowed))
    early_stopping: int | None = field(default=None, metadata=allows(optional(integer(1))))
    restore_best: bool = field(default=True, metadata=allows(boolean))
    seed: int = field(default=0, metadata=allows(integer()))
    verbose: int | str = "auto"
    inflate: int = field(default=1, metadata=allows(profiles.INFLATE, "(paper: 8)"))

    def __post_init__(self) -> None:
        check_fields(self)  # epochs 0: nothing to train (fine_tune: the head phase only); fit refuses it
        if isinstance(self.class_weight, Mapping) or self.class_weight not in ("balanced", None):
            class_weights(np.zeros(0), self.class_weight)  # a dict is checked now; anything else refused

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` (field names as in the class)."""
        # field by field, never through dataclasses.asdict: that deep-copies values (a Keras augment layer)
        return dataclasses.replace(self, **changes)


_FIELDS = frozenset(f.name for f in dataclasses.fields(TrainConfig))


def fit(model: keras.Model, train: tuple[NDArray[np.uint8], npt.ArrayLike],
        val: tuple[NDArray[np.uint8], npt.ArrayLike] | None = None,
        config: TrainConfig | None = None, *, run_dir: Path | str | None = None, name: str = "convnet",
        resume: bool = True, callbacks: list | None = None, **options: Any) -> pd.DataFrame:
    """Train ``model`` on uint8 ROIs as ``config`` (a :class:`TrainConfig`) says; the history, one row per epoch.

    With ``run_dir``: best model (lowest ``val_loss``, else ``loss``), per-epoch history and a
    backup each epoch, at :func:`mammokit.runs.model_path`, :func:`~mammokit.runs.history_path`
    and :func:`~mammokit.runs.backup_dir` of ``name``. If that backup exists and ``resume`` is
    True, training continues after the last completed epoch and the history is appended to;
    ``resume=False`` starts over. ``callbacks`` run before the kit's own.

    Parameters
    ----------
    model : keras.Model taking (S, S, C) inputs
    train : (images, labels): numpy.ndarray of shape (N, S, S) or (N, S, S, C), uint8 0-255, and
        array_like of shape (N,), 0 (benign) / 1 (malignant)
    val : (images, labels) as ``train`` (M ROIs, M may be 0), or None
    config : TrainConfig, or None for its defaults
    run_dir, name, resume, callbacks : where and under which name to checkpoint, as above

    Returns
    -------
    pandas.DataFrame, one row per epoch: ``epoch`` (1-based), ``loss``, ``accuracy``, ``auc``
    (in [0, 1]) and their ``val_`` twins
    """
    import keras

    from mammokit.seed import seed_everything

    if options:
        known = sorted(set(options) & _FIELDS)
        raise ConfigError(f"fit: {', '.join(known or sorted(options))} " + (
            f"go(es) in the training options: fit(model, train, val, config=TrainConfig({known[0]}=...))"
            if known else "is not an option of fit; training options go in config=TrainConfig(...)"))
    if config is None:
        config = TrainConfig()
    elif not isinstance(config, TrainConfig):
        raise ConfigError(f"fit: config must be a mammokit.train.TrainConfig, got {type(config).__name__}")
    require(profiles.EPOCHS, config.epochs, "fit: epochs")
    seed = int(config.seed)
    seed_everything(seed, keras=True)
    x, y = train
    if config.inflate > 1:  # Table 1 copies of the training ROIs only (validation stays as it is)
        from mammokit.inflation import inflate

        x, y = inflate(x, y, factor=config.inflate, seed=seed)[:2]
    x = check_rois(x, "fit train images")
    y = check_labels(y, len(x), "fit train labels")
    weights = class_weights(y, config.class_weight)  # checked before any file is written
    channels = model.input_shape[-1]
    _check_size(model, x, "fit train images")
    steps_per_epoch, batch_size = config.steps_per_epoch, config.batch_size
    train_ds = make_dataset(x, y, batch_size, training=True, augment=_augment_pipeline(config.augment, seed, x.shape[-1]),
                            seed=seed, repeat=steps_per_epoch is not None, channels=channels)
    val_ds = None
    if val is not None and len(val[0]):
        vx = check_rois(val[0], "fit val images")
        _check_size(model, vx, "fit validation ROIs")
        val_ds = make_dataset(vx, check_labels(val[1], len(vx), "fit val labels"), batch_size, channels=channels)
    monitor = "val_loss" if val_ds is not None else "loss"
    compile_model(model, config.learning_rate)
    verbose, restore_best = config.verbose, config.restore_best

    cbs: list = list(callbacks or [])
    keep = None
    checkpoint = csv = None
    if run_dir is not None:
        backup = runs.backup_dir(run_dir, name)
        csv = runs.history_path(run_dir, name)
        checkpoint = runs.model_path(run_dir, name)
        if not resume:
            shutil.rmtree(backup, ignore_errors=True)
        resuming = resume and (backup / "training_metadata.json").exists() and csv.exists()
        for folder in (csv.parent, checkpoint.parent):
            folder.mkdir(parents=True, exist_ok=True)
        best = None
        if resuming:
            _check_backup_fits(model, backup)
            done = runs.read_history(csv)
            if verbose:
                print(f"resuming {name!r} after epoch {len(done)} (backup in {backup})")
            if monitor in done and done[monitor].notna().any():
                best = float(done[monitor].min())
        elif csv.exists():
            csv.unlink()  # a fresh run: never mix its epochs with an old run's
        # Order matters: the CSV row of an epoch is written before its backup, so a kill in
        # between repeats that epoch on resume and read_history keeps the later row.
        cbs += [keras.callbacks.CSVLogger(str(csv), append=resuming),
                keras.callbacks.ModelCheckpoint(str(checkpoint), monitor=monitor, save_best_only=True,
                                                initial_value_threshold=best),
                keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True)]
    elif restore_best:
        keep = _keep_best_callback(monitor)
        cbs.append(keep)
    if config.early_stopping:
        cbs.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=int(config.early_stopping)))

    result = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, steps_per_epoch=steps_per_epoch,
                       class_weight=weights, callbacks=cbs, verbose=verbose,
                       shuffle=False)  # make_dataset shuffles (seeded)
    if restore_best:
        if checkpoint is not None and checkpoint.exists():
            model.load_weights(str(checkpoint))
        elif keep is not None and keep.weights is not None:
            model.set_weights(keep.weights)
    if csv is not None and csv.exists():
        return runs.read_history(csv)
    table = pd.DataFrame(result.history)
    table.insert(0, "epoch", np.arange(1, len(table) + 1))
    return table


# --- inference -------------------------------------------------------------------------------------

def predict_proba(model: keras.Model, images: NDArray[np.uint8], batch_size: int = 64) -> NDArray[np.float64]:
    """Probability of malignant for each ROI.

    Parameters
    ----------
    images : np.ndarray, uint8, shape (N, S, S) or (N, S, S, C)
        Fed through :func:`make_dataset` (inference mode), so the scaling is the training one.

    Returns
    -------
    np.ndarray, float64, shape (N,), values in [0, 1]
        Column 1 of a 2-way softmax, or a single sigmoid output.
    """
    _check_size(model, np.asarray(images), "predict_proba images")
    ds = make_dataset(images, None, batch_size, training=False, channels=model.input_shape[-1])
    out = np.asarray(model.predict(ds, verbose=0), dtype=np.float64)
    return out[:, -1] if out.ndim == 2 else out.reshape(-1)


def load_model(path: Path | str) -> keras.Model:
    """Load a ``.keras`` model written by :func:`fit` (registers the kit's AUC metric first)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"load_model: no model file at {path}; train it first (notebook 04 writes "
                          "RUN_DIR/models/convnet.keras)")
    import keras

    _malignant_auc_class()
    try:
        return keras.models.load_model(path)
    except Exception as exc:  # Keras reports a cut-short zip as "File not found" and worse
        raise DataError(f"load_model: {path} is not a readable Keras model ({type(exc).__name__}: "
                        f"{str(exc)[:120]}); it may be half-copied or damaged. Copy it again or retrain "
                        "(notebook 04 writes it).") from None


def reusable_model(run_dir: Path | str, name: str, input_side: int, predictions: pd.DataFrame) -> keras.Model | None:
    """The model ``name`` an earlier notebook trained in ``run_dir``, when a later one may reuse it
    instead of training again: its checkpoint (:func:`mammokit.runs.model_path`) exists, takes
    ``input_side`` px inputs, and ``predictions`` (:func:`mammokit.runs.read_predictions` with the
    ROIs at hand) hold its predictions. Else None: the caller trains its own."""
    from mammokit import runs

    path = runs.model_path(run_dir, name)
    if not path.is_file() or "model" not in predictions or name not in set(predictions["model"]):
        return None
    model = load_model(path)
    return model if model.input_shape[1] == input_side else None
