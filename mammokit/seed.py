"""One seed function for Python, NumPy and (when it is in use) Keras/TensorFlow.

It does not set ``PYTHONHASHSEED``: Python reads that variable once, when the interpreter
starts, to fix string hashing, so setting it in a running process changes nothing for that
process (it would only leak into the environment of child processes started afterwards). The
kit does not need it: no result depends on the iteration order of a set of strings (sets are used
for membership and overlap tests, and sorted before anything is printed, split or saved), which
``tests/test_process_state.py`` checks by running a patient split under two hash seeds.
"""
from __future__ import annotations

import random
import sys

import numpy as np


def seed_everything(seed: int, keras: bool | None = None) -> None:
    """Seed Python, NumPy and Keras so a run can be repeated exactly on the same machine.

    ``keras=None`` seeds Keras only if it is already imported: notebooks that never touch
    a model should not pay TensorFlow's import time.
    """
    random.seed(seed)
    np.random.seed(seed)
    if keras or (keras is None and "keras" in sys.modules):
        import keras as _keras

        _keras.utils.set_random_seed(seed)
