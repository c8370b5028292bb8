"""Figures for splits and augmentation (notebook 03): Table-1 gallery, class balance,
online draws, and the leakage lab's result."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import NDArray

from mammokit.plots.style import imshow_gray, subplots

__all__ = ["table1_gallery", "class_balance", "image_grid", "leakage_plot"]

_CLASS_NAMES = {0: "benign", 1: "malignant"}


def image_grid(images: Sequence[NDArray[np.uint8] | NDArray[np.floating]], titles: Sequence[str] | None = None,
               ncols: int = 6, size: float = 1.8, suptitle: str | None = None) -> Figure:
    """A grid of grayscale images, one title each.

    Parameters
    ----------
    images : sequence of numpy.ndarray of shape (H, W) or (H, W, C) (first channel shown)
        uint8 in [0, 255] or float in [0, 1] (an image whose max is above 1 is shown on 0-255).
    titles : sequence of str, one per image, or None
    ncols, size, suptitle : int, inches per panel, str or None

    Returns
    -------
    matplotlib.figure.Figure
    """

    images = list(images)
    nrows = max(1, math.ceil(len(images) / ncols))
    title_room = 0.25 if titles is not None else 0.0  # per row, so a title never sits on the image above
    fig, axes = subplots(nrows, ncols, figsize=(size * ncols, (size + title_room) * nrows + (0.4 if suptitle else 0)),
                         squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < len(images):
            img = np.asarray(images[i])
            img = img[..., 0] if img.ndim == 3 else img
            vmax = 255 if img.max() > 1.0 else 1.0
            imshow_gray(ax, img, vmin=0, vmax=vmax)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
        else:
            ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def table1_gallery(image: NDArray[np.uint8], distinct: bool = False, ncols: int = 8) -> Figure:
    """The ROI and every Table-1 variant of it, titled ``<operation> <value>``, row by row.

    Parameters
    ----------
    image : numpy.ndarray of shape (S, S), uint8
    distinct : bool, only the variants that differ (see :func:`mammokit.augment.variants`)
    ncols : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    from mammokit import augment

    pairs = augment.variants(distinct=distinct)
    images = [image] + [augment.apply(image, k, v) for k, v in pairs]
    titles = ["original"] + [dict((op.key, op) for op in augment.TABLE1)[k].label(v) for k, v in pairs]
    return image_grid(images, titles, ncols=ncols, suptitle="Table 1 of the paper, applied to one ROI")


def class_balance(**label_sets: npt.ArrayLike) -> Figure:
    """Bar chart of benign/malignant counts for each named label set.

    Parameters
    ----------
    **label_sets : array_like of shape (N,), int 0 (benign) or 1 (malignant)
        One per bar group, named by the keyword (e.g. ``before=..., after=...``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import seaborn as sns

    rows = []
    for name, labels in label_sets.items():
        values, counts = np.unique(np.asarray(labels).astype(int), return_counts=True)
        rows += [{"set": name, "class": _CLASS_NAMES.get(int(v), str(v)), "images": int(c)}
                 for v, c in zip(values, counts)]
    table = pd.DataFrame(rows)
    fig, ax = subplots(figsize=(1.8 + 1.6 * len(label_sets), 3.6))
    sns.barplot(data=table, x="set", y="images", hue="class", ax=ax,
                palette={"benign": "tab:blue", "malignant": "tab:red"})
    for container in ax.containers:
        ax.bar_label(container, fontsize=8)
    ax.set_xlabel("")
    ax.set_ylabel("number of images")
    ax.set_title("Class balance before and after inflation")
    fig.tight_layout()
    return fig


def leakage_plot(results: pd.DataFrame, metrics: Sequence[str] = ("accuracy", "auc")):
    """Test metrics of each protocol: one dot per seed (paired by a grey line), mean ± sd in black;
    the title's gap is paper − honest."""
    import seaborn as sns

    order = [p for p in ("paper", "roi", "honest") if p in set(results["protocol"])]
    labels = {"paper": "paper\n(augment,\nthen split)", "roi": "by ROI\n(split ROIs,\nthen augment)",
              "honest": "honest\n(split by patient,\nthen augment)"}
    fig, axes = subplots(1, len(metrics), figsize=(4.2 * len(metrics), 4.0), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        wide = results.pivot(index="seed", columns="protocol", values=metric)[order]
        for _, row in wide.iterrows():
            ax.plot(range(len(order)), row.to_numpy(), color="0.75", lw=1, zorder=1)
        sns.stripplot(data=results, x="protocol", y=metric, order=order, hue="protocol", hue_order=order,
                      palette={"paper": "tab:orange", "roi": "tab:blue", "honest": "tab:green"}, size=7, jitter=False,
                      legend=False, ax=ax, zorder=2)
        means, sds = wide.mean(), wide.std(ddof=1)
        ax.errorbar(np.arange(len(order)) + 0.12, means.to_numpy(), yerr=sds.fillna(0).to_numpy(), fmt="o",
                    color="black", capsize=4, zorder=3, label="mean ± sd over seeds")
        ax.axhline(0.5, color="0.5", ls=":", lw=1)
        ax.set_xticks(range(len(order)), [labels[p] for p in order])
        ax.set_xlabel("")
        ax.set_ylabel(f"test {metric.upper() if metric == 'auc' else metric}")
        ax.set_ylim(min(0.3, float(results[metric].min()) - 0.05), 1.02)
        gap = means.get("paper", np.nan) - means.get("honest", np.nan)
        ax.set_title(f"test {metric.upper() if metric == 'auc' else metric}: gap paper − honest {gap:+.3f}")
    axes.flat[0].legend(loc="lower left", fontsize=8)
    fig.suptitle(f"The same model, {len(order)} evaluation protocols ({results['seed'].nunique()} seeds)")
    fig.tight_layout()
    return fig
