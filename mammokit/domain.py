"""Domain transfer (issue 20, notebook 05): the lesion detector as the starting point for benign vs malignant.

The detector (:func:`mammokit.detector.lesion_detector`) learns mammographic texture from
thousands of lesion and normal-tissue windows; benign vs malignant has a few dozen lesions. Do
its convolutional layers make a better start than random weights? Two recipes that differ in
that alone — same architecture (:func:`mammokit.models.build_convnet` with the detector's
filters), same input, same schedule (the ConvNet recipes', ``recipes.CONVNET[profile]``):

* :func:`detector_init` — train the lesion detector on the windows of the training patients,
  copy its convolution and batch-norm blocks into a fresh net (new dense layer and 2-way head,
  :func:`copy_conv_blocks`), then train the whole net on benign vs malignant;
* :func:`random_init` — the same net from random (He) weights: the control.

Their input is the detector's positives, relabelled by severity: lesion-centred windows of
``patches.WINDOW_MM`` at ``patches.MULTISCALE`` as channels (so the first layer's channels
match), the centred window and its jittered copies to train, the centred window to predict
(:func:`centred_windows`). A third arm, :func:`backbone_features`, puts an ImageNet backbone's
frozen features and a fitted head on the same ROIs. Every recipe follows the contract of
:mod:`mammokit.recipes` (``recipe(train, seed=0) -> predictor`` with ``predict_proba`` and a
``threshold`` from carved validation patients); :func:`arms` names them for
:func:`mammokit.crossval.compare_recipes`, one window set shared.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from mammokit import profiles
from mammokit.errors import ConfigError
from mammokit.evaluate import choose_threshold
from mammokit.preprocess import PreprocessConfig
from mammokit.roi import RoiDataset
from mammokit.splits import carve_indices, carve_validation

DETECTOR_INIT, RANDOM_INIT = "detector init", "random init"


def window_options(profile: str) -> dict[str, Any]:
    """How the windows are cut for ``profile``: the detector's (``patches.WINDOW_MM``,
    ``patches.MULTISCALE``) at the ConvNet recipes' input side (``recipe_size``)."""
    from mammokit.patches import MULTISCALE, WINDOW_MM

    return dict(size=profiles.value("recipe_size", profile), window_mm=WINDOW_MM, scales=MULTISCALE)


def lesion_windows(catalog: pd.DataFrame, preprocess: PreprocessConfig | None = None,
                   profile: str = "classroom") -> RoiDataset:
    """Every film's windows (:func:`mammokit.patches.build_patch_dataset`, cached) cut as
    :func:`window_options` says: the detector trains on them, the benign-vs-malignant nets on
    their lesion windows; each recipe takes only its training patients' (:func:`training_windows`)."""
    from mammokit.patches import build_patch_dataset

    profiles.check_profile(profile, "lesion_windows: profile")
    return build_patch_dataset(catalog, preprocess, seed=0, progress=False, **window_options(profile))


def training_windows(train: RoiDataset, windows: RoiDataset) -> RoiDataset:
    """The windows of ``train``'s patients, and of no one else."""
    for what, data in (("train", train), ("windows", windows)):
        if not isinstance(data, RoiDataset):
            raise ConfigError(f"training_windows: {what} must be a mammokit.roi.RoiDataset, got {type(data).__name__}")
    return windows.take(np.flatnonzero(np.isin(windows.groups.astype(str), np.unique(train.groups.astype(str)))))


def severity_windows(windows: RoiDataset) -> RoiDataset:
    """The lesion windows (label 1) of benign or malignant lesions, relabelled 0 benign, 1 malignant."""
    keep = (np.asarray(windows.labels) == 1) & windows.table["severity"].isin(["B", "M"]).to_numpy()
    part = windows.take(np.flatnonzero(keep))
    labels = (part.table["severity"] == "M").to_numpy(np.int64)
    return RoiDataset(part.images, part.table.assign(label=labels), labels, part.groups)


