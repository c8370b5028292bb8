"""Cost of preprocessing on one core: the whole chain and each stage per 1024×1024 film, the
explorer's update latency, and the same chain written with scikit-image (for the ratio).

* **stages** (OpenCV, ``cv2.setNumThreads(1)``): 16-bit -> 8-bit, median / Gaussian / bilateral
  filter, CLAHE, breast mask (3-class Otsu + opening/closing + largest component + hole filling,
  on a 256-px copy), crop + orientation;
* **chain**: ``preprocess(image, PreprocessConfig())`` (median) and with the bilateral filter;
* **widget**: ``render_view`` (chain + readouts + 5 panels + JPEG) at 256 and 512 px preview, and
  ``PreprocessExplorer.update`` (the same, plus the ipywidgets Output round trip, no browser);
* **scikit-image**: the same chain (median, CLAHE, multi-Otsu, opening/closing, largest
  component, hole filling, crop) with skimage/scipy, and skimage's bilateral filter alone.

Film: MIAS ``mdb005`` when the dev subset is present, else a 1024-px phantom. Median of
``--repeats`` runs after a warm-up. Targets (issue 3): chain <= 20 ms, widget update <= 100 ms.
Prints a table and writes ``benchmarks/results/bench_preprocess.json``.

    python benchmarks/bench_preprocess.py [--repeats 20]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core for numpy/scipy too, before they are imported
os.environ.setdefault("MPLBACKEND", "Agg")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _ms(fn, repeats: int) -> float:
    fn()  # warm-up (allocations, OpenCV's lazy init)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def _film():
    import numpy as np

    dev = Path(os.environ.get("MAMMOKIT_MIAS_DEV", HERE.parent.parent / "shared" / "mias-dev"))
    if (dev / "mdb005.pgm").is_file():
        from mammokit.data import read_image
        return read_image(dev / "mdb005.pgm"), "MIAS mdb005 (1024x1024, 8-bit)"
    from mammokit.data.synthetic import make_phantom
    made = make_phantom(np.random.SeedSequence([0, 1]), 1024, "R", "G",
                        [{"abnormality": "CIRC", "severity": "B", "radius": 40, "contrast": 0.2}])
    return made["image"], "phantom (1024x1024, 8-bit)"


def skimage_chain(image):
    """The kit's default chain written with scikit-image/scipy (same steps, same sizes)."""
    import numpy as np
    from scipy import ndimage
    from skimage import exposure, filters, measure, morphology, transform

    denoised = filters.median(image, np.ones((5, 5), bool))
    enhanced = exposure.equalize_adapthist(denoised, kernel_size=image.shape[0] // 8, clip_limit=0.01)
    small = transform.resize(denoised, (256, 256), anti_aliasing=True, preserve_range=True).astype(np.uint8)
    threshold = filters.threshold_multiotsu(small, classes=3)[0]
    binary = small > threshold
    disc = morphology.disk(3)
    binary = morphology.closing(morphology.opening(binary, disc), disc)
    labels = measure.label(binary)
    largest = labels == (np.argmax(np.bincount(labels.ravel())[1:]) + 1)
    filled = ndimage.binary_fill_holes(largest)
    mask = transform.resize(filled.astype(float), image.shape, order=1) > 0.5
    rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    return (enhanced * mask)[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    r = args.repeats

    import cv2
    import numpy as np

    cv2.setNumThreads(1)
    from mammokit import preprocess as pp
    from mammokit import segment
    from mammokit.widgets import Film, PreprocessExplorer, render_view

    image, source = _film()
    cfg = pp.PreprocessConfig()
    wide = image.astype(np.uint16) * 257
    denoised = pp.denoise(image, cfg)
    enhanced = pp.clahe(denoised, cfg.clahe_clip, cfg.clahe_tiles)
    rows: list[tuple[str, float]] = [
        ("stage: 16-bit -> 8-bit", _ms(lambda: pp.to_uint8(wide), r)),
        ("stage: median 5x5", _ms(lambda: pp.denoise(image, cfg), r)),
        ("stage: Gaussian 5x5", _ms(lambda: pp.denoise(image, pp.PreprocessConfig(denoise="gaussian")), r)),
        ("stage: bilateral d=5", _ms(lambda: pp.denoise(image, pp.PreprocessConfig(denoise="bilateral")), r)),
        ("stage: CLAHE clip 2, 8x8 tiles", _ms(lambda: pp.clahe(denoised, 2.0, 8), r)),
        ("stage: breast mask (3-class Otsu, morphology, largest, fill)",
         _ms(lambda: segment.breast_mask(denoised, 0, 25, 3), r)),
        ("stage: 3-class Otsu threshold alone (256 px)",
         _ms(lambda: segment.otsu_threshold(cv2.resize(denoised, (256, 256), interpolation=cv2.INTER_AREA), 3), r)),
    ]
    mask, _ = segment.breast_mask(denoised)

    def crop_orient():
        ys, xs = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
        out = np.where(mask, enhanced, 0)[ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1]
        return np.ascontiguousarray(out[:, ::-1]) if segment.chest_wall_on_right(mask) else out
    rows.append(("stage: crop + orientation", _ms(crop_orient, r)))
    chain = _ms(lambda: pp.preprocess(image, cfg), r)
    rows.append(("CHAIN: preprocess(), median (default)", chain))
    rows.append(("chain: preprocess(), bilateral", _ms(lambda: pp.preprocess(image, pp.PreprocessConfig(denoise="bilateral")), r)))
    rows.append(("chain: preprocess(), 16-bit input", _ms(lambda: pp.preprocess(wide, cfg), r)))

    film = Film(image, centres=np.array([[890.0, 477.0]]))
    for preview in (256, 512):
        rows.append((f"widget: render_view, preview {preview}", _ms(lambda: render_view(film, cfg, preview=preview), r)))
    rows.append(("widget: render_view, 256, gaussian noise + PSNR/SSIM",
                 _ms(lambda: render_view(film, cfg, "gaussian", 10, preview=256), r)))
    with contextlib.redirect_stdout(io.StringIO()):  # outside a kernel, Output widgets print repr()s
        explorer = PreprocessExplorer({"film": film}, cfg, preview=256)
        slider = explorer.controls["otsu_offset"]
        values = iter(range(10**6))
        widget = _ms(lambda: setattr(slider, "value", 5 * (next(values) % 10)), r)  # a slider release
    rows.append(("WIDGET: explorer update on slider release, preview 256", widget))

    sk_repeats = max(3, r // 5)
    sk_chain = _ms(lambda: skimage_chain(image), sk_repeats)
    rows.append(("scikit-image: same chain", sk_chain))
    from skimage.restoration import denoise_bilateral
    rows.append(("scikit-image: bilateral alone (win 5)",
                 _ms(lambda: denoise_bilateral(image, win_size=5, sigma_color=40 / 255, sigma_spatial=2.5), 1)))

    width = max(len(n) for n, _ in rows)
    print(f"film: {source}; one core; median of {r} runs (scikit-image: {sk_repeats})")
    print(f"{'what':<{width}}  ms")
    for name, value in rows:
        print(f"{name:<{width}}  {value:8.2f}")
    ratio = sk_chain / chain
    print(f"scikit-image / OpenCV chain: {ratio:.1f}x   targets: chain {chain:.1f} <= 20 ms "
          f"({'met' if chain <= 20 else 'MISSED'}), widget {widget:.1f} <= 100 ms ({'met' if widget <= 100 else 'MISSED'})")
    out = HERE / "results" / "bench_preprocess.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(), "film": source,
                               "repeats": r, "ms": dict(rows), "skimage_over_opencv": ratio,
                               "targets_ms": {"chain": 20, "widget": 100}}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
