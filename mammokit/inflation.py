"""More images from each ROI: offline inflation of a training split with Table 1, and dihedral views.

:func:`inflate` makes the paper's copies once, before training: each ROI plus ``factor - 1``
Table-1 variants (:mod:`mammokit.augment`), with the provenance of every copy. It belongs to the
TRAINING split only: applied before splitting, near-copies of one ROI land on both sides and the
test set flatters the model (notebook 03's leakage lab measures by how much; :mod:`mammokit.leakage`).
:func:`dihedral` gives the 8 rotations and flips of a batch, for test-time augmentation (the
recipes and the detector average their probabilities over them). Online augmentation, fresh
variants drawn every batch by Keras layers, is :mod:`mammokit.online`. Numpy only.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from mammokit import profiles
from mammokit.augment import apply, operation, variants
from mammokit.checks import require
from mammokit.errors import DataError


class Inflated(NamedTuple):
    """Result of :func:`inflate`: the copies and where each came from (for provenance/leakage)."""

    images: np.ndarray   # (M, S, S) uint8
    labels: np.ndarray   # (M,) labels of the copies
    source: np.ndarray   # (M,) int64 index into the input of each copy's original
    variant: np.ndarray  # (M,) str: "original" or e.g. "rotate 45°"


def _copies_per_image(labels: np.ndarray, factor: int, balance: bool) -> np.ndarray:
    if not balance:
        return np.full(len(labels), factor, dtype=np.int64)
    classes, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    per_class = factor * len(labels) / len(classes)  # the total stays factor × N, split evenly
    copies = np.empty(len(labels), dtype=np.int64)
    for c in range(len(classes)):
        members = np.flatnonzero(inverse == c)
        want = max(int(round(per_class)), sizes[c])  # never fewer than one copy (the original)
        base, extra = divmod(want, sizes[c])
        copies[members] = base
        copies[members[:extra]] += 1
    return copies


def inflate(images: npt.ArrayLike, labels: npt.ArrayLike, factor: int = 8, seed: int = 0,
            balance: bool = False) -> Inflated:
    """Inflate a (TRAINING) set ``factor`` times with Table-1 variants, as the paper did.

    Each ROI keeps its original as copy 0, plus ``factor - 1`` different Table-1 variants
    drawn at random (seeded) from the 28 distinct ones; beyond 29 copies variants repeat.
    The paper inflated every ROI 8× without balancing (1296 benign = 8 × 162, 4272 malignant =
    8 × 534). ``balance=True`` instead gives each class the same number of copies, the total
    staying about ``factor`` × N: the minority class gets more copies per ROI.

    Parameters
    ----------
    images : array_like of shape (N, S, S), uint8
        The training ROIs (``RoiDataset.images[split.train]``), grey levels 0-255.
    labels : array_like of shape (N,)
        Their labels (0 benign, 1 malignant; any values with ``balance``).
    factor : int, default 8
        Copies per ROI, the original included (paper: 8); ``profiles.INFLATE`` bounds it.
    seed : int, default 0
        Seeds the choice of variants.
    balance : bool, default False
        Give each class the same number of copies instead of each ROI.

    Returns
    -------
    Inflated
        ``images`` (M, S, S) uint8; ``labels`` (M,) the copies' labels; ``source`` (M,) int64,
        the index of each copy's original in ``images`` (so a split of the copies can be checked
        for leakage); ``variant`` (M,) object, ``"original"`` or the Table-1 label (``"rotate 45°"``).
        M = ``factor`` × N without ``balance``.
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3 or images.dtype != np.uint8 or len(images) != len(labels):
        raise DataError(f"inflation.inflate: expected images (N, S, S) uint8 and N labels, got images "
                        f"{images.shape} {images.dtype} and {labels.shape} labels (pass RoiDataset.images/.labels)")
    require(profiles.INFLATE, factor, "inflation.inflate: factor", hint="(paper: 8)")
    pool = variants(distinct=True)
    rng = np.random.default_rng(seed)
    copies = _copies_per_image(labels, int(factor), balance)
    out_images, out_source, out_variant = [], [], []
    for i, n in enumerate(copies):
        picks: list[tuple[str, Any]] = [("original", None)]
        while len(picks) < n:
            order = rng.permutation(len(pool))
            picks.extend(pool[j] for j in order[: n - len(picks)])
        for key, value in picks:
            out_images.append(apply(images[i], key, value))
            out_source.append(i)
            out_variant.append("original" if key == "original" else operation(key).label(value))
    source = np.asarray(out_source, dtype=np.int64)
    stacked = np.stack(out_images) if out_images else images[:0].copy()
    return Inflated(stacked, labels[source], source, np.asarray(out_variant, dtype=object))


def dihedral(images: NDArray[np.generic]) -> list[NDArray[np.generic]]:
    """The 8 rotations/flips of a batch, for test-time augmentation: a mass has no preferred orientation.

    Parameters
    ----------
    images : numpy.ndarray of shape (N, S, S) or (N, S, S, C), any dtype
        A batch of square images (rotated in the (S, S) plane).

    Returns
    -------
    list of 8 numpy.ndarray, each of the input's shape and dtype
        Rotations by 0°, 90°, 180°, 270° counter-clockwise, each followed by its left-right mirror
        (the first view is the batch itself).

    Examples
    --------
    >>> import numpy as np
    >>> views = dihedral(np.array([[[1, 2], [3, 4]]]))
    >>> [v[0].tolist() for v in views[:4]]
    [[[1, 2], [3, 4]], [[2, 1], [4, 3]], [[2, 4], [1, 3]], [[4, 2], [3, 1]]]
    >>> len({v.tobytes() for v in views})  # eight different views of an asymmetric image
    8
    """
    out = []
    for k in range(4):
        r = np.rot90(images, k, axes=(1, 2))
        out += [np.ascontiguousarray(r), np.ascontiguousarray(r[:, :, ::-1])]
    return out
