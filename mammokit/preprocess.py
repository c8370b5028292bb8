"""Mammogram preprocessing (the paper's "Mammogram preprocessing" section), one stage per function.

denoise (median | Gaussian | bilateral) -> CLAHE -> Otsu + offset + opening/closing + largest
component -> breast mask (INPUT coordinates) -> crop box -> optional pectoral removal ->
orientation (chest wall on the left) -> normalisation. Every knob lives in
:class:`PreprocessConfig`; the widgets and the batch pipeline share it, so what a student
tunes is what a run uses. Images are 2-D uint8 or uint16 arrays; stages work in uint8. The mask
stages are :mod:`mammokit.segment`; the readouts that score a choice (PSNR, SSIM, mask IoU) are
:mod:`mammokit.quality`.

>>> import numpy as np
>>> image = np.zeros((64, 64), np.uint8); image[8:56, :40] = 160
>>> res = preprocess(image, PreprocessConfig(kernel=3, morph_kernel=3))
>>> res.mask.shape, bool(res.mask[30, 20]), bool(res.mask[30, 60])
((64, 64), True, False)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, NamedTuple

import cv2
import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from mammokit.checks import allows, boolean, check_fields, integer, number, one_of, require, strict_fields
from mammokit.errors import ConfigError, DataError
from mammokit.segment import breast_mask, chest_wall_on_right, remove_pectoral

FILTERS = ("none", "median", "gaussian", "bilateral")
NOISES = ("none", "gaussian", "salt_pepper", "speckle", "poisson")
NORMALISATIONS = ("none", "minmax", "zscore", "mean")


@strict_fields  # PreprocessConfig(**settings) with a misspelt key: a ConfigError naming it and the close match
@dataclass(frozen=True)
class PreprocessConfig:
    """Every preprocessing knob. Sizes are in pixels of the input image; grey levels are 8-bit.

    ``denoise``: one of FILTERS; ``kernel``: odd filter size (Gaussian sigma = kernel/6,
    bilateral diameter = kernel); ``sigma_color``: bilateral range sigma in grey levels;
    ``clahe_clip``: CLAHE clip limit (0 = no CLAHE); ``clahe_tiles``: tiles per side;
    ``otsu_classes``: 2 = classic Otsu; 3 = the lower of the two multi-Otsu thresholds (robust
    when the pectoral muscle and film labels form a third, bright class and classic Otsu would
    cut fatty tissue away); ``otsu_offset``: added to that threshold (negative keeps more of the
    faint skin line);
    ``morph_kernel``: opening/closing disc size; ``remove_pectoral``: cut the bright
    pectoral triangle of MLO views; ``orient``: flip so the chest wall is on the left;
    ``normalise``: one of NORMALISATIONS for the final image (``mean`` = the paper's mean
    subtraction); ``crop``: crop the final image to the breast's bounding box.
    """

    denoise: str = field(default="median", metadata=allows(one_of(*FILTERS)))
    kernel: int = field(default=5, metadata=allows(integer(1, 31, odd=True)))
    sigma_color: float = field(default=40.0, metadata=allows(number(1, 255)))
    clahe_clip: float = field(default=2.0, metadata=allows(number(0, 40), "(0: no CLAHE)"))
    clahe_tiles: int = field(default=8, metadata=allows(integer(1, 64)))
    otsu_classes: int = field(default=3, metadata=allows(integer(2, 3)))
    otsu_offset: float = field(default=0.0, metadata=allows(number(-128, 128)))
    morph_kernel: int = field(default=25, metadata=allows(integer(1, 201)))
    remove_pectoral: bool = field(default=False, metadata=allows(boolean))
    orient: bool = field(default=True, metadata=allows(boolean))
    normalise: str = field(default="none", metadata=allows(one_of(*NORMALISATIONS)))
    crop: bool = field(default=True, metadata=allows(boolean))

    def __post_init__(self) -> None:
        check_fields(self)  # each field's allows(...) above: a ConfigError naming the field

    def to_dict(self) -> dict:
        """Plain values (for JSON, cache keys and run records)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "PreprocessConfig":
        """Build from a dict (a run record, notebook 02's ``PREPROCESS``); an unknown key is a
        ConfigError naming it and the closest field (as ``PreprocessConfig(**values)`` is)."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"PreprocessConfig: expected a dict of field values, got {type(values).__name__}")
        return cls(**values)


class Box(NamedTuple):
    """Crop box in input array coordinates; ``bottom``/``right`` are exclusive."""

    top: int
    left: int
    bottom: int
    right: int


@dataclass(frozen=True)
class PreprocessResult:
    """Each stage's output. ``denoised``, ``enhanced``, ``mask`` have the INPUT's shape (uint8,
    mask bool); ``image`` is the final picture: cropped to ``box``, flipped when ``flipped``,
    normalised (uint8 for ``normalise="none"``, else float32). ``threshold`` is the grey level
    (0-255, offset included) that separated breast from background."""

    original: np.ndarray
    denoised: np.ndarray
    enhanced: np.ndarray
    mask: np.ndarray
    box: Box
    image: np.ndarray
    threshold: float
    flipped: bool

    def to_image_coords(self, row, col):
        """Input (row, col) -> (row, col) in ``image`` (scalars or arrays, float)."""
        row = np.asarray(row, float) - self.box.top
        col = np.asarray(col, float) - self.box.left
        if self.flipped:
            col = (self.box.right - self.box.left - 1) - col
        return row, col

    @property
    def cleaned(self) -> np.ndarray:
        """``enhanced`` with everything outside the breast mask set to 0 (uint8, input shape)."""
        return np.where(self.mask, self.enhanced, 0).astype(np.uint8)


# --- stages -----------------------------------------------------------------------------------

def to_uint8(image: npt.ArrayLike) -> NDArray[np.uint8]:
    """A 2-D image as uint8, the type every stage works in: uint16/float are stretched min–max.

    Parameters
    ----------
    image : array_like of shape (H, W), uint8, uint16 or float
        A grayscale film (MIAS: uint8; CBIS-DDSM: uint16).

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        ``image`` itself when already uint8; else its minimum at 0 and maximum at 255 (all 0 when flat).

    Examples
    --------
    >>> import numpy as np
    >>> to_uint8(np.array([[1000, 1400], [1800, 3000]], np.uint16)).tolist()
    [[0, 51], [102, 255]]
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise DataError(f"expected a 2-D grayscale image, got shape {image.shape}; "
                        "convert colour images with cv2.cvtColor(..., cv2.COLOR_BGR2GRAY)")
    if image.dtype == np.uint8:
        return image
    if image.dtype.kind not in "uif" or image.dtype == bool:
        raise DataError(f"expected a uint8 or uint16 image, got dtype {image.dtype}")
    work = image.astype(np.float32)
    lo, hi = float(work.min()), float(work.max())
    if hi <= lo:
        return np.zeros(image.shape, np.uint8)
    return cv2.convertScaleAbs(work, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))


