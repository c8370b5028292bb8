"""Mammogram preprocessing (the paper's "Mammogram preprocessing" section), one stage per function.

denoise (median | Gaussian | bilateral) -> CLAHE -> Otsu + offset + opening/closing + largest
component -> breast mask (INPUT coordinates) -> crop box -> optional pectoral removal ->
orientation (chest wall on the left) -> normalisation. Every knob lives in
:class:`PreprocessConfig`; the widgets and the batch pipeline share it, so what a student
tunes is what a run uses. Images are 2-D uint8 or uint16 arrays; stages work in uint8.

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

from mammokit.checks import allows, boolean, check_fields, integer, number, one_of, require, strict_fields
from mammokit.errors import ConfigError, DataError

FILTERS = ("none", "median", "gaussian", "bilateral")
NOISES = ("none", "gaussian", "salt_pepper", "speckle", "poisson")
NORMALISATIONS = ("none", "minmax", "zscore", "mean")
MASK_WIDTH = 256  # the mask is computed on a copy this wide: same shape, ~16x less work
_T1_BELOW_T2 = np.triu(np.ones((256, 256), bool), 1)  # valid (t1, t2) pairs of 3-class Otsu


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

def to_uint8(image: np.ndarray) -> np.ndarray:
    """A 2-D image as uint8: uint8 unchanged; uint16/float stretched min–max to 0–255."""
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


def add_noise(image: np.ndarray, kind: str, amount: float, seed: int = 0) -> np.ndarray:
    """Corrupt a uint8 image, to show what each filter removes. Returns uint8, same shape.

    ``gaussian``: additive, ``amount`` = sigma in grey levels; ``salt_pepper``: ``amount`` =
    fraction of pixels set to 0 or 255; ``speckle``: multiplicative, ``amount`` = sigma of (1+n)
    (an ultrasound noise, kept because the paper names it); ``poisson``: quantum noise, the one an
    X-ray detector really has, ``amount`` = grey levels per detected photon (larger = fewer
    photons = noisier; the variance, ``amount`` × grey level, grows with brightness).
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


