"""Figures for transfer learning (notebook 05)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["backbone_costs"]


def backbone_costs(costs: pd.DataFrame, *, figsize: tuple[float, float] = (10, 3.6)) -> Figure:
    """Size beside cost of each backbone: parameters (millions) and seconds per batch-8 step.

    ``costs``: :func:`mammokit.transfer.cost_table`. The right panel shows the 224-px CPU
    measurements (frozen backbone vs full fine-tune) when the table carries them, else the
    forward pass timed here.
    """
    fig = Figure(figsize=figsize, layout="constrained")
    left, right = fig.subplots(1, 2)
    y = np.arange(len(costs))
    left.barh(y, costs["params_M"], color="steelblue")
    left.set_yticks(y, costs["backbone"])
    left.invert_yaxis()
    left.set(title="Size", xlabel="parameters (millions)")
    for i, value in enumerate(costs["params_M"]):
        left.text(value, i, f" {value:.1f}M", va="center", fontsize="small")
    if "cpu224_frozen_s_per_step" in costs and costs["cpu224_frozen_s_per_step"].notna().any():
        h = 0.38
        right.barh(y - h / 2, costs["cpu224_frozen_s_per_step"], h, label="frozen backbone (head learns)")
        right.barh(y + h / 2, costs["cpu224_finetune_s_per_step"], h, label="fine-tune (all but batch norm)")
        right.set(title="Cost on a 2-core CPU, 224 px, batch 8", xlabel="seconds per training step")
        right.legend(loc="lower right", fontsize="small")
    else:
        right.barh(y, costs["forward_s_per_batch"], color="darkorange")
        right.set(title="Cost here: one frozen forward pass", xlabel="seconds per batch")
    right.set_yticks(y, costs["backbone"])
    right.invert_yaxis()
    return fig