def add_noise(image: npt.ArrayLike, kind: str, amount: float, seed: int = 0) -> NDArray[np.uint8]:
    """Corrupt an image with a known noise model, to show what each filter removes.

    Parameters
    ----------
    image : array_like of shape (H, W), uint8 (else converted by :func:`to_uint8`)
        The clean image, grey levels 0-255.
    kind : one of NOISES
        ``gaussian``: additive; ``salt_pepper``: pixels set to 0 or 255; ``speckle``:
        multiplicative (an ultrasound noise, kept because the paper names it); ``poisson``: quantum
        noise, the one an X-ray detector really has; ``none``: a copy.
    amount : float
        gaussian: sigma in grey levels; salt_pepper: fraction of pixels hit, in [0, 1]; speckle:
        sigma of (1 + n); poisson: grey levels per detected photon (larger = fewer photons =
        noisier; the variance, ``amount`` × grey level, grows with brightness). 0: a copy.
    seed : int, default 0
        Seeds the noise.

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        The noisy image, clipped to 0-255.
    """
    image = to_uint8(image)
    require(one_of(*NOISES), kind, "add_noise: kind")
    if kind == "none" or amount <= 0:
        return image.copy()
    rng = np.random.default_rng(seed)
    if kind == "salt_pepper":
        out = image.copy()
        hit = rng.random(image.shape, dtype=np.float32)
        out[hit < amount / 2] = 0
        out[hit > 1 - amount / 2] = 255
        return out
    if kind == "poisson":
        counts = rng.poisson(image.astype(np.float64) / amount)
        return np.clip(counts * amount, 0, 255).astype(np.uint8)
    noise = rng.standard_normal(image.shape, dtype=np.float32) * amount
    work = image.astype(np.float32)
    work = work + noise if kind == "gaussian" else work * (1 + noise)
    return np.clip(work, 0, 255).astype(np.uint8)


