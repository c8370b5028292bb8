"""The data-leakage lab: the paper's evaluation protocol against an honest one, same model, same budget.

The paper inflated its ROIs eight times and, as its split counts suggest (60/20/20 of the 5568
images, not multiples of 8; the text does not say), then split the copies "randomly".
Copies of one ROI (a flip, a 90° rotation, a slight blur of it) then sit in training AND in
the test set, and the test set partly measures memory instead of generalisation. This lab
trains the same small ConvNet twice per seed:

* ``"paper"``: inflate the pooled ROIs ``factor`` times, then split the copies at random
  (stratified by label) into train/val/test;
* ``"roi"``: split the ROIs (not the patients) at random first, inflate the training split
  only, test on the untouched test ROIs: no copy of a test ROI is in training, but the
  patient's other film or lesion may be;
* ``"honest"``: split by patient first (:func:`mammokit.splits.split_by_patient`), inflate
  the training split only, and test on the untouched ROIs of unseen patients.

paper − roi is what copies of one ROI on both sides add; roi − honest what a patient on both
sides adds. The paper arm is also scored on its test set's original (un-augmented) images only.

Both get the same model, epochs, batch size and number of gradient steps; online
augmentation is off so the only difference is the protocol. The result is a table (one row
per protocol and seed) with test accuracy and AUC, plus how many test copies had a sibling
copy of the same ROI, or the same patient, in training.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mammokit import inflation, splits
from mammokit.backend import retracing_expected
from mammokit.constants import PAPER_INFLATE_FACTOR, PAPER_SPLIT
from mammokit import profiles
from mammokit.checks import optional, require, strict_fields
from mammokit.errors import ConfigError
from mammokit.train import TrainConfig

__all__ = ["LabConfig", "PROTOCOLS", "protocol_data", "run_once", "run_lab", "summarise", "gap_sentence",
           "resize_rois", "expected_overlap"]

PROTOCOLS = ("paper", "roi", "honest")
GAPS = {"gap": ("paper", "honest"), "gap_roi_copies": ("paper", "roi"), "gap_same_patient": ("roi", "honest")}
"""Each gap row of :func:`summarise`: (minuend, subtrahend) protocols, paired by seed."""


def _lab_training() -> TrainConfig:
    epochs = profiles.value("leakage_epochs", profiles.DEFAULT_PROFILE)
    return TrainConfig(epochs=epochs, batch_size=32, augment=False, verbose=0)


@strict_fields  # a misspelt option is a ConfigError naming the close match
@dataclass(frozen=True)
class LabConfig:
    """Everything both protocols share: the budget and the (deliberately tiny) model.

    ``train`` holds the training options (a :class:`mammokit.train.TrainConfig`; default: the
    classroom profile's ``leakage_epochs`` (:data:`mammokit.profiles.TABLE`) of batches of 32,
    online augmentation off so the protocol is the only difference, quiet). Its
    ``steps_per_epoch`` None means the shared budget (one pass over the paper protocol's
    training copies); its ``seed`` is replaced by each run's seed.
    """

    factor: int = 8                       # copies per ROI (paper: 8)
    filters: tuple[int, ...] = (8, 16, 32)  # a tiny version of the paper's (32, 64, 128, 256)
    dense: int = 32
    dropout: float = 0.5
    ratios: tuple[float, float, float] = PAPER_SPLIT  # train/val/test, as in the paper
    size: int | None = None               # resize ROIs to size×size first (None: keep)
    train: TrainConfig = field(default_factory=_lab_training)

    def __post_init__(self):
        require(profiles.INFLATE, self.factor, "LabConfig: factor", hint="(paper: 8)")
        require(optional(profiles.ROI_SIZE), self.size, "LabConfig: size")
        if not isinstance(self.train, TrainConfig):
            raise ConfigError(f"LabConfig: train={self.train!r} must be a mammokit.train.TrainConfig")
        require(profiles.EPOCHS, self.train.epochs, "LabConfig: train.epochs")


def _arrays(dataset: Any) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """(images, labels, table) from a RoiDataset-like object (``.images``, ``.labels``, ``.table``)."""
    try:
        images, labels, table = np.asarray(dataset.images), np.asarray(dataset.labels), dataset.table
    except AttributeError:
        raise ConfigError("leakage lab: pass a RoiDataset (mk.roi.build_roi_dataset(...)) or any object with "
                          ".images (N, S, S) uint8, .labels (N,) and .table (patient_id, label)") from None
    if len(images) != len(labels) or len(table) != len(labels):
        raise ConfigError(f"leakage lab: {len(images)} images, {len(labels)} labels and {len(table)} table rows "
                          "must agree")
    if len(np.unique(labels)) < 2:
        raise ConfigError("leakage lab: the dataset has one class only; it needs benign and malignant ROIs")
    return images, labels.astype(np.int64), table.reset_index(drop=True)


def resize_rois(images: NDArray[np.uint8], size: int) -> NDArray[np.uint8]:
    """Resize (N, S, S) uint8 ROIs to ``size``×``size`` (area interpolation), for a faster lab.

    Parameters
    ----------
    images : numpy.ndarray of shape (N, S, S), uint8 0-255, N ≥ 1
    size : int, the new side in px

    Returns
    -------
    numpy.ndarray of shape (N, size, size), uint8 (``images`` itself when already that size)
    """
    import cv2

    images = np.asarray(images)
    if images.shape[1:] == (size, size):
        return images
    return np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in images])


@dataclass(frozen=True)
class _Rois:
    """The three arrays the lab needs (a RoiDataset stand-in after resizing)."""

    images: np.ndarray
    labels: np.ndarray
    table: pd.DataFrame


def _random_split(labels: np.ndarray, ratios: Sequence[float], seed: int) -> splits.Split:
    """The paper's split: rows at random, stratified by label, nothing grouped."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    train_frac, val_frac, test_frac = ratios
    rest, test = train_test_split(idx, test_size=test_frac, stratify=labels, random_state=seed)
    if val_frac > 0:
        train, val = train_test_split(rest, test_size=val_frac / (train_frac + val_frac),
                                      stratify=labels[rest], random_state=seed)
    else:
        train, val = rest, idx[:0]
    return splits.Split(np.sort(train), np.sort(val), np.sort(test))


