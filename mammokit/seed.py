"""One seed function for Python, NumPy and (when it is in use) Keras/TensorFlow."""
from __future__ import annotations

import os
import random
import sys

import numpy as np


def seed_everything(seed: int, keras: bool | None = None) -> None:
    """Seed Python, NumPy and Keras so a run can be repeated exactly on the same machine.

    ``keras=None`` seeds Keras only if it is already imported: notebooks that never touch
    a model should not pay TensorFlow's import time.
    """
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    if keras or (keras is None and "keras" in sys.modules):
        import keras as _keras

        _keras.utils.set_random_seed(seed)
