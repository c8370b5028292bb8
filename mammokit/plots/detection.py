"""Figures for the lesion-vs-normal task (issue 20): the sliding-window lesion map over a film."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import NDArray

from mammokit.plots.style import imshow_gray, subplots

__all__ = ["lesion_map_figure"]


def lesion_map_figure(film: NDArray[np.integer], proba_map: NDArray[np.floating], lesions: pd.DataFrame | None = None, *,
                      title: str | None = None, alpha: float = 0.45, vmax: float = 1.0) -> Figure:
    """The film (left) and the lesion probability map over it (right), with the annotated lesions
    as circles on both.

    Parameters
    ----------
    film : numpy.ndarray of shape (H, W), uint8 or uint16
        In the map's coordinates (as read, or ``PreprocessResult.cleaned``).
    proba_map : numpy.ndarray of shape (H, W), float in [0, 1]
        :func:`mammokit.patches.lesion_map` of it (NaN outside the breast: not drawn).
    lesions : pandas.DataFrame or None
        Catalog rows of this film (``row, col, radius``; rows without a centre are skipped).
    title, alpha, vmax : str or None, the map's opacity in [0, 1], the colour scale's top

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Circle

    film, proba_map = np.asarray(film), np.asarray(proba_map, dtype=float)
    if film.shape != proba_map.shape:
        from mammokit.errors import DataError

        raise DataError(f"lesion_map_figure: the film is {film.shape} but the map {proba_map.shape}; "
                        "draw the map over the film it was computed on")
    fig, axes = subplots(1, 2, figsize=(10, 5.4))
    imshow_gray(axes[0], film, "film")
    imshow_gray(axes[1], film, "lesion probability")
    shown = axes[1].imshow(np.ma.masked_invalid(proba_map), cmap="magma", alpha=alpha, vmin=0.0, vmax=vmax)
    fig.colorbar(shown, ax=axes[1], fraction=0.046, pad=0.02, label="P(lesion) of the window centred there")
    rows = lesions if lesions is not None else pd.DataFrame(columns=["row", "col", "radius"])
    for r in rows.itertuples():
        if not (np.isfinite(r.row) and np.isfinite(r.col)):
            continue
        radius = r.radius if np.isfinite(r.radius) else 10.0
        for ax in axes:
            ax.add_patch(Circle((r.col, r.row), radius, fill=False, edgecolor="#00e5ff", linewidth=1.5))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
