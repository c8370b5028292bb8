"""Catalogs and image reading: MIAS folders, synthetic phantoms, DICOM manifests and CBIS-DDSM.

``load_catalog(source)`` returns one table (see :data:`COLUMNS` and CONTRIBUTING.md) whatever
the source, and ``read_image(path)`` a 2-D uint8/uint16 array; later stages need nothing else.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from mammokit import paths
from mammokit.data.catalog import COLUMNS, counts, pick_images, summarise
from mammokit.data.images import read_image, read_pgm, suspicious, write_pgm
from mammokit.errors import DataError

__all__ = ["COLUMNS", "counts", "describe_source", "load_catalog", "locate", "mias_dir", "offer_mias", "pick_images", "read_image", "read_pgm",
           "summarise", "suspicious", "write_pgm"]


def mias_dir() -> Path:
    """Where an installed MIAS copy lives: ``data/mias`` (``$MAMMOKIT_DATA_DIR/mias``)."""
    return paths.data_dir() / "mias"


MIAS_LICENCE = ("MIAS licence (Mammographic Image Analysis Society, MiniMammographic Database): research "
                "use ONLY; you may not rent, lease or sell it; cite the database (Suckling et al. 1994) in any "
                "publication that uses it. Downloading it means you accept these terms.")


def offer_mias(data: str | Path, download: bool) -> str:
    """Notebook 01's offer: with ``data`` ``"auto"``, no MIAS installed and ``download`` on,
    download MIAS into :func:`mias_dir` (its licence shown first); a line saying what happened.

    Binder and Colab have internet, so a class there gets the real films instead of reading about
    MIAS while running phantoms; offline the download fails within seconds and ``"auto"`` stays on
    the phantoms, said loudly.

    >>> offer_mias("synthetic", True)
    "DATA='synthetic': nothing to download"
    """
    from mammokit.data import mias
    from mammokit.errors import MammokitError

    if str(data) != "auto":
        return f"DATA={str(data)!r}: nothing to download"
    if mias.is_mias_folder(mias_dir()):
        return f"MIAS is installed in {mias_dir()}: nothing to download"
    if not download:
        return "DOWNLOAD=False: no download. " + describe_source("auto")
    print(MIAS_LICENCE, flush=True)
    try:
        mias.download(mias_dir(), progress=False)
    except MammokitError as exc:  # offline, a mirror down, a full disk: the notebook goes on
        why = " ".join(str(exc).split("To install by hand")[0].split())  # the mirrors and their errors
        return f"*** MIAS download failed: {why} " + describe_source("auto")
    return "MIAS downloaded and verified. " + describe_source("auto")


def locate(source: str | Path = "auto") -> tuple[str, Path | None]:
    """What ``source`` names, without reading it: ``(kind, path)``, one home for the rules
    :func:`load_catalog` reads by and :func:`describe_source` reports by.

    ``kind`` is ``"synthetic"``; ``"installed"`` (``"auto"``/``"mias"`` with a copy in
    :func:`mias_dir`); ``"fallback"`` (``"auto"`` without one); ``"no-mias"`` (``"mias"``
    without one); ``"folder"`` (a MIAS-layout folder, or a data root holding ``mias/``);
    ``"cbis"`` (a CBIS-DDSM download: the folder, one of its CSVs or its image folder);
    ``"manifest"`` (a DICOM manifest ``.csv``); ``"missing"``.

    >>> locate("synthetic")
    ('synthetic', None)
    """
    from mammokit.data import cbis, mias

    text = str(source)
    if text == "synthetic":
        return "synthetic", None
    if text in ("auto", "mias"):
        if mias.is_mias_folder(mias_dir()):
            return "installed", mias_dir()
        return ("fallback", None) if text == "auto" else ("no-mias", mias_dir())
    path = Path(text).expanduser()
    if not mias.is_mias_folder(path) and mias.is_mias_folder(path / "mias"):
        return "folder", path / "mias"
    if cbis.is_cbis_folder(path):
        return "cbis", path
    if (path.name in cbis.CSV_FILES and path.is_file()) or (path.name == "CBIS-DDSM" and cbis.is_cbis_folder(path.parent)):
        return "cbis", path.parent
    if path.suffix.lower() == ".csv":
        return "manifest", path
    if path.is_dir():
        return "folder", path
    if path.name == "Info.txt" and path.is_file():
        return "folder", path.parent
    return "missing", None


def load_catalog(source: str | Path = "auto") -> pd.DataFrame:
    """The catalog of ``source``: one row per abnormality, a normal image is one row.

    ``source`` is ``"auto"`` (MIAS in ``data/mias`` when installed, else the phantoms — and it
    says so on stderr), ``"synthetic"`` (the default phantom set, generated on first use),
    ``"mias"`` (the installed copy), a MIAS-layout folder, a DICOM manifest ``.csv``, or a
    CBIS-DDSM download (a folder holding TCIA's ``*_case_description_*_set.csv``, see
    :mod:`mammokit.data.cbis`); :func:`locate` tells them apart.
    """
    from mammokit.data import cbis, mias, synthetic

    kind, path = locate(source)
    if kind in ("installed", "folder"):
        return mias.load_folder(path)
    if kind == "cbis":
        return cbis.load_folder(path)
    if kind == "manifest":
        from mammokit.data import dicom

        return dicom.load_manifest(path)
    if kind == "fallback":
        print(f"*** mammokit: no MIAS found in {mias_dir()} — FALLING BACK to synthetic phantoms. "
              "Run `mammokit data download mias` for the real data. ***", file=sys.stderr)
    if kind in ("synthetic", "fallback"):
        return mias.load_folder(synthetic.default_phantoms())
    if kind == "no-mias":
        raise DataError(f"no MIAS copy in {mias_dir()} (no Info.txt). Run `mammokit data download mias`, "
                        "or put Info.txt and mdb001.pgm ... mdb322.pgm there by hand (see data/README.md).")
    raise DataError(f"data source {str(source)!r} not found. Use 'auto', 'synthetic', 'mias', a folder holding "
                    "MIAS Info.txt + .pgm files, a DICOM manifest .csv, or a CBIS-DDSM folder (its description CSVs "
                    "beside the CBIS-DDSM/ image folder).")


def describe_source(source: str | Path = "auto") -> str:
    """One line naming the data :func:`load_catalog` would read from ``source``, without reading it.

    Every notebook's setup cell prints it, so the first output says what the numbers below come
    from: a MIAS folder, synthetic phantoms, a DICOM manifest or a CBIS-DDSM download. Falling back
    from ``"auto"`` to the phantoms, and phantoms in general, are said loudly.

    >>> describe_source("synthetic").startswith("Data: SYNTHETIC PHANTOMS")
    True
    """
    from mammokit.data import mias

    text = str(source)
    kind, path = locate(source)
    if kind == "synthetic":
        return ("Data: SYNTHETIC PHANTOMS (DATA='synthetic') — not MIAS: made-up films, "
                "the numbers below show the mechanics only")
    if kind == "fallback":
        return (f"*** Data: no MIAS found in {mias_dir()} — FALLING BACK to SYNTHETIC PHANTOMS, not MIAS: "
                "the numbers below show the mechanics only. Run `mammokit data download mias` for the real "
                "data, or set DATA to a MIAS folder. ***")
    if kind == "no-mias":
        return f"Data: DATA='mias' but no MIAS copy in {mias_dir()}: loading it will stop with what to do"
    if kind == "cbis":
        return f"Data: CBIS-DDSM download in {path}"
    if kind == "manifest":
        return f"Data: DICOM manifest {path}"
    if kind == "missing":
        return f"Data: {text!r} not found: loading it will stop with what DATA takes"
    films = sum(1 for _ in path.glob("*.pgm"))
    how = f"the installed copy, DATA={text!r}" if kind == "installed" else "DATA"
    if (path / mias.PHANTOM_MARKER).is_file():
        return (f"Data: SYNTHETIC PHANTOMS in {path} ({films} films, {how}) — not MIAS: "
                "made-up films, the numbers below show the mechanics only")
    return f"Data: MIAS-layout folder {path} ({films} films, {how})"
