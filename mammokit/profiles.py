"""The course's profiles and every setting that differs between them: one table, read by the
notebooks' parameters (:mod:`mammokit.course.params`), the recipes (:mod:`mammokit.recipes`,
:mod:`mammokit.detector`), the course's cell timeouts and the CLI's help.

A profile is a budget: ``smoke`` (phantoms, tiny, seconds: the tests), ``classroom`` (a laptop
CPU in a class period) and ``paper`` (Table 2's schedule, on a GPU). Change a number here and
every place that uses it follows; :func:`value` reads one, :func:`by_profile` a whole row.

The knobs several places take (epochs, batch size, learning rate, inflation, ROI side) also say
here, once, what they allow (:data:`EPOCHS`, ...): :class:`mammokit.train.TrainConfig`, the
pipeline functions and the notebook parameters check with the same :mod:`mammokit.checks` check.

Infrastructure: imports nothing of the pipeline, so every module may read it.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

from mammokit.constants import HYPERPARAMETERS as T2
from mammokit.constants import PAPER_BACKBONES, PAPER_FILTERS, PAPER_INFLATE_FACTOR, PAPER_ROI_SIZE
from mammokit.checks import Check, integer, number, one_of, optional, require

PROFILES = ("smoke", "classroom", "paper")
DEFAULT_PROFILE = "classroom"
"""What a notebook runs when nobody says: a student on a laptop."""
QUICK_PROFILE = "smoke"
"""What ``mammokit course``, ``sweep`` and ``grade`` run unless told (a check that all runs)."""
ABOUT = MappingProxyType({
    "smoke": "phantoms, tiny, seconds (tests)",
    "classroom": "a laptop CPU",
    "paper": "Table 2 on a GPU",
})
NOTEBOOKS = ("01_data", "02_preprocessing", "03_augmentation", "04_convnet", "05_transfer_learning",
             "06_evaluation")
"""The course's notebooks, in teaching order (their file stems)."""

# --- what the shared knobs allow (declared once) ----------------------------------------------------

EPOCHS: Check = integer(1)
BATCH_SIZE: Check = integer(1, 4096)
STEPS_PER_EPOCH: Check = optional(integer(1))  # None: one pass over the training split
LEARNING_RATE: Check = number(hi=1, above=0)
INFLATE: Check = integer(1, 64)  # Table 1 copies per training ROI (1: none)
ROI_SIZE: Check = integer(8, 1024)  # side of a square ROI or window, in pixels


def _each(smoke: Any, classroom: Any, paper: Any) -> Mapping[str, Any]:
    return MappingProxyType(dict(zip(PROFILES, (smoke, classroom, paper))))


TABLE: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    # the paper profile takes Table 2 and the paper's other numbers from mammokit.constants (T2)
    # notebook 01: the data
    "data": _each("synthetic", "auto", "auto"),
    "download": _each(False, True, True),
    "n_show": _each(4, 6, 6),
    # notebook 02 on: the ROIs
    "roi_size": _each(32, 96, PAPER_ROI_SIZE),
    "preview": _each(256, 512, 512),
    # notebook 03: the leakage lab
    "leakage_seeds": _each(2, 5, 10),
    "leakage_epochs": _each(1, 30, 60),
    "leakage_size": _each(32, 64, 96),
    # notebook 04: the paper's ConvNet (notebook 06 trains it again with these too)
    "epochs": _each(1, 15, T2["epochs"]),
    "batch_size": _each(16, 32, T2["batch_size"]),
    "steps_per_epoch": _each(None, 20, T2["steps_per_epoch"]),
    "augment": _each(True, True, False),  # the paper inflates instead
    "inflate": _each(1, 1, PAPER_INFLATE_FACTOR),
    # notebook 05: transfer learning (smoke: one backbone of each preprocessing family, 32 and 75 px minimum)
    "backbones": _each(["VGG19", "InceptionV3"], list(PAPER_BACKBONES), list(PAPER_BACKBONES)),
    "fine_tune": _each(["VGG19"], [], list(PAPER_BACKBONES)),
    "weights": _each("random", "imagenet", "imagenet"),
    "transfer_batch_size": _each(32, 8, T2["batch_size"]),
    "head_epochs": _each(1, 5, 10),
    "fine_tune_epochs": _each(1, 10, T2["epochs"]),
    "fine_tune_layers": _each(2, 20, 20),
    "fine_tune_steps": _each(None, None, T2["steps_per_epoch"]),
    # notebook 06: evaluation (its ConvNet and the recipes' steps per epoch)
    "eval_steps_per_epoch": _each(None, 10, T2["steps_per_epoch"]),
    "folds": _each(2, 5, 5),
    "bootstrap": _each(200, 1000, 2000),
    # mammokit.recipes: the ConvNet recipes notebook 06 and benchmarks/bench_recipes.py compare
    "recipe_size": _each(32, 64, PAPER_ROI_SIZE),
    "recipe_filters": _each((8, 16), (16, 32, 64, 128), PAPER_FILTERS),
    "recipe_epochs": _each(1, 15, T2["epochs"]),
    "recipe_steps": _each(2, 10, T2["steps_per_epoch"]),
    # mammokit.detector: the lesion-vs-normal ConvNet (benchmarks/bench_detector.py measured these)
    "detector_filters": _each((8, 16), (16, 32, 64, 128), PAPER_FILTERS),
    "detector_tta": _each(False, True, True),
    "detector_calibrate": _each(False, True, True),
    "detector_epochs": _each(1, 15, 60),
    "detector_steps": _each(2, 20, T2["steps_per_epoch"]),
    "detector_members": _each(1, 3, 3),  # nets averaged, each on its own carve: +0.020 AUC over 1 net at 3x its time
    # notebook 06: folds of its lesion-detector CV (a net per fold; 5, the benchmark's protocol: with 3
    # each net trains on 2/3 of the patients and the detector's interval no longer clears the baseline's)
    "detector_folds": _each(2, 5, 5),
    # notebook 05: folds of its domain-transfer CV (a detector and two nets per fold: 5 did not fit a class)
    "transfer_folds": _each(2, 3, 5),
    # mammokit course / sweep: longest one cell may run (seconds) before the run fails, naming it
    "cell_timeout_s": _each(600, 3600, 4 * 3600),
})
"""Every per-profile setting: ``TABLE[key][profile]``. ``recipes.CONVNET`` is the ``recipe_*``
rows; ``recipes.CONVNET["classroom"]`` halves notebook 04's filters so that notebook 06's four
ConvNet recipes x five folds fit a class period (``benchmarks/README.md``)."""


def check_profile(profile: Any, what: str = "profile") -> str:
    """``profile`` when it is one of :data:`PROFILES`, else a ConfigError naming ``what``."""
    return require(one_of(*PROFILES), profile, what)


def by_profile(key: str) -> dict[str, Any]:
    """One row of :data:`TABLE`: ``{profile: value}`` (a fresh dict)."""
    if key not in TABLE:
        raise KeyError(f"mammokit.profiles.TABLE has no setting {key!r}; the settings are: {', '.join(TABLE)}")
    return {name: list(v) if isinstance(v, list) else v for name, v in TABLE[key].items()}  # lists: a copy


def value(key: str, profile: str) -> Any:
    """The setting ``key`` of ``profile``, e.g. ``value("epochs", "paper") == 90``.

    >>> value("roi_size", "classroom")
    96
    """
    return by_profile(key)[check_profile(profile)]


def help_text() -> str:
    """One line for ``--profile`` help: each profile and what it is for."""
    return "; ".join(f"{name}: {ABOUT[name]}" for name in PROFILES)
