"""CBIS-DDSM: the four TCIA description CSVs and the DICOM folders of a TCIA download, as a catalog.

A download holds, side by side (NBIA Data Retriever; the CSVs come from the collection page)::

    mass_case_description_train_set.csv   mass_case_description_test_set.csv
    calc_case_description_train_set.csv   calc_case_description_test_set.csv
    CBIS-DDSM/Mass-Training_P_00001_LEFT_CC/<study>/<series>/1-1.dcm          the film
    CBIS-DDSM/Mass-Training_P_00001_LEFT_CC_1/<study>/<series>/1-1.dcm        ROI mask or cropped lesion
    CBIS-DDSM/Mass-Training_P_00001_LEFT_CC_1/<study>/<series>/1-2.dcm        (the other one)

The CSVs' file paths (``Mass-Training_P_00001_LEFT_CC/1.3.6.1.4.1.9590.../000000.dcm``) do not
match a download: the study/series folders are named differently (other uids, or descriptive names
such as ``07-20-2016-DDSM-74994/1.000000-full mammogram images-24515``) and the files are
``1-1.dcm``/``1-2.dcm``. Only the first part of each path, the case folder, is relied on; the
``.dcm`` files are looked up under it. In an ROI folder the mask and the cropped lesion come in
no fixed order: the mask is the file whose DICOM SeriesDescription says "ROI mask images", else
the larger one (a mask has the film's size, a crop is a small patch).

Rows (the catalog contract, CONTRIBUTING.md), one per CSV row (abnormality):

* ``image_id`` the film's case folder (``Mass-Training_P_00001_LEFT_CC``), ``patient_id`` ``P_00001``,
  ``side`` L/R, ``dataset`` ``"cbis-ddsm"``, ``split`` the official ``"train"``/``"test"`` of the CSV.
* ``background``: ACR breast density 1 (fatty) → F, 2 (scattered fibroglandular) → G, 3
  (heterogeneously dense) and 4 (extremely dense) → D, like MIAS's fatty / fatty-glandular /
  dense-glandular; anything else (a few rows say 0) → None.
* ``abnormality``: calcifications → CALC. Masses by their BI-RADS descriptors, first match wins:
  shape ARCHITECTURAL_DISTORTION → ARCH; shape ASYMMETRIC_BREAST_TISSUE / FOCAL_ASYMMETRIC_DENSITY
  → ASYM; margins SPICULATED → SPIC; margins CIRCUMSCRIBED → CIRC; anything else (ill-defined,
  microlobulated, obscured, N/A) → MISC — MIAS's own classes.
* ``severity``/``label``: MALIGNANT → M (1); BENIGN and BENIGN_WITHOUT_CALLBACK → B (0).
  BENIGN_WITHOUT_CALLBACK is benign by pathology definition: a finding benign enough that the
  woman was not even called back for further work-up. It is kept as benign, not dropped: it is
  the easiest benign class, and dropping it would make the benign class look more like cancer.
* centre and radius from the ROI mask: ``row, col`` the centroid of the mask's pixels; ``radius``
  the circle around that centre enclosing every mask pixel (+ half a pixel) — like MIAS's "radius
  of a circle enclosing the abnormality", so radius-based crops hold the whole lesion. ``x = col``,
  ``y = height - 1 - row`` (MIAS's bottom-left origin, so ``row = height - 1 - y`` as for MIAS).

A row whose film or ROI mask is not in the download is skipped, with one summary line on stderr
(``strict=True`` raises instead); nothing found at all is a :class:`DataError`. Masks are read
once: their geometry is cached under ``paths.cache_dir()/cbis`` (keyed by file size and time).

One patient may have films in the mass and the calc CSVs, on the train side of one and the test
side of the other. Each film keeps its CSV's ``split``; :func:`official_split` makes a
patient-disjoint train/test from it by moving such patients' rows to test (or dropping them from
train). The kit's own ``splits.split_by_patient``/``kfold_by_patient`` group by ``patient_id``,
so they never put a patient on two sides.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd

from mammokit import paths
from mammokit.data.catalog import finish
from mammokit.data.tables import read_csv
from mammokit.data.validate import validate
from mammokit.errors import ConfigError, DataError
from mammokit.files import write_text

DATASET = "cbis-ddsm"
CSV_FILES = {
    "mass_case_description_train_set.csv": ("mass", "train"),
    "mass_case_description_test_set.csv": ("mass", "test"),
    "calc_case_description_train_set.csv": ("calc", "train"),
    "calc_case_description_test_set.csv": ("calc", "test"),
}
REQUIRED = ("patient_id", "left or right breast", "pathology", "image file path", "ROI mask file path")
DENSITY = {"1": "F", "2": "G", "3": "D", "4": "D"}
PATHOLOGY = {"MALIGNANT": "M", "BENIGN": "B", "BENIGN_WITHOUT_CALLBACK": "B"}
SIDES = {"LEFT": "L", "RIGHT": "R"}
MM_PER_PIXEL = 0.05
"""About 50 µm: DDSM films were digitised at 42–50 µm per pixel (MIAS: 200 µm), so a fixed window
in millimetres needs ``mm_per_pixel=cbis.MM_PER_PIXEL`` (``roi.build_recipe_rois``)."""


def is_cbis_folder(folder: Path | str) -> bool:
    """Whether ``folder`` holds at least one of the four CBIS-DDSM description CSVs."""
    folder = Path(folder)
    return folder.is_dir() and any((folder / name).is_file() for name in CSV_FILES)


def image_root(folder: Path) -> Path:
    """Where the case folders are: ``folder/CBIS-DDSM`` (what the NBIA Data Retriever writes), else ``folder``."""
    return folder / "CBIS-DDSM" if (folder / "CBIS-DDSM").is_dir() else folder


def abnormality_code(kind: str, shape: str = "", margins: str = "") -> str:
    """MIAS class of a CBIS-DDSM finding (see the module docstring).

    >>> abnormality_code("mass", "IRREGULAR", "SPICULATED"), abnormality_code("mass", "OVAL", "CIRCUMSCRIBED")
    ('SPIC', 'CIRC')
    >>> abnormality_code("mass", "ROUND", "ILL_DEFINED"), abnormality_code("calc")
    ('MISC', 'CALC')
    """
    if kind == "calc":
        return "CALC"
    shape, margins = shape.upper(), margins.upper()
    if "ARCHITECTURAL_DISTORTION" in shape:
        return "ARCH"
    if "ASYMMETRIC" in shape:
        return "ASYM"
    if "SPICULATED" in margins:
        return "SPIC"
    return "CIRC" if "CIRCUMSCRIBED" in margins else "MISC"


def _key(column: str) -> str:
    """TCIA spells columns both ways ("breast density" / "breast_density"): compare lower-case, with spaces."""
    return column.strip().lower().replace("_", " ")


def read_description(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line where the row starts, {column: value}) per data row; column names lower-case with spaces.
    Read by the kit's one CSV reader (:func:`mammokit.data.tables.read_csv`: encodings, quoted
    paths holding a newline, the file's own line numbers)."""
    table = read_csv(path, "CBIS-DDSM description CSV")
    header = [_key(c) for c in table.frame.columns]
    missing = [c for c in REQUIRED if _key(c) not in header]
    if missing:
        raise DataError(f"{path} line {table.header_line}: column(s) {', '.join(repr(c) for c in missing)} missing. "
                        "Use the description CSV as downloaded from TCIA's CBIS-DDSM page (columns patient_id, "
                        "left or right breast, pathology, image file path, ROI mask file path, ...).")
    return [(line, dict(zip(header, values))) for line, values in zip(table.lines, table.frame.itertuples(index=False))]


