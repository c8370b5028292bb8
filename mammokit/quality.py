"""How good a preprocessing is: image fidelity (PSNR, SSIM) and mask agreement (IoU, lesion centres).

Notebook 02 and its widgets score a preprocessing choice with these readouts against a known
truth (a clean phantom, its breast mask, the annotated lesion centres): the denoised image
against the clean one (:func:`psnr`, :func:`ssim`), the computed breast mask against the true
one (:func:`mask_iou`), and whether every lesion centre stays inside the mask
(:func:`centres_inside`). Pure functions over numpy arrays; :mod:`mammokit.preprocess` makes
the images and masks they compare.

>>> import numpy as np
>>> image = np.full((16, 16), 100, np.uint8)
>>> psnr(image, image), round(ssim(image, image), 6)
(inf, 1.0)
"""
from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray


def psnr(reference: NDArray[np.uint8], image: NDArray[np.uint8]) -> float:
    """Peak signal-to-noise ratio of ``image`` against ``reference``: how far a filter left it.

    Parameters
    ----------
    reference : numpy.ndarray of shape (H, W), uint8
        The clean image (0-255).
    image : numpy.ndarray of shape (H, W), uint8
        The noisy or filtered image, same shape.

    Returns
    -------
    float
        10 log10(255² / mean squared error) in dB, higher is closer; ``inf`` when the two are equal.

    Examples
    --------
    One grey level off everywhere is 10 log10(255²) ≈ 48.1 dB:

    >>> import numpy as np
    >>> clean = np.full((8, 8), 100, np.uint8)
    >>> round(psnr(clean, clean + 1), 1), psnr(clean, clean)
    (48.1, inf)
    """
    mse = cv2.norm(reference, image, cv2.NORM_L2SQR) / reference.size
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def ssim(reference: NDArray[np.uint8], image: NDArray[np.uint8], win: int = 7) -> float:
    """Mean structural similarity (Wang et al. 2004): does ``image`` keep ``reference``'s structure?

    A uniform ``win``×``win`` window (scikit-image's default; within ~0.01 of its value); the
    border where the window runs off the image is left out, as scikit-image does.

    Parameters
    ----------
    reference : numpy.ndarray of shape (H, W), uint8
        The clean image (0-255).
    image : numpy.ndarray of shape (H, W), uint8
        The noisy or filtered image, same shape.
    win : int, default 7
        Window side in pixels (odd).

    Returns
    -------
    float
        Mean SSIM, at most 1.0 (identical images); noise and blur lower it.
    """
    x, y = reference.astype(np.float32), image.astype(np.float32)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(a):
        return cv2.blur(a, (win, win), borderType=cv2.BORDER_REFLECT)
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    pad = win // 2  # like scikit-image, leave out the border where the window runs off the image
    return float(s[pad:-pad, pad:-pad].mean()) if min(s.shape) > 2 * pad else float(s.mean())


def mask_iou(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Intersection over union of two masks: how well a computed breast mask matches the true one.

    Parameters
    ----------
    a, b : array_like of shape (H, W), bool (or 0/nonzero)
        The two masks, same shape.

    Returns
    -------
    float
        |a ∧ b| / |a ∨ b| in [0, 1]; 1.0 when both are empty.

    Examples
    --------
    >>> import numpy as np
    >>> left = np.zeros((4, 4), bool); left[:, :2] = True
    >>> mask_iou(left, left), mask_iou(left, ~left), round(mask_iou(left, np.ones((4, 4), bool)), 2)
    (1.0, 0.0, 0.5)
    """
    a, b = np.asarray(a).astype(bool), np.asarray(b).astype(bool)
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def centres_inside(mask: NDArray[np.bool_], rows: npt.ArrayLike, cols: npt.ArrayLike) -> NDArray[np.bool_]:
    """Which lesion centres a mask keeps: a mask that cuts one away has lost a lesion.

    Parameters
    ----------
    mask : numpy.ndarray of shape (H, W), bool
        The breast mask (input image coordinates).
    rows, cols : array_like of shape (N,), float or int
        Centre coordinates in pixels of the same image (rounded to the nearest pixel).

    Returns
    -------
    numpy.ndarray of shape (N,), bool
        True where the centre lies inside ``mask``; False when it is outside it or outside the image.
    """
    r = np.round(np.asarray(rows, float)).astype(int)
    c = np.round(np.asarray(cols, float)).astype(int)
    ok = (r >= 0) & (r < mask.shape[0]) & (c >= 0) & (c < mask.shape[1])
    out = np.zeros(r.shape, bool)
    out[ok] = mask[r[ok], c[ok]]
    return out
