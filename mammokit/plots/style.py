"""The one place the figure style is set (seaborn's theme, grayscale images).

The theme is applied when the kit makes its first figure (:func:`figure`, :func:`subplots`),
not when a module is imported: importing ``mammokit`` leaves matplotlib as it was.
"""
from __future__ import annotations

_applied = False


def use_style() -> None:
    """Apply seaborn's default theme once; images keep ``cmap="gray"`` via ``imshow_gray``."""
    global _applied
    if _applied:
        return
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid")
    _applied = True


def imshow_gray(ax, image, title: str | None = None, **kwargs):
    """Show a 2-D image in grayscale without axes ticks; the usual way to draw a mammogram."""
    ax.imshow(image, cmap="gray", **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


def figure(**kwargs):
    """A new figure, made through pyplot and closed at once.

    Made through pyplot because, in Jupyter, that loads the inline backend which displays a
    returned figure; closed so it is shown once — as the cell's value — not a second time by
    the backend at the end of the cell. Every ``mk.plots`` function builds on this.
    """
    import matplotlib.pyplot as plt

    use_style()
    fig = plt.figure(**kwargs)
    plt.close(fig)
    return fig


def subplots(nrows: int = 1, ncols: int = 1, **kwargs):
    """``plt.subplots`` for a figure that is returned, not shown (see :func:`figure`)."""
    import matplotlib.pyplot as plt

    use_style()
    fig, axes = plt.subplots(nrows, ncols, **kwargs)
    plt.close(fig)
    return fig, axes