def _dicoms(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.dcm") if p.is_file()) if folder.is_dir() else []


def _header(path: Path):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError) as exc:
        raise DataError(f"{path}: not a readable DICOM file ({type(exc).__name__}: {exc}). The download is damaged: "
                        "download this series again with the NBIA Data Retriever.") from None


def _shape(ds) -> tuple[int, int]:
    return int(ds.get("Rows", 0)), int(ds.get("Columns", 0))


def _signature(files: Sequence[Path]) -> str:
    return json.dumps([[str(p), (s := p.stat()).st_size, s.st_mtime_ns] for p in files])


def _pick_film(files: list[Path], folder: Path) -> Path:
    if len(files) == 1:
        return files[0]
    full = [p for p in files if "full" in str(_header(p).get("SeriesDescription", "")).lower()]
    if len(full) != 1:
        raise DataError(f"{folder}: {len(files)} DICOM files ({', '.join(p.name for p in files[:4])}) where one full "
                        "mammogram was expected. Keep only the film in its case folder.")
    return full[0]


def _pick_mask(files: list[Path], film_shape: tuple[int, int]) -> Path:
    headers = {p: _header(p) for p in files}
    masks = [p for p, ds in headers.items() if "mask" in str(ds.get("SeriesDescription", "")).lower()]
    if len(masks) == 1:
        return masks[0]
    # no usable SeriesDescription: the mask has the film's size, the cropped lesion is a small patch
    return max(files, key=lambda p: (_shape(headers[p]) == film_shape, np.prod(_shape(headers[p]))))


