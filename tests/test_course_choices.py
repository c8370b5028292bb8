"""The student's choices carry through the course (issue #13, item 2): notebook 03 run after 02
in one RUN_DIR builds its ROIs with 02's recorded preprocessing, and says so. The notebooks
themselves are checked in tests/test_executed_notebooks.py, on nbval's run of 02 then 03 with
conftest's ``PREPROCESS_CHOICE``."""
from __future__ import annotations

from mammokit import roi, runs
from mammokit.preprocess import PreprocessConfig


def test_config_from_run_reads_notebook_02_or_says_defaults(tmp_path):
    cfg, note = roi.config_from_run(tmp_path)
    assert cfg == PreprocessConfig() and "defaults" in note
    runs.record(tmp_path, "02_preprocessing", {"config": PreprocessConfig(otsu_offset=10, kernel=3).to_dict()})
    cfg, note = roi.config_from_run(tmp_path)
    assert cfg == PreprocessConfig(otsu_offset=10, kernel=3)
    assert "notebook 02" in note and "otsu_offset=+10" in note and "kernel=3" in note
