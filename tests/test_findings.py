"""'What we found': sentences computed from a run's numbers, tested on made-up numbers."""
from __future__ import annotations

import pytest

from mammokit.errors import ConfigError
from mammokit.findings import (chance_verdict, comparison_sentence, domain_sentences, gap_verdict, leakage_sentence,
                               lockbox_sentence, power_sentence, task_sentence, what_we_found)

DETECTOR = {"task": "lesion vs normal tissue", "recipe": "ConvNet lesion detector", "auc": 0.83, "auc_low": 0.78,
            "auc_high": 0.88}
BASELINE = {"task": "lesion vs normal tissue", "recipe": "intensity baseline", "auc": 0.72, "auc_low": 0.67,
            "auc_high": 0.77}
CONVNET = {"task": "benign vs malignant", "recipe": "ConvNet", "auc": 0.47, "auc_low": 0.33, "auc_high": 0.61}


@pytest.mark.parametrize("low, high, want", [(0.41, 0.62, "not distinguishable from chance"),
                                             (0.50, 0.70, "not distinguishable from chance"),  # an end at 0.5
                                             (0.51, 0.70, "above chance"), (0.20, 0.49, "below chance")])
def test_chance_verdict(low, high, want):
    assert chance_verdict(low, high) == want


def test_gap_verdict_and_bad_intervals():
    assert [gap_verdict(*i) for i in ((-0.04, 0.4), (0.0, 0.3), (0.01, 0.3), (-0.3, -0.01))] == [
        "not shown", "not shown", "shown", "reversed"]
    with pytest.raises(ConfigError, match="low > high"):
        gap_verdict(0.4, -0.04)
    with pytest.raises(ConfigError, match="number"):
        chance_verdict(float("nan"), 0.6)


def test_task_and_comparison_sentences_follow_the_intervals():
    assert task_sentence(CONVNET).endswith("not distinguishable from chance.")
    assert "AUC 0.83 (95% CI 0.78-0.88)" in task_sentence(DETECTOR) and task_sentence(DETECTOR).endswith("above chance.")
    assert "do not overlap: ConvNet lesion detector scores higher" in comparison_sentence(DETECTOR, BASELINE)
    close = dict(BASELINE, auc=0.80, auc_low=0.76, auc_high=0.84)
    assert "intervals overlap" in comparison_sentence(DETECTOR, close)
    with pytest.raises(ConfigError, match="lacks"):
        task_sentence({"recipe": "x", "auc": 0.5})


def test_leakage_sentence_says_not_shown_when_the_gap_interval_holds_zero():
    text = leakage_sentence({"gap": 0.18, "low": -0.04, "high": 0.40, "seeds": 5, "leaky_auc": 0.65}, 0.95)
    assert "+0.18" in text and "a gap is not shown" in text and "0.65" in text and "0.95" in text
    assert "a gap is shown" in leakage_sentence({"gap": 0.2, "low": 0.05, "high": 0.35, "seeds": 5})
    assert "did not run" in leakage_sentence(None)


def test_power_lockbox_and_domain_sentences():
    text = power_sentence({"task": "benign vs malignant", "detectable": 0.714, "n_pos": 30, "n_neg": 45,
                           "detectable_patients": 0.75})
    assert "0.71 or more" in text and "counting patients instead: 0.75" in text
    box = {"recipe": "size only", "lockbox_malignant": 6, "lockbox_benign": 9, "lockbox_patients": 15,
           "lockbox_auc": 0.60, "lockbox_auc_ci_low": 0.31, "lockbox_auc_ci_high": 0.86, "lockbox_detectable_auc": 0.86}
    assert "not distinguishable from chance" in lockbox_sentence(box) and "0.86 or more" in lockbox_sentence(box)
    one_class = {k: v for k, v in box.items() if not k.startswith("lockbox_auc") and k != "lockbox_detectable_auc"}
    assert "one class only" in lockbox_sentence(one_class)
    assert "not opened" in lockbox_sentence(None)
    arms = {"detector init": {"auc": 0.55, "auc_low": 0.40, "auc_high": 0.70},
            "random init": {"auc": 0.70, "auc_low": 0.56, "auc_high": 0.84}}
    got = domain_sentences(arms)
    assert len(got) == 2 and "not distinguishable" in got[0] and got[1].endswith("above chance.")
    assert "did not record" in domain_sentences(None)[0]


def test_what_we_found_puts_every_part_in_order_and_checks_names():
    got = what_we_found([DETECTOR, BASELINE, CONVNET], comparisons=[("ConvNet lesion detector", "intensity baseline")],
                        power=[{"detectable": 0.7, "n_pos": 30, "n_neg": 45}])
    assert len(got) == 3 + 1 + 1 + 3  # tasks, comparison, power, leakage, lockbox, domain
    assert got[0].startswith("lesion vs normal tissue") and "did not run" in got[5] and "not opened" in got[6]
    with pytest.raises(ConfigError, match="comparisons"):
        what_we_found([DETECTOR], comparisons=[("ConvNet lesion detector", "nope")])
    with pytest.raises(ConfigError, match="empty"):
        what_we_found([])
