"""Tiny stand-in ROI sets for the evaluation and cross-validation tests."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd


def tiny_rois(n_patients: int = 30, seed: int = 0):
    """Tiny 'ROIs' whose mean brightness carries the label, 1-3 ROIs per patient."""
    rng = np.random.default_rng(seed)
    rows, images = [], []
    for pid in range(n_patients):
        label = pid % 2
        for k in range(1 + pid % 3):
            images.append(rng.integers(0, 120, (8, 8)) + 100 * label)
            rows.append({"image_id": f"img{pid}_{k}", "patient_id": f"p{pid:03d}", "label": label})
    table = pd.DataFrame(rows)
    return SimpleNamespace(images=np.asarray(images, dtype=np.uint8), table=table,
                           labels=table.label.to_numpy(), groups=table.patient_id.to_numpy())
