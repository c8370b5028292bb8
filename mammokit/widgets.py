"""Live ipywidgets explorers for the notebooks (notebook 02: the preprocessing explorer).

The picture is drawn by a plain function, :func:`render_view` (numpy + OpenCV, no matplotlib),
that tests call without a browser. The widget shows its PNG inside an ``ipywidgets.Output``, so it
works with the default inline backend and in headless runs; sliders update on release
(``continuous_update=False``), never once per pixel of a drag.
"""
from __future__ import annotations

import functools
import html
from dataclasses import dataclass, replace
from typing import Mapping

import cv2
import numpy as np
from numpy.typing import NDArray

from mammokit.preprocess import FILTERS, NOISES, PreprocessConfig, PreprocessResult, add_noise, preprocess, to_uint8
from mammokit.quality import centres_inside, mask_iou, psnr, ssim

# the explorer's one "noise level" slider (0-40) in each model's own units: Gaussian sigma in grey
# levels, salt-and-pepper fraction of pixels (10 -> 5 %), speckle sigma (10 -> 0.2), Poisson grey levels per photon (10 -> 2)
NOISE_UNITS = {"none": 0.0, "gaussian": 1.0, "salt_pepper": 1 / 200, "speckle": 1 / 50, "poisson": 1 / 5}
PANELS = ("original", "denoised", "enhanced (CLAHE)", "breast mask", "histogram")


@dataclass(frozen=True, eq=False)
class Film:
    """One image for the explorer: ``image`` 2-D uint8/uint16; optional ``clean`` (uint8) and
    ``breast_mask`` (bool) truth of a phantom; ``centres`` (k, 2) annotated lesion (row, col).
    Compared and hashed by identity (it holds arrays), so it can key a cache."""

    image: np.ndarray
    clean: np.ndarray | None = None
    breast_mask: np.ndarray | None = None
    centres: np.ndarray | None = None