def denoise(image: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    """Apply the configured filter to a uint8 image (median/Gaussian/bilateral, or none)."""
    k = cfg.kernel
    if cfg.denoise == "none" or k == 1:
        return image.copy()
    if cfg.denoise == "median":
        return cv2.medianBlur(image, k)
    if cfg.denoise == "gaussian":
        return cv2.GaussianBlur(image, (k, k), k / 6)
    return cv2.bilateralFilter(image, k, cfg.sigma_color, k / 2)


def clahe(image: np.ndarray, clip: float = 2.0, tiles: int = 8) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation of a uint8 image (clip 0 = unchanged)."""
    if clip <= 0:
        return image.copy()
    return cv2.createCLAHE(clipLimit=float(clip), tileGridSize=(tiles, tiles)).apply(image)


def _disc(size: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _largest_component(binary: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 1:
        return np.zeros_like(binary)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return (labels == biggest).astype(np.uint8) * 255


def _fill_holes(binary: np.ndarray) -> np.ndarray:
    """Fill background pockets enclosed by the breast (dark fatty areas, dark lesions)."""
    padded = cv2.copyMakeBorder(binary, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    flood = padded.copy()
    cv2.floodFill(flood, None, (0, 0), 255)
    return binary | cv2.bitwise_not(flood)[1:-1, 1:-1]


def otsu_threshold(image: np.ndarray, classes: int = 2) -> float:
    """Otsu's threshold of a uint8 image (pixels > threshold are foreground). ``classes=3``:
    the lower of the two thresholds maximising the between-class variance of three classes."""
    if classes == 2:
        return float(cv2.threshold(image, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0])
    p = cv2.calcHist([image], [0], None, [256], [0, 256]).ravel() / image.size
    w, m = np.cumsum(p), np.cumsum(p * np.arange(256))
    w0, m0 = w[:, None], m[:, None]  # class 1: [0, t1]; class 2: (t1, t2]; class 3: (t2, 255]
    w1, m1 = w[None, :] - w0, m[None, :] - m0
    w2, m2 = 1 - w[None, :], m[-1] - m[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = m0 ** 2 / w0 + m1 ** 2 / w1 + m2 ** 2 / w2
    between[~_T1_BELOW_T2 | ~np.isfinite(between)] = -1
    return float(np.unravel_index(int(np.argmax(between)), between.shape)[0])


def mask_steps(image: np.ndarray, offset: float = 0.0, kernel: int = 25, classes: int = 3) -> dict:
    """The breast-mask recipe step by step, for teaching: Otsu threshold (see
    :func:`otsu_threshold`) + ``offset`` ->
    ``binary`` -> ``opened`` (drops specks, thin tape) -> ``closed`` (bridges gaps) -> ``largest``
    connected component (drops film labels) -> ``filled`` (holes filled). Images are uint8 0/255
    on a copy ``MASK_WIDTH`` wide (sizes scaled); ``mask`` is bool at the input's shape."""
    scale = min(1.0, MASK_WIDTH / image.shape[1])
    small = image if scale == 1.0 else cv2.resize(
        image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    otsu = otsu_threshold(small, classes)
    threshold = float(np.clip(otsu + offset, 0, 254))
    steps: dict = {"otsu": float(otsu), "threshold": threshold}
    steps["binary"] = binary = (small > threshold).astype(np.uint8) * 255
    k = max(1, int(round(kernel * scale))) | 1  # odd: an even disc shifts edges
    steps["opened"] = opened = cv2.morphologyEx(binary, cv2.MORPH_OPEN, _disc(k)) if k > 1 else binary
    steps["closed"] = closed = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, _disc(k)) if k > 1 else opened
    steps["largest"] = largest = _largest_component(closed)
    steps["filled"] = filled = _fill_holes(largest)
    if scale != 1.0:  # a light blur first, so upscaled edges are smooth rather than staircased
        filled = cv2.resize(cv2.GaussianBlur(filled, (3, 3), 0), (image.shape[1], image.shape[0]),
                            interpolation=cv2.INTER_LINEAR)
    steps["mask"] = filled > 127
    return steps


def breast_mask(image: np.ndarray, offset: float = 0.0, kernel: int = 25,
                classes: int = 3) -> tuple[np.ndarray, float]:
    """Breast mask of a uint8 image (bool, input shape) and the threshold used (grey level).

    Otsu threshold (``classes`` 2 or 3) + ``offset``, opening then closing with a disc of ``kernel`` px, largest
    connected component, holes filled (see :func:`mask_steps`). Film labels and tape marks are
    separate bright blobs, so the largest component drops them."""
    steps = mask_steps(image, offset, kernel, classes)
    return steps["mask"], steps["threshold"]


def chest_wall_on_right(mask: np.ndarray) -> bool:
    """True when most of the breast lies in the right half (the chest wall is the wide side)."""
    half = mask.shape[1] // 2
    return int(mask[:, half:].sum()) > int(mask[:, :half].sum())


def remove_pectoral(image: np.ndarray, mask: np.ndarray, right: bool) -> np.ndarray:
    """Drop the pectoral muscle of an MLO view from ``mask``: the bright region (Otsu within the
    breast) touching the chest-wall edge in the top third. A heuristic; checked by eye in notebook 02."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return mask
    top, bottom = rows.min(), rows.max() + 1
    band = slice(top, top + (bottom - top) // 2)
    region = np.where(mask, image, 0)[band]
    level, _ = cv2.threshold(image[mask].reshape(-1, 1), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    bright = cv2.morphologyEx((region > level).astype(np.uint8), cv2.MORPH_OPEN, _disc(9))
    n, labels = cv2.connectedComponents(bright)
    wall_col = cols.max() if right else cols.min()
    seeds = labels[: max(1, (bottom - top) // 6), max(wall_col - 2, 0):wall_col + 3] if right else \
        labels[: max(1, (bottom - top) // 6), wall_col:wall_col + 3]
    ids = [i for i in np.unique(seeds) if i]
    out = mask.copy()
    if ids:
        muscle = np.isin(labels, ids)
        if muscle.sum() < 0.4 * mask.sum():  # a 'muscle' bigger than that is dense tissue
            out[band] &= ~muscle
    return out


def normalise(image: np.ndarray, method: str, mask: np.ndarray | None = None) -> np.ndarray:
    """Intensity normalisation. ``none``: unchanged; ``minmax``: float32 in [0, 1]; ``zscore``:
    zero mean, unit std; ``mean``: the paper's mean subtraction (float32, grey levels). Statistics
    come from ``mask`` pixels when given (background would dominate them otherwise)."""
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


def preprocess(image: np.ndarray, cfg: PreprocessConfig | None = None) -> PreprocessResult:
    """Run the whole chain on a 2-D uint8/uint16 ``image``; see :class:`PreprocessResult`."""
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


# --- quality readouts --------------------------------------------------------------------------

def psnr(reference: np.ndarray, image: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of uint8 ``image`` against ``reference`` (inf if equal)."""
    mse = cv2.norm(reference, image, cv2.NORM_L2SQR) / reference.size
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def ssim(reference: np.ndarray, image: np.ndarray, win: int = 7) -> float:
    """Mean structural similarity (Wang et al. 2004) of two uint8 images, with a uniform
    ``win``×``win`` window (scikit-image's default; within ~0.01 of its value)."""
    x, y = reference.astype(np.float32), image.astype(np.float32)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(a):
        return cv2.blur(a, (win, win), borderType=cv2.BORDER_REFLECT)
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    pad = win // 2  # like scikit-image, leave out the border where the window runs off the image
    return float(s[pad:-pad, pad:-pad].mean()) if min(s.shape) > 2 * pad else float(s.mean())


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean masks of one shape (1.0 when both are empty)."""
    a, b = a.astype(bool), b.astype(bool)
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def centres_inside(mask: np.ndarray, rows, cols) -> np.ndarray:
    """Boolean per (row, col) centre: inside ``mask`` (False when outside the image)."""
    r = np.round(np.asarray(rows, float)).astype(int)
    c = np.round(np.asarray(cols, float)).astype(int)
    ok = (r >= 0) & (r < mask.shape[0]) & (c >= 0) & (c < mask.shape[1])
    out = np.zeros(r.shape, bool)
    out[ok] = mask[r[ok], c[ok]]
    return out
