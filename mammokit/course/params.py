"""Notebook parameters: one contract for students, instructors (papermill) and tests.

Every notebook opens with a cell tagged ``parameters`` holding plain UPPERCASE
assignments. A value left as ``None`` means "the profile's default"; an environment
variable ``MAMMOKIT_<NAME>`` fills it before the profile does (tests and CI use that to
run the committed notebooks in the ``smoke`` profile). The next cell calls
:func:`resolve`, which stops at once with a message naming the parameter when a name is
unknown (papermill only warns about those) or a value is not allowed.

The knobs of each notebook live in :data:`NOTEBOOKS`; ``mammokit params NOTEBOOK``
prints them. What each knob allows is a check from :mod:`mammokit.checks`, the same checks
the pipeline's own options use.
"""
from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from mammokit.constants import PAPER_BACKBONES
from mammokit.course.param_cells import parameter_names, pinned_names
from mammokit.course.configs import lab_config, preprocess_config, train_config  # noqa: F401 (mk.params.*)
from mammokit.checks import Check, boolean, folder, integer, list_of, number, one_of, optional, text
from mammokit.errors import ConfigError
from mammokit.profiles import (ABOUT, BATCH_SIZE, DEFAULT_PROFILE, EPOCHS, INFLATE, LEARNING_RATE, NOTEBOOKS as
                               NOTEBOOK_NAMES, PROFILES, ROI_SIZE, STEPS_PER_EPOCH, by_profile)

_UPPER = re.compile(r"^[A-Z][A-Z0-9_]*$")


# --- the spec -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """One notebook parameter: its default per profile, what is allowed, and what it does."""

    name: str
    default: Any  # a plain value, or a dict {profile: value} covering all PROFILES (mammokit.profiles.TABLE)
    check: Check
    doc: str

    def default_for(self, profile: str) -> Any:
        if isinstance(self.default, dict):
            return self.default[profile]
        return self.default


COMMON = (
    Param("PROFILE", DEFAULT_PROFILE, one_of(*PROFILES), "; ".join(f"{k}: {v}" for k, v in ABOUT.items())),
    Param("DATA", by_profile("data"), text,
          "'auto' (MIAS if installed, else phantoms), 'synthetic', a MIAS folder, or a DICOM manifest CSV"),
    Param("SEED", 42, integer(0), "seed for Python, NumPy and Keras"),
    Param("RUN_DIR", None, optional(folder), "folder for this run's models, tables and metrics (default: runs/latest)"),
    Param("DRIVE", False, boolean,
          "Google Colab only: mount Google Drive and keep RUN_DIR there (MyDrive/mammokit/runs), so a run "
          "survives Colab recycling the machine"),
)

_ROI_SIZE = Param("ROI_SIZE", by_profile("roi_size"), ROI_SIZE,
                  "side of the square ROI fed to the models, in pixels (paper: 224)")
_EPOCHS = Param("EPOCHS", by_profile("epochs"), EPOCHS,
                "training epochs (paper: 90)")
_BATCH = Param("BATCH_SIZE", by_profile("batch_size"), BATCH_SIZE,
               "images per training step (paper: 32)")

_INFLATE = Param("INFLATE", by_profile("inflate"), INFLATE,
                 "copies per training ROI with Table 1's variants, after the patient split (paper: 8); 1: none")
_LESIONS = Param("LESIONS", "all", one_of("all", "masses"),
                 "'all': every benign/malignant lesion with a centre (masses, calcifications, distortions, "
                 "asymmetries); 'masses': CIRC/SPIC/MISC only, the paper's subject")


def _preprocess_overrides(value: Any) -> str | None:
    """A dict of ``PreprocessConfig`` field names to values, e.g. ``{"otsu_offset": 10}``.

    (The config checks the names and values itself when notebook 02 builds it, so every
    notebook's setup cell stays quick: params imports no pipeline module.)"""
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return None
    return "a dict of PreprocessConfig fields, e.g. {'otsu_offset': 10, 'kernel': 3}"


