"""DICOM mammograms: a manifest CSV that lists them, and pixel reading with pydicom.

The paper's private dataset was DICOM, so a researcher brings files like these. A manifest is
a CSV with one row per abnormality (or per normal image):

    path,patient_id,label,x,y,radius
    scans/a1.dcm,P001,malignant,812,1030,60
    scans/a2.dcm,P001,normal,,,

Required: ``path`` (relative to the manifest's folder, or absolute), ``patient_id``, ``label``
(``0``/``1``, ``B``/``M``, ``benign``/``malignant``, or ``normal``/empty). Optional:
``image_id`` (default: file stem), ``x, y, radius`` or a box ``xmin, ymin, xmax, ymax``,
``side`` (default: the DICOM ImageLaterality, else ``U``), ``background``, ``abnormality``
(default ``MISC`` for a lesion, ``NORM`` for a normal image). DICOM coordinates have their
origin at the TOP-left (x = column, y = row), unlike MIAS.
"""
from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mammokit.data.catalog import ABNORMALITIES, BACKGROUNDS, finish
from mammokit.data.tables import read_csv
from mammokit.data.validate import validate
from mammokit.errors import DataError
from mammokit.files import atomic_path

REQUIRED = ("path", "patient_id", "label")
OPTIONAL = ("image_id", "x", "y", "radius", "xmin", "ymin", "xmax", "ymax", "side", "background", "abnormality")
_LABELS = {"0": "B", "b": "B", "benign": "B", "1": "M", "m": "M", "malignant": "M",
           "": None, "normal": None, "norm": None, "nan": None, "none": None}


_NOT_IMAGES = ("1.2.840.10008.5.1.4.1.1.88.", "1.2.840.10008.5.1.4.1.1.104.", "1.2.840.10008.5.1.4.1.1.11.")
"""SOP class prefixes of DICOM objects without pixels: structured reports, PDFs, presentation states."""


def _truncated(path: Path, detail: str) -> DataError:
    return DataError(f"{path}: the DICOM file is truncated (cut short: {path.stat().st_size} bytes, {detail}). "
                     "Copy or export it again from the PACS/viewer; a download or copy was interrupted.")


def _dcmread(path: Path, pixels: bool = True):
    import struct

    import pydicom
    from pydicom.errors import InvalidDicomError

    if not path.is_file():
        raise DataError(f"{path}: DICOM file not found. Check the path (relative to the manifest's folder).")
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=not pixels)
        if (cut := _cut_short(path, ds, whole=pixels)) is not None:
            raise cut
        return ds
    except (EOFError, struct.error) as exc:
        raise _truncated(path, f"ends inside an element: {exc}") from None
    except (InvalidDicomError, OSError, ValueError, KeyError, AttributeError) as exc:
        short = " (too short to be one: cut short?)" if path.stat().st_size <= 132 else ""
        raise DataError(f"{path}: not a readable DICOM file{short} ({path.stat().st_size} bytes; "
                        f"{type(exc).__name__}: {exc}). Export it again from the PACS/viewer as DICOM Part 10.") from None


def _cut_short(path: Path, ds, whole: bool = True) -> DataError | None:
    """A :class:`DataError` when the file ends inside its last element (pydicom reads what is there
    and stops quietly): the value is shorter than its length, or (``whole``: the dataset was read
    to the end) a partial element header is left."""
    tags = [tag for tag in ds.keys() if tag.group != 0x0002]
    if not tags:
        return None
    raw = ds.get_item(max(tags))
    tell, length = getattr(raw, "value_tell", None), getattr(raw, "length", None)
    if tell is None or length is None or length == 0xFFFFFFFF:
        return None  # already decoded, or a sequence of undefined length: nothing to compare
    size = path.stat().st_size
    if tell + length > size:
        return _truncated(path, f"its last element {raw.tag} holds {size - tell} of {length} bytes")
    if whole and tell + length < size:
        return _truncated(path, f"{size - tell - length} stray byte(s) after its last complete element")
    return None


