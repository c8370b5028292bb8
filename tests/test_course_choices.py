"""The student's choices carry through the course (issue #13, item 2), through typed records of the
run folder (issue #22, item 3): notebook 03 run after 02 in one RUN_DIR builds its ROIs with 02's
recorded preprocessing and says so; 06 recaps 03's leakage lab and reuses 04's model only when it
fits. The notebooks themselves are checked in tests/test_executed_notebooks.py, on nbval's run of
02 then 03 with conftest's ``PREPROCESS_CHOICE``."""
from __future__ import annotations

import pandas as pd
import pytest

from mammokit import runs
from mammokit.errors import ConfigError, DataError
from mammokit.preprocess import PreprocessConfig


def test_preprocess_choice_reads_notebook_02_or_says_defaults(tmp_path):
    choice = runs.preprocess_choice(tmp_path)
    assert not choice.recorded and PreprocessConfig.from_dict(choice.settings) == PreprocessConfig()
    assert "defaults" in choice.source
    runs.save_preprocess_choice(tmp_path, PreprocessConfig(otsu_offset=10, kernel=3).to_dict())
    choice = runs.preprocess_choice(tmp_path)
    assert choice.recorded and "notebook 02" in choice.source
    assert PreprocessConfig.from_dict(choice.settings) == PreprocessConfig(otsu_offset=10, kernel=3)
    runs.record(tmp_path, runs.PREPROCESSING, {"config": [1, 2]})
    with pytest.raises(DataError, match="02_preprocessing.json"):
        runs.preprocess_choice(tmp_path)


def test_one_notebooks_metrics_and_a_misspelt_notebook(tmp_path):
    assert runs.metrics(tmp_path, "04_convnet") == {}
    runs.record(tmp_path, "04_convnet", {"test_auc": 0.7})
    assert runs.metrics(tmp_path, "04_convnet") == {"test_auc": 0.7}
    with pytest.raises(ConfigError, match="notebook='convnet'"):
        runs.metrics(tmp_path, "convnet")


def test_leakage_lab_is_the_typed_recap_of_notebook_03(tmp_path):
    assert runs.leakage_lab(tmp_path) is None
    runs.record(tmp_path, runs.AUGMENTATION, {
        "n_rois": 81, "inflate_factor": 8, "leakage_gap_auc_mean": 0.12, "leakage_gap_auc_ci": [0.02, 0.2],
        "leakage_seeds": 5, "leakage_paper_auc_mean": 0.9, "leakage_paper_auc_sd": 0.03,
        "leakage_honest_auc_mean": 0.78})
    lab = runs.leakage_lab(tmp_path)
    assert (lab.gap_auc_mean, lab.gap_auc_ci, lab.seeds, lab.paper_auc_sd) == (0.12, (0.02, 0.2), 5, 0.03)
    assert set(lab.entries) == {"leakage_gap_auc_mean", "leakage_gap_auc_ci", "leakage_seeds",
                                "leakage_paper_auc_mean", "leakage_paper_auc_sd", "leakage_honest_auc_mean"}
    runs.record(tmp_path, runs.AUGMENTATION, {"leakage_gap_auc_ci": "0.02-0.2"})
    with pytest.raises(DataError, match="rerun notebook 03"):
        runs.leakage_lab(tmp_path)


def test_domain_transfer_is_the_typed_recap_of_notebook_05(tmp_path):
    assert runs.domain_transfer(tmp_path) is None
    runs.record(tmp_path, runs.TRANSFER, {"test": {}, "domain_folds": 5})
    assert runs.domain_transfer(tmp_path) is None
    runs.record(tmp_path, runs.TRANSFER, {"domain_transfer": {
        "detector init": {"auc": 0.55, "auc_low": 0.4, "auc_high": 0.7, "seconds": 300},
        "random init": {"auc": 0.6, "auc_low": 0.45, "auc_high": 0.75, "seconds": 100}}})
    got = runs.domain_transfer(tmp_path)
    assert list(got) == ["detector init", "random init"] and got["random init"]["auc_high"] == 0.75
    runs.record(tmp_path, runs.TRANSFER, {"domain_transfer": {"detector init": ["0.55"]}})
    with pytest.raises(DataError, match="rerun notebook 05"):
        runs.domain_transfer(tmp_path)


def test_predictions_on_other_rois_are_left_out(tmp_path):
    table = pd.DataFrame({"image_id": ["a", "b"], "patient_id": ["p", "q"], "label": [0, 1],
                          "proba": [0.2, 0.9], "split": ["test", "test"]})
    runs.save_predictions(tmp_path, "convnet", table)
    runs.save_predictions(tmp_path, "VGG19", table.assign(image_id=["a", "z"]))
    assert set(runs.read_predictions(tmp_path).model) == {"convnet", "VGG19"}
    assert set(runs.read_predictions(tmp_path, image_ids=["a", "b", "c"]).model) == {"convnet"}
    assert runs.read_predictions(tmp_path, image_ids=[]).empty


def test_a_later_notebook_reuses_a_model_only_when_it_fits(tmp_path):
    from mammokit import models, train

    table = pd.DataFrame({"image_id": ["a"], "patient_id": ["p"], "label": [1], "proba": [0.9], "split": ["test"]})
    assert train.reusable_model(tmp_path, "convnet", 32, runs.read_predictions(tmp_path)) is None  # nothing yet
    net = models.build_convnet((32, 32, 1), filters=(4,), dense=None)
    runs.model_path(tmp_path, "convnet").parent.mkdir(parents=True)
    net.save(runs.model_path(tmp_path, "convnet"))
    assert train.reusable_model(tmp_path, "convnet", 32, runs.read_predictions(tmp_path)) is None  # no predictions
    runs.save_predictions(tmp_path, "convnet", table)
    assert train.reusable_model(tmp_path, "convnet", 32, runs.read_predictions(tmp_path)).input_shape[1] == 32
    assert train.reusable_model(tmp_path, "convnet", 64, runs.read_predictions(tmp_path)) is None  # other side
    assert train.reusable_model(tmp_path, "convnet", 32, runs.read_predictions(tmp_path, image_ids=["b"])) is None
