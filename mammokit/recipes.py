"""Whole recipes — ROIs in, malignant probabilities out — that train only on what they are given.

A recipe is a function ``recipe(train: RoiDataset) -> predictor`` whose predictor has
``predict_proba(rois: RoiDataset) -> (N,) float`` and a ``threshold`` chosen on validation
patients that the recipe carved from ``train`` itself. ``mammokit.crossval.cross_validate_recipe``
scores any recipe under patient-grouped k-fold CV, so every number is on patients the recipe never
saw. The recipes:

* :func:`size_only` — logistic regression on the annotated radius in mm (the baseline to beat;
  it reads the annotation that also places the ROI, not the image);
* :func:`hand_features` — logistic regression on ``mammokit.features`` (intensity, GLCM texture,
  shape of a segmented lesion), with or without the radius;
* :func:`size_and_margin` — the radius plus margin features measured at a fixed scale in mm
  (contrast, border sharpness, tangential gradient share), and :func:`annotation_baseline` — the
  radius plus the radiologist's lesion class, never a candidate (both in :data:`EXPLORED`);
* :func:`convnet` — the paper's ConvNet on a chosen ROI recipe (``mammokit.roi.ROI_RECIPES``),
  optionally a seed ensemble, dihedral test-time augmentation, and the radius fused in;
* :func:`recommended` — the best honest recipe we measured (``benchmarks/bench_recipes.py``),
  the one notebook 06 marks as the profile's default (:data:`RECOMMENDED_RECIPE`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from mammokit import profiles
from mammokit.errors import ConfigError
from mammokit.evaluate import choose_threshold
from mammokit.inflation import dihedral
from mammokit.features import FEATURES, MARGIN_FEATURES, feature_table, margin_table
from mammokit.constants import MIAS_MM_PER_PIXEL, PAPER_FILTERS
from mammokit.preprocess import PreprocessConfig
from mammokit.roi import RoiDataset, build_recipe_rois, crop_side
from mammokit.splits import carve_validation
from mammokit.train import TrainConfig

HAND = tuple(f for f in FEATURES if f != "radius_mm")
"""The image-only hand-crafted features (everything but the annotated radius)."""

LESION_CLASSES = ("CIRC", "SPIC", "MISC", "CALC", "ARCH", "ASYM")
ANNOTATION = ("radius_mm", *(f"class_{k}" for k in LESION_CLASSES))
"""The radiologist's annotation as numbers: radius in mm and the abnormality class, one-hot."""


def model_inputs(rois: RoiDataset, columns: Sequence[str], preprocess: PreprocessConfig | None = None) -> pd.DataFrame:
    """The ``columns`` of ``rois``: from :func:`mammokit.features.feature_table`,
    :func:`mammokit.features.margin_table` (re-cut from the films, preprocessed as ``preprocess``
    says; None: the defaults) or ``class_<CLASS>`` (1.0 where the table's ``abnormality`` is
    CLASS), each computed only when asked for."""
    columns = list(columns)
    unknown = [c for c in columns if c not in FEATURES and c not in MARGIN_FEATURES and c not in ANNOTATION]
    if unknown:
        raise ConfigError(f"model_inputs: unknown column(s) {unknown}; use mammokit.features.FEATURES, "
                          f"MARGIN_FEATURES or {ANNOTATION[1:]}")
    parts = []
    if any(c in FEATURES for c in columns):
        parts.append(feature_table(rois))
    if any(c in MARGIN_FEATURES for c in columns):
        parts.append(margin_table(rois, preprocess))
    if any(c.startswith("class_") for c in columns):
        kind = rois.table["abnormality"].astype(str).to_numpy()
        parts.append(pd.DataFrame({f"class_{k}": (kind == k).astype(float) for k in LESION_CLASSES}))
    return pd.concat(parts, axis=1)[columns]


def _threshold(val: RoiDataset, proba: np.ndarray) -> float:
    return choose_threshold(val.labels, proba) if len(val) else 0.5


# --- logistic regression on features -----------------------------------------------------------------

