"""The leakage lab: the two protocols build the data they claim to, and a tiny run works end to end."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from mammokit import leakage
from mammokit.errors import ConfigError
from mammokit.train import TrainConfig


def toy_dataset(n_patients: int = 24, size: int = 16, seed: int = 0) -> SimpleNamespace:
    """RoiDataset-like: random uint8 ROIs, 1-2 per patient, malignant ones a little brighter."""
    rng = np.random.default_rng(seed)
    rows, images = [], []
    for p in range(n_patients):
        label = p % 2
        for j in range(1 + p % 3 // 2):
            images.append(rng.integers(0, 160, (size, size)) + 60 * label)
            rows.append({"image_id": f"mdb{len(rows):03d}", "patient_id": f"p{p:03d}", "label": label})
    table = pd.DataFrame(rows)
    return SimpleNamespace(images=np.clip(images, 0, 255).astype(np.uint8), table=table,
                           labels=table["label"].to_numpy(), groups=table["patient_id"].to_numpy())


def test_paper_protocol_leaks_and_honest_does_not():
    data = toy_dataset()
    paper = leakage.protocol_data("paper", data, seed=0, factor=8)
    honest = leakage.protocol_data("honest", data, seed=0, factor=8)
    n = len(data.labels)
    assert len(paper["train"][1]) + len(paper["val"][1]) + len(paper["test"][1]) == 8 * n
    assert paper["test_roi_in_train"] > 0.9  # with 8 copies, nearly every test ROI has a sibling in training
    assert paper["test_patient_in_train"] >= paper["test_roi_in_train"]
    assert honest["test_roi_in_train"] == 0 and honest["test_patient_in_train"] == 0
    # honest: training is inflated, val/test are untouched originals of other patients
    assert len(honest["test"][1]) + len(honest["val"][1]) + len(honest["train"][1]) // 8 == n
    originals = {im.tobytes() for im in data.images}
    assert all(im.tobytes() in originals for im in honest["test"][0])
    assert paper["train"][0].dtype == np.uint8 and paper["train"][0].shape[1:] == (16, 16)
    # the paper arm's test set holds some un-augmented originals, scored apart
    assert 0 < paper["test_original"].sum() < len(paper["test"][1]) and honest["test_original"].all()


def test_roi_protocol_keeps_copies_apart_but_not_patients():
    data = toy_dataset()
    roi = leakage.protocol_data("roi", data, seed=0, factor=8)
    assert roi["test_roi_in_train"] == 0  # no copy of a test ROI in training
    assert roi["test_patient_in_train"] > 0  # but a patient's other ROI can be
    n = len(data.labels)
    assert len(roi["test"][1]) + len(roi["val"][1]) + len(roi["train"][1]) // 8 == n


def test_expected_overlap_is_the_papers_arithmetic():
    out = leakage.expected_overlap(696, 8)
    assert out["test_images"] == pytest.approx(1113.6)
    assert out["distinct_test_rois"] == pytest.approx(696 * (1 - 0.8 ** 8))
    assert 0.99 < out["with_copy_in_train"] < 1
    assert leakage.expected_overlap(100, 1)["distinct_test_rois"] == pytest.approx(20)


def test_protocols_are_seeded():
    data = toy_dataset()
    a, b = (leakage.protocol_data("paper", data, seed=3) for _ in range(2))
    assert np.array_equal(a["test"][0], b["test"][0])
    c = leakage.protocol_data("paper", data, seed=4)
    assert not np.array_equal(a["test"][1], c["test"][1]) or not np.array_equal(a["test"][0], c["test"][0])


def test_bad_inputs_are_config_errors():
    with pytest.raises(ConfigError, match="protocol"):
        leakage.protocol_data("cheating", toy_dataset())
    with pytest.raises(ConfigError, match="RoiDataset"):
        leakage.run_lab(object())
    one_class = toy_dataset()
    one_class.labels = np.zeros_like(one_class.labels)
    with pytest.raises(ConfigError, match="one class"):
        leakage.run_lab(one_class)
    with pytest.raises(ConfigError, match="factor"):
        leakage.LabConfig(factor=0)
    with pytest.raises(ConfigError, match="train.epochs=0 must be a positive integer"):
        leakage.LabConfig(train=TrainConfig(epochs=0))


def test_resize_rois():
    images = np.random.default_rng(0).integers(0, 256, (3, 20, 20)).astype(np.uint8)
    small = leakage.resize_rois(images, 10)
    assert small.shape == (3, 10, 10) and small.dtype == np.uint8
    assert leakage.resize_rois(images, 20) is images


def test_summarise_pairs_seeds():
    results = pd.DataFrame({"protocol": ["paper", "honest"] * 3, "seed": [0, 0, 1, 1, 2, 2],
                            "accuracy": [0.9, 0.6, 0.8, 0.6, 1.0, 0.7], "auc": [0.95, 0.6, 0.9, 0.7, 1.0, 0.5]})
    table = leakage.summarise(results)
    assert list(table.index) == ["paper", "honest", "gap"]
    assert table.loc["paper", "accuracy_mean"] == pytest.approx(0.9)
    assert table.loc["honest", "accuracy_sd"] == pytest.approx(np.std([0.6, 0.6, 0.7], ddof=1))
    assert table.loc["gap", "accuracy_mean"] == pytest.approx(0.9 - 0.6333333)
    assert table.loc["gap", "auc_sd"] == pytest.approx(np.std([0.35, 0.2, 0.5], ddof=1))
    # a 95% t interval around the mean paired difference
    half = 4.302653 * np.std([0.3, 0.2, 0.3], ddof=1) / np.sqrt(3)
    assert table.loc["gap", "accuracy_ci_low"] == pytest.approx(0.9 - 0.6333333 - half, abs=1e-5)
    assert table.loc["gap", "accuracy_ci_high"] == pytest.approx(0.9 - 0.6333333 + half, abs=1e-5)


def test_summarise_splits_the_gap_into_roi_copies_and_same_patient():
    results = pd.DataFrame({"protocol": ["paper", "roi", "honest"] * 2, "seed": [0, 0, 0, 1, 1, 1],
                            "accuracy": [0.9, 0.7, 0.6, 0.8, 0.7, 0.5], "auc": [0.9, 0.8, 0.5, 0.9, 0.6, 0.6]})
    table = leakage.summarise(results)
    assert list(table.index) == ["paper", "roi", "honest", "gap", "gap_roi_copies", "gap_same_patient"]
    assert table.loc["gap_roi_copies", "accuracy_mean"] == pytest.approx(0.15)
    assert table.loc["gap_same_patient", "accuracy_mean"] == pytest.approx(0.15)


@pytest.mark.slow
def test_tiny_lab_end_to_end():
    data = toy_dataset(size=16)
    cfg = leakage.LabConfig(factor=2, filters=(4,), dense=8, size=12,
                            train=TrainConfig(epochs=1, batch_size=16, augment=False, verbose=0))
    lines = []
    results = leakage.run_lab(data, seeds=[0], cfg=cfg, log=lines.append)
    assert list(results["protocol"]) == ["paper", "roi", "honest"] and len(lines) == 3
    assert results["accuracy"].between(0, 1).all() and results["auc"].between(0, 1).all()
    assert (results["steps_per_epoch"] == results["steps_per_epoch"].iloc[0]).all()  # same budget
    assert results.loc[0, "test_roi_in_train"] > 0 and results.loc[1, "test_roi_in_train"] == 0
    assert results.loc[2, "test_roi_in_train"] == 0 and results.loc[0, "n_test_originals"] > 0


def test_plot_of_results():
    from mammokit import plots

    results = pd.DataFrame({"protocol": ["paper", "honest"] * 2, "seed": [0, 0, 1, 1],
                            "accuracy": [0.9, 0.6, 0.8, 0.6], "auc": [0.95, 0.6, 0.9, 0.7]})
    fig = plots.leakage_plot(results)
    assert len(fig.axes) == 2 and "gap paper − honest +0.250" in fig.axes[0].get_title()
