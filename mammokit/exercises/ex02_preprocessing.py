"""Notebook 02's exercises: Otsu from a histogram, morphology, the largest component, ROI crops.

Checks compare with OpenCV and ``mammokit.preprocess`` / ``mammokit.roi`` on fresh images.
"""
from __future__ import annotations

import cv2
import numpy as np

from mammokit.exercises import Exercise, WrongAnswer, call, expect
from mammokit.preprocess import PreprocessConfig, add_noise, denoise, mask_steps, otsu_threshold, psnr
from mammokit.roi import crop_around

NB = "02_preprocessing"


def ref_otsu_from_histogram(hist) -> int:
    """Grey level t maximising the between-class variance of [0, t] vs (t, 255]."""
    p = np.asarray(hist, dtype=float) / np.sum(hist)
    w0, mu = np.cumsum(p), np.cumsum(p * np.arange(p.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * w0 - mu) ** 2 / (w0 * (1 - w0))
    return int(np.nanargmax(np.where(np.isfinite(between), between, np.nan)))


def ref_open_mask(binary: np.ndarray, kernel: int) -> np.ndarray:
    return cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel, kernel)))


def ref_largest_component(mask: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros(mask.shape, bool)
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def ref_crop_with_padding(image: np.ndarray, row: float, col: float, size: int) -> np.ndarray:
    return crop_around(image, row, col, size, fill=0)


def _film(seed: int, shape=(120, 160)) -> np.ndarray:
    """A fresh bimodal 'film': a bright blob (breast) on a dark background, plus specks and noise."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:shape[0], :shape[1]]
    r0, c0 = rng.uniform(0.3, 0.7) * shape[0], rng.uniform(0.2, 0.5) * shape[1]
    blob = ((rows - r0) / (0.35 * shape[0])) ** 2 + ((cols - c0) / (0.3 * shape[1])) ** 2 < 1
    image = np.where(blob, rng.uniform(120, 190), rng.uniform(10, 50)) + rng.normal(0, 12, shape)
    for _ in range(6):  # film labels and specks: small bright islands the mask must drop
        r, c = rng.integers(0, shape[0] - 6), rng.integers(0, shape[1] - 6)
        image[r:r + rng.integers(2, 6), c:c + rng.integers(2, 6)] = 230
    return np.clip(image, 0, 255).astype(np.uint8)


def _as_bool(out, shape, what: str) -> np.ndarray:
    out = np.asarray(out)
    expect(out.shape == shape, f"{what} returned shape {out.shape}, expected the input's {shape}")
    return out > 0


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
    rng = np.random.default_rng(231)
    image = rng.integers(1, 255, (60, 80), dtype=np.uint8)
    for row, col, size in ((0, 0, 16), (59, 79, 15), (30, 40, 20), (2, 77, 32), *rng.integers(0, 60, (3, 3)).tolist()):
        size = max(int(size), 4)
        got = np.asarray(call(answer, image.copy(), row, col, size, what="crop_with_padding(image, row, col, size)"))
        want = ref_crop_with_padding(image, row, col, size)
        expect(got.shape == want.shape, f"crop at ({row}, {col}), size {size}: shape {got.shape}, expected {want.shape} "
                                        "(pad with 0 where the window leaves the image)")
        expect(np.array_equal(got, want), f"crop at ({row}, {col}), size {size}: pixels differ from the package's "
                                          "crop_around (top-left = round(centre) - size // 2; outside = 0)")


def _salt_pepper_winner() -> str:
    rng = np.random.default_rng(241)
    clean = cv2.GaussianBlur(rng.uniform(40, 200, (96, 96)).astype(np.uint8), (0, 0), 4)
    noisy = add_noise(clean, "salt_pepper", 0.05, seed=241)
    scores = {name: psnr(clean, denoise(noisy, PreprocessConfig(denoise=name, kernel=5)))
              for name in ("median", "gaussian", "bilateral")}
    return max(scores, key=scores.get)


def check_salt_pepper(answer) -> None:
    choices = ("median", "gaussian", "bilateral")
    expect(isinstance(answer, str) and answer.lower() in choices, f"answer one of {choices}, got {answer!r}")
    expect(answer.lower() == _salt_pepper_winner(), f"you predicted {answer!r}; the next cells show which wins "
                                                    "(think: an average keeps a bit of every 0/255 outlier)")


EXERCISES = [
    Exercise(
        "q02_salt_pepper", NB, "salt_pepper_guess", check_salt_pepper, "median", kind="predict",
        anchor="from mammokit.preprocess import PreprocessConfig",
        prompt="**Predict, then run (q02_salt_pepper).** Which 5×5 filter will restore a film with 5 % "
               "salt-and-pepper noise best (highest PSNR): `'median'`, `'gaussian'` or `'bilateral'`?",
        solution="salt_pepper_guess = \"median\"  # SOLUTION"),
    Exercise(
        "q02_otsu", NB, "otsu_from_histogram", check_otsu, ref_otsu_from_histogram, anchor="mk.preprocess.mask_steps(",
        prompt="**Exercise (q02_otsu).** Write `otsu_from_histogram(hist)` in numpy: given the 256-bin grey-level "
               "histogram, return the threshold `t` (pixels `> t` are foreground) that maximises the between-class "
               "variance `w0 * w1 * (mu0 - mu1)**2`. The check compares it with OpenCV's Otsu on fresh films.",
        solution="def otsu_from_histogram(hist):\n    \"\"\"Otsu's threshold from a 256-bin histogram.\"\"\"\n"
                 "    # BEGIN SOLUTION\n    p = hist / hist.sum()\n    levels = np.arange(len(p))\n"
                 "    best, best_t = -1.0, 0\n    for t in range(len(p) - 1):\n"
                 "        w0, w1 = p[:t + 1].sum(), p[t + 1:].sum()\n        if w0 == 0 or w1 == 0:\n"
                 "            continue\n        mu0 = (p[:t + 1] * levels[:t + 1]).sum() / w0\n"
                 "        mu1 = (p[t + 1:] * levels[t + 1:]).sum() / w1\n"
                 "        if w0 * w1 * (mu0 - mu1) ** 2 > best:\n            best, best_t = w0 * w1 * (mu0 - mu1) ** 2, t\n"
                 "    return best_t\n    # END SOLUTION",
        follow="otsu = mk.exercises.use(\"q02_otsu\", otsu_from_histogram)\n"
               "print(\"numpy Otsu:\", otsu(np.bincount(denoised.ravel(), minlength=256)),\n"
               "      \"| OpenCV Otsu:\", mk.preprocess.otsu_threshold(denoised))"),
    Exercise(
        "q02_open_mask", NB, "open_mask", check_open_mask, ref_open_mask, anchor="mk.preprocess.mask_steps(",
        prompt="**Exercise (q02_open_mask).** Write `open_mask(binary, kernel)`: the morphological *opening* of a "
               "0/255 uint8 mask with a disc of `kernel` pixels (OpenCV: `cv2.getStructuringElement`, "
               "`cv2.morphologyEx`). It removes specks smaller than the disc.",
        solution="import cv2\n\ndef open_mask(binary, kernel):\n    \"\"\"Erode then dilate with a disc: drops specks.\"\"\"\n"
                 "    # BEGIN SOLUTION\n    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel, kernel))\n"
                 "    return cv2.morphologyEx(binary, cv2.MORPH_OPEN, disc)\n    # END SOLUTION",
        follow="opened = mk.exercises.use(\"q02_open_mask\", open_mask)(steps[\"binary\"], 5)\n"
               "print(\"pixels before/after your opening:\", int((steps[\"binary\"] > 0).sum()), int((opened > 0).sum()))"),
    Exercise(
        "q02_largest_component", NB, "largest_component", check_largest_component, ref_largest_component,
        anchor="mk.preprocess.mask_steps(",
        prompt="**Exercise (q02_largest_component).** Film labels are bright islands apart from the breast. Write "
               "`largest_component(mask)` that keeps only the largest 8-connected blob of a mask "
               "(`cv2.connectedComponentsWithStats`), as a bool array.",
        solution="def largest_component(mask):\n    \"\"\"The biggest 8-connected blob: the breast, not the film label.\"\"\"\n"
                 "    # BEGIN SOLUTION\n    n, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)\n"
                 "    if n <= 1:\n        return np.zeros(mask.shape, bool)\n"
                 "    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))\n    # END SOLUTION"),
    Exercise(
        "q02_crop", NB, "crop_with_padding", check_crop, ref_crop_with_padding, anchor="mk.roi.lesion_roi(",
        prompt="**Exercise (q02_crop).** Write `crop_with_padding(image, row, col, size)`: the `size`×`size` window "
               "centred on (`row`, `col`) (top-left corner at `round(row) - size // 2`), with zeros where the "
               "window leaves the image, so a lesion near the edge stays centred.",
        solution="def crop_with_padding(image, row, col, size):\n    \"\"\"A centred square window, zero-padded at the edges.\"\"\"\n"
                 "    # BEGIN SOLUTION\n    top, left = int(round(row)) - size // 2, int(round(col)) - size // 2\n"
                 "    padded = np.pad(image, size)\n"
                 "    return padded[top + size:top + 2 * size, left + size:left + 2 * size]\n    # END SOLUTION",
        follow="crop = mk.exercises.use(\"q02_crop\", crop_with_padding)(result.cleaned, lesion[\"row\"], lesion[\"col\"], side)\n"
               "print(\"your crop:\", crop.shape, crop.dtype)"),
]

WRITTEN = [
    "CLAHE makes faint masses visible to you. Could it also create structures that are not there? "
    "What would you check before trusting it on a new scanner's films?",
]
