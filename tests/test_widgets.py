"""The preprocessing explorer without a browser: the update function and the widget's wiring."""
from __future__ import annotations

import numpy as np
import pytest

from mammokit.preprocess import PreprocessConfig
from mammokit.widgets import Film, PreprocessExplorer, render_view


def _film(size: int = 256) -> Film:
    rr, cc = np.mgrid[:size, :size]
    mask = (rr - size / 2) ** 2 + cc ** 2 < (0.42 * size) ** 2
    clean = np.where(mask, 90 + 40 * (np.sin(rr / 9.0) > 0), 6).astype(np.uint8)
    clean[10:30, size - 50:size - 12] = 245  # label
    image = np.clip(clean + np.random.default_rng(0).normal(0, 5, clean.shape), 0, 255).astype(np.uint8)
    return Film(image, clean=clean, breast_mask=mask, centres=np.array([[128.0, 40.0], [128.0, 250.0]]))


def test_render_view_draws_and_measures():
    view = render_view(_film(), PreprocessConfig(morph_kernel=9), "salt_pepper", 0.05, preview=128)
    assert view.png[:2] == b"\xff\xd8"  # a JPEG
    import cv2
    strip = cv2.imdecode(np.frombuffer(view.png, np.uint8), cv2.IMREAD_COLOR)
    assert strip.shape[0] == 128 + 20 and strip.shape[1] == 5 * 128 + 4 * 4
    r = view.readouts
    assert r["mask IoU"] > 0.95
    assert r["PSNR denoised dB"] > r["PSNR noisy dB"] + 3, "the median filter removes salt and pepper"
    assert r["centres in mask"] == "1/2"  # the second centre is in the background on purpose
    assert "mask IoU" in view.readout_html()


def test_otsu_offset_changes_the_picture_and_the_threshold():
    film = _film()
    a = render_view(film, PreprocessConfig(morph_kernel=9, otsu_offset=0), preview=96)
    b = render_view(film, PreprocessConfig(morph_kernel=9, otsu_offset=60), preview=96)
    assert b.readouts["threshold"] == pytest.approx(a.readouts["threshold"] + 60)
    assert a.png != b.png


def test_without_truth_or_noise_there_is_no_quality_readout():
    film = _film()
    view = render_view(Film(film.image), PreprocessConfig(), preview=64)
    assert set(view.readouts) == {"threshold", "breast %"}


def test_explorer_controls_config_and_button():
    ex = PreprocessExplorer({"a": _film(), "b": _film(128)}, PreprocessConfig(morph_kernel=9), preview=96)
    sliders = [c for c in ex.controls.values() if hasattr(c, "continuous_update")]
    assert sliders and all(not c.continuous_update for c in sliders), "update on release only"
    first = ex.view
    ex.controls["otsu_offset"].value = 30
    assert ex.view is not first and ex.view.readouts["threshold"] != first.readouts["threshold"]
    assert "threshold" in ex.readout.value and ex.output.outputs is not None
    ex.controls["denoise"].value = "bilateral"
    ex.controls["kernel"].value = 7
    cfg = ex.config
    assert (cfg.otsu_offset, cfg.denoise, cfg.kernel, cfg.morph_kernel) == (30.0, "bilateral", 7, 9)
    assert ex.chosen == PreprocessConfig(morph_kernel=9)
    ex.button.click()
    assert ex.chosen == cfg and "bilateral" in ex.status.value
    ex.controls["noise"].value = "salt_pepper"  # level 10 = 5 % of pixels, not 1000 %
    assert 15 < ex.view.readouts["PSNR noisy dB"] < 25
    ex.controls["film"].value = "b"
    assert ex.view.result.mask.shape == (128, 128)


def test_films_from_catalog_reads_phantom_truth():
    from mammokit.data import load_catalog
    from mammokit.widgets import films_from_catalog
    films = films_from_catalog(load_catalog("synthetic"), n=3)
    assert len(films) == 3
    film = next(iter(films.values()))
    assert film.clean is not None and film.breast_mask is not None and film.centres is not None