def _no_pixels(path: Path, ds) -> DataError:
    """A complete DICOM without pixel data: a report or structured document (or pixels removed)."""
    sop = str(getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", "") or ds.get("SOPClassUID", ""))
    if sop and not sop.startswith(_NOT_IMAGES) and "Rows" not in ds:
        return _truncated(path, "it ends before its image size and pixel data")
    kind = "a report or structured document" if sop.startswith(_NOT_IMAGES) else "a report or structured document?"
    return DataError(f"{path}: the DICOM file has no pixel data ({kind}; SOP class {sop or 'unknown'}). "
                     "Point the manifest at the image file.")


def _short_pixels(path: Path, ds) -> DataError | None:
    """A :class:`DataError` when uncompressed pixel data is shorter than Rows x Columns announce."""
    if getattr(ds, "file_meta", None) is None or ds.file_meta.get("TransferSyntaxUID") is None \
            or ds.file_meta.TransferSyntaxUID.is_compressed:
        return None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    expected = int(ds.get("Rows", 0)) * int(ds.get("Columns", 0)) * int(ds.get("SamplesPerPixel", 1)) * frames \
        * int(ds.get("BitsAllocated", 8)) // 8
    got = len(ds.PixelData)
    return None if got >= expected else _truncated(path, f"{got} of the {expected} pixel bytes its header announces")


def read_dicom(path: Path | str) -> NDArray[np.uint8] | NDArray[np.uint16]:
    """Pixels of a DICOM mammogram as displayed: 2-D uint8 (≤ 8 bits stored) or uint16.

    Applies the modality rescale (slope/intercept), then the VOI LUT or window
    (centre/width) if the file has one, mapping to 0 … 2**BitsStored − 1 so 12/16-bit depth is
    kept; MONOCHROME1 (bright = low values) is inverted so bright is always dense tissue.

    Parameters
    ----------
    path : Path or str of a single-frame grayscale DICOM file

    Returns
    -------
    numpy.ndarray of shape (H, W): uint8 when BitsStored ≤ 8, else uint16 in [0, 2**BitsStored − 1]
    """
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    path = Path(path)
    ds = _dcmread(path)
    if "PixelData" not in ds:
        raise _no_pixels(path, ds)
    if (short := _short_pixels(path, ds)) is not None:
        raise short
    try:
        pixels = ds.pixel_array
    except Exception as exc:  # pydicom raises many kinds for missing codecs or damaged data
        raise DataError(f"{path}: pixel data cannot be decoded ({exc}). If it is compressed (JPEG 2000 …) "
                        "install a pydicom codec (pylibjpeg) or export it uncompressed.") from None
    if pixels.ndim == 3 and pixels.shape[0] == 1:
        pixels = pixels[0]
    if pixels.ndim != 2:
        raise DataError(f"{path}: expected one grayscale frame, got pixel array of shape {pixels.shape} "
                        f"({ds.get('PhotometricInterpretation', '?')}). Export a single 2-D mammogram.")
    bits = int(ds.get("BitsStored", pixels.dtype.itemsize * 8))
    top = float(2 ** min(max(bits, 1), 16) - 1)
    values = np.asarray(apply_modality_lut(pixels, ds), dtype=np.float64)
    if "VOILUTSequence" in ds:
        lut_bits = int(ds.VOILUTSequence[0].LUTDescriptor[2])
        values = np.asarray(apply_voi_lut(np.rint(values).astype(np.int64), ds, index=0, prefer_lut=True), np.float64)
        values = np.clip(values, 0, 2 ** lut_bits - 1) * (top / (2 ** lut_bits - 1))
    elif "WindowCenter" in ds and "WindowWidth" in ds:
        centre = float(np.ravel(ds.WindowCenter)[0])
        width = max(float(np.ravel(ds.WindowWidth)[0]), 1.0)
        values = np.clip((values - (centre - 0.5)) / max(width - 1, 1.0) + 0.5, 0, 1) * top  # DICOM LINEAR
    else:  # no window: shift negatives up and squeeze an overflowing range, never clip detail away
        values = values - min(values.min(), 0)
        values = values * (top / values.max()) if values.max() > top else values
    if str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper() == "MONOCHROME1":
        values = top - values
    return np.rint(values).astype(np.uint8 if bits <= 8 else np.uint16)


def _laterality(ds) -> str:
    side = str(ds.get("ImageLaterality", "") or ds.get("Laterality", "")).upper()
    return side if side in ("L", "R") else "U"


def _number(frame: pd.DataFrame, column: str, manifest: Path, lines: list[int]) -> pd.Series:
    raw = frame[column] if column in frame else pd.Series([np.nan] * len(frame))
    decimal_point = raw.astype(str).str.replace(r"^\s*([+-]?\d+),(\d+)\s*$", r"\1.\2", regex=True)  # 812,5
    values = pd.to_numeric(decimal_point.where(raw.notna()), errors="coerce")
    bad = raw.notna() & raw.astype(str).str.strip().ne("") & values.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{manifest} line {lines[i]}: column {column!r} holds {raw.iloc[i]!r}, not a number. "
                        "Write a number or leave it empty.")
    return values


