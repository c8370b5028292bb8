"""MIAS: the ``Info.txt`` parser, left/right patient pairing, the folder loader and the downloader.

The mini-MIAS ``Info.txt`` is free text (a letter, credits, notes) followed, after a line of
``=====``, by one row per abnormality::

    mdb005 F CIRC B 477 133 30     several rows may share one image
    mdb059 F CIRC B                an abnormality without coordinates
    mdb216 D CALC M *NOTE 3*       calcifications spread out: no centre on purpose
    mdb003 D NORM                  a normal film (trailing spaces are common)

x, y have their origin at the BOTTOM-LEFT of the 1024×1024 film, so the array row of a
centre is ``height - 1 - y``. Films come in pairs per patient: mdb001 and mdb002 are one
woman; even numbers are left films, odd numbers right (the file's own note 1).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from mammokit.data.catalog import ABNORMALITIES, BACKGROUNDS, SEVERITIES, finish
from mammokit.data.images import pgm_shape
from mammokit.data.tables import fields, read_text
from mammokit.data.validate import validate
from mammokit.errors import DataError

_REF = re.compile(r"^([a-z]{2,})(\d{3,})$")
_NOTE = re.compile(r"\*\s*NOTE\s*\d*\s*\*", re.IGNORECASE)
_FORMAT = "'REFNUM BG CLASS [SEVERITY [X Y RADIUS]]', e.g. 'mdb005 F CIRC B 477 133 30' or 'mdb003 D NORM'"
PHANTOM_MARKER = "phantoms.json"  # written by mammokit.data.synthetic next to Info.txt


@dataclass(frozen=True)
class InfoRow:
    """One parsed data row of ``Info.txt`` (``line`` is 1-based, for error messages)."""

    image_id: str
    background: str
    abnormality: str
    severity: str | None
    x: float | None
    y: float | None
    radius: float | None
    line: int
    note: str | None = None


def patient_of(image_id: str) -> tuple[str, str]:
    """(patient_id, side) of a MIAS-style id: mdb005 -> ('p003', 'R'), mdb006 -> ('p003', 'L')."""
    match = _REF.match(image_id)
    if not match:
        raise DataError(f"image id {image_id!r} is not of the form 'mdbNNN' (letters then digits)")
    number = int(match.group(2))
    return f"p{(number + 1) // 2:03d}", ("L" if number % 2 == 0 else "R")


def _bad(path: Path, lineno: int, text: str, why: str) -> DataError:
    return DataError(f"{path} line {lineno}: {why}; expected {_FORMAT}, got {text.strip()!r}. "
                     "Fix or delete that line (a copy of the original MIAS Info.txt parses as is).")


def parse_line(text: str, lineno: int = 0, path: Path | str = "Info.txt") -> InfoRow:
    """Parse one data row of ``Info.txt``; raise :class:`DataError` naming file and line if malformed."""
    path = Path(path)
    note_match = _NOTE.search(text)
    note = note_match.group(0).strip() if note_match else None
    tokens = fields(_NOTE.sub(" ", text))
    if len(tokens) < 3:
        raise _bad(path, lineno, text, f"only {len(tokens)} field(s)")
    ref, bg, cls, rest = tokens[0].lower(), tokens[1].upper(), tokens[2].upper(), tokens[3:]
    if not _REF.match(ref):
        raise _bad(path, lineno, text, f"reference {ref!r} is not like 'mdb001'")
    if bg not in BACKGROUNDS:
        raise _bad(path, lineno, text, f"background {tokens[1]!r} is not one of F, G, D")
    if cls not in ABNORMALITIES:
        raise _bad(path, lineno, text, f"class {tokens[2]!r} is not one of {', '.join(ABNORMALITIES)}")
    if cls == "NORM":
        if rest:
            raise _bad(path, lineno, text, "a NORM row takes no severity or coordinates")
        return InfoRow(ref, bg, cls, None, None, None, None, lineno, note)
    if not rest:
        raise _bad(path, lineno, text, f"class {cls} needs a severity B or M")
    severity = rest[0].upper()
    if severity not in SEVERITIES:
        raise _bad(path, lineno, text, f"severity {rest[0]!r} is not B or M")
    numbers = rest[1:]
    if not numbers:
        return InfoRow(ref, bg, cls, severity, None, None, None, lineno, note)
    if len(numbers) != 3:
        raise _bad(path, lineno, text, f"{len(numbers)} number(s) after the severity, need x y radius (3) or none")
    try:
        x, y, radius = (float(n) for n in numbers)
    except ValueError:
        raise _bad(path, lineno, text, f"x y radius {' '.join(numbers)!r} are not all numbers") from None
    if not all(math.isfinite(v) for v in (x, y, radius)):
        raise _bad(path, lineno, text, "x, y and radius must be finite numbers (not nan or inf)")
    if min(x, y) < 0 or radius <= 0:
        raise _bad(path, lineno, text, "x and y must be >= 0 and the radius > 0")
    return InfoRow(ref, bg, cls, severity, x, y, radius, lineno, note)


def _looks_like_row(line: str) -> bool:
    tokens = fields(line)
    if not tokens:
        return False
    if _REF.match(tokens[0].lower()):
        return True
    return len(tokens) >= 3 and tokens[1].upper() in BACKGROUNDS and tokens[2].upper() in ABNORMALITIES


def parse_info(path: Path | str) -> list[InfoRow]:
    """All data rows of an ``Info.txt``.

    The data block runs from the first to the last line that looks like a data row — it
    starts with a reference such as ``mdb001``, or its 2nd and 3rd fields are a background and
    a class (so a typo in the first or last reference is an error, not a lost row); the letter,
    notes and ``=====`` lines around it are skipped. Inside the block blank lines are skipped
    and every other line must parse. The file is read by :func:`mammokit.data.tables.read_text`:
    UTF-8 with or without a byte-order mark, UTF-16, or Latin-1; fields may also be separated by
    commas or semicolons (a copy saved from a spreadsheet).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no Info.txt here. A MIAS folder holds Info.txt and mdbNNN.pgm; "
                        "run `mammokit data download mias` or see data/README.md.")
    lines = read_text(path, "Info.txt", fallback="latin-1")[0].splitlines()
    is_row = [_looks_like_row(line) for line in lines]
    if any(is_row):
        first, last = is_row.index(True), len(is_row) - 1 - is_row[::-1].index(True)
    else:
        first, last = 0, -1
    rows = [parse_line(line, i + 1, path) for i, line in enumerate(lines[first:last + 1], start=first)
            if line.strip()]
    if not rows:
        raise DataError(f"{path}: no data rows found after the header. Expected lines like "
                        "'mdb001 G CIRC B 535 425 197'; is this the MIAS Info.txt?")
    return rows