def mask_geometry(path: Path) -> tuple[float, float, float, int, int]:
    """(row, col, radius, height, width) of an ROI mask DICOM: centroid and enclosing radius (pixels).

    A mask needs no display mapping (rescale, window), so its stored pixels are thresholded as
    they are — 40 times faster than :func:`~mammokit.data.read_image` on a 3000×5000 film-sized
    mask, which matters for 3,568 of them; a file pydicom cannot decode goes through
    ``read_image`` for the kit's message.
    """
    import pydicom

    try:
        ds = pydicom.dcmread(path)
        pixels = np.asarray(ds.pixel_array)
    except Exception:  # damaged or compressed without a codec: the kit's reader says which and what to do
        from mammokit.data.images import read_image

        pixels, ds = read_image(path), {}
    pixels = pixels[0] if pixels.ndim == 3 and pixels.shape[0] == 1 else pixels
    if pixels.ndim != 2:
        raise DataError(f"{path}: an ROI mask should be one 2-D frame, got pixels of shape {pixels.shape}. "
                        "Download this series again.")
    low, high = int(pixels.min()), int(pixels.max())
    if low == high:
        raise DataError(f"{path}: the ROI mask is empty (every pixel is {low}). Download this series again.")
    inverted = str(ds.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1"
    rows, cols = np.nonzero((pixels < (low + high) / 2) if inverted else (pixels > (low + high) / 2))
    row, col = rows.mean(), cols.mean()
    radius = float(np.sqrt(((rows - row) ** 2 + (cols - col) ** 2).max())) + 0.5
    return float(row), float(col), radius, int(pixels.shape[0]), int(pixels.shape[1])


class _Cache:
    """Film shapes and mask geometry already measured, in one JSON file per download."""

    def __init__(self, root: Path):
        key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
        self.path = paths.cache_dir() / "cbis" / f"{key}.json"
        try:
            self.entries = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}
        self.changed = False

    def get(self, key: str, compute):
        if key not in self.entries:
            self.entries[key], self.changed = compute(), True
        return self.entries[key]

    def save(self) -> None:
        if self.changed:
            try:
                write_text(self.path, json.dumps(self.entries))
            except OSError:  # a read-only cache only costs time next load
                pass


def _case_folder(value: str) -> str:
    return value.replace("\\", "/").strip().strip("/").split("/")[0]


class _Missing(NamedTuple):
    where: str
    looked_for: Path


def _row_record(r: dict[str, str], kind: str, split: str, where: str) -> dict:
    pathology = r["pathology"].upper()
    side = SIDES.get(r["left or right breast"].upper())
    if pathology not in PATHOLOGY or side is None or not r["patient id"]:
        raise DataError(f"{where}: pathology {r['pathology']!r} / left or right breast {r['left or right breast']!r} / "
                        f"patient_id {r['patient id']!r} not understood (expected one of {', '.join(PATHOLOGY)}; "
                        "LEFT/RIGHT; P_00001). Use the CSV as downloaded from TCIA.")
    return {"patient_id": r["patient id"], "dataset": DATASET, "side": side,
            "background": DENSITY.get(r.get("breast density", "").strip()),
            "abnormality": abnormality_code(kind, r.get("mass shape", ""), r.get("mass margins", "")),
            "severity": PATHOLOGY[pathology], "truth": None, "split": split}