@dataclass(frozen=True)
class View:
    """What one update shows: ``png`` (JPEG bytes of the panel strip, despite the name), ``readouts`` (name -> value),
    ``result`` (the full-resolution :class:`PreprocessResult`)."""

    png: bytes
    readouts: dict
    result: PreprocessResult

    def readout_html(self) -> str:
        cells = "".join(f"<td style='padding:0 12px 0 0'><b>{html.escape(k)}</b>: {html.escape(_fmt(v))}</td>"
                        for k, v in self.readouts.items())
        return f"<table class='mk-readouts'><tr>{cells}</tr></table>"


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _panel(image: np.ndarray, side: int) -> np.ndarray:
    """A grey uint8 image fitted into a side×side BGR square (aspect kept, black bars)."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    out = np.zeros((side, side, 3), np.uint8)
    out[:small.shape[0], :small.shape[1]] = small
    return out


def _overlay(result: PreprocessResult, centres: np.ndarray | None) -> np.ndarray:
    """The enhanced image, the mask tinted green with its outline, the crop box, lesion centres."""
    bgr = cv2.cvtColor(result.enhanced, cv2.COLOR_GRAY2BGR)
    mask8 = result.mask.astype(np.uint8)
    bgr[..., 1] = np.where(result.mask, np.maximum(bgr[..., 1], 150), bgr[..., 1])
    contours, _ = cv2.findContours(mask8, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    thick = max(2, result.mask.shape[1] // 200)
    cv2.drawContours(bgr, contours, -1, (0, 255, 0), thick)
    b = result.box
    cv2.rectangle(bgr, (b.left, b.top), (b.right - 1, b.bottom - 1), (255, 160, 0), thick)
    for row, col in ([] if centres is None else centres):
        cv2.circle(bgr, (int(round(col)), int(round(row))), 6 * thick, (0, 0, 255), thick)
    return bgr


def _histogram(image: np.ndarray, threshold: float, side: int) -> np.ndarray:
    """Grey-level histogram (log counts) with the Otsu threshold as a red line, side×side BGR."""
    counts = cv2.calcHist([image], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    heights = np.log1p(counts) / max(np.log1p(counts).max(), 1e-9)
    out = np.full((side, side, 3), 255, np.uint8)
    base, top = side - 14, 8
    xs = (np.arange(256) * (side - 1) / 255).astype(int)
    ys = (base - heights * (base - top)).astype(int)
    outline = np.concatenate([[[0, base]], np.stack([xs, ys], 1), [[side - 1, base]]]).astype(np.int32)
    cv2.fillPoly(out, [outline], (90, 90, 90))
    tx = int(threshold * (side - 1) / 255)
    cv2.line(out, (tx, top), (tx, base), (0, 0, 230), 2)
    cv2.putText(out, f"t={threshold:.0f}", (min(tx + 4, side - 48), top + 14),
                cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 230), 1, cv2.LINE_AA)
    cv2.putText(out, "0", (2, side - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(out, "255", (side - 24, side - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def compose(panels: list[NDArray[np.uint8]], titles: tuple[str, ...] = PANELS) -> NDArray[np.uint8]:
    """Side-by-side BGR panels with a white title bar above each.

    The title's font grows with the panel (five panels are shrunk to the notebook's width, so a
    fixed small font ends up a few pixels high) but always fits the panel's width.

    Parameters
    ----------
    panels : list of numpy.ndarray of shape (H, W_i, 3), uint8 BGR, all H equal
    titles : one str per panel (extra panels or titles are left out)

    Returns
    -------
    numpy.ndarray of shape (H + bar, ΣW_i + 4 (n − 1), 3), uint8 BGR; white 4 px gaps between panels
    """
    tiles = []
    for panel, title in zip(panels, titles):
        width = panel.shape[1]
        scale = max(0.5, 0.75 * width / 256)
        text_w = cv2.getTextSize(title, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0]
        scale = min(scale, scale * (width - 8) / max(text_w, 1))
        height = max(20, int(round(40 * max(0.5, 0.75 * width / 256))))  # one height for same-width panels
        bar = np.full((height, width, 3), 255, np.uint8)
        cv2.putText(bar, title, (4, int(height * 0.72)), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0),
                    max(1, round(scale * 1.5)), cv2.LINE_AA)
        tiles.append(np.vstack([bar, panel]))
        tiles.append(np.full((panel.shape[0] + height, 4, 3), 255, np.uint8))
    return np.hstack(tiles[:-1])


@functools.lru_cache(maxsize=8)
def _noisy(film: Film, noise: str, amount: float, seed: int) -> np.ndarray:
    """The film with noise added, memoised (drawing 1M random numbers costs ~25 ms per update)."""
    return add_noise(to_uint8(film.image), noise, amount, seed)


def render_view(film: Film, cfg: PreprocessConfig, noise: str = "none", noise_amount: float = 0.0,
                preview: int = 256, seed: int = 0) -> View:
    """One explorer update: add ``noise`` to the film, run :func:`preprocess` at full resolution
    (what a run would do), draw the five panels at ``preview`` px and compute the readouts:
    Otsu threshold, breast fraction; PSNR/SSIM of the denoised image against the clean truth (or
    the film itself when noise was added); mask IoU against a phantom's true mask; lesion centres
    inside the mask."""
    original = to_uint8(film.image)
    noisy = original if noise == "none" or noise_amount <= 0 else _noisy(film, noise, float(noise_amount), seed)
    result = preprocess(noisy, cfg)
    readouts: dict = {"threshold": round(result.threshold, 1), "breast %": round(100 * float(result.mask.mean()), 1)}
    reference = film.clean if film.clean is not None else (original if noisy is not original else None)
    if reference is not None:
        ref = to_uint8(reference)
        readouts["PSNR noisy dB"] = round(psnr(ref, noisy), 2)
        readouts["PSNR denoised dB"] = round(psnr(ref, result.denoised), 2)
        readouts["SSIM denoised"] = round(ssim(ref, result.denoised), 3)
    if film.breast_mask is not None:
        readouts["mask IoU"] = round(mask_iou(result.mask, film.breast_mask), 3)
    if film.centres is not None and len(film.centres):
        inside = centres_inside(result.mask, film.centres[:, 0], film.centres[:, 1])
        readouts["centres in mask"] = f"{int(inside.sum())}/{len(inside)}"
    panels = [_panel(noisy, preview), _panel(result.denoised, preview), _panel(result.enhanced, preview),
              _panel(_overlay(result, film.centres), preview), _histogram(result.denoised, result.threshold, preview)]
    ok, jpeg = cv2.imencode(".jpg", compose(panels), [cv2.IMWRITE_JPEG_QUALITY, 90])  # 10x faster than PNG
    return View(jpeg.tobytes(), readouts, result)


def films_from_catalog(catalog, n: int = 8) -> dict[str, Film]:
    """Up to ``n`` films of a catalog (lesion films first), keyed by image id, truth attached for
    phantoms. Reads the images now (the explorer switches between them instantly)."""
    from mammokit.data.images import read_image

    order = catalog.assign(_normal=catalog["label"].isna()).sort_values("_normal", kind="stable")
    films: dict[str, Film] = {}
    for image_id, rows in order.groupby("image_id", sort=False):
        if len(films) >= n:
            break
        first = rows.iloc[0]
        clean = mask = None
        truth = first.get("truth") if "truth" in rows else None
        if isinstance(truth, str) and truth:
            with np.load(truth) as npz:
                clean, mask = npz["clean"], npz["breast_mask"].astype(bool)
        located = rows[rows["row"].notna()]
        centres = located[["row", "col"]].to_numpy(float) if len(located) else None
        films[str(image_id)] = Film(read_image(first["path"]), clean, mask, centres)
    return films


def picture_output(jpeg: bytes) -> dict:
    """A JPEG as one notebook ``display_data`` output (what an Output widget's ``outputs`` holds)."""
    import base64
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/jpeg": base64.b64encode(jpeg).decode("ascii"), "text/plain": "<explorer picture>"}}


class PreprocessExplorer:
    """The preprocessing explorer: pick a film, move the knobs, see each stage and the readouts.

    ``explorer.config`` is the :class:`PreprocessConfig` the controls describe now; the "Use
    these settings" button copies it to ``explorer.chosen`` for the rest of the notebook.
    Display it with ``explorer.widget`` (or just ``explorer`` as a cell's last line).
    """

    def __init__(self, films: Mapping[str, Film], cfg: PreprocessConfig | None = None, preview: int = 256,
                 seed: int = 0):
        import ipywidgets as w

        if not films:
            from mammokit.errors import DataError
            raise DataError("the explorer needs at least one film; check the catalog is not empty")
        self.films, self.preview, self.seed = dict(films), int(preview), seed
        cfg = cfg or PreprocessConfig()
        self.chosen = cfg
        style, lay = {"description_width": "110px"}, w.Layout(width="330px")

        def slider(cls, desc, value, lo, hi, step):
            return cls(value=value, min=lo, max=hi, step=step, description=desc, continuous_update=False,
                       style=style, layout=lay)
        self.controls = {
            "film": w.Dropdown(options=list(self.films), description="film", style=style, layout=lay),
            "noise": w.Dropdown(options=list(NOISES), value="none", description="add noise", style=style, layout=lay),
            "noise_level": slider(w.FloatSlider, "noise level", 10.0, 0.0, 40.0, 0.5),
            "denoise": w.Dropdown(options=list(FILTERS), value=cfg.denoise, description="filter", style=style, layout=lay),
            "kernel": slider(w.IntSlider, "filter size", cfg.kernel, 1, 15, 2),
            "clahe_clip": slider(w.FloatSlider, "CLAHE clip", float(cfg.clahe_clip), 0.0, 8.0, 0.5),
            "clahe_tiles": slider(w.IntSlider, "CLAHE tiles", cfg.clahe_tiles, 1, 16, 1),
            "otsu_offset": slider(w.IntSlider, "Otsu offset", int(cfg.otsu_offset), -60, 60, 5),
            "morph_kernel": slider(w.IntSlider, "morph. kernel", cfg.morph_kernel, 1, 61, 2),
            "remove_pectoral": w.Checkbox(value=cfg.remove_pectoral, description="remove pectoral", style=style),
        }
        self._base = cfg
        self.output = w.Output()
        self.readout = w.HTML()
        self.button = w.Button(description="Use these settings", icon="check", layout=w.Layout(width="200px"))
        self.status = w.HTML()
        self.button.on_click(lambda _: self.use())
        for control in self.controls.values():
            control.observe(lambda _change: self.update(), names="value")
        knobs = list(self.controls.values())
        self.widget = w.VBox([w.HBox([w.VBox(knobs[:5]), w.VBox(knobs[5:]),
                                      w.VBox([self.button, self.status])]),
                              self.readout, self.output])
        self.view: View | None = None
        self.update()

    @property
    def config(self) -> PreprocessConfig:
        """The configuration the controls describe now (fields without a control keep ``cfg``'s)."""
        c = self.controls
        return replace(self._base, denoise=c["denoise"].value, kernel=int(c["kernel"].value),
                       clahe_clip=float(c["clahe_clip"].value), clahe_tiles=int(c["clahe_tiles"].value),
                       otsu_offset=float(c["otsu_offset"].value), morph_kernel=int(c["morph_kernel"].value),
                       remove_pectoral=bool(c["remove_pectoral"].value))

    def use(self) -> PreprocessConfig:
        """Keep the current settings as ``chosen`` (what the button does)."""
        self.chosen = self.config
        self.status.value = f"<small>chosen: {html.escape(repr(self.chosen))}</small>"
        return self.chosen

    def update(self) -> View:
        """Recompute and redraw (called on every released control).

        The picture replaces the Output widget's ``outputs`` in one state update rather than
        being displayed inside ``with self.output:``. Output captured that way is mirrored by
        headless clients (nbclient, hence papermill and ``nbconvert --execute``), whose stand-in
        for a front end answers each captured output with a message on the kernel's shell socket
        while it is still waiting on that socket for the cell's reply; with pyzmq's edge-triggered
        sockets that send can swallow the reply's wake-up, and the run then waits forever
        (nbclient issue #312). Setting the state sends nothing back, and JupyterLab, Colab and
        Voilà draw it the same.
        """
        c = self.controls
        noise = c["noise"].value
        amount = float(c["noise_level"].value) * NOISE_UNITS[noise]
        self.view = render_view(self.films[c["film"].value], self.config, noise, amount, self.preview, self.seed)
        self.readout.value = self.view.readout_html()
        self.output.outputs = (picture_output(self.view.png),)
        return self.view

    def snapshot(self):
        """The current picture as a plain cell output (kept by papermill and HTML exports)."""
        from IPython.display import Image
        return Image(data=self.view.png, format="jpeg")

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