NOTEBOOKS: dict[str, tuple[Param, ...]] = {  # keyed by mammokit.profiles.NOTEBOOKS, in that order
    "01_data": (
        Param("N_SHOW", by_profile("n_show"), integer(1, 48),
              "how many mammograms to draw with their annotations"),
        Param("DOWNLOAD", by_profile("download"), boolean,
              "with DATA 'auto' and no MIAS installed: download MIAS (research use only; its licence is shown) "
              "when the network answers, else stay on the phantoms"),
    ),
    "02_preprocessing": (
        _ROI_SIZE,
        Param("PREVIEW", by_profile("preview"), integer(64, 1024),
              "side of the images the explorer draws, in pixels"),
        Param("PREPROCESS", None, optional(_preprocess_overrides),
              "PreprocessConfig fields to change, e.g. {'otsu_offset': 10}; the explorer starts there and "
              "notebooks 03-06 in this RUN_DIR use what this notebook records. None: the defaults"),
    ),
    "03_augmentation": (
        _ROI_SIZE, _LESIONS,
        Param("INFLATE_FACTOR", 8, INFLATE, "copies per training ROI (paper: 8)"),
        Param("LEAKAGE_SEEDS", by_profile("leakage_seeds"), integer(1, 20),
              "how many seeds the leakage lab repeats each protocol over"),
        Param("LEAKAGE_EPOCHS", by_profile("leakage_epochs"), EPOCHS,
              "epochs per leakage-lab model (both protocols get the same number of steps)"),
        Param("LEAKAGE_SIZE", by_profile("leakage_size"), ROI_SIZE,
              "side of the ROIs in the leakage lab, resized from ROI_SIZE (small keeps it fast)"),
    ),
    "04_convnet": (
        _ROI_SIZE, _LESIONS, _EPOCHS, _BATCH,
        Param("STEPS_PER_EPOCH", by_profile("steps_per_epoch"), STEPS_PER_EPOCH,
              "steps per epoch (paper: 80); None: one pass over the training split; more steps than "
              "it has batches loop it, each pass freshly augmented"),
        Param("LEARNING_RATE", 1e-3, LEARNING_RATE, "Adam learning rate (paper: 0.001)"),
        Param("AUGMENT", by_profile("augment"), boolean,
              "online augmentation on the training branch (Keras layers; the paper profile uses INFLATE instead)"),
        _INFLATE,
    ),
    "05_transfer_learning": (
        _ROI_SIZE, _LESIONS,
        Param("BACKBONES", by_profile("backbones"), list_of(one_of(*PAPER_BACKBONES)),
              "which of the paper's backbones to train (smoke: VGG19 and InceptionV3)"),
        Param("FINE_TUNE", by_profile("fine_tune"), list_of(one_of(*PAPER_BACKBONES), allow_empty=True),
              "backbones fine-tuned end to end (slow on a CPU); the others stay frozen feature extractors "
              "with a fitted head. []: none"),
        Param("WEIGHTS", by_profile("weights"), text,
              "'imagenet' (downloads once into $KERAS_HOME/models), the path of a no-top .h5 weights file, "
              "or 'random' (random init)"),
        Param("INPUT_SIZE", None, optional(integer(32, 1024)),
              "side the backbones see; None: ROI_SIZE, raised to 75 px for the Inception backbones"),
        Param("BATCH_SIZE", by_profile("transfer_batch_size"), BATCH_SIZE,
              "ROIs per step (features and training); 8 keeps the classroom path near 1.5 GiB (paper: 32)"),
        Param("HEAD_EPOCHS", by_profile("head_epochs"), EPOCHS,
              "fine-tuning phase 1: epochs training the new head on the frozen backbone"),
        Param("EPOCHS", by_profile("fine_tune_epochs"), integer(0),
              "fine-tuning phase 2: epochs with the top layers unfrozen (paper: 90); 0: head only"),
        Param("FINE_TUNE_LAYERS", by_profile("fine_tune_layers"), optional(integer(0)),
              "phase 2 unfreezes this many weighted layers from the top (batch norm stays frozen); None: all"),
        Param("STEPS_PER_EPOCH", by_profile("fine_tune_steps"), STEPS_PER_EPOCH,
              "steps per epoch when fine-tuning; None: one pass over the training split (paper: 80)"),
        Param("LEARNING_RATE", 1e-3, LEARNING_RATE,
              "Adam learning rate of phase 1; phase 2 uses a tenth of it (paper: 0.001)"),
        Param("HEAD_C", 1.0, number(1e-6, 1e6),
              "feature-extraction head: inverse L2 strength of the logistic regression (smaller: simpler)"),
    ),
    "06_evaluation": (
        _ROI_SIZE, _LESIONS, _EPOCHS, _BATCH,
        Param("STEPS_PER_EPOCH", by_profile("eval_steps_per_epoch"), STEPS_PER_EPOCH,
              "training steps per epoch of each model trained here (paper: 80; notebook 04 uses 20 in "
              "classroom); None: one pass over the training part"),
        Param("FOLDS", by_profile("folds"), integer(2, 20),
              "cross-validation folds, grouped by patient (paper: 5)"),
        Param("BOOTSTRAP", by_profile("bootstrap"), integer(10),
              "bootstrap resamples of patients for the 95% intervals"),
        _INFLATE,
    ),
}


