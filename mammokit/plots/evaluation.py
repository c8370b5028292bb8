"""Figures for evaluation and Grad-CAM (notebook 06): ROC (Fig 7), confusion matrices, folds, calibration.

Each function returns a ``matplotlib.figure.Figure`` that pyplot does not keep (``style.figure``),
so nothing is drawn twice in a notebook and tests can save it. Predictions come as a
mapping ``name -> (labels, proba)`` or as a table with ``model, label, proba`` columns.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from matplotlib.figure import Figure

from mammokit.plots.style import figure, imshow_gray

__all__ = ["roc_curves", "confusion_heatmaps", "fold_strip", "reliability_curve", "grad_cam_grid",
           "paper_comparison", "auc_intervals"]


def _as_mapping(predictions: Any, by: str = "model") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if isinstance(predictions, pd.DataFrame):
        if by not in predictions.columns:
            return {"model": (predictions["label"].to_numpy(int), predictions["proba"].to_numpy(float))}
        return {str(k): (g["label"].to_numpy(int), g["proba"].to_numpy(float))
                for k, g in predictions.groupby(by, sort=False)}
    return {str(k): (np.asarray(v[0]).astype(int), np.asarray(v[1], dtype=float)) for k, v in predictions.items()}


def roc_curves(predictions: Any, *, title: str = "ROC curves (cf. the paper's Fig 7)",
               operating_points: Mapping[str, float] | None = None, paper_auc: Mapping[str, float] | None = None,
               figsize: tuple[float, float] = (9, 5)) -> Figure:
    """All models' ROC curves on one axis, AUC in the legend; chance as a dashed diagonal.

    ``operating_points``: name -> threshold, marked with a dot (where the model actually
    works). ``paper_auc``: name -> the paper's AUC, shown in the legend beside ours.
    """
    from mammokit.evaluate import binary_metrics, roc

    fig = figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    for name, (y, p) in _as_mapping(predictions).items():
        if len(np.unique(y)) < 2:
            continue
        curve = roc(y, p)
        auc = binary_metrics(y, p)["auc"]
        label = f"{name} (AUC {auc:.2f}" + (f"; paper {paper_auc[name]:.2f})" if paper_auc and name in paper_auc else ")")
        line, = ax.plot(curve.fpr, curve.tpr, drawstyle="steps-post", label=label)
        if operating_points and name in operating_points:
            m = binary_metrics(y, p, operating_points[name])
            ax.plot(1 - m["specificity"], m["sensitivity"], "o", color=line.get_color(), markersize=7)
    ax.plot([0, 1], [0, 1], "--", color="gray", lw=1, label="chance (AUC 0.50)")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), aspect="equal", title=title,
           xlabel="false-positive rate (1 - specificity)", ylabel="true-positive rate (sensitivity)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")  # beside the axes: covers no curve
    return fig


def confusion_heatmaps(matrices: Mapping[str, NDArray[np.integer]], *, figsize_per: float = 3.2) -> Figure:
    """One annotated 2×2 heatmap per model: counts and the share of each true class (row %).

    Parameters
    ----------
    matrices : mapping of model name to numpy.ndarray of shape (2, 2), int counts
        ``[[TN, FP], [FN, TP]]`` as :func:`mammokit.evaluate.confusion` gives them.
    figsize_per : float, inches per heatmap

    Returns
    -------
    matplotlib.figure.Figure
    """
    import seaborn as sns

    fig = figure(figsize=(figsize_per * len(matrices), figsize_per), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(matrices)))
    for ax, (name, cm) in zip(axes, matrices.items()):
        cm = np.asarray(cm)
        rows = cm.sum(axis=1, keepdims=True)
        share = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
        text = np.array([[f"{cm[i, j]}\n({share[i, j]:.0%})" for j in range(2)] for i in range(2)])
        sns.heatmap(share, annot=text, fmt="", cmap="Blues", vmin=0, vmax=1, cbar=False, ax=ax,
                    xticklabels=["benign", "malignant"], yticklabels=["benign", "malignant"])
        ax.set(title=name, xlabel="predicted", ylabel="true")
    return fig


def fold_strip(folds: pd.DataFrame, *, metrics: Sequence[str] | None = None,
               paper: Mapping[str, float] | None = None, title: str = "Cross-validation: one dot per fold",
               figsize: tuple[float, float] = (7, 3.8)) -> Figure:
    """Per-fold metrics as dots, fold mean as a bar; the paper's single number as a red cross.

    ``folds`` is ``CVResult.folds`` (one row per fold) or its long form (``fold, metric, value``).
    """
    import seaborn as sns

    from mammokit.evaluate import METRICS

    long = folds if {"metric", "value"} <= set(folds.columns) else folds.melt(
        id_vars=["fold"], value_vars=[m for m in METRICS if m in folds.columns], var_name="metric", value_name="value")
    if metrics is not None:
        long = long[long.metric.isin(metrics)]
    order = list(dict.fromkeys(long.metric))
    fig = figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    sns.stripplot(data=long, x="metric", y="value", order=order, ax=ax, size=7, jitter=0.15, alpha=0.8)
    means = long.groupby("metric")["value"].mean()
    for i, m in enumerate(order):
        ax.hlines(means[m], i - 0.3, i + 0.3, color="black", lw=2, label="fold mean" if i == 0 else None)
        if paper and m in paper:
            ax.plot(i, paper[m], "x", color="crimson", markersize=10, mew=2.5, label="paper" if i == 0 else None)
    ax.set(ylim=(-0.02, 1.05), title=title, xlabel="", ylabel="score")
    ax.legend(loc="lower left", fontsize="small")
    return fig


def reliability_curve(predictions: Any, *, bins: int = 10, title: str = "Reliability (calibration)",
                      figsize: tuple[float, float] = (5.5, 5)) -> Figure:
    """Observed fraction malignant against mean predicted probability, per bin; diagonal = calibrated.

    Marker area follows the number of ROIs in the bin, so a wild point on three ROIs reads as such.
    """
    from mammokit.evaluate import calibration

    fig = figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], "--", color="gray", lw=1, label="perfectly calibrated")
    for name, (y, p) in _as_mapping(predictions).items():
        table = calibration(y, p, bins)
        line, = ax.plot(table.mean_proba, table.fraction_malignant, "-", label=name)
        ax.scatter(table.mean_proba, table.fraction_malignant, s=15 + 200 * table["count"] / table["count"].max(),
                   color=line.get_color(), alpha=0.7)
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), aspect="equal", title=title,
           xlabel="mean predicted probability of malignant", ylabel="observed fraction malignant")
    ax.legend(loc="upper left", fontsize="small")
    return fig


def grad_cam_grid(rois: NDArray[np.uint8], heatmaps: NDArray[np.floating], cases: Mapping[str, Sequence[int]], *,
                  proba: NDArray[np.floating] | None = None, captions: Sequence[str] | None = None, alpha: float = 0.4,
                  title: str = "Grad-CAM: where the model looked", size: float = 2.2) -> Figure:
    """Rows of cases (e.g. TP / FP / FN from :func:`mammokit.explain.select_cases`): ROI and overlay pairs.

    Parameters
    ----------
    rois : numpy.ndarray of shape (N, S, S), uint8
    heatmaps : numpy.ndarray of shape (N, S, S), float in [0, 1] (:func:`mammokit.explain.grad_cam`)
    cases : mapping of row name to indices into ``rois``
    proba : numpy.ndarray of shape (N,), float in [0, 1], or None; shown in the captions
    captions : sequence of N str, or None
    alpha, title, size : the overlay's opacity in [0, 1], str, inches per panel

    Returns
    -------
    matplotlib.figure.Figure
    """
    from mammokit.explain import overlay

    kinds = [k for k, idx in cases.items() if len(idx)]
    n_cols = max([len(cases[k]) for k in kinds] or [1])
    fig = figure(figsize=(2 * size * n_cols, size * max(len(kinds), 1) + 0.6), layout="constrained")
    fig.suptitle(title)
    if not kinds:
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, "no cases to show", ha="center", va="center")
        return fig
    axes = np.atleast_2d(fig.subplots(len(kinds), 2 * n_cols, squeeze=False))
    for r, kind in enumerate(kinds):
        for c in range(n_cols):
            left, right = axes[r, 2 * c], axes[r, 2 * c + 1]
            if c >= len(cases[kind]):
                left.axis("off"), right.axis("off")
                continue
            i = int(cases[kind][c])
            note = f"{kind} #{i}" if captions is None else f"{kind} {captions[i]}"
            if proba is not None:
                note += f"\np={float(proba[i]):.2f}"
            imshow_gray(left, rois[i], note)
            right.imshow(overlay(rois[i], heatmaps[i], alpha))
            right.set_xticks([]), right.set_yticks([]), right.grid(False)
            right.set_title("Grad-CAM")
    return fig


def paper_comparison(table: pd.DataFrame, *, title: str = "Ours (95% CI) beside the paper",
                     figsize: tuple[float, float] = (7, 3.8)) -> Figure:
    """Dot-and-interval plot of :func:`mammokit.paper.compare`'s table: ours with CI, paper as a cross."""
    fig = figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    labels = [f"{m}\n{k}" if table.model.nunique() > 1 else k for m, k in zip(table.model, table.metric)]
    x = np.arange(len(table))
    low = (table.ours - table.ours_low).fillna(0).clip(lower=0)
    high = (table.ours_high - table.ours).fillna(0).clip(lower=0)
    ax.errorbar(x, table.ours, yerr=[low, high], fmt="o", capsize=4, label="ours (95% CI)")
    ax.plot(x, table.paper, "x", color="crimson", markersize=10, mew=2.5, label="paper")
    ax.set_xticks(x, labels)
    ax.set(ylim=(-0.02, 1.05), title=title, ylabel="score")
    ax.legend(loc="lower left", fontsize="small")
    return fig


