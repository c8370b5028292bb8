"""Synthetic mammogram phantoms: the kit's embedded, offline, seeded default data.

:func:`write_phantoms` WRITES the MIAS layout (``Info.txt`` + ``<id>.pgm``, 8-bit, origin of
x/y bottom-left) so the very same loader reads phantoms and real MIAS, plus the ground truth a
real dataset lacks: ``truth/<id>.npz`` with ``clean`` (noise-free uint8 image),
``breast_mask`` and ``lesion_mask`` (bool). What a film holds:

- a breast outline (a wobbly half-ellipse from the chest wall) on a dark background;
- tissue texture by background type: fatty (F), fatty-glandular (G), dense-glandular (D);
- a pectoral muscle wedge in the upper chest-wall corner; a bright film label to crop away;
- benign masses round/oval with a sharp margin (CIRC; a few ill-defined MISC), malignant ones
  irregular or spiculated (SPIC, MISC; a few circumscribed CIRC) — sizes and contrasts overlap,
  and dense tissue hides lesions, so telling them apart is not trivial: knowing the shape
  class perfectly gives at most ~82 % accuracy (CIRC→B, MISC/SPIC→M on balanced classes);
- detector blur and quantum-like noise. As in MIAS, left films (even ids) have the chest wall
  on the left edge of the array, right films (odd ids) on the right edge.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mammokit import paths
from mammokit.data.images import write_pgm
from mammokit.data.mias import PHANTOM_MARKER
from mammokit.errors import ConfigError, DataError
from mammokit.files import atomic_folder

GENERATOR_VERSION = 3
DEFAULTS = {"n_patients": 40, "size": 512, "seed": 0}
PREFIX = "syn"
_BG_BIAS = {"F": -1.4, "G": -0.3, "D": 0.9}  # how much glandular tissue each background holds


@dataclass(frozen=True)
class Lesion:
    """One mass: its class, severity, centre (array row/col), core radius and contrast."""

    abnormality: str
    severity: str
    row: float
    col: float
    radius: float
    contrast: float


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """White noise blurred by a Gaussian of ``sigma`` px, rescaled to unit std (float32).

    Wide blurs are made at a coarser grid and resized up (same look, a fraction of the time).
    """
    step = max(1, int(sigma // 3))
    small = (-(-shape[0] // step), -(-shape[1] // step))
    field = cv2.GaussianBlur(rng.standard_normal(small).astype(np.float32), (0, 0), sigma / step)
    if step > 1:
        field = cv2.resize(field, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    return field / (field.std() + 1e-6)


def _breast(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float]]:
    """(mask, depth, pectoral, nipple row/col) for a breast whose chest wall is the left edge (canonical view).

    ``depth`` is 1 at the chest wall centre, 0 at the skin line (drives tissue thickness).
    """
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    r0 = size * rng.uniform(0.45, 0.56)
    a, b = size * rng.uniform(0.36, 0.45), size * rng.uniform(0.58, 0.78)
    theta = np.arctan2((rows - r0) / a, cols / b)
    wobble = 1.0 + sum(rng.uniform(0, 0.035) * np.cos(k * theta + rng.uniform(0, 2 * np.pi)) for k in (2, 3, 5))
    rho = np.sqrt(((rows - r0) / a) ** 2 + (cols / b) ** 2) / wobble
    mask = rho < 1.0
    depth = np.clip(1.0 - rho, 0, 1)
    pw, ph = size * rng.uniform(0.14, 0.26), size * rng.uniform(0.32, 0.55)
    bow = rng.uniform(-0.08, 0.12)  # the muscle edge is slightly curved
    s = cols / pw + rows / ph
    pectoral = s + bow * np.sin(np.pi * np.clip(rows / ph, 0, 1)) < 1.0
    return mask | pectoral, depth, pectoral, (r0, b)


def _strands(rng: np.random.Generator, size: int, nipple: tuple[float, float]) -> np.ndarray:
    """Fibrous strands radiating from the nipple: noise blurred along the radius in polar coordinates."""
    polar = rng.standard_normal((720, size)).astype(np.float32)  # rows: angle, columns: radius
    polar = cv2.GaussianBlur(polar, (0, 0), sigmaX=14 * size / 512, sigmaY=1.3)
    flags = cv2.WARP_POLAR_LINEAR | cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR
    field = cv2.warpPolar(polar, (size, size), (nipple[1], nipple[0]), size * 1.3, flags)
    rows, cols = np.ogrid[0:size, 0:size]
    distance = np.sqrt((rows - nipple[0]) ** 2 + (cols - nipple[1]) ** 2).astype(np.float32)
    field *= np.clip(distance / (0.35 * size), 0, 1) ** 2  # no starburst at the nipple itself
    return field / (field.std() + 1e-6)


def _tissue(rng: np.random.Generator, size: int, background: str, depth: np.ndarray,
            nipple: tuple[float, float]) -> np.ndarray:
    """Fat plus glandular tissue in [0, 1]: more glands for G and D; strands run to the nipple."""
    scale = size / 512
    fbm = sum(w * _smooth_noise(rng, (size, size), s * scale) for w, s in ((0.4, 3), (0.8, 8), (1.0, 20), (0.8, 45)))
    strands = _strands(rng, size, nipple)
    centre = np.exp(-((np.arange(size, dtype=np.float32)[:, None] - nipple[0]) / size) ** 2 / 0.08)  # glands mid-breast
    glands = 1 / (1 + np.exp(-(fbm / 2.0 + 0.35 * strands + _BG_BIAS[background] + 1.2 * centre - 0.6) / 0.45))
    thickness = np.sqrt(depth)
    return 0.16 + 0.22 * thickness + 0.42 * glands * thickness + 0.015 * strands * thickness


def _lesion_profile(rng: np.random.Generator, lesion: Lesion, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(density in [0, 1], mask) of one mass; circumscribed, ill-defined or spiculated."""
    reach = int(3.2 * lesion.radius) + 4  # spicules reach 2.8 radii: work in a window around the mass
    r0, c0 = max(int(lesion.row) - reach, 0), max(int(lesion.col) - reach, 0)
    r1, c1 = min(int(lesion.row) + reach, size), min(int(lesion.col) + reach, size)
    density_full, mask_full = np.zeros((size, size), np.float32), np.zeros((size, size), bool)
    rows, cols = np.mgrid[r0:r1, c0:c1].astype(np.float32)
    dr, dc = rows - lesion.row, cols - lesion.col
    angle = rng.uniform(0, np.pi)
    u = dc * np.cos(angle) + dr * np.sin(angle)
    v = -dc * np.sin(angle) + dr * np.cos(angle)
    theta = np.arctan2(v, u)
    if lesion.abnormality == "CIRC":  # round/oval, smooth outline
        aspect, lobes, margin = rng.uniform(0.65, 1.0), rng.uniform(0.0, 0.06), rng.uniform(0.6, 1.5)
    elif lesion.abnormality == "MISC":  # ill-defined: lobulated outline, blurred margin
        aspect, lobes, margin = rng.uniform(0.6, 1.0), rng.uniform(0.10, 0.25), lesion.radius * rng.uniform(0.15, 0.35)
    else:  # SPIC: irregular core with spicules
        aspect, lobes, margin = rng.uniform(0.75, 1.0), rng.uniform(0.08, 0.2), rng.uniform(1.0, 2.5)
    outline = 1.0 + sum(lobes * rng.uniform(0.3, 1.0) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
                        for k in range(2, 7))
    rho = np.sqrt(u ** 2 + (v / aspect) ** 2) / (lesion.radius * outline)
    core = 1 / (1 + np.exp(np.clip((rho - 1.0) * lesion.radius / max(margin, 0.5), -50, 50)))
    density = core * (0.75 + 0.25 * np.sqrt(np.clip(1 - rho ** 2, 0, 1)))
    mask = rho < 1.0
    if lesion.abnormality == "SPIC":
        spicules = np.zeros(rows.shape, np.float32)
        for phi in rng.uniform(0, 2 * np.pi, rng.integers(8, 20)):
            length = lesion.radius * rng.uniform(1.5, 2.8)
            for t0, t1, weight in ((0.6, 1.2, 0.7), (1.2, 1.9, 0.45), (1.9, 1.0 * length / lesion.radius, 0.25)):
                p0 = (int(lesion.col - c0 + t0 * lesion.radius * np.cos(phi)), int(lesion.row - r0 + t0 * lesion.radius * np.sin(phi)))
                p1 = (int(lesion.col - c0 + t1 * lesion.radius * np.cos(phi)), int(lesion.row - r0 + t1 * lesion.radius * np.sin(phi)))
                cv2.line(spicules, p0, p1, weight, thickness=max(1, int(round(size / 400))), lineType=cv2.LINE_AA)
        spicules = cv2.GaussianBlur(spicules, (0, 0), 0.8)
        density = np.maximum(density, spicules)
        mask |= spicules > 0.2
    density_full[r0:r1, c0:c1], mask_full[r0:r1, c0:c1] = density, mask
    return density_full, mask_full