# Parameters that name a file or folder, with the words each also takes that are not paths.
PATH_PARAMS: dict[str, tuple[str, ...]] = {"DATA": ("auto", "synthetic"), "RUN_DIR": (),
                                           "WEIGHTS": ("imagenet", "random")}


def absolute_paths(values: Mapping[str, Any], cwd: Path | str | None = None) -> dict[str, Any]:
    """``values`` with each relative path parameter made absolute against ``cwd`` (default: here).

    ``mammokit course``/``sweep`` run the notebooks with ``notebooks/`` as their working folder,
    so ``-p DATA mias-dev`` must be read where the instructor typed it, not there. Words such
    as ``auto`` or ``imagenet`` and non-text values pass unchanged.

    >>> absolute_paths({"DATA": "auto", "EPOCHS": 2}, "/course")
    {'DATA': 'auto', 'EPOCHS': 2}
    >>> absolute_paths({"DATA": "mias-dev"}, "/course")["DATA"]
    '/course/mias-dev'
    """
    base = Path(cwd or Path.cwd())
    out = dict(values)
    for name, words in PATH_PARAMS.items():
        value = out.get(name)
        if isinstance(value, str) and value and value not in words:
            path = Path(value).expanduser()
            out[name] = str(path if path.is_absolute() else base.absolute() / path)
    return out


def spec(notebook: str) -> tuple[Param, ...]:
    """All parameters of ``notebook`` (its stem, e.g. ``"04_convnet"``), common ones first."""
    name = Path(notebook).stem
    if name not in NOTEBOOK_NAMES:
        raise ConfigError(f"unknown notebook {notebook!r}: expected one of {', '.join(NOTEBOOK_NAMES)}")
    return COMMON + NOTEBOOKS[name]


@dataclass(frozen=True)
class Params(Mapping[str, Any]):
    """Resolved parameters, read as ``P.EPOCHS`` or ``P["EPOCHS"]``."""

    notebook: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(f"{self.notebook} has no parameter {name}") from None

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def run_dir(self) -> Path:
        return Path(self.values["RUN_DIR"])

    def __repr__(self) -> str:
        width = max(len(k) for k in self.values)
        rows = "\n".join(f"  {k:<{width}} = {v!r}" for k, v in self.values.items())
        return f"{self.notebook} parameters:\n{rows}"


def _from_env(name: str) -> Any:
    raw = os.environ.get(f"MAMMOKIT_{name}")
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw  # a bare string such as smoke or /path/to/data


def check_names(notebook: str, namespace: Mapping[str, Any]) -> None:
    """A parameter given in lower case (``papermill -p epochs 3``) is an error, not silently ignored."""
    known = {p.name for p in spec(notebook)}
    lower = sorted(k for k in namespace if k != k.upper() and k.upper() in known and _literal(namespace[k]))
    if lower:
        raise ConfigError(f"{notebook}: parameter(s) {', '.join(lower)} must be written in upper case: "
                          f"{', '.join(k.upper() for k in lower)} (e.g. -p {lower[0].upper()} ...). "
                          f"See `mammokit params {notebook}`.")


def check_value(notebook: str, name: str, value: Any, source: str | None = None) -> None:
    """Raise :class:`ConfigError` naming the parameter (and ``source``, e.g. ``$MAMMOKIT_EPOCHS`` or
    ``-p``) when ``value`` is not allowed for ``name`` in ``notebook``; ``None`` is always allowed."""
    by_name = {p.name: p for p in spec(notebook)}
    if name not in by_name:
        close = difflib.get_close_matches(name, by_name, n=1)
        raise ConfigError(f"{notebook}: unknown parameter {name}" + (f" (did you mean {close[0]}?)" if close else "")
                          + f". See `mammokit params {notebook}`.")
    p = by_name[name]
    if value is None:
        return
    complaint = p.check(value)
    if complaint is not None:
        where = f" (from {source})" if source else ""
        raise ConfigError(f"{notebook}: {name}={value!r}{where} is not allowed; expected {complaint}. ({p.doc})")


def _settable(value: Any) -> bool:
    """Could ``value`` be a parameter someone set? A kernel's own objects are not: the ``P`` that
    a first run of the setup cell made, or a module, class or function. Skipping those lets the
    setup cell (or Run All) run again in the same kernel."""
    import types
    return not isinstance(value, (Params, types.ModuleType, type, types.FunctionType,
                                  types.BuiltinFunctionType))


def _literal(value: Any) -> bool:
    """A value papermill could have injected (a number, string, bool or list of them)."""
    if isinstance(value, list):
        return all(_literal(v) for v in value)
    return isinstance(value, (int, float, str, bool))