def load_folder(folder: Path | str, strict: bool = False) -> pd.DataFrame:
    """The catalog of a CBIS-DDSM download (see the module docstring).

    ``strict``: raise a :class:`DataError` for the first CSV row whose DICOM files are missing,
    instead of skipping such rows with one summary line on stderr.
    """
    folder = Path(folder).expanduser().resolve()
    present = [name for name in CSV_FILES if (folder / name).is_file()]
    if not present:
        raise DataError(f"{folder}: none of the CBIS-DDSM description CSVs ({', '.join(CSV_FILES)}). Download them "
                        "from TCIA's CBIS-DDSM page into this folder (see data/README.md).")
    root = image_root(folder)
    cases = {p.name: p for p in root.iterdir() if p.is_dir()}
    cache = _Cache(root)
    records, where, missing, seen = [], [], [], 0
    for name in present:
        kind, split = CSV_FILES[name]
        for line, r in read_description(folder / name):
            seen += 1
            here = f"{folder / name} line {line}"
            record = _row_record(r, kind, split, here)
            film_case, roi_case = _case_folder(r["image file path"]), _case_folder(r["roi mask file path"]
                                                                                 or r.get("cropped image file path", ""))
            films = _dicoms(cases.get(film_case, root / film_case)) if film_case else []
            rois = _dicoms(cases.get(roi_case, root / roi_case)) if films and roi_case else []
            if not films or not rois:
                looked = root / (film_case if not films else roi_case) / "**" / "*.dcm"
                if strict:
                    raise DataError(f"{here}: no DICOM file found at {looked} (the CSV names "
                                    f"{r['image file path'] if not films else r['roi mask file path']!r}). Download "
                                    "that series with the NBIA Data Retriever, or load with strict=False to skip it.")
                missing.append(_Missing(here, looked))
                continue
            film = _pick_film(films, cases.get(film_case, root / film_case))
            height, width = cache.get(_signature([film]), lambda: list(_shape(_header(film))))
            geometry = cache.get(_signature(rois), lambda: [str(m := _pick_mask(rois, (height, width))),
                                                           *mask_geometry(m)])
            mask, (row, col, radius, mask_h, mask_w) = Path(geometry[0]), geometry[1:]
            if (mask_h, mask_w) != (height, width):
                raise DataError(f"{here}: the ROI mask {mask} is {mask_w}x{mask_h} pixels but its film {film} is "
                                f"{width}x{height}: the mask cannot locate the lesion. Download both series again; "
                                "if TCIA's copy itself differs, delete this row from the CSV.")
            records.append({**record, "image_id": film_case, "path": str(film), "x": col, "y": height - 1 - row,
                            "radius": radius, "row": row, "col": col, "height": height, "width": width})
            where.append(here)
    cache.save()
    if not records:
        first = f" (first: {missing[0].where} looked for {missing[0].looked_for})" if missing else ""
        raise DataError(f"{folder}: none of the {seen} CSV rows has its DICOM files under {root}{first}. Download the "
                        "images with the NBIA Data Retriever into this folder (it writes a CBIS-DDSM/ folder).")
    catalog = finish(records)
    duplicate = catalog.duplicated(["image_id", "abnormality", "severity", "row", "col", "radius"]).to_numpy()
    notes = []
    if missing:
        notes.append(f"skipped {len(missing)} of {seen} CSV rows whose DICOM files are not under {root} (first: "
                     f"{missing[0].where} looked for {missing[0].looked_for}); download them to use them")
    if duplicate.any():
        notes.append(f"kept {int(duplicate.sum())} repeated row(s) (same film, class, pathology and mask) once")
    if notes:
        print(f"mammokit: CBIS-DDSM: {'; '.join(notes)}.", file=sys.stderr)
    keep = ~duplicate
    where = [w for w, k in zip(where, keep) if k]
    return validate(catalog[keep].reset_index(drop=True), where)


# --- the official split, made patient-disjoint ---------------------------------------------------

class OfficialSplit(NamedTuple):
    """Index arrays (positions 0..N-1 into the table) of CBIS-DDSM's train and test sides, no patient
    on both; ``moved`` the patients that had films on both sides (their train rows were moved or dropped)."""

    train: np.ndarray
    test: np.ndarray
    moved: list[str]


def official_split(table: pd.DataFrame, catalog: pd.DataFrame | None = None, straddling: str = "test") -> OfficialSplit:
    """CBIS-DDSM's own train/test split of ``table`` (a catalog, or a ROI table with ``catalog``
    giving each ``image_id``'s split), with no patient on both sides.

    A patient with films on both sides (e.g. calc train and mass test) has ``straddling="test"``
    her train rows moved to test (the official test set stays whole, training never sees a test
    patient), or with ``"drop"`` her train rows left out of both. The official test set is kept
    as published either way; what changed is reported in ``moved`` and on stderr.
    """
    if straddling not in ("test", "drop"):
        raise ConfigError(f"official_split(straddling={straddling!r}): use 'test' (move a patient's train rows to "
                          "test) or 'drop' (leave them out)")
    if catalog is not None:
        sides = catalog.drop_duplicates("image_id").set_index("image_id")["split"]
        split = table["image_id"].map(sides) if "image_id" in table else pd.Series([None] * len(table))
    else:
        split = table["split"] if "split" in table else pd.Series([None] * len(table))
    split = split.reset_index(drop=True).astype(object)
    if "patient_id" not in table or len(table) == 0 or not split.isin(["train", "test"]).all():
        raise DataError("official_split: every row needs patient_id and an official split ('train'/'test'); only "
                        "CBIS-DDSM catalogs have one (load_catalog on a CBIS-DDSM folder). For a ROI table pass "
                        "catalog=... to look the split up by image_id; elsewhere use splits.split_by_patient.")
    patients = table["patient_id"].astype(str).reset_index(drop=True)
    both = set(patients[split == "train"]) & set(patients[split == "test"])
    straddler = patients.isin(both).to_numpy()
    is_train = (split == "train").to_numpy()
    train = np.flatnonzero(is_train & ~straddler)
    test = np.flatnonzero(~is_train | (straddler if straddling == "test" else np.zeros_like(straddler)))
    if both:
        print(f"mammokit: official split: {len(both)} patient(s) have films on both sides (e.g. "
              f"{', '.join(sorted(both)[:3])}); their train rows were "
              f"{'moved to test' if straddling == 'test' else 'left out'}.", file=sys.stderr)
    return OfficialSplit(train.astype(np.int64), test.astype(np.int64), sorted(both))
