"""Figures for ConvNet training (notebook 04): learning curves like the paper's Figs 5-6, and
a block diagram of a Keras model drawn with matplotlib (``keras.utils.plot_model`` needs
pydot and Graphviz, which a classroom machine rarely has)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mammokit.errors import DataError
from mammokit.plots.style import figure

__all__ = ["learning_curves", "architecture_diagram"]


def learning_curves(history: pd.DataFrame, *, title: str = "ConvNet training (cf. the paper's Figs 5-6)",
                    metrics: tuple[str, ...] = ("accuracy", "loss")) -> Figure:
    """One panel per metric, training and validation against the epoch; the best epoch marked.

    ``history``: the DataFrame :func:`mammokit.train.fit` returns (``epoch``, ``loss``,
    ``val_loss``, ...). The dashed line is the epoch with the lowest validation loss — the
    one the saved model comes from.
    """
    if "epoch" not in history or history.empty:
        raise DataError("learning_curves needs the history DataFrame of mammokit.train.fit (an 'epoch' column)")
    from matplotlib.ticker import MaxNLocator

    fig = figure(figsize=(5.2 * len(metrics), 3.8), layout="constrained")  # labels never run into a neighbour
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    best = int(history.loc[history["val_loss"].idxmin(), "epoch"]) if "val_loss" in history and \
        history["val_loss"].notna().any() else None
    for ax, metric in zip(axes, metrics):
        for column, label, style in ((metric, "training", "-o"), (f"val_{metric}", "validation", "-s")):
            if column in history:
                ax.plot(history["epoch"], history[column], style, markersize=3, label=label)
        if best is not None:
            ax.axvline(best, color="grey", linestyle="--", linewidth=1, label=f"best epoch ({best})")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_ylabel(metric)
        ax.set_title(metric.replace("_", " "))
        if metric in ("accuracy", "auc"):
            ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(title)
    return fig


_COLOURS = {"InputLayer": "#d9d9d9", "Conv2D": "#9ecae1", "BatchNormalization": "#c7e9c0",
            "Activation": "#fdd0a2", "MaxPooling2D": "#fcbba1", "GlobalAveragePooling2D": "#fcbba1",
            "Dense": "#bcbddc", "Dropout": "#f0f0f0"}


def _shape(layer: Any) -> str:
    try:
        shape = tuple(layer.output.shape[1:])
    except (AttributeError, ValueError):
        return ""
    return "×".join(str(s) for s in shape)


def architecture_diagram(model: Any, *, title: str | None = None) -> Figure:
    """Every layer of a sequential-shaped Keras model as a coloured box, top to bottom.

    Each box reads ``name — kind — output shape — parameters``; colours group the kinds
    (convolution, normalisation, activation, pooling, dense). A stand-in for
    ``keras.utils.plot_model`` that needs nothing beyond matplotlib.
    """
    layers = list(model.layers)
    fig = figure(figsize=(7.5, 0.42 * len(layers) + 1.0))
    ax = fig.subplots()
    n = len(layers)
    for i, layer in enumerate(layers):
        y = n - 1 - i
        kind = type(layer).__name__
        ax.add_patch(_box(y, _COLOURS.get(kind, "#ffffff")))
        params = layer.count_params()
        text = f"{layer.name} — {kind}   {_shape(layer)}" + (f"   ({params:,} params)" if params else "")
        ax.text(0.5, y + 0.4, text, ha="center", va="center", fontsize=8, family="monospace")
        if i < n - 1:
            ax.annotate("", xy=(0.5, y - 0.2), xytext=(0.5, y + 0.05),
                        arrowprops={"arrowstyle": "->", "color": "grey", "linewidth": 0.8})
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.4, n)
    ax.axis("off")
    total = int(np.sum([layer.count_params() for layer in layers]))
    ax.set_title(title or f"{model.name}: {n} layers, {total:,} parameters")
    return fig


def _box(y: float, colour: str):
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((0.05, y + 0.1), 0.9, 0.6, boxstyle="round,pad=0.02", facecolor=colour,
                          edgecolor="#555555", linewidth=0.8)
