"""Training the transfer models of notebook 05: a head on frozen features, or two-phase fine-tuning.

:mod:`mammokit.transfer` builds the models (it sits beside :mod:`mammokit.models` in the data
flow); this module trains them, so it comes after :mod:`mammokit.train`, whose ``fit`` it uses.

* **feature extraction** (the CPU way): the frozen backbone turns each ROI into a vector once
  (:func:`extract_features`, cached on disk), and a logistic-regression :class:`Head` is fitted
  on the vectors (:func:`fit_head`, :func:`head_proba`);
* **fine-tuning** (the GPU way, :func:`fine_tune`): phase 1 trains the head on a frozen
  backbone; phase 2 unfreezes the top layers and continues at a lower learning rate, with
  batch-norm layers kept frozen (in inference mode), through :func:`mammokit.train.fit`.

:func:`run_backbone` does either for one backbone of notebook 05's comparison.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import NDArray

from mammokit import paths
from mammokit import train as training
from mammokit import transfer
from mammokit.errors import ConfigError, DataError
from mammokit.files import atomic_path
from mammokit.models import check_rois, to_model_input
from mammokit.train import TrainConfig
from mammokit.transfer import MEASURED_CPU_224, input_size_for, set_trainable

if TYPE_CHECKING:
    import keras

    from mammokit.roi import RoiDataset
    from mammokit.splits import Split


# --- feature extraction (the CPU way) -----------------------------------------------------------

def _weights_tag(weights: str | os.PathLike | None, seed: int) -> str:
    if transfer.is_random(weights):
        return f"random{seed}"
    if str(weights) == "imagenet":
        return "imagenet"
    stat = Path(weights).expanduser().stat()
    return f"file-{Path(weights).name}-{stat.st_size}-{int(stat.st_mtime)}"


def features_key(backbone: str, images: NDArray[np.uint8], input_size: int, weights: str | os.PathLike | None,
                 seed: int = 0) -> str:
    """A cache key naming what the features depend on: backbone, weights, input side and pixels.

    Parameters
    ----------
    backbone : str, a backbone of :mod:`mammokit.transfer`
    images : numpy.ndarray of shape (N, S, S), uint8 (its bytes are hashed)
    input_size : int, the side the backbone sees, px
    weights : "imagenet", a weights file, or None (random)
    seed : int, the random weights' seed

    Returns
    -------
    str, e.g. ``"VGG19-224px-<weights>-100x64-<pixels>"``
    """
    digest = hashlib.sha1(np.ascontiguousarray(images).view(np.uint8)).hexdigest()[:16]
    tag = hashlib.sha1(_weights_tag(weights, seed).encode()).hexdigest()[:8]
    return f"{backbone}-{input_size}px-{tag}-{images.shape[0]}x{images.shape[1]}-{digest}"


def extract_features(backbone: str, images: NDArray[np.uint8], *, input_size: int | None = None,
                     weights: str | os.PathLike | None = "imagenet", batch_size: int = 32, seed: int = 0,
                     cache: bool = True, model: keras.Model | None = None) -> NDArray[np.float32]:
    """Pooled backbone features of ROIs, computed once and cached.

    Kept as ``.npy`` under ``paths.cache_dir()/features``, keyed by (backbone, weights, input
    side, pixels): the expensive forward pass is paid once per ROI set, and head experiments
    afterwards take seconds. ``model`` reuses a :func:`mammokit.transfer.build_transfer` model.

    Parameters
    ----------
    images : np.ndarray, uint8, shape (N, S, S)
        Square grayscale ROIs as :func:`mammokit.roi.build_roi_dataset` returns them.

    Returns
    -------
    np.ndarray, float32, shape (N, D)
        D depends on the backbone (VGG19: 512).
    """
    x = check_rois(images, "extract_features images", empty_ok=True)
    if x.shape[-1] != 1 or x.shape[1] != x.shape[2]:
        raise DataError(f"extract_features: images must be square grayscale uint8 (N, S, S) ROIs, got shape "
                        f"{np.shape(images)}; build them with mammokit.roi.build_roi_dataset")
    images = x[..., 0]
    size = images.shape[1]
    side = input_size_for(backbone, size, input_size)
    path = paths.cache_dir() / "features" / f"{features_key(backbone, images, side, weights, seed)}.npy"
    if cache and path.is_file():
        try:
            return np.load(path)
        except (OSError, ValueError, EOFError):  # a damaged cache file: recompute and replace it
            path.unlink(missing_ok=True)
    if model is None:
        model = transfer.build_transfer(backbone, size, input_size=side, weights=weights, seed=seed)
    import keras

    encoder = keras.Model(model.input, model.get_layer("mk_pool").output)
    feats = np.concatenate([
        np.asarray(encoder(to_model_input(x[i:i + batch_size]), training=False))
        for i in range(0, len(x), batch_size)]).astype("float32") if len(x) else \
        np.zeros((0, encoder.output_shape[-1]), "float32")
    if cache:
        with atomic_path(path) as tmp:
            np.save(tmp, feats)
    return feats


@dataclass(frozen=True)
class Head:
    """A logistic-regression head in the units of raw features: p(malignant) = σ(features·coef + intercept)."""

    coef: np.ndarray      # (D,) float64
    intercept: float


def fit_head(features: NDArray[np.floating], labels: npt.ArrayLike, *, C: float = 1.0, balanced: bool = True) -> Head:
    """Fit the new 2-class head on frozen features (L2 logistic regression, standardised inputs).

    The standardisation is folded back, so the head works on raw features.

    Parameters
    ----------
    features : numpy.ndarray of shape (N, D), float, from :func:`extract_features`
    labels : array_like of shape (N,), 0 / 1, both classes present
    C : float > 0, inverse L2 strength
    balanced : bool, weight each class by its inverse frequency (the paper's w_n, Eq 6)

    Returns
    -------
    Head, ``coef`` of shape (D,) float64
    """
    from sklearn.linear_model import LogisticRegression

    labels = np.asarray(labels).astype(int)
    if len(np.unique(labels)) < 2:
        raise ConfigError(f"fit_head: the training labels hold one class only ({np.unique(labels).tolist()}); "
                          "use a split with benign and malignant ROIs")
    mean, std = features.mean(0), features.std(0) + 1e-6
    clf = LogisticRegression(C=C, class_weight="balanced" if balanced else None, max_iter=2000)
    clf.fit((features - mean) / std, labels)
    coef = clf.coef_[0] / std
    return Head(coef=coef, intercept=float(clf.intercept_[0] - np.dot(coef, mean)))


def head_proba(features: npt.ArrayLike, head: Head) -> NDArray[np.float64]:
    """Probability of malignant from features and a fitted :class:`Head`.

    Parameters
    ----------
    features : array_like of shape (N, D), float
    head : Head fitted on D features

    Returns
    -------
    numpy.ndarray of shape (N,), float64 in [0, 1]
    """
    z = np.asarray(features, dtype="float64") @ head.coef + head.intercept
    return 1.0 / (1.0 + np.exp(-z))


# --- fine-tuning (the GPU way) and one backbone end to end ------------------------------------------

def fine_tune(model: keras.Model, train: tuple[NDArray[np.uint8], npt.ArrayLike],
              val: tuple[NDArray[np.uint8], npt.ArrayLike] | None = None, config: TrainConfig | None = None, *,
              head_epochs: int = 1, top_n: int | None = 20, fine_factor: float = 0.1, name: str = "transfer",
              run_dir: Path | str | None = None) -> pd.DataFrame:
    """Two-phase fine-tuning through :func:`mammokit.train.fit`; returns both histories stacked.

    ``config`` (a :class:`mammokit.train.TrainConfig`) holds the training options. Phase
    ``head``: backbone frozen, ``head_epochs`` at ``config.learning_rate``. Phase
    ``fine-tune``: the top ``top_n`` weighted backbone layers unfrozen (batch norm stays
    frozen), ``config.epochs`` more at ``learning_rate * fine_factor`` — small steps, so the
    ImageNet features are adjusted, not overwritten (``epochs=0`` or ``top_n=0``: head only).
    With ``run_dir`` the phases checkpoint as ``<name>_head`` / ``<name>``.

    Parameters
    ----------
    model : keras.Model from :func:`mammokit.transfer.build_transfer`
    train, val : (images, labels) as :func:`mammokit.train.fit`: uint8 (N, S, S), 0 / 1 (N,)
    head_epochs, top_n : int, phase 1's epochs; backbone layers unfrozen in phase 2 (None: all)
    fine_factor : float > 0, phase 2's learning rate over phase 1's
    name, run_dir : as :func:`mammokit.train.fit`

    Returns
    -------
    pandas.DataFrame, the histories of both phases (``phase`` column), epochs numbered on
    """
    config = config or TrainConfig()
    set_trainable(model, 0)
    head = training.fit(model, train, val, config.replace(epochs=head_epochs), name=f"{name}_head",
                        run_dir=run_dir).assign(phase="head")
    if not config.epochs or top_n == 0:
        return head
    set_trainable(model, top_n)
    fine = training.fit(model, train, val, config.replace(learning_rate=config.learning_rate * fine_factor),
                        name=name, run_dir=run_dir).assign(phase="fine-tune")
    fine["epoch"] = fine["epoch"] + len(head)
    return pd.concat([head, fine], ignore_index=True)


def run_backbone(name: str, rois: RoiDataset, split: Split, config: TrainConfig | None = None, *,
                 fine_tune_it: bool = False, input_size: int | None = None,
                 weights: str | os.PathLike | None = "imagenet", head_epochs: int = 1, top_n: int | None = 20,
                 C: float = 1.0, feature_batch: int = 32, run_dir: Path | str | None = None
                 ) -> tuple[NDArray[np.float64], dict[str, Any]]:
    """Train one backbone on a :class:`mammokit.roi.RoiDataset` and predict every ROI.

    ``fine_tune_it``: two-phase :func:`fine_tune` (GPU) with ``config`` (a
    :class:`mammokit.train.TrainConfig`; its ``batch_size`` is the training batch); else frozen
    features (cached) and a fitted head (CPU), ``feature_batch`` being the (larger,
    forward-only) feature batch; ``config.seed`` seeds both. Frees Keras memory.

    Parameters
    ----------
    name : str, a backbone of :mod:`mammokit.transfer`
    rois : RoiDataset, ``images`` uint8 of shape (N, S, S), ``labels`` 0 / 1
    split : Split, ``train`` / ``val`` index arrays into ``rois``
    input_size, weights, head_epochs, top_n, C, run_dir : as :func:`extract_features`,
        :func:`fine_tune` and :func:`fit_head`

    Returns
    -------
    proba : numpy.ndarray of shape (N,), float64 in [0, 1], for every ROI
    info : dict (backbone, mode, input_size, params, seconds; history or feature_dim)
    """
    import gc
    import time

    import keras

    start = time.perf_counter()
    size = rois.images.shape[1]
    info = {"backbone": name, "mode": "fine-tune" if fine_tune_it else "features",
            "input_size": input_size_for(name, size, input_size), "params": MEASURED_CPU_224[name]["params"]}
    x, y = rois.images, np.asarray(rois.labels).astype(int)
    tr, va = np.asarray(split.train, int), np.asarray(split.val, int)
    config = config or TrainConfig()
    seed = int(config.seed)
    if fine_tune_it:
        model = transfer.build_transfer(name, size, input_size=input_size, weights=weights, seed=seed)
        history = fine_tune(model, (x[tr], y[tr]), (x[va], y[va]) if len(va) else None, config,
                            head_epochs=head_epochs, top_n=top_n, name=name.lower(), run_dir=run_dir)
        proba = training.predict_proba(model, x, batch_size=config.batch_size)
        info["history"] = history
        del model
    else:  # builds the backbone only when the features are not cached yet
        feats = extract_features(name, x, input_size=input_size, weights=weights, seed=seed,
                                 batch_size=feature_batch)
        head = fit_head(feats[tr], y[tr], C=C)
        proba = head_proba(feats, head)
        info["feature_dim"] = feats.shape[1]
    info["seconds"] = round(time.perf_counter() - start, 1)
    keras.backend.clear_session()
    gc.collect()
    return proba, info