def _label(rng: np.random.Generator, image: np.ndarray, tissue: np.ndarray) -> None:
    """Burn a bright film label with dark 'text' into a background corner away from the chest wall."""
    size = image.shape[0]
    h, w = int(size * rng.uniform(0.05, 0.08)), int(size * rng.uniform(0.12, 0.2))
    tops = [int(size * 0.03), size - h - int(size * 0.03)]
    for top in (tops if rng.random() < 0.5 else tops[::-1]):
        left = size - w - int(size * rng.uniform(0.02, 0.05))
        if not tissue[top:top + h, left:left + w].any():
            image[top:top + h, left:left + w] = rng.uniform(0.88, 0.98)
            for _ in range(rng.integers(3, 7)):  # characters
                r = top + int(h * rng.uniform(0.2, 0.5))
                c = left + int(w * rng.uniform(0.05, 0.8))
                image[r:r + max(2, h // 3), c:c + max(2, w // 12)] = rng.uniform(0.2, 0.4)
            return


def make_phantom(seed: int | np.random.SeedSequence, size: int, side: str, background: str,
                 lesions: list[dict]) -> dict:
    """One phantom film with its ground truth (masks a real film does not have).

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
    size : int, the film's side in px
    side : {"L", "R"}; a right film is mirrored so the chest wall is on the right
    background : {"F", "G", "D"}, fatty, glandular or dense tissue
    lesions : list of dict
        ``abnormality`` (CIRC/MISC/SPIC), ``severity`` (B/M), ``radius`` (px), ``contrast``
        (added density); centres are drawn inside the breast.

    Returns
    -------
    dict
        ``image`` and ``clean`` (noise-free): numpy.ndarray of shape (size, size), uint8;
        ``breast_mask``, ``lesion_mask``: (size, size) bool; ``lesions``: the input dicts with
        ``row``/``col`` in the final (side-flipped) image.
    """
    rng = np.random.default_rng(seed)
    mask, depth, pectoral, nipple = _breast(rng, size)
    image = np.where(mask, _tissue(rng, size, background, depth, nipple), 0.0).astype(np.float32)
    image = np.where(pectoral, 0.58 + 0.12 * rng.random() + 0.04 * _smooth_noise(rng, (size, size), 6), image)
    lesion_mask = np.zeros((size, size), bool)
    placed: list[Lesion] = []
    for spec in lesions:
        radius = float(spec["radius"])
        for _ in range(200):  # a centre inside the breast, clear of the muscle and the skin line
            row, col = rng.uniform(radius, size - radius), rng.uniform(radius, size * 0.8)
            r, c = int(row), int(col)
            if depth[r, c] > 0.25 and not pectoral[max(r - int(radius), 0):r + int(radius), max(c - int(radius), 0):c + int(radius)].any():
                break
        else:
            raise DataError(f"could not place a lesion of radius {radius:.0f} px in a {size} px phantom; use a larger size")
        lesion = Lesion(spec["abnormality"], spec["severity"], row, col, radius, float(spec["contrast"]))
        density, lmask = _lesion_profile(rng, lesion, size)
        image += lesion.contrast * density * mask
        lesion_mask |= lmask & mask
        placed.append(lesion)
    background_level = 0.03 + 0.02 * rng.random()
    image = np.where(mask, image, background_level)
    _label(rng, image, mask)
    clean = cv2.GaussianBlur(image, (0, 0), 0.7 * size / 512)
    noisy = clean + rng.normal(0, rng.uniform(0.008, 0.02), clean.shape).astype(np.float32)
    to_u8 = lambda a: np.clip(np.rint(a * 255), 0, 255).astype(np.uint8)  # noqa: E731
    out = {"image": to_u8(noisy), "clean": to_u8(clean), "breast_mask": mask, "lesion_mask": lesion_mask}
    if side == "R":  # canonical view has the chest wall on the left, as MIAS left films: mirror right ones
        out = {k: np.ascontiguousarray(v[:, ::-1]) for k, v in out.items()}
    out["lesions"] = [{**spec, "row": l.row, "col": (size - 1 - l.col) if side == "R" else l.col}
                      for spec, l in zip(lesions, placed)]
    return out


def plan(n_patients: int, size: int, seed: int) -> list[dict]:
    """What each film holds: id, side, background and lesion specs (a quarter of the films are normal).

    Counts are fixed, not sampled: of 2·n films, 25 % normal, the rest half benign, half
    malignant, and 15 % of abnormal films carry a second mass of the same severity.
    """
    rng = np.random.default_rng(seed)
    films = 2 * n_patients
    n_normal = int(round(0.25 * films))
    n_malignant = (films - n_normal) // 2
    kinds = np.array(["N"] * n_normal + ["M"] * n_malignant + ["B"] * (films - n_normal - n_malignant))
    rng.shuffle(kinds)
    backgrounds = rng.choice(list("FGD"), size=n_patients)
    films_out = []
    for i, kind in enumerate(kinds):
        number = i + 1
        lesions = []
        if kind != "N":
            for _ in range(2 if rng.random() < 0.15 else 1):
                if kind == "B":
                    cls = rng.choice(["CIRC", "MISC"], p=[0.8, 0.2])
                    radius, contrast = rng.uniform(0.025, 0.075), rng.uniform(0.07, 0.20)
                else:
                    cls = rng.choice(["SPIC", "MISC", "CIRC"], p=[0.55, 0.3, 0.15])
                    radius, contrast = rng.uniform(0.03, 0.08), rng.uniform(0.08, 0.22)
                lesions.append({"abnormality": str(cls), "severity": str(kind),
                                "radius": radius * size, "contrast": contrast})
        films_out.append({"image_id": f"{PREFIX}{number:03d}", "side": "L" if number % 2 == 0 else "R",
                          "background": str(backgrounds[(number - 1) // 2]), "lesions": lesions})
    return films_out


def _info_rows(film: dict, lesions: list[dict], size: int) -> list[str]:
    head = f"{film['image_id']} {film['background']}"
    if not lesions:
        return [f"{head} NORM "]
    return [f"{head} {l['abnormality']} {l['severity']} {int(round(l['col']))} "
            f"{int(round(size - 1 - l['row']))} {int(np.ceil(l['radius'] * 1.1))}" for l in lesions]


def _check(n_patients: int, size: int, seed: int) -> None:
    if not isinstance(n_patients, int) or n_patients < 1:
        raise ConfigError(f"phantoms: n_patients={n_patients!r}; give an integer >= 1 (--patients)")
    if not isinstance(size, int) or not 64 <= size <= 4096:
        raise ConfigError(f"phantoms: size={size!r}; give an integer in [64, 4096] pixels (--size)")
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"phantoms: seed={seed!r}; give an integer >= 0 (--seed)")


def _settings(n_patients: int | None, size: int | None, seed: int | None) -> dict:
    settings = {"generator_version": GENERATOR_VERSION,
                "n_patients": DEFAULTS["n_patients"] if n_patients is None else n_patients,
                "size": DEFAULTS["size"] if size is None else size,
                "seed": DEFAULTS["seed"] if seed is None else seed}
    _check(settings["n_patients"], settings["size"], settings["seed"])
    return settings


def _settings_of(folder: Path) -> dict | None:
    """The settings a phantom folder was written with; None if it is not one (or its marker is damaged)."""
    try:
        return json.loads((folder / PHANTOM_MARKER).read_text())
    except (OSError, ValueError):
        return None


def phantom_dir(n_patients: int | None = None, size: int | None = None, seed: int | None = None) -> Path:
    """Where the phantom set of these settings lives: ``data/synthetic`` for the defaults, else a
    sibling keyed by the settings (``data/synthetic-g3-p10-s512-seed0``), so sets never overwrite
    each other."""
    s = _settings(n_patients, size, seed)
    if s == {"generator_version": GENERATOR_VERSION, **DEFAULTS}:
        return paths.data_dir() / "synthetic"
    return paths.data_dir() / f"synthetic-g{s['generator_version']}-p{s['n_patients']}-s{s['size']}-seed{s['seed']}"


def write_phantoms(out: Path | str | None = None, n_patients: int | None = None, size: int | None = None,
                   seed: int | None = None) -> Path:
    """Write a phantom set in the MIAS layout into ``out`` (default :func:`phantom_dir`) and return it.

    ``None`` means the default (40 patients = 80 films of 512 px, seed 0: 20 normal films,
    ≥ 30 benign and ≥ 30 malignant masses). Same arguments give byte-identical files. The set
    is built in a temporary folder beside ``out`` and renamed into place, so a crash never
    leaves half a set. An existing set with the same settings is reused; any other existing
    ``out`` is an error — the kit never deletes or mixes into a folder it did not create.
    """
    settings = _settings(n_patients, size, seed)
    out = Path(out or phantom_dir(n_patients, size, seed)).expanduser().resolve()
    if out.exists():
        if _settings_of(out) == settings:
            return out
        raise DataError(f"{out} already exists and is not a phantom set written with {settings}; "
                        "the kit leaves it untouched. Choose another folder (--out), or move that one away.")
    try:
        with atomic_folder(out) as tmp:
            _write_into(tmp, settings)
    except OSError:
        if _settings_of(out) == settings:  # another process finished the same set first: use it
            return out
        raise
    return out


def _write_into(folder: Path, settings: dict) -> None:
    size, seed = settings["size"], settings["seed"]
    (folder / "truth").mkdir()
    lines = ["MAMMOKIT SYNTHETIC PHANTOMS (MIAS layout; not real patients)",
             f"generator {GENERATOR_VERSION}, seed {seed}, {settings['n_patients']} patients, {size} px",
             "Columns: REFNUM BG CLASS SEVERITY X Y RADIUS; origin bottom-left, as in MIAS.",
             "=" * 65, ""]
    for index, film in enumerate(plan(settings["n_patients"], size, seed)):
        made = make_phantom(np.random.SeedSequence([seed, index]), size, film["side"], film["background"],
                            film["lesions"])
        write_pgm(folder / f"{film['image_id']}.pgm", made["image"], comment=f"mammokit phantom seed {seed}")
        np.savez_compressed(folder / "truth" / f"{film['image_id']}.npz", clean=made["clean"],
                            breast_mask=made["breast_mask"], lesion_mask=made["lesion_mask"])
        lines += _info_rows(film, made["lesions"], size)
    (folder / "Info.txt").write_text("\n".join(lines) + "\n")
    (folder / PHANTOM_MARKER).write_text(json.dumps(settings, sort_keys=True))


def default_phantoms() -> Path:
    """The default phantom set, generated on first use (a few seconds).

    It lives in ``data/synthetic``; if that folder holds something else (another phantom set,
    an older generator's set, a user's files), it is left untouched and the default set goes to
    its settings-keyed sibling instead (``data/synthetic-g3-p40-s512-seed0``).
    """
    wanted = _settings(None, None, None)
    out = phantom_dir()
    if out.exists() and _settings_of(out) != wanted:
        keyed = paths.data_dir() / (f"synthetic-g{GENERATOR_VERSION}-p{DEFAULTS['n_patients']}"
                                    f"-s{DEFAULTS['size']}-seed{DEFAULTS['seed']}")
        print(f"mammokit: {out} holds other files (left untouched); the default phantoms live in {keyed}")
        out = keyed
    if _settings_of(out) == wanted:
        return out
    print(f"mammokit: generating synthetic phantoms in {out} (one-off, a few seconds)")
    return write_phantoms(out)
