"""Cross-validation grouped by patient: every patient tested once, by a model that never saw her.

Two entry points share one loop (:func:`run_folds`):

* :func:`cross_validate` trains a fresh model per fold from ``build_model()`` (the ConvNet with
  ``mammokit.train.fit`` by default, or any model given ``fit``/``predict``), picks the fold's
  threshold on validation patients carved from its training part and scores the test fold;
* :func:`cross_validate_recipe` hands each fold's training ROIs, as a
  :class:`mammokit.roi.RoiDataset`, to a recipe (``mammokit.recipes``) that trains on them
  alone — carving its own validation patients — and returns something with
  ``predict_proba(rois)``; baselines and the recommended model are scored this way.

Both keep each patient in one fold (``mammokit.splits.kfold_by_patient``), refuse folds that
leak patients, and summarise with the patient bootstrap of ``mammokit.evaluate``.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mammokit.backend import retracing_expected
from mammokit.evaluate import METRICS, EvaluationError, binary_metrics, bootstrap_ci, choose_threshold

if TYPE_CHECKING:
    from mammokit.train import TrainConfig

@dataclass(frozen=True)
class CVResult:
    """What :func:`cross_validate` and :func:`cross_validate_recipe` return.

    ``folds``: one row per fold (``fold, n_train, n_val, n_test, threshold`` + metrics);
    ``predictions``: every test ROI once (out-of-fold), with ``fold`` and the fold's
    ``threshold``; ``summary``: per metric ``mean, sd`` over folds and ``estimate, ci_low,
    ci_high`` from the patient bootstrap of the pooled out-of-fold predictions.
    """

    folds: pd.DataFrame
    predictions: pd.DataFrame
    summary: pd.DataFrame

    def long(self) -> pd.DataFrame:
        """The per-fold table in long form (``fold, metric, value``), for strip plots."""
        return self.folds.melt(id_vars=["fold"], value_vars=list(METRICS), var_name="metric", value_name="value")

    def row(self, model: str = "ConvNet") -> dict[str, Any]:
        """Pooled estimates with their intervals as one table row (``auc, auc_low, auc_high, ...``),
        the shape :func:`mammokit.paper.compare` takes."""
        out: dict[str, Any] = {"model": model}
        for r in self.summary.itertuples():
            out[r.metric], out[f"{r.metric}_low"], out[f"{r.metric}_high"] = r.estimate, r.ci_low, r.ci_high
        return out

    def recipe_row(self, recipe: str, seconds: float) -> dict[str, Any]:
        """One row of :func:`compare_recipes`' table: the pooled AUC with its interval, its mean ±
        sd over folds, and the wall time (for a recipe cross-validated on its own, on the same folds)."""
        auc = self.summary.set_index("metric").loc["auc"]
        return {"recipe": recipe, "auc": auc.estimate, "auc_low": auc.ci_low, "auc_high": auc.ci_high,
                "auc_mean": auc["mean"], "auc_sd": auc.sd, "seconds": seconds}

    def headline(self, metric: str = "auc") -> str:
        """E.g. ``'auc 0.81 ± 0.06 over 5 folds (pooled 0.80, 95% CI 0.70-0.89)'``."""
        r = self.summary.set_index("metric").loc[metric]
        return (f"{metric} {r['mean']:.2f} ± {r['sd']:.2f} over {len(self.folds)} folds "
                f"(pooled {r['estimate']:.2f}, 95% CI {r['ci_low']:.2f}-{r['ci_high']:.2f})")


def _default_fit(config: TrainConfig | None, seed: int) -> Callable[..., Any]:
    from mammokit import train

    config = train.TrainConfig(seed=seed, verbose=0) if config is None else config

    def fit(model, images, labels, val_images, val_labels):
        val = (val_images, val_labels) if len(val_labels) else None
        train.fit(model, (images, labels), val, config)
        return model
    return fit


def _default_predict(model, images):
    from mammokit import train

    return train.predict_proba(model, images)


def cross_validate(build_model: Callable[[], Any], dataset: Any, k: int = 5, *, config: TrainConfig | None = None,
                   seed: int = 0, threshold_rule: str = "youden",
                   n_boot: int = 1000, fit: Callable[..., Any] | None = None,
                   predict: Callable[[Any, NDArray[np.uint8]], NDArray[np.floating]] | None = None,
                   folds: Sequence[Any] | None = None, val_fraction: float = 0.2,
                   progress: bool = True) -> CVResult:
    """K-fold cross-validation grouped by patient and stratified by label (the paper's "stratified 5-fold").

    ``dataset`` is a :class:`mammokit.roi.RoiDataset` (``images`` (N, S, S) uint8, ``labels``,
    ``groups``, ``table``). Folds come from ``mammokit.splits.kfold_by_patient(table, k, seed)``
    unless given. When a fold has no validation part, ``val_fraction`` of its training
    patients become one (``mammokit.splits.split_by_patient``). For each fold a FRESH model
    from ``build_model()`` is trained on the train part (keeping its best epoch on the
    validation loss), its threshold chosen on the validation part by ``threshold_rule``
    (0.5 when it has one class only) and it is scored on the untouched test part.
    ``fit(model, x, y, x_val, y_val) -> model`` and ``predict(model, x) -> (N,) proba``
    default to ``mammokit.train.fit`` with ``config`` (a :class:`mammokit.train.TrainConfig`;
    None: its defaults, quiet, seeded by ``seed``) and ``train.predict_proba``; pass others to cross-validate any
    model (a scikit-learn pipeline). ``seed`` seeds the folds and the bootstrap; training
    uses ``config.seed``.

    Parameters
    ----------
    build_model : callable returning a fresh, untrained model
    dataset : RoiDataset; ``images`` numpy.ndarray of shape (N, S, S) or (N, S, S, C), uint8;
        ``labels`` of shape (N,), 0 / 1; ``groups`` of shape (N,), patient ids
    k, seed, folds, val_fraction, n_boot, progress : as :func:`run_folds`
    config : TrainConfig or None
    threshold_rule : str, a rule of :func:`mammokit.evaluate.choose_threshold`
    fit : callable ``fit(model, x, y, x_val, y_val) -> model``; x uint8 as ``images``, y int 0 / 1
    predict : callable ``predict(model, x) -> proba``, numpy.ndarray of shape (len(x),), float in [0, 1]

    Returns
    -------
    CVResult : per-fold metrics, out-of-fold probabilities (one per ROI) and the bootstrap summary
    """
    images = np.asarray(dataset.images)
    labels = np.asarray(dataset.labels).astype(int)
    fit = fit or _default_fit(config, seed)
    predict = predict or _default_predict

    def one_fold(i: int, tr: np.ndarray, va: np.ndarray, te: np.ndarray):
        model = fit(build_model(), images[tr], labels[tr], images[va], labels[va])
        p_test = np.asarray(predict(model, images[te]), dtype=float).reshape(-1)
        t = 0.5
        if len(va):
            p_val = np.asarray(predict(model, images[va]), dtype=float).reshape(-1)
            t = choose_threshold(labels[va], p_val, threshold_rule)
        return p_test, t

    return run_folds(dataset, one_fold, k=k, seed=seed, folds=folds, val_fraction=val_fraction,
                     n_boot=n_boot, progress=progress)


def cross_validate_recipe(recipe: Callable[[Any], Any], dataset: Any, k: int = 5, *, seed: int = 0,
                          n_boot: int = 1000, folds: Sequence[Any] | None = None,
                          progress: bool = True) -> CVResult:
    """Grouped k-fold CV of a recipe: ``recipe(train_rois) -> predictor`` with ``predict_proba(rois)``.

    Each fold's training ROIs (a :class:`mammokit.roi.RoiDataset`, via ``RoiDataset.take``) are
    all the recipe sees; it carves its own validation patients from them if it needs any. The
    fold's threshold is the predictor's ``threshold`` attribute (chosen on that validation) when it
    has one, else 0.5. The test fold is touched only by ``predict_proba``.
    """
    def one_fold(i: int, tr: np.ndarray, va: np.ndarray, te: np.ndarray):
        model = recipe(dataset.take(tr))
        p_test = np.asarray(model.predict_proba(dataset.take(te)), dtype=float).reshape(-1)
        return p_test, float(getattr(model, "threshold", 0.5))

    return run_folds(dataset, one_fold, k=k, seed=seed, folds=folds, val_fraction=0.0,
                     n_boot=n_boot, progress=progress)


def compare_recipes(recipes: Mapping[str, Callable[..., Any]], dataset: Any, k: int = 5, *, seed: int = 0,
                    n_boot: int = 1000, progress: bool = True) -> tuple[pd.DataFrame, dict[str, CVResult]]:
    """:func:`cross_validate_recipe` of each ``recipe(train, seed=...)`` on the SAME folds.

    Returns a table (one row per recipe: pooled ``auc`` with ``auc_low``/``auc_high`` from the
    patient bootstrap, ``auc_mean``/``auc_sd`` over folds, ``seconds`` of wall time) and the
    :class:`CVResult` of each, by name.
    """
    import time

    from mammokit.splits import kfold_by_patient

    folds = kfold_by_patient(dataset.table.reset_index(drop=True), k=k, seed=seed)
    rows, results = [], {}
    for name, recipe in recipes.items():
        if progress:
            print(f"{name} ...", flush=True)
        start = time.perf_counter()
        result = cross_validate_recipe(lambda train, r=recipe: r(train, seed=seed), dataset, folds=folds,
                                       seed=seed, n_boot=n_boot, progress=False)
        rows.append(result.recipe_row(name, time.perf_counter() - start))
        results[name] = result
    return pd.DataFrame(rows), results


def permutation_null(recipe: Callable[..., Any], dataset: Any, n: int = 10, k: int = 5, *,
                     seed: int = 0) -> NDArray[np.float64]:
    """Pooled out-of-fold AUCs of ``recipe`` after shuffling the labels (``n`` shuffles).

    With the link between image and label broken, this is what grouped CV scores by luck
    alone — on ~80 ROIs it is not centred exactly on 0.5, and it spreads widely: read a real
    result against it.

    Parameters
    ----------
    recipe : callable ``recipe(train_rois, seed=...) -> predictor`` (see :func:`cross_validate_recipe`)
    dataset : RoiDataset of N ROIs, labels 0 / 1
    n, k, seed : int, the shuffles, the folds, the first seed (shuffle i uses ``seed + i``)

    Returns
    -------
    numpy.ndarray of shape (n,), float64 AUCs in [0, 1]
    """
    from mammokit.roi import RoiDataset

    rng = np.random.default_rng(seed)
    out = []
    for i in range(int(n)):
        labels = np.asarray(dataset.labels)[rng.permutation(len(dataset.labels))]
        shuffled = RoiDataset(dataset.images, dataset.table.assign(label=labels), labels, dataset.groups)
        result = cross_validate_recipe(lambda train: recipe(train, seed=seed + i), shuffled, k=k, seed=seed + i,
                                       n_boot=10, progress=False)
        out.append(result.summary.set_index("metric").loc["auc", "estimate"])
    return np.asarray(out, dtype=float)


def run_folds(dataset: Any, one_fold: Callable[..., tuple[NDArray[np.floating], float]], *, k: int = 5, seed: int = 0,
              folds: Sequence[Any] | None = None, val_fraction: float = 0.2, n_boot: int = 1000,
              progress: bool = True) -> CVResult:
    """The loop both CV functions share: make the folds, check no patient is on two sides, call
    ``one_fold(i, train, val, test) -> (test probabilities, threshold)``, collect the results.

    Parameters
    ----------
    dataset : RoiDataset of N ROIs (``labels`` of shape (N,), 0 / 1; ``groups``, ``table``)
    one_fold : callable ``(i, train, val, test)``, each an int index array, returning the test part's
        probabilities, numpy.ndarray of shape (len(test),), float in [0, 1], and a threshold
    k, seed : int, folds from ``kfold_by_patient(table, k, seed)`` unless ``folds`` are given
    folds : sequence of splits with ``train`` / ``val`` / ``test`` index arrays, or None
    val_fraction : float in [0, 1), patients carved as validation when a fold has none (0: never)
    n_boot : int, patient-bootstrap resamples
    progress : bool, print a line per fold

    Returns
    -------
    CVResult
    """
    labels = np.asarray(dataset.labels).astype(int)
    table = dataset.table.reset_index(drop=True)
    groups = np.asarray(dataset.groups).astype(str)
    if folds is None:
        from mammokit.splits import kfold_by_patient
        folds = kfold_by_patient(table, k=k, seed=seed)
    seen = np.zeros(len(labels), dtype=int)
    rows, preds = [], []
    with retracing_expected():  # a fresh model per fold
        for i, split in enumerate(folds):
            tr, va, te = (np.asarray(getattr(split, n), dtype=int) for n in ("train", "val", "test"))
            if not len(va) and val_fraction > 0:
                tr, va = _carve_validation(table, tr, val_fraction, seed + i)
            leaked = set(groups[te]) & (set(groups[tr]) | set(groups[va]))
            if leaked:
                raise EvaluationError(f"cross_validate: fold {i} has patient(s) {sorted(leaked)[:3]} in both test and "
                                      "train/val; folds must be grouped by patient (mammokit.splits.kfold_by_patient)")
            if progress:
                parts = f"train {len(tr)}, val {len(va)}" if len(va) else f"train {len(tr)}"  # a recipe carves its own val
                print(f"fold {i + 1}/{len(folds)}: {parts}, test {len(te)} ROIs", flush=True)
            p_test, t = one_fold(i, tr, va, te)
            if p_test.shape != (len(te),):
                raise EvaluationError(f"cross_validate: fold {i} returned {p_test.shape[0]} probabilities "
                                      f"for {len(te)} test ROIs; predict_proba must give one per ROI")
            rows.append({"fold": i, "n_train": len(tr), "n_val": len(va), "n_test": len(te),
                         **binary_metrics(labels[te], p_test, t)})
            seen[te] += 1
            part = table.iloc[te][[c for c in ("image_id", "patient_id") if c in table.columns]].copy()
            preds.append(part.assign(label=labels[te], proba=p_test, split="test", fold=i, threshold=t))
            gc.collect()  # a fold's Keras models sit in reference cycles: free them now, not folds later
    if (seen > 1).any():
        raise EvaluationError("cross_validate: some ROIs are in the test part of several folds; "
                              "test parts must not overlap")
    fold_table = pd.DataFrame(rows)
    oof = pd.concat(preds, ignore_index=True)
    return CVResult(fold_table, oof, summarise_folds(fold_table, oof, n_boot=n_boot, seed=seed))


def _carve_validation(table: pd.DataFrame, train: np.ndarray, fraction: float, seed: int):
    """Move ``fraction`` of the training PATIENTS to a validation part (label-stratified)."""
    from mammokit.splits import split_by_patient

    if not 0 < fraction < 1:
        raise EvaluationError(f"cross_validate: val_fraction={fraction} must be in (0, 1), or 0 for none")
    part = table.iloc[train].reset_index(drop=True)
    if part["patient_id"].nunique() < 2:
        return train, train[:0]
    inner = split_by_patient(part, ratios=(1 - fraction, fraction, 0.0), seed=seed)
    return train[inner.train], train[inner.val]


def summarise_folds(folds: pd.DataFrame, predictions: pd.DataFrame, *, n_boot: int = 1000,
                    seed: int = 0) -> pd.DataFrame:
    """Mean ± sd of each metric over folds, plus the patient-bootstrap CI of the pooled predictions.

    Pooled metrics use each ROI's own fold threshold (a ROI is predicted malignant when its
    probability reaches the threshold its fold chose on validation).
    """
    # Shift every fold's threshold to 0.5 so that one fixed threshold reproduces each fold's decision.
    shifted = _shift_to_half(predictions["proba"].to_numpy(float), predictions["threshold"].to_numpy(float))
    cis = bootstrap_ci(predictions["label"], shifted, predictions["patient_id"], 0.5, n_boot=n_boot, seed=seed)
    # AUC of the pooled predictions must use the raw probabilities (shifting reorders across folds).
    auc = bootstrap_ci(predictions["label"], predictions["proba"], predictions["patient_id"], 0.5,
                       n_boot=n_boot, seed=seed, metrics=("auc",))
    cis = pd.concat([cis[cis.metric != "auc"], auc], ignore_index=True).set_index("metric")
    rows = []
    for name in METRICS:
        values = folds[name].astype(float)
        rows.append({"metric": name, "mean": values.mean(), "sd": values.std(ddof=1), "folds": int(values.notna().sum()),
                     **cis.loc[name, ["estimate", "ci_low", "ci_high", "n_patients"]].to_dict()})
    return pd.DataFrame(rows)


def _shift_to_half(proba: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Monotone map sending ``threshold`` to 0.5 per ROI, keeping 0 and 1 fixed (same decisions)."""
    t = np.clip(threshold, 1e-9, 1 - 1e-9)
    low = 0.5 * proba / t
    high = 0.5 + 0.5 * (proba - t) / (1 - t)
    return np.clip(np.where(proba < t, low, high), 0.0, 1.0)