def load_manifest(manifest: Path | str) -> pd.DataFrame:
    """The catalog of the DICOM files a manifest CSV lists (see the module docstring)."""
    manifest = Path(manifest).expanduser().resolve()
    if not manifest.is_file():
        raise DataError(f"{manifest}: manifest CSV not found. Give the path of a CSV with columns "
                        f"{', '.join(REQUIRED)}.")
    table = read_csv(manifest, "manifest")
    frame, lines, head = table.frame, table.lines, f"{manifest} line {table.header_line}"
    frame.columns = [c.lower() for c in frame.columns]
    unknown = [c for c in frame.columns if c not in REQUIRED + OPTIONAL]
    if unknown and len(unknown) == len(frame.columns):
        raise DataError(f"{head}: no column name the kit knows ({', '.join(repr(c) for c in unknown[:4])}): is the "
                        f"header line missing? The first line must name the columns, e.g. {','.join(REQUIRED)},x,y,radius.")
    if unknown:
        hints = [f"{c!r}" + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(c, REQUIRED + OPTIONAL, 1))
                             else "") for c in unknown]
        raise DataError(f"{head}: unknown column(s) {', '.join(hints)}. Allowed: {', '.join(REQUIRED + OPTIONAL)}.")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(f"{head}: required column(s) {', '.join(missing)} missing. A manifest needs "
                        f"{', '.join(REQUIRED)} (+ optional x, y, radius or xmin, ymin, xmax, ymax).")
    if frame.empty:
        raise DataError(f"{manifest}: the manifest lists no images. Add one row per image or abnormality.")
    has_box = any(c in frame for c in ("xmin", "ymin", "xmax", "ymax"))
    if has_box and any(c in frame for c in ("x", "y", "radius")):
        raise DataError(f"{head}: give either x, y, radius or xmin, ymin, xmax, ymax, not both.")
    if has_box:
        x0, y0, x1, y1 = (_number(frame, c, manifest, lines) for c in ("xmin", "ymin", "xmax", "ymax"))
        x, y, radius = (x0 + x1) / 2, (y0 + y1) / 2, np.maximum(x1 - x0, y1 - y0) / 2
    else:
        x, y, radius = (_number(frame, c, manifest, lines) for c in ("x", "y", "radius"))
    headers: dict[Path, object] = {}
    records = []
    for i, row in frame.iterrows():
        line = lines[int(i)]
        label_text = str(row["label"]).strip().lower()
        if label_text not in _LABELS:
            raise DataError(f"{manifest} line {line}: label {row['label']!r} is not one of 0/1, B/M, "
                            "benign/malignant, normal or empty.")
        severity = _LABELS[label_text]
        path = Path(str(row["path"]).strip()).expanduser()
        path = path if path.is_absolute() else manifest.parent / path
        if not str(row["path"]).strip() or not str(row["patient_id"]).strip():
            raise DataError(f"{manifest} line {line}: 'path' and 'patient_id' must not be empty.")
        if path not in headers:
            headers[path] = _dcmread(path, pixels=False)
        ds = headers[path]
        if "Rows" not in ds or "Columns" not in ds:
            raise DataError(f"{manifest} line {line}: {path} ({path.stat().st_size} bytes) has no image size (Rows, "
                            "Columns) in its header: it is truncated (cut short), or not an image (a report?). "
                            "Copy or export the image again.")
        height, width = int(ds.Rows), int(ds.Columns)
        abnormality = str(row.get("abnormality", "") or ("MISC" if severity else "NORM")).upper()
        background = str(row.get("background", "") or "").upper() or None
        side = str(row.get("side", "") or _laterality(ds)).upper()
        if abnormality not in ABNORMALITIES or (background and background not in BACKGROUNDS) or side not in "LRU":
            raise DataError(f"{manifest} line {line}: abnormality {abnormality!r} / background {background!r} / "
                            f"side {side!r} not allowed (classes {', '.join(ABNORMALITIES)}; F/G/D; L/R).")
        records.append({
            "image_id": str(row.get("image_id", "") or path.stem), "patient_id": str(row["patient_id"]).strip(),
            "path": str(path), "dataset": "dicom", "side": side, "background": background,
            "abnormality": abnormality, "severity": severity, "x": x[i], "y": y[i],
            "radius": radius[i], "row": y[i], "col": x[i],
            "height": height, "width": width, "truth": None,
        })
    return validate(finish(records), [f"{manifest} line {line}" for line in lines])


def write_dicom(path: Path | str, image: NDArray[np.uint8] | NDArray[np.uint16], *, patient_id: str = "ANON",
                side: str = "", bits_stored: int | None = None, photometric: str = "MONOCHROME2",
                window: tuple[float, float] | None = None, slope: float = 1.0, intercept: float = 0.0) -> Path:
    """Write a 2-D uint8/uint16 array as a minimal uncompressed DICOM mammogram (for examples and tests).

    Parameters
    ----------
    path : Path or str, written atomically
    image : numpy.ndarray of shape (H, W), uint8 or uint16 (stored as is, no rescaling)
    patient_id, side : str, PatientID and ImageLaterality ("L", "R" or "")
    bits_stored : int, BitsStored (None: the dtype's 8 or 16)
    photometric : str, "MONOCHROME2" (bright = dense) or "MONOCHROME1" (inverted)
    window : (centre, width) of the VOI window, or None for none
    slope, intercept : float, the modality rescale written (1, 0: none)

    Returns
    -------
    Path of the file written
    """
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    image = np.asarray(image)
    if image.ndim != 2 or image.dtype not in (np.uint8, np.uint16):
        raise DataError(f"write_dicom({path}): expected a 2-D uint8/uint16 array, got {image.dtype} {image.shape}")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"  # Digital Mammography X-Ray Image
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID, ds.ImageLaterality = "MG", patient_id, side
    ds.Rows, ds.Columns = image.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelRepresentation = 1, photometric, 0
    ds.BitsAllocated = image.dtype.itemsize * 8
    ds.BitsStored = bits_stored or ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    if slope != 1.0 or intercept != 0.0:
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    ds.PixelData = np.ascontiguousarray(image).tobytes()
    with atomic_path(path) as tmp:
        ds.save_as(tmp, enforce_file_format=True)
    return Path(path)
