"""The student's choices carry through the course (issue #13, item 2): notebook 03 run after 02
in one RUN_DIR builds its ROIs with 02's recorded preprocessing, and says so."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mammokit import roi, runs
from mammokit.course.runner import execute_notebook
from mammokit.preprocess import PreprocessConfig

ROOT = Path(__file__).resolve().parents[1]


def test_config_from_run_reads_notebook_02_or_says_defaults(tmp_path):
    cfg, note = roi.config_from_run(tmp_path)
    assert cfg == PreprocessConfig() and "defaults" in note
    runs.record(tmp_path, "02_preprocessing", {"config": PreprocessConfig(otsu_offset=10, kernel=3).to_dict()})
    cfg, note = roi.config_from_run(tmp_path)
    assert cfg == PreprocessConfig(otsu_offset=10, kernel=3)
    assert "notebook 02" in note and "otsu_offset=+10" in note and "kernel=3" in note


@pytest.mark.slow
def test_notebook_03_uses_and_prints_02s_preprocessing(tmp_path):
    run_dir = tmp_path / "run"
    chosen = {"otsu_offset": 10, "kernel": 3}
    execute_notebook(ROOT / "notebooks" / "02_preprocessing.ipynb", tmp_path / "02.ipynb",
                     {"RUN_DIR": str(run_dir), "PREPROCESS": chosen})
    recorded = runs.read_records(run_dir)["02_preprocessing"]["config"]
    assert PreprocessConfig.from_dict(recorded) == PreprocessConfig(**chosen)
    execute_notebook(ROOT / "notebooks" / "03_augmentation.ipynb", tmp_path / "03.ipynb", {"RUN_DIR": str(run_dir)})
    used = runs.read_records(run_dir)["03_augmentation"]["preprocess"]
    assert used == recorded
    text = json.dumps(json.loads((tmp_path / "03.ipynb").read_text())["cells"])
    assert "preprocessing from notebook 02 (this RUN_DIR)" in text and "otsu_offset=+10" in text