def auc_intervals(table: pd.DataFrame, *, paper: Mapping[str, float] | None = None, chance: bool = True,
                  title: str = "Grouped-CV AUC with 95% patient-bootstrap intervals",
                  xlabel: str = "AUC (malignant vs benign)") -> Figure:
    """One row per recipe of :func:`mammokit.crossval.compare_recipes`' table (``recipe, auc,
    auc_low, auc_high``): our AUC and interval; ``paper`` values (label -> AUC) as vertical lines;
    ``xlabel`` names the task (several tasks in one figure: say so in the recipe names)."""
    fig = figure(figsize=(7, 0.45 * len(table) + 1.6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(table))[::-1]
    low = (table.auc - table.auc_low).clip(lower=0)
    high = (table.auc_high - table.auc).clip(lower=0)
    ax.errorbar(table.auc, y, xerr=[low, high], fmt="o", capsize=4, label="ours, held-out patients")
    for (name, value), colour in zip((paper or {}).items(), ("crimson", "darkorange", "purple")):
        ax.axvline(value, color=colour, ls="--", label=f"paper: {name} {value:.2f}")
    if chance:
        ax.axvline(0.5, color="gray", ls=":", label="chance 0.5")
    ax.set_yticks(y, table.recipe)
    ax.set(xlim=(0, 1.02), xlabel=xlabel)
    fig.suptitle(title)  # over the whole figure: long recipe names leave the axes narrow
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize="small")  # no row hidden
    return fig
