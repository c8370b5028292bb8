"""The permutation test of an AUC and the power statement (Hanley & McNeil 1982)."""
from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

from mammokit.errors import ConfigError
from mammokit.evaluate import EvaluationError, binary_metrics
from mammokit.significance import auc_permutation_test, hanley_mcneil_se, smallest_detectable_auc


def _exact_p(labels, proba) -> float:
    """Every labelling with the same class counts, enumerated: the p-value the shuffles estimate."""
    labels, proba = np.asarray(labels), np.asarray(proba)
    observed = binary_metrics(labels, proba)["auc"]
    n, k = labels.size, int(labels.sum())
    aucs = []
    for pos in combinations(range(n), k):
        y = np.zeros(n, int)
        y[list(pos)] = 1
        aucs.append(binary_metrics(y, proba)["auc"])
    return float(np.mean(np.asarray(aucs) >= observed - 1e-12))


def test_permutation_p_value_matches_the_exact_enumeration_with_ties():
    labels = np.array([0, 0, 1, 0, 1, 0, 1, 1])
    proba = np.array([0.1, 0.2, 0.2, 0.4, 0.5, 0.6, 0.6, 0.9])  # ties between classes
    auc, p = auc_permutation_test(labels, proba, n_perm=20000, seed=1)
    assert auc == pytest.approx(binary_metrics(labels, proba)["auc"])
    assert p == pytest.approx(_exact_p(labels, proba), abs=0.01)


def test_permutation_p_value_is_never_zero_and_repeatable():
    labels = np.repeat([0, 1], 20)
    proba = np.linspace(0, 1, 40)  # perfectly separated: no shuffle reaches AUC 1
    assert auc_permutation_test(labels, proba, n_perm=999, seed=0) == (1.0, 1 / 1000)
    rng = np.random.default_rng(0)
    noise = rng.random(40)
    first = auc_permutation_test(labels, noise, n_perm=300, seed=5)
    assert first == auc_permutation_test(labels, noise, n_perm=300, seed=5)
    assert 0 < first[1] <= 1


def test_permutation_p_value_is_roughly_uniform_under_the_null():
    rng = np.random.default_rng(3)
    ps = [auc_permutation_test(rng.integers(0, 2, 30) | np.eye(1, 30, 0, int)[0], rng.random(30),
                               n_perm=200, seed=i)[1] for i in range(200)]
    assert np.mean(np.asarray(ps) <= 0.05) < 0.12 and 0.4 < np.mean(ps) < 0.6


def test_permutation_test_rejects_bad_input():
    with pytest.raises(EvaluationError, match="both"):
        auc_permutation_test([1, 1, 1], [0.2, 0.3, 0.4])
    with pytest.raises(EvaluationError, match="n_perm"):
        auc_permutation_test([0, 1], [0.2, 0.3], n_perm=0)


def test_hanley_mcneil_se_at_chance_is_the_mann_whitney_null():
    for n_pos, n_neg in ((5, 7), (10, 10), (37, 46)):
        assert hanley_mcneil_se(0.5, n_pos, n_neg) == pytest.approx(math.sqrt((n_pos + n_neg + 1) / (12 * n_pos * n_neg)))
    assert hanley_mcneil_se(1.0, 20, 20) == 0.0
    assert hanley_mcneil_se(0.8, 20, 20) > hanley_mcneil_se(0.8, 80, 80)


def test_smallest_detectable_auc_known_values():
    """Pinned values (a grid search of the same equation gave them to 1e-6), and the equation itself."""
    from scipy.stats import norm

    assert smallest_detectable_auc(50, 50) == pytest.approx(0.659489, abs=1e-5)
    assert smallest_detectable_auc(10, 10) == pytest.approx(0.837566, abs=1e-5)
    a = smallest_detectable_auc(37, 46, alpha=0.01, power=0.9)
    lhs = a - 0.5
    rhs = norm.ppf(0.995) * hanley_mcneil_se(0.5, 37, 46) + norm.ppf(0.9) * hanley_mcneil_se(a, 37, 46)
    assert lhs == pytest.approx(rhs, abs=1e-8)
    assert math.isnan(smallest_detectable_auc(2, 2))  # even AUC 1 is not detectable on four cases


def test_smallest_detectable_auc_falls_with_n_and_rises_with_stricter_tests():
    values = [smallest_detectable_auc(n, n) for n in (5, 10, 20, 40, 80, 160, 1000)]
    assert all(b < a for a, b in zip(values, values[1:])) and 0.5 < values[-1] < 0.55
    assert smallest_detectable_auc(20, 20, alpha=0.01) > smallest_detectable_auc(20, 20)
    assert smallest_detectable_auc(20, 20, power=0.9) > smallest_detectable_auc(20, 20)
    assert smallest_detectable_auc(10, 40) > smallest_detectable_auc(25, 25)  # balance helps


@pytest.mark.parametrize("kwargs, words", [({"n_pos": 0, "n_neg": 5}, "n_pos"), ({"n_pos": 5, "n_neg": 2.5}, "n_neg"),
                                           ({"n_pos": 5, "n_neg": 5, "alpha": 5}, "alpha"),
                                           ({"n_pos": 5, "n_neg": 5, "power": 1.0}, "power")])
def test_smallest_detectable_auc_rejects_bad_input(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        smallest_detectable_auc(**kwargs)
