"""The run folder (RUN_DIR): what notebooks leave for instructors, sweeps and the course summary.

This module is the one place that knows the layout; everything else asks it for a path::

    RUN_DIR/metrics/<notebook>.json   key metrics (record, metrics, read_records); what a later
                                      notebook reads back is a typed record: preprocess_choice
                                      (notebook 02's, for 03-06), leakage_lab (03's, for 06)
    RUN_DIR/models/<name>.keras       best checkpoint of a training run (model_path)
    RUN_DIR/history/<name>.csv        its per-epoch history (history_path, read_history)
    RUN_DIR/backup/<name>/            Keras' backup while a run is unfinished (backup_dir)
    RUN_DIR/predictions/<model>.csv   image_id, patient_id, label, proba, split (save_predictions,
                                      read_predictions)
    RUN_DIR/tables/<name>.csv         result tables (save_table)

Writes are atomic (:mod:`mammokit.files`): a crash never leaves half a file. The pipeline steps
never name a notebook: what one notebook hands another goes through the records here.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from mammokit.errors import ConfigError, DataError
from mammokit.files import atomic_path, write_text

PREDICTION_COLUMNS = ("image_id", "patient_id", "label", "proba", "split")
"""The columns of a predictions table (``RUN_DIR/predictions/<model>.csv``)."""


# --- where things go ----------------------------------------------------------------------------

def model_path(run_dir: Path | str, name: str) -> Path:
    """``RUN_DIR/models/<name>.keras``: the best checkpoint :func:`mammokit.train.fit` keeps."""
    return Path(run_dir) / "models" / f"{name}.keras"


def history_path(run_dir: Path | str, name: str) -> Path:
    """``RUN_DIR/history/<name>.csv``: the per-epoch history of training run ``name``."""
    return Path(run_dir) / "history" / f"{name}.csv"


def backup_dir(run_dir: Path | str, name: str) -> Path:
    """``RUN_DIR/backup/<name>/``: Keras' backup-and-restore state, present while a run is unfinished."""
    return Path(run_dir) / "backup" / name


def predictions_dir(run_dir: Path | str) -> Path:
    """``RUN_DIR/predictions``: one ``<model>.csv`` per model."""
    return Path(run_dir) / "predictions"


def table_path(run_dir: Path | str, name: str) -> Path:
    """``RUN_DIR/tables/<name>.csv``."""
    return Path(run_dir) / "tables" / f"{Path(name).stem}.csv"


# --- tables, predictions, histories -----------------------------------------------------------------

def _write_csv(path: Path, table: pd.DataFrame) -> Path:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return path