@dataclass
class FeatureModel:
    """Imputer → standard scaler → L2 logistic regression on ``columns`` of :func:`model_inputs`."""

    columns: tuple[str, ...]
    c: float = 0.1
    threshold: float = 0.5
    preprocess: PreprocessConfig | None = None  # for columns re-cut from the films (margin features)
    pipeline: Any = field(default=None, repr=False)

    def fit(self, rois: RoiDataset) -> "FeatureModel":
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if len(np.unique(rois.labels)) < 2:
            raise ConfigError("a feature model needs benign and malignant ROIs in its training part")
        self.pipeline = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                                      LogisticRegression(C=self.c, class_weight="balanced", max_iter=2000))
        self.pipeline.fit(model_inputs(rois, self.columns, self.preprocess), rois.labels)
        return self

    def predict_proba(self, rois: RoiDataset) -> np.ndarray:
        return self.pipeline.predict_proba(model_inputs(rois, self.columns, self.preprocess))[:, 1]


def _feature_recipe(train: RoiDataset, columns: Sequence[str], c: float, seed: int,
                    preprocess: PreprocessConfig | None = None) -> FeatureModel:
    """Threshold from a fit on part of ``train`` scored on the carved validation patients; the model
    kept is then refitted on all of ``train`` (a linear model on a few numbers barely moves)."""
    fit_part, val = carve_validation(train, seed=seed)
    threshold = _threshold(val, FeatureModel(tuple(columns), c, preprocess=preprocess).fit(fit_part).predict_proba(val))
    model = FeatureModel(tuple(columns), c, preprocess=preprocess).fit(train)  # refit on all training patients
    model.threshold = threshold
    return model


def size_only(train: RoiDataset, *, seed: int = 0) -> FeatureModel:
    """Baseline: the annotated lesion radius in mm (MIAS: 200 µm per pixel) — bigger, more often malignant."""
    return _feature_recipe(train, ("radius_mm",), 1.0, seed)


def hand_features(train: RoiDataset, *, with_size: bool = False, c: float = 0.1, seed: int = 0) -> FeatureModel:
    """Baseline: intensity, GLCM texture and shape features (plus the radius if ``with_size``)."""
    return _feature_recipe(train, FEATURES if with_size else HAND, c, seed)


def size_and_margin(train: RoiDataset, *, columns: Sequence[str] = MARGIN_FEATURES, seed: int = 0,
                    preprocess: PreprocessConfig | None = None) -> FeatureModel:
    """Measured, not recommended: the radius plus margin features at a fixed physical scale
    (:data:`mammokit.features.MARGIN_FEATURES`, or the ``columns`` of them given), measured on
    films preprocessed as ``preprocess`` says (None: the defaults)."""
    return _feature_recipe(train, ("radius_mm", *columns), 1.0, seed, preprocess)


def annotation_baseline(train: RoiDataset, *, seed: int = 0) -> FeatureModel:
    """NOT a candidate: the radius plus the radiologist's abnormality class (:data:`ANNOTATION`) —
    how much the annotation alone carries. A recipe that reads the class is reading the answer sheet."""
    return _feature_recipe(train, ANNOTATION, 1.0, seed)


# --- the ConvNet on a chosen ROI recipe ------------------------------------------------------------


@dataclass
class ConvNetModel:
    """A seed ensemble of ConvNets on one ROI recipe; probabilities averaged over members and,
    with ``tta``, over the 8 dihedral transforms; with ``size`` the radius model is averaged in."""

    members: list
    roi: str
    window_mm: float
    size: int
    tta: bool = False
    size_model: FeatureModel | None = None
    threshold: float = 0.5
    preprocess: PreprocessConfig | None = None

    def rois(self, rois: RoiDataset) -> RoiDataset:
        """The given lesions re-cut by this model's ROI recipe (cached), unless they already are."""
        return as_recipe(rois, self.roi, self.size, self.window_mm, self.preprocess)

    def predict_proba(self, rois: RoiDataset) -> np.ndarray:
        from mammokit.train import predict_proba

        images = self.rois(rois).images
        views = dihedral(images) if self.tta else [images]
        p = np.mean([predict_proba(m, v) for m in self.members for v in views], axis=0)
        if self.size_model is not None:
            p = (p + self.size_model.predict_proba(rois)) / 2
        return np.clip(p, 0.0, 1.0)


