"""From a notebook's resolved parameters to the pipeline's option objects, one function each, so
that every notebook builds its :class:`~mammokit.train.TrainConfig` (or
:class:`~mammokit.preprocess.PreprocessConfig`, :class:`~mammokit.leakage.LabConfig`) the same
way and a new parameter is wired in one place. Notebooks call them as ``mk.params.train_config(P)``.

The pipeline modules are imported inside the functions: the setup cell (``mk.params.resolve``)
stays quick in notebooks that never train.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from mammokit.leakage import LabConfig
    from mammokit.preprocess import PreprocessConfig
    from mammokit.train import TrainConfig

TRAINING = {"EPOCHS": "epochs", "BATCH_SIZE": "batch_size", "STEPS_PER_EPOCH": "steps_per_epoch",
            "LEARNING_RATE": "learning_rate", "AUGMENT": "augment", "INFLATE": "inflate", "SEED": "seed"}
"""Notebook parameter -> :class:`~mammokit.train.TrainConfig` field, for those a notebook has."""


def train_config(P: Mapping[str, Any], **overrides: Any) -> TrainConfig:
    """The training options ``P`` sets (:data:`TRAINING`: EPOCHS, BATCH_SIZE, STEPS_PER_EPOCH,
    LEARNING_RATE, AUGMENT, INFLATE, SEED, each where the notebook has it), the rest
    TrainConfig's defaults; ``overrides`` are TrainConfig fields (``verbose=0``).

    >>> P = {"EPOCHS": 90, "BATCH_SIZE": 32, "STEPS_PER_EPOCH": 80, "INFLATE": 8, "SEED": 1, "FOLDS": 5}
    >>> config = train_config(P, verbose=0)  # FOLDS is no training option: left out
    >>> config.epochs, config.inflate, config.learning_rate, config.verbose
    (90, 8, 0.001, 0)
    """
    from mammokit.train import TrainConfig

    given = {field: P[name] for name, field in TRAINING.items() if name in P}
    return TrainConfig(**{**given, **overrides})


def preprocess_config(P: Mapping[str, Any]) -> PreprocessConfig:
    """The defaults, or what ``P.PREPROCESS`` changes (notebook 02): a misspelt field or a value
    out of range is a ConfigError naming it."""
    from mammokit.preprocess import PreprocessConfig

    return PreprocessConfig.from_dict(P.get("PREPROCESS") or {})


def lab_config(P: Mapping[str, Any], **overrides: Any) -> LabConfig:
    """The leakage lab's options (notebook 03): INFLATE_FACTOR copies, LEAKAGE_SIZE px ROIs and
    LEAKAGE_EPOCHS epochs, with online augmentation off so the protocol is the only difference,
    quiet; ``overrides`` are LabConfig fields."""
    from mammokit.leakage import LabConfig
    from mammokit.train import TrainConfig

    training = TrainConfig(epochs=P["LEAKAGE_EPOCHS"], augment=False, verbose=0)
    options = {"factor": P["INFLATE_FACTOR"], "size": P["LEAKAGE_SIZE"], "train": training}
    return LabConfig(**{**options, **overrides})