def protocol_data(protocol: str, dataset: Any, seed: int = 0, factor: int = 8,
                  ratios: Sequence[float] = PAPER_SPLIT) -> dict[str, Any]:
    """The train/val/test arrays a protocol produces, and how much its test set overlaps training.

    Returns a dict with ``train``/``val``/``test`` = (images uint8, labels),
    ``test_original`` (bool per test image: an un-augmented original) and
    ``test_roi_in_train`` / ``test_patient_in_train``: the fraction of test images whose
    source ROI (resp. patient) also has an image in training. For ``"honest"`` both are 0
    by construction; for ``"roi"`` the first is 0; for ``"paper"`` they show the leak.
    """
    if protocol not in PROTOCOLS:
        raise ConfigError(f"leakage lab: protocol={protocol!r}; use one of {', '.join(PROTOCOLS)}")
    images, labels, table = _arrays(dataset)
    patients = table["patient_id"].to_numpy()
    if protocol == "paper":
        pool = inflation.inflate(images, labels, factor=factor, seed=seed)
        split = _random_split(pool.labels, ratios, seed)
        source = pool.source
        side = {k: (pool.images[idx], pool.labels[idx], source[idx]) for k, idx in split._asdict().items()}
        original = pool.variant[split.test] == "original"
    else:
        if protocol == "roi":
            split = _random_split(labels, ratios, seed)
        else:
            split = splits.split_by_patient(table, ratios=ratios, seed=seed)
        original = np.ones(len(split.test), bool)
        grown = inflation.inflate(images[split.train], labels[split.train], factor=factor, seed=seed)
        side = {"train": (grown.images, grown.labels, split.train[grown.source]),
                "val": (images[split.val], labels[split.val], split.val),
                "test": (images[split.test], labels[split.test], split.test)}
    train_src, test_src = side["train"][2], side["test"][2]
    return {
        **{k: (v[0], v[1]) for k, v in side.items()},
        "test_original": original,
        "test_roi_in_train": float(np.isin(test_src, train_src).mean()),
        "test_patient_in_train": float(np.isin(patients[test_src], patients[train_src]).mean()),
    }