def as_recipe(rois: RoiDataset, roi: str, size: int, window_mm: float,
              preprocess: PreprocessConfig | None = None) -> RoiDataset:
    """``rois`` cut by ROI recipe ``roi`` at ``size`` px: as given when they already are, else
    re-cut (cached) from the films named in their table, preprocessed as ``preprocess`` says
    (None: the defaults; notebook 06 passes notebook 02's choice)."""
    shape = (size, size, 3) if roi == "multiscale" else (size, size)
    if roi == "fixed":
        want = np.full(len(rois), int(round(window_mm / MIAS_MM_PER_PIXEL)))
    else:  # the normalised crop (also the first channel of multiscale)
        want = np.array([crop_side(r) for r in rois.table["radius"]])
    if rois.images.shape[1:] == shape and np.array_equal(rois.table["crop_side"].to_numpy(), want):
        return rois
    if "path" not in rois.table:
        raise ConfigError("these ROIs carry no film paths to re-cut them from; build them with "
                          "mammokit.roi.build_roi_dataset")
    out = build_recipe_rois(rois.table, roi, size, window_mm, cfg=preprocess)
    if not np.array_equal(out.table["image_id"].to_numpy(), rois.table["image_id"].to_numpy()):
        raise ConfigError("re-cutting the ROIs changed their order; pass a RoiDataset built by mammokit.roi")
    return out


def convnet(train: RoiDataset, *, roi: str = "fixed", size: int = 64, window_mm: float = 32.0,
            filters: Sequence[int] = PAPER_FILTERS, members: int = 1, tta: bool = False,
            with_size: bool = False, config: TrainConfig | None = None, seed: int = 0,
            preprocess: PreprocessConfig | None = None, trained: dict | None = None) -> ConvNetModel:
    """Train ``members`` ConvNets (seeds ``seed``, ``seed + 1``, ...) on ``train`` re-cut by ``roi``;
    the best epoch of each is kept on validation patients carved from ``train`` (also used for
    the threshold). ``config``: the training options (a :class:`mammokit.train.TrainConfig`;
    None: the classroom profile's, ``CONVNET["classroom"]["config"]``); its seed is replaced by
    each member's. ``preprocess``: how
    ROIs re-cut from their films are preprocessed (:func:`as_recipe`). ``trained``: a dict
    in which nets are kept by everything that shapes their training, so that recipes differing
    only in how they predict (``tta``, ``with_size``) train once (:func:`candidates` shares one)."""
    config = CONVNET[profiles.DEFAULT_PROFILE]["config"] if config is None else config
    data = as_recipe(train, roi, size, window_mm, preprocess)
    fit_part, val = carve_validation(data, seed=seed)
    key = (roi, size, window_mm, tuple(filters), int(members), repr(config), repr(preprocess), seed,
           tuple(data.table["image_id"].astype(str)))
    nets = trained.get(key) if trained is not None else None
    if nets is None:
        nets = _train_nets(fit_part, val, roi, size, filters, int(members), config, seed)
        if trained is not None:
            trained[key] = nets
    size_model = size_only(fit_part, seed=seed) if with_size else None
    model = ConvNetModel(nets, roi, window_mm, size, tta, size_model, preprocess=preprocess)
    model.threshold = _threshold(val, model.predict_proba(val))
    return model


def _train_nets(fit_part: RoiDataset, val: RoiDataset, roi: str, size: int, filters: Sequence[int],
                members: int, config: TrainConfig, seed: int) -> list:
    from mammokit.models import build_convnet
    from mammokit.train import fit

    shape = (size, size, 3 if roi == "multiscale" else 1)
    nets = []
    for m in range(members):
        net = build_convnet(shape, filters=tuple(filters), seed=seed + m)
        fit(net, (fit_part.images, fit_part.labels), (val.images, val.labels), config.replace(seed=seed + m))
        nets.append(net)
    return nets


# --- every recipe we compare, and the recommended one ---------------------------------------------

def _convnet_options(profile: str) -> dict[str, Any]:
    """The ``recipe_*`` rows of :data:`mammokit.profiles.TABLE` as :func:`convnet` keywords: a
    window of 32 mm in every profile; Table 1's online augmentation on, batches of 32, quiet."""
    def setting(key: str) -> Any:
        return profiles.value(key, profile)

    return dict(size=setting("recipe_size"), window_mm=32.0, filters=tuple(setting("recipe_filters")),
                config=TrainConfig(epochs=setting("recipe_epochs"), steps_per_epoch=setting("recipe_steps"),
                                   batch_size=32, learning_rate=1e-3, verbose=0))


CONVNET = {profile: _convnet_options(profile) for profile in profiles.PROFILES}
"""The ConvNet recipes' sizes and schedule per profile (the ROI recipe and extras vary by candidate),
read from :data:`mammokit.profiles.TABLE` (change them there). ``classroom`` halves notebook 04's
filters so that notebook 06's four ConvNet recipes × five folds fit a class period: on the
development subset that net scored a little below the full one (both at chance, inside each
other's intervals) in about half the time (``benchmarks/README.md``)."""

