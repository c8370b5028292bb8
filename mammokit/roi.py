"""Regions of interest: crops around annotated lesion centres and sliding-window patches."""
from __future__ import annotations

import numpy as np


def crop_around(image: np.ndarray, row: float, col: float, size: int, fill: float = 0) -> np.ndarray:
    """A ``size``×``size`` window of a 2-D ``image`` centred on (``row``, ``col``).

    Parts of the window outside the image are ``fill`` (lesions near the film edge keep their
    place in the window instead of being shifted). Same dtype as ``image``.

    >>> crop_around(np.arange(16).reshape(4, 4), 0, 0, 3).tolist()
    [[0, 0, 0], [0, 0, 1], [0, 4, 5]]
    """
    if image.ndim != 2:
        raise ValueError(f"crop_around expects a 2-D image, got shape {image.shape}")
    top = int(round(row)) - size // 2
    left = int(round(col)) - size // 2
    out = np.full((size, size), fill, dtype=image.dtype)
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + size, image.shape[0]), min(left + size, image.shape[1])
    if r1 > r0 and c1 > c0:
        out[r0 - top:r1 - top, c0 - left:c1 - left] = image[r0:r1, c0:c1]
    return out