def _budget_steps(n_rois: int, cfg: LabConfig) -> int:
    """Steps per epoch both protocols get: one pass over the paper protocol's training copies."""
    return max(1, math.ceil(cfg.ratios[0] * cfg.factor * n_rois / cfg.train.batch_size))


def run_once(protocol: str, dataset: Any, seed: int, cfg: LabConfig = LabConfig()) -> dict[str, Any]:
    """Train and test one model under ``protocol``; one result row (metrics, sizes, leak, seconds)."""
    from mammokit import evaluate, models, train

    start = time.perf_counter()
    data = protocol_data(protocol, dataset, seed=seed, factor=cfg.factor, ratios=cfg.ratios)
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = data["train"], data["val"], data["test"]
    size = x_tr.shape[1]
    model = models.build_convnet((size, x_tr.shape[2], 1), filters=cfg.filters, dense=cfg.dense,
                                 dropout=cfg.dropout, seed=seed, name=f"leakage_{protocol}_{seed}")
    options = cfg.train.replace(seed=seed, steps_per_epoch=cfg.train.steps_per_epoch  # same for all protocols
                                or _budget_steps(len(dataset.labels), cfg))
    val = (x_va, y_va) if len(y_va) and len(np.unique(y_va)) == 2 else None
    train.fit(model, (x_tr, y_tr), val, options)
    proba = train.predict_proba(model, x_te)
    metrics = evaluate.binary_metrics(y_te, proba)
    orig = data["test_original"]
    on_originals = evaluate.binary_metrics(y_te[orig], proba[orig]) if len(np.unique(y_te[orig])) == 2 else {}
    return {
        "protocol": protocol, "seed": seed, "accuracy": metrics["accuracy"], "auc": metrics["auc"],
        "accuracy_originals": on_originals.get("accuracy", float("nan")),
        "auc_originals": on_originals.get("auc", float("nan")), "n_test_originals": int(orig.sum()),
        "n_train": int(len(y_tr)), "n_val": int(len(y_va)), "n_test": int(len(y_te)),
        "steps_per_epoch": int(options.steps_per_epoch), "epochs": int(options.epochs),
        "test_roi_in_train": data["test_roi_in_train"], "test_patient_in_train": data["test_patient_in_train"],
        "seconds": round(time.perf_counter() - start, 2),
    }


