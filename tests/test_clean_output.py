"""Output a beginner can read (issue #13, item 8): what notebook 04 prints while training exports
cleanly (no terminal escape codes, no box-drawing characters that HTML fonts show as □)."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
UNREADABLE = ("\x1b[", "━", "□")


def test_notebook_04_trains_with_the_plain_progress_line():
    cells = json.loads((ROOT / "notebooks" / "04_convnet.ipynb").read_text())["cells"]
    fit = [("".join(c["source"])) for c in cells if "mk.train.fit(" in "".join(c["source"])]
    assert fit and all("verbose=2" in source for source in fit)


@pytest.mark.slow
def test_fit_with_verbose_2_prints_no_escape_codes_or_box_characters(tmp_path):
    from mammokit import models, train

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (24, 16, 16), dtype=np.uint8)
    labels = np.array([0, 1] * 12)
    model = models.build_convnet((16, 16, 1), filters=(4,), dense=4, seed=0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        train.fit(model, (images, labels), (images[:8], labels[:8]), epochs=2, batch_size=8,
                  run_dir=tmp_path, name="tiny", verbose=2)
    text = out.getvalue()
    assert "Epoch 2/2" in text and "val_loss" in text
    assert not [c for c in UNREADABLE if c in text], text