def _read_csv(path: Path, what: str, fix: str, **kwargs) -> pd.DataFrame:
    """A CSV the kit wrote; an empty, cut or damaged one (a run killed mid-write) is a :class:`DataError`."""
    try:
        return pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the {what} is empty or damaged: no header line, 0 bytes or blank (a run "
                        f"killed while writing it?); {fix}.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise DataError(f"{path}: the {what} is empty or damaged ({type(exc).__name__}: "
                        f"{str(exc).strip()[:120]}); {fix}.") from None


def save_table(run_dir: Path | str, name: str, table: pd.DataFrame) -> Path:
    """Write ``table`` as ``RUN_DIR/tables/<name>.csv`` (atomically, without the index); its path."""
    return _write_csv(table_path(run_dir, name), table)


def save_predictions(run_dir: Path | str, model: str, table: pd.DataFrame) -> Path:
    """Write a predictions table (at least :data:`PREDICTION_COLUMNS`, e.g. from
    :func:`mammokit.evaluate.predictions_table`) as ``RUN_DIR/predictions/<model>.csv``; its path."""
    missing = [c for c in PREDICTION_COLUMNS if c not in table.columns]
    if missing:
        raise ConfigError(f"save_predictions: the table lacks column(s) {missing}; a predictions table has "
                          f"{', '.join(PREDICTION_COLUMNS)} (mammokit.evaluate.predictions_table makes one)")
    return _write_csv(predictions_dir(run_dir) / f"{model}.csv", table[list(PREDICTION_COLUMNS)])


def read_predictions(run_dir: Path | str, image_ids: Iterable[Any] | None = None) -> pd.DataFrame:
    """Every ``RUN_DIR/predictions/<model>.csv``, stacked with a ``model`` column.

    Empty (with the columns) when the run has none yet. A ``run_dir`` that is not a folder is
    an error: a misspelled path must not read as "no predictions". With ``image_ids`` (e.g. the
    ROIs a notebook just built), only the models whose every prediction is on one of those ROIs
    are kept: predictions made on another data set or lesion selection are left out.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"read_predictions: {run_dir} is not a folder; give the RUN_DIR of a run "
                        "(notebooks 04 and 05 write predictions/<model>.csv there). Check the spelling.")
    frames = []
    for path in sorted(predictions_dir(run_dir).glob("*.csv")):
        table = _read_csv(path, "predictions table", "rerun the notebook that wrote it (04 or 05)",
                          dtype={"image_id": str, "patient_id": str})
        missing = [c for c in PREDICTION_COLUMNS if c not in table.columns]
        if missing:
            raise DataError(f"{path}: missing column(s) {missing}; a predictions table has "
                            f"{', '.join(PREDICTION_COLUMNS)} (see CONTRIBUTING.md)")
        for column in ("label", "proba"):
            values = pd.to_numeric(table[column], errors="coerce")
            if values.isna().any():
                line = int(values.isna().to_numpy().argmax()) + 2
                raise DataError(f"{path} line {line}: {column} {table[column].iloc[line - 2]!r} is not a number (a "
                                "run killed while writing, or an edit?). Delete the file and rerun the notebook "
                                "that wrote it (04 or 05).")
        frames.append(table.assign(model=path.stem))
    if image_ids is not None:
        known = {str(i) for i in image_ids}
        frames = [f for f in frames if set(f["image_id"]) <= known]
    if not frames:
        return pd.DataFrame(columns=[*PREDICTION_COLUMNS, "model"])
    return pd.concat(frames, ignore_index=True)


def read_history(path: Path | str) -> pd.DataFrame:
    """A history CSV (:func:`history_path`) as a DataFrame, one row per epoch (1-based), duplicates
    from a resume removed."""
    if not Path(path).is_file():
        raise DataError(f"read_history: no history file {path}; train first (fit(..., run_dir=...) writes it)")
    table = _read_csv(Path(path), "history", "delete it and train again")
    if "epoch" not in table:
        raise DataError(f"read_history: {path} has no 'epoch' column; it is not a history written by fit")
    if table.empty:
        return table
    epochs = pd.to_numeric(table["epoch"], errors="coerce")
    if epochs.isna().any() or (epochs % 1 != 0).any():
        line = int((epochs.isna() | (epochs % 1 != 0)).to_numpy().argmax()) + 2
        raise DataError(f"read_history: {path} line {line}: epoch {table['epoch'].iloc[line - 2]!r} is not a whole "
                        "number; the file is damaged (half-written?). Delete it and train again.")
    table["epoch"] = epochs
    table = table.drop_duplicates("epoch", keep="last").sort_values("epoch").reset_index(drop=True)
    table["epoch"] = table["epoch"].astype(int) + 1
    return table


# --- metrics records --------------------------------------------------------------------------------


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


_NOTEBOOK = re.compile(r"^\d\d_\w+$")


def metrics_path(run_dir: Path | str, notebook: str) -> Path:
    """``RUN_DIR/metrics/<notebook>.json``; ``notebook`` is a stem such as ``"03_augmentation"``."""
    stem = Path(str(notebook)).stem
    if not _NOTEBOOK.match(stem):
        raise ConfigError(f"notebook={notebook!r} is not a course notebook's name; give its stem, e.g. "
                          "'03_augmentation'")
    return Path(run_dir) / "metrics" / f"{stem}.json"


def record(run_dir: Path | str, notebook: str, metrics: Mapping[str, Any]) -> Path:
    """Merge ``metrics`` into ``RUN_DIR/metrics/<notebook>.json`` and return its path."""
    path = metrics_path(run_dir, notebook)
    current = _read(path) if path.exists() else {}
    current.update(metrics)
    return write_json(path, current)


def metrics(run_dir: Path | str, notebook: str) -> dict[str, Any]:
    """What ``notebook`` recorded in this run (:func:`record`); empty when it has not run here yet."""
    path = metrics_path(run_dir, notebook)
    return _read(path) if path.exists() else {}


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


# --- what one notebook hands the next: typed records ------------------------------------------------
# Notebooks record free-form metrics for the course summary and sweeps; what a LATER notebook reads
# back goes through these, so the notebook names and keys live here and nowhere in the pipeline.

PREPROCESSING = "02_preprocessing"
"""The notebook whose preprocessing choice notebooks 03-06 use (:func:`preprocess_choice`)."""
AUGMENTATION = "03_augmentation"
"""The notebook whose leakage lab notebook 06 recaps (:func:`leakage_lab`)."""
_CHOICE = "config"  # where notebook 02's choice sits in its record
LEAKAGE_PREFIX = "leakage_"
"""Notebook 03 records its leakage lab as ``leakage_<arm>_<statistic>`` keys (arms: paper, honest, gap)."""


@dataclass(frozen=True)
class PreprocessChoice:
    """The preprocessing chosen for a run: ``PreprocessConfig`` field values (``settings``; empty:
    the defaults), whether notebook 02 recorded them, and where they came from, for a student's print."""

    settings: Mapping[str, Any]
    recorded: bool
    source: str


def save_preprocess_choice(run_dir: Path | str, settings: Mapping[str, Any]) -> Path:
    """Record ``settings`` (``PreprocessConfig.to_dict()``) as this run's preprocessing, which
    notebooks 03-06 then build their ROIs with; the path of notebook 02's record."""
    if not isinstance(settings, Mapping):
        raise ConfigError(f"save_preprocess_choice: settings must be a dict (cfg.to_dict()), got "
                          f"{type(settings).__name__}")
    return record(run_dir, PREPROCESSING, {_CHOICE: dict(settings)})


def preprocess_choice(run_dir: Path | str) -> PreprocessChoice:
    """The preprocessing notebook 02 chose in ``run_dir``, or the defaults when it has not run there."""
    settings = metrics(run_dir, PREPROCESSING).get(_CHOICE)
    if settings is None:
        return PreprocessChoice({}, False, "the kit's defaults (no notebook 02 settings in this RUN_DIR)")
    if not isinstance(settings, dict):
        raise DataError(f"{metrics_path(run_dir, PREPROCESSING)}: '{_CHOICE}' must be an object of "
                        f"PreprocessConfig fields, got {type(settings).__name__}; rerun notebook 02")
    return PreprocessChoice(settings, True, "from notebook 02 (this RUN_DIR)")


@dataclass(frozen=True)
class LeakageLab:
    """Notebook 03's leakage lab as notebook 06 recaps it: the AUC gap between the paper's protocol
    (augment, then split) and the honest one (split by patient, then augment), over ``seeds`` seeds."""

    gap_auc_mean: float
    gap_auc_ci: tuple[float, float]
    seeds: int
    paper_auc_mean: float
    paper_auc_sd: float
    entries: Mapping[str, Any]
    """Every ``leakage_*`` number notebook 03 recorded (the recap's table)."""


def leakage_lab(run_dir: Path | str) -> LeakageLab | None:
    """Notebook 03's leakage lab in ``run_dir``; None when notebook 03 has not run there."""
    lab = metrics(run_dir, AUGMENTATION)
    if f"{LEAKAGE_PREFIX}gap_auc_mean" not in lab:
        return None
    entries = {k: v for k, v in lab.items() if k.startswith(LEAKAGE_PREFIX)}
    try:
        low, high = lab[f"{LEAKAGE_PREFIX}gap_auc_ci"]
        return LeakageLab(float(lab[f"{LEAKAGE_PREFIX}gap_auc_mean"]), (float(low), float(high)),
                          int(lab[f"{LEAKAGE_PREFIX}seeds"]), float(lab[f"{LEAKAGE_PREFIX}paper_auc_mean"]),
                          float(lab[f"{LEAKAGE_PREFIX}paper_auc_sd"]), entries)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{metrics_path(run_dir, AUGMENTATION)}: the leakage lab is incomplete or damaged "
                        f"({type(exc).__name__}: {exc}); rerun notebook 03 with this RUN_DIR") from None


TRANSFER = "05_transfer_learning"
"""The notebook whose domain-transfer comparison notebook 06 recaps (:func:`domain_transfer`)."""


def domain_transfer(run_dir: Path | str) -> dict[str, dict[str, float]] | None:
    """Notebook 05's domain transfer in ``run_dir``: ``{arm: {auc, auc_low, auc_high, ...}}`` (pooled
    grouped-CV AUC of each arm with its 95 % interval); None when notebook 05 has not recorded it there."""
    arms = metrics(run_dir, TRANSFER).get("domain_transfer")
    if not arms:
        return None
    try:
        out = {str(name): {k: float(v) for k, v in arm.items()} for name, arm in arms.items()}
        if not all({"auc", "auc_low", "auc_high"} <= set(arm) for arm in out.values()):
            raise ValueError("an arm lacks auc, auc_low or auc_high")
        return out
    except (AttributeError, TypeError, ValueError) as exc:
        raise DataError(f"{metrics_path(run_dir, TRANSFER)}: the domain-transfer record is damaged "
                        f"({type(exc).__name__}: {exc}); rerun notebook 05 with this RUN_DIR") from None