def resolve(notebook: str, namespace: Mapping[str, Any], *, quiet: bool = False) -> Params:
    """Validate a notebook's parameters and fill the ``None`` ones from env and profile.

    ``namespace`` is the notebook's ``globals()``. An UPPERCASE name there that is not a
    parameter of this notebook is an error (a misspelled ``-p EPOCHZ 5`` must not pass
    silently) when the latest run of the parameters cell set it (:func:`parameter_names`;
    outside IPython: any such name). The error shows as one line in a notebook. Names in
    ``$MAMMOKIT_PINNED`` take their ``$MAMMOKIT_<NAME>`` whatever the notebook says (grading pins
    ``PROFILE``). Also seeds Python/NumPy and creates ``RUN_DIR``. Unless ``quiet``, prints the values, the
    data ``DATA`` names (:func:`mammokit.data.describe_source`: loudly when it is phantoms) and the
    measured times.
    """
    try:
        return _resolve(notebook, namespace, quiet)
    except ConfigError as exc:
        # IPython shows an exception with _render_traceback_ as those lines: one line, not a traceback
        lines = [f"ConfigError: {exc}"]
        exc._render_traceback_ = lambda: lines
        raise


def _resolve(notebook: str, namespace: Mapping[str, Any], quiet: bool) -> Params:
    params = spec(notebook)
    known = {p.name for p in params}
    check_names(notebook, namespace)
    cell = parameter_names(namespace, {p.name for ps in NOTEBOOKS.values() for p in COMMON + ps})
    unknown = sorted(k for k in namespace if _UPPER.match(k) and k not in known and _settable(namespace[k])
                     and (cell is None or k in cell))
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1)
            hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
        raise ConfigError(
            f"{notebook}: unknown parameter(s) {', '.join(hints)}. "
            f"This notebook takes: {', '.join(p.name for p in params)}. "
            f"See `mammokit params {notebook}`."
        )
    pinned = {name for name in pinned_names() if name in known and os.environ.get(f"MAMMOKIT_{name}") is not None}

    def given(name: str) -> Any:
        value = None if name in pinned else namespace.get(name)
        return _from_env(name) if value is None else value

    for name in sorted(pinned):
        if namespace.get(name) is not None and namespace.get(name) != _from_env(name) and not quiet:
            print(f"{name}={namespace.get(name)!r} from the notebook is ignored: pinned to {_from_env(name)!r} "
                  f"by $MAMMOKIT_{name} (grading)")

    profile = given("PROFILE") or DEFAULT_PROFILE
    if profile not in PROFILES:
        raise ConfigError(f"{notebook}: PROFILE={profile!r} is not allowed; use one of {', '.join(PROFILES)}")
    values: dict[str, Any] = {}
    for p in params:
        value = profile if p.name == "PROFILE" else given(p.name)
        if value is None:
            value = p.default_for(profile)
        if value is None:
            values[p.name] = None  # a default of None is a choice ('no limit'), not a gap
            continue
        from_env = (namespace.get(p.name) is None or p.name in pinned) and os.environ.get(f"MAMMOKIT_{p.name}") is not None
        check_value(notebook, p.name, value, source=f"$MAMMOKIT_{p.name}" if from_env else None)
        values[p.name] = value

    from mammokit import paths
    from mammokit.seed import seed_everything

    runs = paths.runs_dir()
    if values["DRIVE"] and not values["RUN_DIR"]:
        if paths.DRIVE_RUNS.parents[1].is_dir():  # MyDrive is mounted (the setup cell does it on Colab)
            runs = paths.DRIVE_RUNS
        elif not quiet:
            print("DRIVE=True, but Google Drive is not mounted (Colab only): RUN_DIR stays on this machine's disk")
    run_dir = Path(values["RUN_DIR"] or runs / "latest").expanduser().resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    values["RUN_DIR"] = str(run_dir)
    seed_everything(values["SEED"])
    resolved = Params(Path(notebook).stem, MappingProxyType(values))
    if not quiet:
        from mammokit.course.timings import describe as measured_time

        from mammokit.data import describe_source

        print(resolved)
        print(describe_source(resolved.values["DATA"]))
        print(measured_time(resolved.notebook))
    return resolved


def describe(notebook: str) -> str:
    """A plain-text table of a notebook's parameters, their profile defaults and what is allowed."""
    lines = [f"Parameters of {Path(notebook).stem} (None in the notebook = the profile's default):", ""]
    for p in spec(notebook):
        if isinstance(p.default, dict):
            default = ", ".join(f"{k}={p.default[k]!r}" for k in PROFILES)
        else:
            default = repr(p.default)
        allowed = p.check(object()) or "any"
        lines.append(f"{p.name}\n    {p.doc}\n    default: {default}\n    allowed: {allowed}")
    return "\n".join(lines)