def centred_windows(rois: RoiDataset, windows: RoiDataset, preprocess: PreprocessConfig | None = None) -> RoiDataset:
    """One window per ROI, centred on its lesion as the detector's positives are: looked up in
    ``windows`` (copy 0 of the lesion at the ROI's ``row, col``), else cut from the ROI's film
    preprocessed as ``preprocess`` says. Labels and groups are the ROIs'."""
    from mammokit.patches import cut_scales, parse_scales

    t = windows.table
    centred = np.flatnonzero((np.asarray(windows.labels) == 1) & (t["copy"].to_numpy() == 0))
    index = {(str(t["image_id"].iat[i]), round(float(t["lesion_row"].iat[i]), 3),
              round(float(t["lesion_col"].iat[i]), 3)): i for i in centred}
    keys = [(str(r.image_id), round(float(r.row), 3), round(float(r.col), 3)) for r in rois.table.itertuples()]
    found = np.array([index.get(k, -1) for k in keys], dtype=np.int64)
    images = windows.images[np.maximum(found, 0)].copy() if len(found) else windows.images[:0]
    missing = np.flatnonzero(found < 0)
    if len(missing):
        if "path" not in rois.table:
            raise ConfigError("centred_windows: these ROIs are not in the window set and carry no film paths; "
                              "build them with mammokit.roi.build_roi_dataset")
        from mammokit.data.images import read_image
        from mammokit.preprocess import preprocess as run_preprocess

        px, size, scales = int(t["window_px"].iat[0]), windows.images.shape[1], parse_scales(t["scales"].iat[0])
        part = rois.table.iloc[missing]
        for path, rows in part.groupby("path", sort=False):
            result = run_preprocess(read_image(path), preprocess or PreprocessConfig())
            images[missing[part["path"].to_numpy() == path]] = cut_scales(result, rows["row"], rows["col"], px, size,
                                                                          scales)
    return RoiDataset(images, rois.table, np.asarray(rois.labels), np.asarray(rois.groups))


def copy_conv_blocks(source: Any, target: Any) -> list[str]:
    """Copy every convolution and batch-norm block (layers ``block*``) of ``source`` into
    ``target``, two :func:`mammokit.models.build_convnet` nets; the head stays ``target``'s own.
    Returns the names of the layers copied."""
    names = [layer.name for layer in source.layers if layer.name.startswith("block") and layer.weights]
    for name in names:
        mine, theirs = target.get_layer(name).get_weights(), source.get_layer(name).get_weights()
        if [w.shape for w in mine] != [w.shape for w in theirs]:
            raise ConfigError(f"copy_conv_blocks: layer {name} has weights {[w.shape for w in theirs]} in the "
                              f"detector but {[w.shape for w in mine]} here; build both with the same filters "
                              "and input channels")
        target.get_layer(name).set_weights(theirs)
    return names


@dataclass
class WindowNet:
    """A benign-vs-malignant ConvNet on lesion-centred windows; ``start``: where its convolutions
    began (``"detector"`` or ``"random"``), ``copied``: the layers taken from the detector."""

    net: Any
    start: str
    windows: RoiDataset = field(repr=False)
    preprocess: PreprocessConfig | None = None
    copied: list = field(default_factory=list)
    threshold: float = 0.5

    def predict_proba(self, rois: RoiDataset) -> np.ndarray:
        """One malignant probability per ROI, from its centred window."""
        from mammokit.train import predict_proba

        if not len(rois):
            return np.zeros(0)
        return np.clip(predict_proba(self.net, centred_windows(rois, self.windows, self.preprocess).images), 0.0, 1.0)


def _window_net(train: RoiDataset, windows: RoiDataset, profile: str, seed: int, from_detector: bool,
                preprocess: PreprocessConfig | None) -> WindowNet:
    from mammokit.detector import DETECTOR, lesion_detector
    from mammokit.models import build_convnet
    from mammokit.recipes import CONVNET
    from mammokit.train import fit

    profiles.check_profile(profile, "profile")
    own = training_windows(train, windows)
    if not len(own):
        raise ConfigError("no windows belong to the training patients; build the window set from the same "
                          "catalog as the ROIs (domain.lesion_windows)")
    lesions = severity_windows(own)
    if "abnormality" in train.table:  # the lesion kinds given (notebook LESIONS="masses": masses only)
        lesions = lesions.take(np.flatnonzero(lesions.table["abnormality"].isin(set(train.table["abnormality"]))))
    fit_part, val = carve_validation(lesions, seed=seed)
    val = val.take(np.flatnonzero(val.table["copy"].to_numpy() == 0))  # scored as test ROIs are: centred
    size, channels = own.images.shape[1], 1 if own.images.ndim == 3 else own.images.shape[-1]
    net = build_convnet((size, size, channels), filters=DETECTOR[profile]["filters"], seed=seed,
                        name="detector_init" if from_detector else "random_init")
    copied = []
    if from_detector:  # the detector sees every window of the training patients, lesion or not
        detector = lesion_detector(own, profile=profile, seed=seed, members=1, tta=False, calibrate=False)
        copied = copy_conv_blocks(detector.members[0], net)
    config = CONVNET[profile]["config"]
    fit(net, (fit_part.images, fit_part.labels), (val.images, val.labels), config.replace(seed=seed))
    model = WindowNet(net, "detector" if from_detector else "random", windows, preprocess, copied)
    model.threshold = choose_threshold(val.labels, model.predict_proba(val)) if len(np.unique(val.labels)) > 1 else 0.5
    return model


