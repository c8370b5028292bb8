"""Datasets cached on disk: a key from the files they came from, entries written atomically with a
checksum, and a damaged entry (cut short by a killed run or a full disk, edited) said and rebuilt.

An entry is a folder holding ``images.npy``, ``table.json`` and ``sha256.json``; the ROI sets
(:mod:`mammokit.roi`) and the lesion windows (:mod:`mammokit.patches`) are cached this way.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mammokit.errors import DataError
from mammokit.files import atomic_folder


def file_stats(paths) -> list[list]:
    """``[path, size, mtime_ns]`` of each distinct file (None for a missing one), for a cache key:
    a film replaced on disk gives another key."""
    out = []
    for path in sorted(set(paths)):
        st = os.stat(path) if os.path.exists(path) else None
        out.append([path, st.st_size if st else None, st.st_mtime_ns if st else None])
    return out


def digest(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in ("images.npy", "table.json")}


def save_cached(folder: Path, data: Any) -> None:
    """Write atomically: a crash or a full disk leaves no half-written cache and no temp folder."""
    with atomic_folder(folder) as tmp:
        np.save(tmp / "images.npy", data.images)
        data.table.to_json(tmp / "table.json", orient="records")
        (tmp / "sha256.json").write_text(json.dumps(digest(tmp)))


def _load(folder: Path, make: Callable[[np.ndarray, pd.DataFrame], Any],
          ndims: tuple[int, ...]) -> tuple[Any, str]:
    """The cached set in ``folder``, or (None, what is wrong) when it is damaged (truncated, edited)."""
    try:
        if json.loads((folder / "sha256.json").read_text()) != digest(folder):
            return None, "a file in it was cut short or changed: its checksum does not match"
        table = pd.read_json(folder / "table.json", orient="records", dtype=False)
        images = np.load(folder / "images.npy")
        data = make(images, table)
    except (OSError, ValueError, EOFError, KeyError, TypeError) as exc:
        return None, f"{type(exc).__name__}: {str(exc)[:120]}"
    if images.ndim not in ndims or images.dtype != np.uint8 or len(images) != len(table):
        return None, f"images {images.dtype} {images.shape} do not match its {len(table)} table rows"
    return data, ""


def read_cache(folder: Path, make: Callable[[NDArray[np.uint8], pd.DataFrame], Any],
               ndims: tuple[int, ...] = (3,), what: str = "ROI cache") -> Any:
    """The set cached in ``folder`` (by :func:`save_cached`), or None when there is none. A damaged
    entry (``why``: cut short, edited, wrong shape) is said on stderr and removed, so it is rebuilt.

    Parameters
    ----------
    folder : Path of the entry
    make : callable ``make(images, table)`` building the set read back (e.g. a
        :class:`~mammokit.roi.RoiDataset`); ``images``: numpy.ndarray of shape (N, ...), uint8;
        ``table``: DataFrame of N rows
    ndims : the accepted ``images.ndim`` values (3: (N, H, W); 4: (N, H, W, C))
    what : str, the entry's name in messages

    Returns
    -------
    what ``make`` returns, or None (no entry, or a damaged one now removed)
    """
    if not (folder.exists() or folder.is_symlink()):
        return None
    data, why = _load(folder, make, ndims)
    if data is not None:
        return data
    print(f"mammokit: the {what} {folder} is damaged ({why}); rebuilding it.", file=sys.stderr)
    try:
        shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
    except OSError as exc:
        raise DataError(f"{folder}: a damaged {what} entry ({why}) that cannot be removed ({exc.strerror}). "
                        "Delete that folder by hand (caches are safe to delete) and run again.") from None
    return None
