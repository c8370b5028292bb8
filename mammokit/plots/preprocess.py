"""Figures for preprocessing and ROIs (notebook 02). Each returns a matplotlib Figure."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from mammokit.plots.style import imshow_gray, subplots

__all__ = ["noise_filter_grid", "clahe_before_after", "mask_steps_figure", "preprocess_stages",
           "roi_contact_sheet", "patch_grid"]


def _fig(rows: int, cols: int, size: float = 2.6):

    fig, axes = subplots(rows, cols, figsize=(size * cols, size * rows + 0.4), squeeze=False)
    return fig, axes


def noise_filter_grid(clean: NDArray[np.uint8], noisy: Mapping[str, NDArray[np.uint8]],
                      filtered: Mapping[str, Mapping[str, NDArray[np.uint8]]]) -> Figure:
    """Rows: noise kinds; columns: the noisy image then each filter's output, PSNR (dB) vs ``clean``
    in the titles.

    Parameters
    ----------
    clean : numpy.ndarray of shape (H, W), uint8
    noisy : mapping of noise kind to numpy.ndarray of shape (H, W), uint8
    filtered : mapping of noise kind to (filter name to numpy.ndarray of shape (H, W), uint8)

    Returns
    -------
    matplotlib.figure.Figure
    """
    from mammokit.quality import psnr

    filters = list(next(iter(filtered.values())))
    fig, axes = _fig(len(noisy), 1 + len(filters))
    for i, (kind, image) in enumerate(noisy.items()):
        imshow_gray(axes[i, 0], image, f"{kind} noise\nPSNR {psnr(clean, image):.1f} dB", vmin=0, vmax=255)
        for j, name in enumerate(filters, start=1):
            out = filtered[kind][name]
            imshow_gray(axes[i, j], out, f"{name}\nPSNR {psnr(clean, out):.1f} dB", vmin=0, vmax=255)
    fig.suptitle("Each filter on each kind of noise (higher PSNR = closer to the clean image)")
    fig.tight_layout()
    return fig


def clahe_before_after(before: NDArray[np.uint8], after: NDArray[np.uint8], title: str = "CLAHE") -> Figure:
    """The image and its grey-level histogram before and after contrast enhancement.

    Parameters
    ----------
    before, after : numpy.ndarray of shape (H, W), uint8
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = _fig(2, 2, 3.2)
    for col, (name, image) in enumerate([("before", before), ("after", after)]):
        imshow_gray(axes[0, col], image, f"{title}: {name}", vmin=0, vmax=255)
        ax = axes[1, col]
        ax.hist(image.ravel(), bins=64, range=(0, 255), color="0.35", log=True)
        ax.set_xlabel("grey level")
        ax.set_ylabel("pixels (log)")
    fig.tight_layout()
    return fig


def mask_steps_figure(image: NDArray[np.uint8], steps: Mapping) -> Figure:
    """The breast-mask recipe of :func:`mammokit.segment.mask_steps`, one panel per step,
    with the histogram and the threshold (Otsu's, and Otsu's + offset).

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8, the image the steps were computed on
    steps : dict from :func:`mammokit.segment.mask_steps` of it

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = ["binary", "opened", "closed", "largest", "filled"]
    fig, axes = _fig(1, len(names) + 2, 2.4)
    imshow_gray(axes[0, 0], image, "input")
    ax = axes[0, 1]
    ax.hist(image.ravel(), bins=64, range=(0, 255), color="0.35", log=True)
    ax.axvline(steps["otsu"], color="tab:blue", label=f"Otsu {steps['otsu']:.0f}")
    ax.axvline(steps["threshold"], color="tab:red", ls="--", label=f"used {steps['threshold']:.0f}")
    ax.set_xlabel("grey level")
    ax.set_title("histogram")
    ax.legend(fontsize=7)
    titles = ["> threshold", "opening", "closing", "largest component", "holes filled"]
    for ax, name, title in zip(axes[0, 2:], names, titles):
        imshow_gray(ax, steps[name], title)
    fig.tight_layout()
    return fig


def preprocess_stages(result, centres: NDArray[np.floating] | None = None) -> Figure:
    """Original, denoised, enhanced, mask with crop box and lesion centres, final image.

    Parameters
    ----------
    result : mammokit.preprocess.PreprocessResult
    centres : numpy.ndarray of shape (K, 2), float (row, col) in INPUT coordinates, or None

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.patches as mpatches

    fig, axes = _fig(1, 5, 2.8)
    imshow_gray(axes[0, 0], result.original, "original")
    imshow_gray(axes[0, 1], result.denoised, "denoised")
    imshow_gray(axes[0, 2], result.enhanced, "enhanced (CLAHE)")
    ax = axes[0, 3]
    imshow_gray(ax, result.enhanced, "breast mask + crop box")
    ax.imshow(np.ma.masked_where(~result.mask, result.mask), cmap="summer", alpha=0.35)
    b = result.box
    ax.autoscale(False)  # the box touches the image edge; keep the axes on the image
    ax.add_patch(mpatches.Rectangle((b.left - 0.5, b.top - 0.5), b.right - b.left, b.bottom - b.top,
                                    fill=False, ec="tab:orange", lw=1.5))
    final = axes[0, 4]
    imshow_gray(final, result.image, "final (cropped" + (", flipped)" if result.flipped else ")"))
    if centres is not None and len(centres):
        ax.scatter(centres[:, 1], centres[:, 0], s=40, facecolors="none", edgecolors="red")
        r, c = result.to_image_coords(centres[:, 0], centres[:, 1])
        final.scatter(c, r, s=40, facecolors="none", edgecolors="red")
    fig.tight_layout()
    return fig


def roi_contact_sheet(images: NDArray[np.uint8], titles: Sequence[str] | None = None, ncols: int = 10,
                      size: float = 1.3) -> Figure:
    """A grid of ROIs with optional short titles: the "does it look like breast tissue?" check.

    Parameters
    ----------
    images : numpy.ndarray of shape (N, S, S), uint8
    titles : sequence of N str, or None
    ncols, size : int, inches per panel

    Returns
    -------
    matplotlib.figure.Figure
    """
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = _fig(nrows, ncols, size)
    for i, ax in enumerate(axes.ravel()):
        if i < n:
            imshow_gray(ax, images[i], vmin=0, vmax=255)
            if titles is not None:
                ax.set_title(titles[i], fontsize=7)
        else:
            ax.axis("off")
    fig.tight_layout()
    return fig


def patch_grid(patches: NDArray[np.uint8], table, steps: int) -> Figure:
    """Sliding-window patches laid out as on the film; green frame = lesion, grey = no lesion,
    with the fraction of the annotated circle inside each window.

    Parameters
    ----------
    patches : numpy.ndarray of shape ((2 steps + 1)², S, S), uint8, row by row
    table : pandas.DataFrame, one row per patch with ``overlap`` (in [0, 1]) and ``label`` (0/1)
    steps : int, windows each side of the centre

    Returns
    -------
    matplotlib.figure.Figure
    """
    side = 2 * steps + 1
    fig, axes = _fig(side, side, 1.4)
    for ax, patch, (_, row) in zip(axes.ravel(), patches, table.iterrows()):
        imshow_gray(ax, patch, vmin=0, vmax=255)
        ax.set_title(f"{row['overlap']:.0%}", fontsize=7)
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color("tab:green" if row["label"] else "0.6")
            spine.set_linewidth(3 if row["label"] else 1)
    fig.suptitle("Sliding windows around the centroid (green: labelled lesion)")
    fig.tight_layout()
    return fig
