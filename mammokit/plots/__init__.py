"""Figures for the notebooks, returned as matplotlib objects (never shown as a side effect).

One submodule per stage of the course; everything is re-exported here, so notebooks
call ``mk.plots.roc_curves(...)`` without knowing which file holds it.
"""
from __future__ import annotations

from mammokit.plots.style import use_style
from mammokit.plots.data import *  # noqa: F401,F403
from mammokit.plots.preprocess import *  # noqa: F401,F403
from mammokit.plots.augment import *  # noqa: F401,F403
from mammokit.plots.training import *  # noqa: F401,F403
from mammokit.plots.transfer import *  # noqa: F401,F403
from mammokit.plots.evaluation import *  # noqa: F401,F403
from mammokit.plots.detection import *  # noqa: F401,F403
