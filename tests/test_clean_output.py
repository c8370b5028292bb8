"""Output a beginner can read (issue #13, item 8): what training prints exports cleanly (no terminal
escape codes, no box-drawing characters that HTML fonts show as □). What the notebooks themselves
printed is checked on nbval's run in tests/test_executed_notebooks.py."""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

UNREADABLE = ("\x1b[", "━", "□")


@pytest.mark.slow
def test_fit_with_verbose_2_prints_no_escape_codes_or_box_characters(tmp_path):
    from mammokit import models, train

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (24, 16, 16), dtype=np.uint8)
    labels = np.array([0, 1] * 12)
    model = models.build_convnet((16, 16, 1), filters=(4,), dense=4, seed=0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        train.fit(model, (images, labels), (images[:8], labels[:8]),
                  train.TrainConfig(epochs=2, batch_size=8, verbose=2), run_dir=tmp_path, name="tiny")
    text = out.getvalue()
    assert "Epoch 2/2" in text and "val_loss" in text
    assert not [c for c in UNREADABLE if c in text], text


def test_plots_have_whole_epoch_ticks_and_legends_beside_the_bars_and_curves():
    import pandas as pd

    from mammokit import plots
    from mammokit.data import load_catalog

    history = pd.DataFrame({"epoch": [1, 2, 3], "accuracy": [.5, .6, .7], "val_accuracy": [.5, .5, .6],
                            "loss": [1., .8, .7], "val_loss": [1., .9, .95]})
    fig = plots.learning_curves(history)
    fig.canvas.draw()
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 10)
    roc = plots.roc_curves(pd.DataFrame({"model": "m", "label": y, "proba": rng.random(20), "split": "test"}))
    roc.canvas.draw()
    ax = roc.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # the legend sits right of the axes, over no curve
    balance = plots.catalog_balance(load_catalog("synthetic"))
    balance.canvas.draw()
    for ax in balance.axes:
        assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1 - 1


def test_explorer_panel_titles_grow_with_the_panels():
    from mammokit.widgets import compose

    small = compose([np.zeros((128, 128, 3), np.uint8)] * 2, ("original", "enhanced (CLAHE)"))
    large = compose([np.zeros((512, 512, 3), np.uint8)] * 2, ("original", "enhanced (CLAHE)"))
    bar_small, bar_large = small.shape[0] - 128, large.shape[0] - 512
    assert bar_small >= 20 and bar_large >= 3 * bar_small  # the title keeps its share of the picture
    ink = (large[:bar_large, :512] < 128).any(axis=1)  # rows of the first title holding text
    assert ink.sum() >= 20  # letters at least 20 px high on a 512-px panel (was ~10)