FUSED = "ConvNet, fixed window + TTA + size"

RECOMMENDED_RECIPE = "size only (radius, mm)"
"""The candidate :func:`recommended` trains: the one with the highest grouped-CV AUC on the MIAS
development subset in ``benchmarks/bench_recipes.py`` (classroom sizes; no ConvNet recipe we could
train on the classroom budget beat the annotated radius there). Re-measure before changing it."""


def candidates(profile: str = "classroom", config: TrainConfig | None = None,
               preprocess: PreprocessConfig | None = None) -> dict[str, Any]:
    """Every recipe notebook 06 and ``benchmarks/bench_recipes.py`` compare, by display name;
    each is ``recipe(train, seed=0) -> predictor``. The ConvNets take ``profile``'s sizes
    (:data:`CONVNET`), re-cut their ROIs preprocessed as ``preprocess`` says (None: the
    defaults) and train as ``config`` says (None: the profile's), each net once: the fused
    recipe reuses the fixed window's nets."""
    profiles.check_profile(profile, "candidates: profile")
    if config is not None and not isinstance(config, TrainConfig):
        raise ConfigError(f"candidates: config must be a mammokit.train.TrainConfig, got {type(config).__name__}")
    if preprocess is not None and not isinstance(preprocess, PreprocessConfig):
        raise ConfigError(f"candidates: preprocess must be a mammokit.preprocess.PreprocessConfig, got "
                          f"{type(preprocess).__name__}")
    base = {**CONVNET[profile], **({"config": config} if config is not None else {}), "preprocess": preprocess}
    trained: dict = {}

    def net(**options):
        return lambda train, seed=0: convnet(train, seed=seed, trained=trained, **{**base, **options})

    return {
        "size only (radius, mm)": lambda train, seed=0: size_only(train, seed=seed),
        "hand features": lambda train, seed=0: hand_features(train, seed=seed),
        "hand features + size": lambda train, seed=0: hand_features(train, with_size=True, seed=seed),
        "ConvNet, normalised crop": net(roi="normalised"),
        "ConvNet, fixed window": net(roi="fixed"),
        "ConvNet, multi-scale": net(roi="multiscale"),
        FUSED: net(roi="fixed", tta=True, with_size=True),
    }


EXPLORED = {
    "size + margin (3 features, mm scale)": lambda train, seed=0: size_and_margin(train, seed=seed),
    "size + tangential share": lambda train, seed=0: size_and_margin(train, columns=("tangential_share",), seed=seed),
    "annotation baseline: radius + lesion class": lambda train, seed=0: annotation_baseline(train, seed=seed),
}
"""Recipes ``benchmarks/bench_recipes.py --explored`` also measures, outside :func:`candidates`:
image features at a fixed physical scale added to the radius (none beat the radius alone over
five fold seeds), and the annotation baseline, which reads the lesion class and so may never be
recommended."""


def recommended(train: RoiDataset, *, profile: str = "classroom", seed: int = 0):
    """The best honest recipe we measured (:data:`RECOMMENDED_RECIPE`), trained on ``train`` alone.

    Returns a predictor with ``predict_proba(rois) -> (N,)`` malignant probabilities and the
    ``threshold`` chosen on validation patients it carved from ``train``. ``rois`` may be cut by
    any ROI recipe (ConvNet recipes re-cut them from their films as they need).
    """
    profiles.check_profile(profile, "recommended: profile")
    if not isinstance(train, RoiDataset):
        raise ConfigError(f"recommended: train must be a mammokit.roi.RoiDataset, got {type(train).__name__}")
    return candidates(profile)[RECOMMENDED_RECIPE](train, seed=seed)


# --- the lesion-vs-normal task (mammokit.detector) -------------------------------------------------

def lesion_detector(train: RoiDataset, *, profile: str = "classroom", seed: int = 0, **options):
    """The lesion-vs-normal-tissue ConvNet on windows (:func:`mammokit.detector.lesion_detector`)."""
    from mammokit.detector import lesion_detector as build

    return build(train, profile=profile, seed=seed, **options)


def intensity_baseline(train: RoiDataset, *, seed: int = 0):
    """Window mean and spread of intensity, for comparison (:func:`mammokit.detector.intensity_baseline`)."""
    from mammokit.detector import intensity_baseline as build

    return build(train, seed=seed)