def denoise(image: NDArray[np.uint8], cfg: PreprocessConfig) -> NDArray[np.uint8]:
    """Apply the configured filter (median/Gaussian/bilateral, or none): the chain's first stage.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        Grey levels 0-255.
    cfg : PreprocessConfig
        Its ``denoise``, ``kernel`` and ``sigma_color`` are used.

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        The filtered image (a copy for ``"none"`` or ``kernel=1``).
    """
    k = cfg.kernel
    if cfg.denoise == "none" or k == 1:
        return image.copy()
    if cfg.denoise == "median":
        return cv2.medianBlur(image, k)
    if cfg.denoise == "gaussian":
        return cv2.GaussianBlur(image, (k, k), k / 6)
    return cv2.bilateralFilter(image, k, cfg.sigma_color, k / 2)


def clahe(image: NDArray[np.uint8], clip: float = 2.0, tiles: int = 8) -> NDArray[np.uint8]:
    """Contrast-limited adaptive histogram equalisation: local contrast without amplifying noise.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        Grey levels 0-255 (the denoised film).
    clip : float, default 2.0
        Clip limit (OpenCV's ``clipLimit``); 0 returns a copy.
    tiles : int, default 8
        Tiles per side of the grid the histograms are equalised in.

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8
        The enhanced image.
    """
    if clip <= 0:
        return image.copy()
    return cv2.createCLAHE(clipLimit=float(clip), tileGridSize=(tiles, tiles)).apply(image)


def normalise(image: NDArray[np.uint8], method: str,
              mask: NDArray[np.bool_] | None = None) -> NDArray[np.uint8] | NDArray[np.float32]:
    """Intensity normalisation, the chain's last stage; statistics from the breast, not the background.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W), uint8
        The cropped, masked image, grey levels 0-255.
    method : one of NORMALISATIONS
        ``none``: unchanged; ``minmax``: to [0, 1]; ``zscore``: zero mean, unit std; ``mean``: the
        paper's mean subtraction (grey levels).
    mask : numpy.ndarray of shape (H, W), bool, optional
        Pixels the statistics come from (background would dominate them otherwise); all when omitted.

    Returns
    -------
    numpy.ndarray of shape (H, W)
        ``image`` itself (uint8) for ``none``; else float32: in [0, 1] for ``minmax``, unbounded
        for ``zscore`` and ``mean``.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.array([[0, 0], [100, 200]], np.uint8); inside = image > 0
    >>> normalise(image, "minmax", inside).tolist(), normalise(image, "mean", inside).tolist()
    ([[0.0, 0.0], [0.0, 1.0]], [[-150.0, -150.0], [-50.0, 50.0]])
    """
    require(one_of(*NORMALISATIONS), method, "normalise")
    if method == "none":
        return image
    work = image.astype(np.float32)
    values = work[mask] if mask is not None and mask.any() else work
    if method == "minmax":
        lo, hi = float(values.min()), float(values.max())
        return np.clip((work - lo) / max(hi - lo, 1e-6), 0, 1)
    if method == "zscore":
        return (work - values.mean()) / max(float(values.std()), 1e-6)
    return work - values.mean()


def preprocess(image: npt.ArrayLike, cfg: PreprocessConfig | None = None) -> PreprocessResult:
    """Run the whole chain on one film, keeping every stage's output.

    Parameters
    ----------
    image : array_like of shape (H, W), uint8 or uint16
        A grayscale film (``mk.data.read_image``).
    cfg : PreprocessConfig, optional
        Every knob; the defaults when omitted.

    Returns
    -------
    PreprocessResult
        ``denoised``, ``enhanced`` (H, W) uint8 and ``mask`` (H, W) bool at the input's shape; the
        final ``image`` cropped to ``box``, flipped when ``flipped``, uint8 (float32 when
        normalised); the mask ``threshold`` (grey level).
    """
    cfg = cfg or PreprocessConfig()
    original = to_uint8(image)
    denoised = denoise(original, cfg)
    enhanced = clahe(denoised, cfg.clahe_clip, cfg.clahe_tiles)
    mask, threshold = breast_mask(denoised, cfg.otsu_offset, cfg.morph_kernel, cfg.otsu_classes)
    right = chest_wall_on_right(mask)
    if cfg.remove_pectoral:
        mask = remove_pectoral(enhanced, mask, right)
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if rows.size and cfg.crop:
        box = Box(int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    else:
        box = Box(0, 0, *original.shape)
    final = np.where(mask, enhanced, 0).astype(np.uint8)[box.top:box.bottom, box.left:box.right]
    flipped = bool(cfg.orient and right)
    if flipped:
        final = final[:, ::-1]
    inside = mask[box.top:box.bottom, box.left:box.right]
    final = np.ascontiguousarray(normalise(final, cfg.normalise, inside[:, ::-1] if flipped else inside))
    return PreprocessResult(original, denoised, enhanced, mask, box, final, threshold, flipped)