def detector_init(train: RoiDataset, *, windows: RoiDataset, profile: str = "classroom", seed: int = 0,
                  preprocess: PreprocessConfig | None = None) -> WindowNet:
    """Benign vs malignant from the lesion detector's convolutions (module docstring).

    ``windows``: the window set of the whole catalog (:func:`lesion_windows`); only the windows
    of ``train``'s patients are used to train the detector and the net. ``preprocess``: for ROIs
    not in ``windows``, how their films are preprocessed before cutting (None: the defaults).
    """
    return _window_net(train, windows, profile, seed, True, preprocess)


def random_init(train: RoiDataset, *, windows: RoiDataset, profile: str = "classroom", seed: int = 0,
                preprocess: PreprocessConfig | None = None) -> WindowNet:
    """The control: :func:`detector_init`'s net, input and schedule from random weights."""
    return _window_net(train, windows, profile, seed, False, preprocess)


@dataclass
class BackboneModel:
    """Frozen ImageNet features of the ROIs (:func:`mammokit.finetune.extract_features`, cached)
    and a logistic head fitted on the training patients' (:func:`mammokit.finetune.fit_head`)."""

    backbone: str
    weights: Any
    head: Any
    input_size: int | None = None
    seed: int = 0
    threshold: float = 0.5

    def features(self, rois: RoiDataset) -> np.ndarray:
        from mammokit.finetune import extract_features

        return extract_features(self.backbone, rois.images, input_size=self.input_size, weights=self.weights,
                                seed=self.seed, batch_size=8)

    def predict_proba(self, rois: RoiDataset) -> np.ndarray:
        from mammokit.finetune import head_proba

        return head_proba(self.features(rois), self.head) if len(rois) else np.zeros(0)


def backbone_features(train: RoiDataset, *, backbone: str = "VGG19", weights: str | os.PathLike | None = "imagenet",
                      input_size: int | None = None, c: float = 1.0, seed: int = 0) -> BackboneModel:
    """The ImageNet arm: ``backbone``'s frozen features and an L2 logistic head (strength ``c``);
    threshold from a head fitted on part of ``train`` and scored on its carved validation
    patients, the head kept refitted on all of ``train``."""
    from mammokit.finetune import fit_head, head_proba

    fit_i, val_i = carve_indices(train, seed=seed)  # refuses too few patients, as every recipe does
    model = BackboneModel(backbone, weights, None, input_size, seed)
    feats, labels = model.features(train), np.asarray(train.labels).astype(int)  # one forward pass over train
    p_val = head_proba(feats[val_i], fit_head(feats[fit_i], labels[fit_i], C=c))
    model.head = fit_head(feats, labels, C=c)
    model.threshold = choose_threshold(labels[val_i], p_val) if len(np.unique(labels[val_i])) > 1 else 0.5
    return model


def arms(catalog: pd.DataFrame, preprocess: PreprocessConfig | None = None, profile: str = "classroom", *,
         backbone: str | None = None, weights: str | os.PathLike | None = "imagenet") -> dict[str, Callable[..., Any]]:
    """The recipes of the comparison by name, each ``recipe(train, seed=0)``: :data:`DETECTOR_INIT`,
    :data:`RANDOM_INIT` (one window set of ``catalog``, cut once when first needed) and, with
    ``backbone``, ``"<backbone> features (<weights>)"`` on the ROIs themselves."""
    profiles.check_profile(profile, "arms: profile")
    built: dict[str, RoiDataset] = {}

    def windows() -> RoiDataset:
        if "all" not in built:
            built["all"] = lesion_windows(catalog, preprocess, profile)
        return built["all"]

    out: dict[str, Callable[..., Any]] = {
        DETECTOR_INIT: lambda train, seed=0: detector_init(train, windows=windows(), profile=profile, seed=seed,
                                                           preprocess=preprocess),
        RANDOM_INIT: lambda train, seed=0: random_init(train, windows=windows(), profile=profile, seed=seed,
                                                       preprocess=preprocess),
    }
    if backbone is not None:
        tag = "random weights" if weights is None or str(weights).lower() in ("random", "none") else \
            "ImageNet" if str(weights) == "imagenet" else os.path.basename(str(weights))
        out[f"{backbone} features ({tag})"] = lambda train, seed=0: backbone_features(
            train, backbone=backbone, weights=weights, seed=seed)
    return out
