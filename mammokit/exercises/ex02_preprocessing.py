"""Notebook 02's exercise checks, generated from notebooks/solutions/02_preprocessing.md by
`mammokit masters`: edit them there (cells tagged `check`), not here.
"""
from __future__ import annotations

from mammokit.exercises.spec import Exercise, Forbidden
import cv2
import numpy as np
from mammokit.exercises.spec import WrongAnswer, call, expect, rng, value
from mammokit.preprocess import PreprocessConfig, add_noise, denoise
from mammokit.segment import _disc, mask_steps, otsu_threshold
from mammokit.roi import crop_around


def _otsu_of_histogram(hist) -> int:
    """The kit's Otsu (OpenCV's) on the grey levels a histogram counts: notebook 02's stand-in."""
    levels = np.repeat(np.arange(len(hist), dtype=np.uint8), np.asarray(hist, dtype=np.int64))
    return int(otsu_threshold(levels.reshape(1, -1)))


def _opening(binary: np.ndarray, kernel: int) -> np.ndarray:
    """The kit's opening step (``mask_steps`` uses it): a disc of ``kernel`` pixels."""
    return cv2.morphologyEx(binary, cv2.MORPH_OPEN, _disc(kernel))


def _padded_crop(image: np.ndarray, row: float, col: float, size: int) -> np.ndarray:
    return crop_around(image, row, col, size, fill=0)


def _film(seed: int, shape=(120, 160)) -> np.ndarray:
    """A fresh bimodal 'film': a bright blob (breast) on a dark background, plus specks and noise."""
    draw = rng(seed)
    rows, cols = np.mgrid[:shape[0], :shape[1]]
    r0, c0 = draw.uniform(0.3, 0.7) * shape[0], draw.uniform(0.2, 0.5) * shape[1]
    blob = ((rows - r0) / (0.35 * shape[0])) ** 2 + ((cols - c0) / (0.3 * shape[1])) ** 2 < 1
    image = np.where(blob, draw.uniform(120, 190), draw.uniform(10, 50)) + draw.normal(0, 12, shape)
    for _ in range(6):  # film labels and specks: small bright islands the mask must drop
        r, c = draw.integers(0, shape[0] - 6), draw.integers(0, shape[1] - 6)
        image[r:r + draw.integers(2, 6), c:c + draw.integers(2, 6)] = 230
    return np.clip(image, 0, 255).astype(np.uint8)


def _as_bool(out, shape, what: str) -> np.ndarray:
    out = np.asarray(out)
    expect(out.shape == shape, f"{what} returned shape {out.shape}, expected the input's {shape}")
    return out > 0


def check_salt_pepper(answer) -> None:
    answer = value(answer, "salt_pepper_guess")
    choices = ("median", "gaussian", "bilateral")
    expect(isinstance(answer, str) and answer.lower() in choices, f"answer one of {choices}, got {answer!r}")


def check_otsu(answer) -> None:
    for seed in range(201, 206):
        image = _film(seed)
        hist = np.bincount(image.ravel(), minlength=256)
        got = call(answer, hist.copy(), what="otsu_from_histogram(hist)")
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise WrongAnswer(f"otsu_from_histogram should return one grey level, got {got!r}") from None
        want = otsu_threshold(image)  # OpenCV's THRESH_OTSU
        # same foreground pixels: any t in an empty stretch of the histogram is as good as OpenCV's
        differ = int(((image > got) != (image > want)).sum())
        expect(differ == 0, f"on a test film your threshold {got:g} and OpenCV's Otsu ({want:g}) disagree on "
                            f"{differ} pixels. Maximise w0*w1*(mu0-mu1)^2 over t, class 0 = grey levels 0..t")


def check_open_mask(answer) -> None:
    for seed, kernel in ((211, 5), (212, 9), (213, 7)):
        steps = mask_steps(_film(seed), kernel=kernel, classes=2)
        binary = steps["binary"]
        got = _as_bool(call(answer, binary.copy(), kernel, what="open_mask(binary, kernel)"), binary.shape, "open_mask")
        want = steps["opened"] > 0
        expect(not (got & ~(binary > 0)).any(), "an opening never adds pixels, but your mask has pixels the input "
                                                 "lacked: erode first, then dilate")
        iou = (got & want).sum() / max((got | want).sum(), 1)
        expect(iou >= 0.97, f"kernel {kernel}: your opening overlaps the package's by IoU {iou:.2f} (want >= 0.97); "
                            "use a disc (cv2.MORPH_ELLIPSE) of that size and erode before dilating")


def check_largest_component(answer) -> None:
    for seed in (221, 222, 223):
        steps = mask_steps(_film(seed), kernel=3, classes=2)
        closed = steps["closed"]
        got = _as_bool(call(answer, closed.copy(), what="largest_component(mask)"), closed.shape, "largest_component")
        want = steps["largest"] > 0
        expect(np.array_equal(got, want), f"your mask keeps {int(got.sum())} pixels, the package's largest "
                                          f"component has {int(want.sum())}: keep only the biggest 8-connected blob")


def check_crop(answer) -> None:
    draw = rng(231)
    image = draw.integers(1, 255, (60, 80), dtype=np.uint8)
    for row, col, size in ((0, 0, 16), (59, 79, 15), (30, 40, 20), (2, 77, 32), *draw.integers(0, 60, (3, 3)).tolist()):
        size = max(int(size), 4)
        got = np.asarray(call(answer, image.copy(), row, col, size, what="crop_with_padding(image, row, col, size)"))
        want = _padded_crop(image, row, col, size)
        expect(got.shape == want.shape, f"crop at ({row}, {col}), size {size}: shape {got.shape}, expected {want.shape} "
                                        "(pad with 0 where the window leaves the image)")
        expect(np.array_equal(got, want), f"crop at ({row}, {col}), size {size}: pixels differ from the package's "
                                          "crop_around (top-left = round(centre) - size // 2; outside = 0)")


NB = '02_preprocessing'
EXERCISES = [
    Exercise('q02_salt_pepper', NB, 'salt_pepper_guess', check_salt_pepper, kind='predict'),
    Exercise('q02_otsu', NB, 'otsu_from_histogram', check_otsu, fallback=_otsu_of_histogram, forbids=(Forbidden('cv2.threshold', "with THRESH_OTSU it is OpenCV's one-line Otsu; the exercise is the between-class-variance search in numpy"), Forbidden('mammokit.segment.otsu_threshold', "it is the kit's own Otsu (OpenCV's); the exercise is the between-class-variance search in numpy"), Forbidden('skimage.filters.threshold_otsu', "it is scikit-image's one-line Otsu; the exercise is the between-class-variance search in numpy"), )),
    Exercise('q02_open_mask', NB, 'open_mask', check_open_mask, fallback=_opening),
    Exercise('q02_largest_component', NB, 'largest_component', check_largest_component, forbids=(Forbidden('mammokit.segment._largest_component', "it is the kit's own answer; the exercise is picking the biggest blob from connectedComponentsWithStats yourself"), )),
    Exercise('q02_crop', NB, 'crop_with_padding', check_crop, fallback=_padded_crop, forbids=(Forbidden('mammokit.roi.crop_around', "it is the kit's own answer; the exercise is the centring and zero padding yourself"), )),
]

WRITTEN = [
    "CLAHE makes faint masses visible to you. Could it also create structures that are not there? What would you check before trusting it on a new scanner's films?",
]
