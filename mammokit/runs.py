"""What a notebook leaves in its run folder for instructors, sweeps and the course summary.

Each notebook records its key metrics as ``RUN_DIR/metrics/<notebook>.json``; the course
and sweep commands read them back. Writes are atomic: a crash never leaves half a file.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

from mammokit.errors import DataError
from mammokit.files import write_text


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays to JSON-friendly Python values (NaN becomes null)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def write_json(path: Path | str, payload: Any) -> Path:
    """Write JSON atomically (temp file + rename)."""
    return write_text(path, json.dumps(_plain(payload), indent=2, sort_keys=True))


def record(run_dir: Path | str, notebook: str, metrics: Mapping[str, Any]) -> Path:
    """Merge ``metrics`` into ``RUN_DIR/metrics/<notebook>.json`` and return its path."""
    path = Path(run_dir) / "metrics" / f"{Path(notebook).stem}.json"
    current = _read(path) if path.exists() else {}
    current.update(metrics)
    return write_json(path, current)


def read_records(run_dir: Path | str) -> dict[str, dict[str, Any]]:
    """All recorded metrics of a run, keyed by notebook stem."""
    folder = Path(run_dir) / "metrics"
    return {p.stem: _read(p) for p in sorted(folder.glob("*.json"))}


def _read(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable metrics record ({type(exc).__name__}); delete it and rerun "
                        "that notebook") from None
    if not isinstance(value, dict):
        raise DataError(f"{path}: a metrics record is a JSON object, got {type(value).__name__}; delete it and "
                        "rerun that notebook")
    return value
