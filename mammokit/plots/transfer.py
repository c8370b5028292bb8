"""Figures for transfer learning (notebook 05)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mammokit.plots.style import figure

__all__ = ["backbone_costs"]


def backbone_costs(costs: pd.DataFrame, *, figsize: tuple[float, float] = (10, 4.0)) -> Figure:
    """Size beside cost of each backbone: parameters (millions) and seconds per batch-8 step.

    ``costs``: :func:`mammokit.transfer.measured_costs` (``backbone, params_M,
    frozen_s_per_step, finetune_s_per_step``), measured on a CPU at 224 px.
    """
    fig = figure(figsize=figsize, layout="constrained")
    left, right = fig.subplots(1, 2)
    y = np.arange(len(costs))
    left.barh(y, costs["params_M"], color="steelblue")
    for i, value in enumerate(costs["params_M"]):
        left.text(value, i, f" {value:.1f}M", va="center", fontsize="small")
    left.set(title="Size", xlabel="parameters (millions)", xlim=(0, costs["params_M"].max() * 1.25))
    h = 0.38
    right.barh(y - h / 2, costs["frozen_s_per_step"], h, label="frozen backbone (head learns)")
    right.barh(y + h / 2, costs["finetune_s_per_step"], h, label="fine-tune (all but batch norm)")
    right.set(title="Cost on a 2-core CPU, 224 px, batch 8", xlabel="seconds per training step")
    fig.legend(*right.get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize="small")  # no bar hidden
    for ax in (left, right):
        ax.set_yticks(y, costs["backbone"])
        ax.invert_yaxis()
    return fig