def run_lab(dataset: Any, seeds: Sequence[int] | int = 3, cfg: LabConfig = LabConfig(),
            log: Callable[[str], None] | None = print) -> pd.DataFrame:
    """Every protocol over ``seeds`` (a list, or how many: 0..n-1): one row per (protocol, seed)."""
    images, labels, table = _arrays(dataset)  # fail before any training if the input is wrong
    if cfg.size:
        dataset = _Rois(resize_rois(images, int(cfg.size)), labels, table)
    seeds = list(range(seeds)) if isinstance(seeds, (int, np.integer)) else [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("run_lab: seeds must be a positive count or a non-empty list")
    rows = []
    with retracing_expected():  # one new model per run
        for seed in seeds:
            for protocol in PROTOCOLS:
                row = run_once(protocol, dataset, seed, cfg)
                rows.append(row)
                if log:
                    log(f"seed {seed} {protocol:>6}: accuracy {row['accuracy']:.3f}  AUC {row['auc']:.3f}  "
                        f"({row['n_train']} train / {row['n_test']} test images, "
                        f"{row['test_roi_in_train']:.0%} of test ROIs also in training, {row['seconds']:.1f} s)")
    table = pd.DataFrame(rows)
    table.attrs["config"] = asdict(cfg)
    return table


def summarise(results: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean ± sd over seeds per protocol, and the gaps between protocols (paired by seed).

    Rows: each protocol in ``results``, then each gap of :data:`GAPS` whose two protocols are
    present (``gap`` = paper − honest); columns ``<metric>_mean``/``<metric>_sd`` for accuracy
    and AUC, ``<metric>_ci_low``/``_ci_high`` (for gaps: a t interval of the mean per-seed
    difference; it needs 2+ seeds), and ``n_seeds``.
    """
    from scipy import stats

    metrics = ["accuracy", "auc"]
    present = [p for p in PROTOCOLS if p in set(results["protocol"])]
    out = {}
    for protocol in present:
        part = results[results["protocol"] == protocol]
        out[protocol] = {**{f"{m}_mean": part[m].mean() for m in metrics},
                         **{f"{m}_sd": part[m].std(ddof=1) if len(part) > 1 else float("nan") for m in metrics},
                         "n_seeds": len(part)}
    paired = results.pivot(index="seed", columns="protocol", values=metrics)
    for name, (a, b) in GAPS.items():
        if a not in present or b not in present:
            continue
        gap: dict[str, float] = {}
        for m in metrics:
            diff = (paired[(m, a)] - paired[(m, b)]).dropna()
            n, mean = len(diff), diff.mean()
            sd = diff.std(ddof=1) if n > 1 else float("nan")
            half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n) if n > 1 else float("nan")
            gap.update({f"{m}_mean": mean, f"{m}_sd": sd, f"{m}_ci_low": mean - half, f"{m}_ci_high": mean + half})
        gap["n_seeds"] = len(paired)
        out[name] = gap
    columns = [f"{m}_{s}" for m in metrics for s in ("mean", "sd", "ci_low", "ci_high")] + ["n_seeds"]
    return pd.DataFrame(out).T.reindex(columns=columns)


def gap_sentence(mean: float, low: float, high: float, *, name: str = "gap", seeds: int | None = None,
                 metric: str = "AUC") -> str:
    """One line for a gap of :func:`summarise` (``name`` in :data:`GAPS`) with its 95% interval, and what
    the interval allows one to say; notebooks 03 and 06 print it from the lab's (recorded) numbers.

    >>> gap_sentence(0.18, -0.04, 0.40, seeds=5)
    'AUC gap paper − honest: +0.18 (95% CI -0.04 to +0.40, 5 seeds): the interval includes 0, so this run does not show a gap beyond seed-to-seed noise'
    """
    a, b = GAPS[name]
    where = f"{metric} gap {a} − {b}"
    if mean is None or not math.isfinite(mean):
        return f"{where}: not measured"
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return f"{where}: {mean:+.2f} from one seed, with no interval: no evidence either way"
    n = f", {seeds} seeds" if seeds else ""
    verdict = ("the interval lies above 0: this run measured a gap" if low > 0 else
               "the interval lies below 0: this run measured the opposite gap" if high < 0 else
               "the interval includes 0, so this run does not show a gap beyond seed-to-seed noise")
    return f"{where}: {mean:+.2f} (95% CI {low:+.2f} to {high:+.2f}{n}): {verdict}"


def expected_overlap(n_rois: int, factor: int = PAPER_INFLATE_FACTOR,
                     ratios: Sequence[float] = PAPER_SPLIT) -> dict[str, float]:
    """What "augment, then split at random" does to a test set, in expectation.

    Each of ``n_rois`` ROIs becomes ``factor`` copies, each copy landing in train/val/test with
    the ``ratios``' probabilities. Returns ``test_images``, ``distinct_test_rois`` (ROIs with at
    least one copy in test: n·(1 − (1 − test)^factor)) and ``with_copy_in_train`` (the share of
    those that also have a copy in training).

    >>> round(expected_overlap(5568 // 8)["distinct_test_rois"])  # the paper's 696 ROIs
    579
    """
    train, _, test = ratios
    in_test = 1 - (1 - test) ** factor
    in_both = 1 - (1 - test) ** factor - (1 - train) ** factor + (1 - train - test) ** factor
    return {"test_images": n_rois * factor * test, "distinct_test_rois": n_rois * in_test,
            "with_copy_in_train": in_both / in_test}