def load_folder(folder: Path | str) -> pd.DataFrame:
    """The catalog of a MIAS-layout folder (``Info.txt`` + ``<image_id>.pgm``), real or phantom.

    A folder with ``phantoms.json`` is a phantom set: ``dataset`` is ``synthetic`` and
    ``truth`` points at ``truth/<image_id>.npz``. Every image named in Info.txt must exist,
    and every centre must fall inside its image.
    """
    folder = Path(folder).expanduser().resolve()
    info = folder / "Info.txt"
    rows = parse_info(info)
    phantom = (folder / PHANTOM_MARKER).is_file()
    shapes: dict[str, tuple[int, int]] = {}
    records = []
    for r in rows:
        image = folder / f"{r.image_id}.pgm"
        if r.image_id not in shapes:
            if not image.is_file():
                raise DataError(f"{info} line {r.line}: names {r.image_id} but {image} does not exist. "
                                "Put the image there, or remove its rows from Info.txt.")
            shapes[r.image_id] = pgm_shape(image)
        height, width = shapes[r.image_id]
        patient, side = patient_of(r.image_id)
        truth = folder / "truth" / f"{r.image_id}.npz"
        records.append({
            "image_id": r.image_id, "patient_id": patient, "path": str(image),
            "dataset": "synthetic" if phantom else "mias", "side": side,
            "background": r.background, "abnormality": r.abnormality, "severity": r.severity,
            "x": r.x, "y": r.y, "radius": r.radius,
            "row": None if r.y is None else height - 1 - r.y, "col": r.x,
            "height": height, "width": width,
            "truth": str(truth) if phantom and truth.is_file() else None,
        })
    return validate(finish(records), [f"{info} line {r.line}" for r in rows])


def is_mias_folder(folder: Path | str) -> bool:
    """True when ``folder`` holds an ``Info.txt`` (a MIAS layout, real or phantom)."""
    return (Path(folder) / "Info.txt").is_file()


def download(dest: Path | str | None = None, mirrors: Sequence[str] | None = None, **kwargs) -> Path:
    """Download, verify and install MIAS into ``dest`` (default ``data/mias``); see :mod:`mammokit.data.download`."""
    from mammokit.data.download import install_mias

    return install_mias(dest=dest, mirrors=mirrors, **kwargs)


def phantom_settings(folder: Path | str) -> dict:
    """The generator settings a phantom folder was written with (empty for real MIAS)."""
    marker = Path(folder) / PHANTOM_MARKER
    return json.loads(marker.read_text()) if marker.is_file() else {}


def origin_check(catalog: pd.DataFrame) -> pd.DataFrame:
    """Mean grey level around each mass centre read correctly (row = height-1-y) and wrongly (row = y).

    Masses are denser than their surroundings, so the correct reading is brighter far more
    often: the data itself tells you which way y runs. One row per located CIRC/SPIC/MISC row
    (columns ``image_id, right, wrong``; grey levels of the image's own dtype).
    """
    from mammokit.data.images import read_image

    masses = catalog[catalog["abnormality"].isin(["CIRC", "SPIC", "MISC"]) & catalog["row"].notna()]
    out = []
    for r in masses.itertuples():
        image = read_image(r.path)
        k = max(int(r.radius) // 2, 3)

        def around(row: float) -> float:
            return float(image[max(int(row) - k, 0):int(row) + k + 1, max(int(r.col) - k, 0):int(r.col) + k + 1].mean())

        out.append({"image_id": r.image_id, "right": around(r.row), "wrong": around(r.y)})
    return pd.DataFrame(out, columns=["image_id", "right", "wrong"])
