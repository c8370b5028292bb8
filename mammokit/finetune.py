"""Training the transfer models of notebook 05: two-phase fine-tuning, or a head on frozen features.

:mod:`mammokit.transfer` builds the models (it sits beside :mod:`mammokit.models` in the data
flow); this module trains them, so it comes after :mod:`mammokit.train`, whose ``fit`` it uses.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from mammokit import train as training
from mammokit.transfer import (MEASURED_CPU_224, build_transfer, extract_features, fit_head, head_proba,
                               input_size_for, set_trainable)


def fine_tune(model, train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray] | None = None, *,
              head_epochs: int = 1, epochs: int = 1, top_n: int | None = 20, learning_rate: float = 1e-3,
              fine_factor: float = 0.1, name: str = "transfer", **fit_kwargs):
    """Two-phase fine-tuning through :func:`mammokit.train.fit`; returns both histories stacked.

    Phase ``head``: backbone frozen, ``head_epochs`` at ``learning_rate``. Phase ``fine-tune``:
    the top ``top_n`` weighted backbone layers unfrozen (batch norm stays frozen), ``epochs``
    more at ``learning_rate * fine_factor`` — small steps, so the ImageNet features are adjusted,
    not overwritten. ``fit_kwargs`` go to ``fit`` (batch_size, run_dir, augment, seed, ...);
    phases checkpoint as ``<name>_head`` / ``<name>``.
    """
    set_trainable(model, 0)
    head = training.fit(model, train, val, epochs=head_epochs, learning_rate=learning_rate,
                        name=f"{name}_head", **fit_kwargs).assign(phase="head")
    if not epochs or top_n == 0:
        return head
    set_trainable(model, top_n)
    fine = training.fit(model, train, val, epochs=epochs, learning_rate=learning_rate * fine_factor,
                        name=name, **fit_kwargs).assign(phase="fine-tune")
    fine["epoch"] = fine["epoch"] + len(head)
    return pd.concat([head, fine], ignore_index=True)


def run_backbone(name: str, rois, split, *, fine_tune_it: bool = False, input_size: int | None = None,
                 weights: str | os.PathLike | None = "imagenet", batch_size: int = 8, head_epochs: int = 1,
                 epochs: int = 1, top_n: int | None = 20, learning_rate: float = 1e-3, C: float = 1.0,
                 feature_batch: int = 32, seed: int = 0, **fit_kwargs):
    """Train one backbone on a :class:`mammokit.roi.RoiDataset` and predict every ROI.

    ``fine_tune_it``: two-phase :func:`fine_tune` (GPU); else frozen features (cached) and a
    fitted head (CPU); ``batch_size`` is the training batch, ``feature_batch`` the (larger,
    forward-only) feature batch. Returns ``(proba (N,) float, info dict)``; frees Keras memory.
    """
    import gc
    import time

    import keras

    start = time.perf_counter()
    size = rois.images.shape[1]
    info = {"backbone": name, "mode": "fine-tune" if fine_tune_it else "features",
            "input_size": input_size_for(name, size, input_size), "params": MEASURED_CPU_224[name]["params"]}
    x, y = rois.images, np.asarray(rois.labels).astype(int)
    tr, va = np.asarray(split.train, int), np.asarray(split.val, int)
    if fine_tune_it:
        model = build_transfer(name, size, input_size=input_size, weights=weights, seed=seed)
        history = fine_tune(model, (x[tr], y[tr]), (x[va], y[va]) if len(va) else None, head_epochs=head_epochs,
                            epochs=epochs, top_n=top_n, learning_rate=learning_rate, name=name.lower(),
                            batch_size=batch_size, seed=seed, **fit_kwargs)
        proba = training.predict_proba(model, x, batch_size=batch_size)
        info["history"] = history
        del model
    else:  # builds the backbone only when the features are not cached yet
        feats = extract_features(name, x, input_size=input_size, weights=weights, seed=seed,
                                 batch_size=feature_batch)
        head = fit_head(feats[tr], y[tr], C=C)
        proba = head_proba(feats, head)
        info["feature_dim"] = feats.shape[1]
    info["seconds"] = round(time.perf_counter() - start, 1)
    keras.backend.clear_session()
    gc.collect()
    return proba, info
