"""What the notebooks teach is true (issue #13): the claims backed by code are checked here."""
from __future__ import annotations

import numpy as np
import pytest

from mammokit import evaluate, preprocess
from mammokit.errors import MammokitError


def test_class_balanced_weights_pull_probabilities_to_half_and_bayes_undoes_it():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    y = (rng.random(4000) < 0.2).astype(int)  # 20 % malignant
    x = rng.normal(y * 1.0, 1.0)[:, None]     # a weak feature
    proba = LogisticRegression(class_weight="balanced").fit(x, y).predict_proba(x)[:, 1]
    assert proba.mean() > 0.4                   # balanced training: pulled from 0.2 towards one half
    fixed = evaluate.undo_class_weights(proba, y.mean())
    assert abs(fixed.mean() - y.mean()) < 0.03  # back to the real share
    for p, ok in ((proba, False), (fixed, True)):  # reliability bins holding 50+ ROIs
        bins = evaluate.calibration(y, p, bins=5).query("count >= 50")
        assert np.allclose(bins.mean_proba, bins.fraction_malignant, atol=0.05) == ok


def test_undo_class_weights_refuses_a_prevalence_outside_0_1():
    with pytest.raises(MammokitError, match="prevalence"):
        evaluate.undo_class_weights([0.3], 1.0)


def test_poisson_noise_grows_with_the_signal():
    dark, bright = np.full((200, 200), 30, np.uint8), np.full((200, 200), 200, np.uint8)
    noisy_dark = preprocess.add_noise(dark, "poisson", 2, seed=0).astype(float)
    noisy_bright = preprocess.add_noise(bright, "poisson", 2, seed=0).astype(float)
    assert abs(noisy_dark.mean() - 30) < 1 and abs(noisy_bright.mean() - 200) < 1
    assert noisy_dark.var() == pytest.approx(2 * 30, rel=0.15)
    assert noisy_bright.var() == pytest.approx(2 * 200, rel=0.15)


def test_departures_name_one_course_notebook_each_and_unique_topics():
    """Shown where they are taught and gathered in 06: tests/test_executed_notebooks.py, on nbval's run."""
    from mammokit import paper
    from mammokit.course import params

    table = paper.departures()
    assert table["topic"].is_unique and len(table) >= 10
    assert set(table["notebook"]) <= set(params.NOTEBOOKS)
    assert paper.departures("04_convnet")["topic"].tolist() == table.loc[table["notebook"] == "04_convnet", "topic"].tolist()


def test_worksheet_claims_hold():
    from mammokit import paper

    assert paper.inconsistent_f_scores() == (7, 12)  # the "7 of 12", computed from the tables
    # activation after pooling: ReLU and max-pooling commute (both monotone)
    x = np.random.default_rng(0).normal(size=(8, 8))
    pool = lambda a: a.reshape(4, 2, 4, 2).max(axis=(1, 3))  # noqa: E731
    relu = lambda a: np.maximum(a, 0)  # noqa: E731
    np.testing.assert_array_equal(relu(pool(x)), pool(relu(x)))
    assert {"activation", "dropout", "patch size", "MIAS counts", "Table 5"} <= set(paper.worksheet()["topic"])


def test_the_worksheets_arithmetic_follows_from_what_the_paper_says():
    import re

    from mammokit import constants, paper

    def numbers(text: str) -> list[int]:
        return [int(n) for n in re.findall(r"\d+", text)]

    sheet, hp = paper.worksheet().set_index("topic"), constants.HYPERPARAMETERS
    counts = sheet.loc["MIAS counts"]  # the quoted class counts add up to the total named, not to the film count
    quoted, films = numbers(counts["the paper says"]), numbers(paper.PROTOCOL["data"])[0]
    assert len(quoted) == 3 and f"{' + '.join(map(str, quoted))} = {sum(quoted)}" in counts["but"]
    assert f'"{films} digital' in counts["but"] and sum(quoted) != films
    steps = sheet.loc["steps per epoch"]  # Table 2's steps x batch against the training share of the inflated set
    assert numbers(steps["the paper says"]) == [hp["epochs"], hp["steps_per_epoch"], hp["batch_size"]]
    inflated = int(re.search(r"to (\d+) images", paper.PROTOCOL["augmentation"]).group(1))
    train, test = round(inflated * hp["train_split"]), round(inflated * hp["test_split"])
    per_epoch = hp["steps_per_epoch"] * hp["batch_size"]
    assert f"{hp['steps_per_epoch']} × {hp['batch_size']} = {per_epoch} images per epoch" in steps["but"]
    assert f"holds {train}" in steps["but"] and per_epoch < train
    assert f"{train} train and {test} test images ({inflated} × {hp['train_split']}" in paper.PROTOCOL["split"]


def test_paper_profile_inflates_with_table1_and_classroom_augments_online(tmp_path):
    from mammokit.course import params

    paper = params.resolve("04_convnet", {"PROFILE": "paper", "RUN_DIR": str(tmp_path)}, quiet=True)
    classroom = params.resolve("04_convnet", {"PROFILE": "classroom", "RUN_DIR": str(tmp_path)}, quiet=True)
    assert (paper.INFLATE, paper.AUGMENT) == (8, False)
    assert (classroom.INFLATE, classroom.AUGMENT) == (1, True)
