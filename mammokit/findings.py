"""What a run found, in sentences computed from its numbers (notebook 06's "What we found").

A summary typed into a notebook goes stale the day the numbers change, and it tends to say what
the author expected. These functions write each sentence from the numbers handed in, with the
course's reading rules built in:

* an AUC whose 95 % interval contains 0.5 is "not distinguishable from chance"
  (:func:`chance_verdict`);
* a gap whose interval contains 0 is "not shown" (:func:`gap_verdict`), whatever its point estimate;
* two intervals that overlap do not rank two models (:func:`comparison_sentence`);
* a missing piece (a notebook that did not run in this ``RUN_DIR``) is said to be missing.

:func:`what_we_found` puts them together. Pure functions over numbers and plain dicts: no
training, no files.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from mammokit.errors import ConfigError

CHANCE = 0.5
"""The AUC of guessing."""


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(float(value)):
        raise ConfigError(f"{what}={value!r} must be a number (not NaN); pass the run's value")
    return float(value)


def _interval(low: Any, high: Any, what: str) -> tuple[float, float]:
    low, high = _number(low, f"{what} low"), _number(high, f"{what} high")
    if low > high:
        raise ConfigError(f"{what}: interval ({low}, {high}) has low > high; pass (low, high)")
    return low, high


def chance_verdict(low: float, high: float, chance: float = CHANCE) -> str:
    """Where an AUC's 95 % interval ``(low, high)`` lies against ``chance``.

    Parameters
    ----------
    low, high : float, the interval's ends (low <= high)
    chance : float, the AUC of guessing (0.5)

    Returns
    -------
    str
        ``'above chance'``, ``'below chance'`` or ``'not distinguishable from chance'`` (the
        interval contains ``chance``, ends included).

    >>> chance_verdict(0.41, 0.62), chance_verdict(0.78, 0.89)
    ('not distinguishable from chance', 'above chance')
    """
    low, high = _interval(low, high, "chance_verdict")
    if low > chance:
        return "above chance"
    return "below chance" if high < chance else "not distinguishable from chance"


def gap_verdict(low: float, high: float) -> str:
    """``'shown'`` when a gap's 95 % interval excludes 0 on the positive side, ``'reversed'`` when
    it lies below 0, else ``'not shown'``.

    >>> gap_verdict(-0.04, 0.40), gap_verdict(0.02, 0.30)
    ('not shown', 'shown')
    """
    low, high = _interval(low, high, "gap_verdict")
    return "shown" if low > 0 else "reversed" if high < 0 else "not shown"


def auc_text(auc: float, low: float, high: float) -> str:
    """``'AUC 0.83 (95% CI 0.78-0.89)'``."""
    low, high = _interval(low, high, "auc_text")
    return f"AUC {_number(auc, 'auc'):.2f} (95% CI {low:.2f}-{high:.2f})"


def task_sentence(row: Mapping[str, Any]) -> str:
    """One model on one task: ``row`` has ``task``, ``recipe``, ``auc``, ``auc_low``, ``auc_high``
    (a row of :func:`mammokit.crossval.compare_recipes`' table with a ``task``).

    >>> task_sentence({"task": "lesion vs normal", "recipe": "detector", "auc": 0.83, "auc_low": 0.78, "auc_high": 0.89})
    'lesion vs normal, detector: AUC 0.83 (95% CI 0.78-0.89) on held-out patients, above chance.'
    """
    missing = [k for k in ("task", "recipe", "auc", "auc_low", "auc_high") if k not in row]
    if missing:
        raise ConfigError(f"task_sentence: the row lacks {', '.join(missing)}; pass a compare_recipes row with a task")
    return (f"{row['task']}, {row['recipe']}: {auc_text(row['auc'], row['auc_low'], row['auc_high'])} on held-out "
            f"patients, {chance_verdict(row['auc_low'], row['auc_high'])}.")


def comparison_sentence(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """Two rows (as :func:`task_sentence`'s) against each other, as far as their intervals allow.

    >>> comparison_sentence({"recipe": "A", "auc": 0.83, "auc_low": 0.78, "auc_high": 0.89},
    ...                     {"recipe": "B", "auc": 0.73, "auc_low": 0.68, "auc_high": 0.77})
    'A vs B: +0.10 AUC, and the intervals do not overlap: A scores higher.'
    """
    (alo, ahi), (blo, bhi) = _interval(a["auc_low"], a["auc_high"], "a"), _interval(b["auc_low"], b["auc_high"], "b")
    diff = _number(a["auc"], "a auc") - _number(b["auc"], "b auc")
    head = f"{a['recipe']} vs {b['recipe']}: {diff:+.2f} AUC"
    if alo > bhi or blo > ahi:
        return f"{head}, and the intervals do not overlap: {a['recipe'] if alo > bhi else b['recipe']} scores higher."
    return f"{head}, but the intervals overlap: these patients do not rank the two."


def leakage_sentence(lab: Mapping[str, Any] | None, paper_auc: float | None = None) -> str:
    """Notebook 03's leakage lab: ``lab`` has ``gap`` (paper protocol − ours, AUC), ``low``,
    ``high``, ``seeds`` and optionally ``leaky_auc`` (the paper-protocol arm's mean AUC); None
    when notebook 03 did not run in this ``RUN_DIR``.

    >>> leakage_sentence({"gap": 0.18, "low": -0.04, "high": 0.40, "seeds": 5})
    'Leakage lab (notebook 03): the paper-like protocol (augment, then split) scored +0.18 AUC above ours (95% CI -0.04 to +0.40, 5 seeds): a gap is not shown.'
    """
    if lab is None:
        return ("Leakage lab: notebook 03 did not run in this RUN_DIR, so this run says nothing about how much "
                "augmenting before splitting inflates an AUC.")
    low, high = _interval(lab["low"], lab["high"], "leakage gap")
    verdict = gap_verdict(low, high)
    text = (f"Leakage lab (notebook 03): the paper-like protocol (augment, then split) scored "
            f"{_number(lab['gap'], 'gap'):+.2f} AUC above ours (95% CI {low:+.2f} to {high:+.2f}, "
            f"{int(lab['seeds'])} seeds): a gap is {verdict}.")
    if lab.get("leaky_auc") is not None:
        text += f" The leaky arm itself reached AUC {_number(lab['leaky_auc'], 'leaky_auc'):.2f}"
        text += f", against the paper's {_number(paper_auc, 'paper_auc'):.2f}." if paper_auc is not None else "."
    return text


def power_sentence(power: Mapping[str, Any]) -> str:
    """The power statement: ``power`` has ``detectable`` (the smallest AUC the counts tell from
    chance, :func:`mammokit.significance.smallest_detectable_auc`), ``n_pos``, ``n_neg`` and
    optionally ``task``, ``positive`` and ``negative`` (what the two classes are called) and
    ``detectable_patients`` (the same from patient counts).

    >>> power_sentence({"task": "benign vs malignant", "detectable": 0.71, "n_pos": 30, "n_neg": 45,
    ...                 "positive": "malignant", "negative": "benign"})
    'Power (benign vs malignant): 30 malignant and 45 benign cases tell from chance only a true AUC of 0.71 or more (5% two-sided, 80% power).'
    """
    where = f" ({power['task']})" if power.get("task") else ""
    pos, neg = power.get("positive", "positive"), power.get("negative", "negative")
    text = (f"Power{where}: {int(power['n_pos'])} {pos} and {int(power['n_neg'])} {neg} cases tell from chance "
            f"only a true AUC of {_number(power['detectable'], 'detectable'):.2f} or more (5% two-sided, 80% power)")
    if power.get("detectable_patients") is not None:
        text += f"; counting patients instead: {_number(power['detectable_patients'], 'detectable_patients'):.2f}"
    return text + "."


def lockbox_sentence(box: Mapping[str, Any] | None) -> str:
    """The lockbox, scored once: ``box`` has ``recipe``, ``lockbox_malignant``, ``lockbox_benign``,
    ``lockbox_patients`` and, when both classes are there, ``lockbox_auc``, ``lockbox_auc_ci_low``,
    ``lockbox_auc_ci_high``, ``lockbox_detectable_auc``; None when it was not opened."""
    if box is None:
        return "Lockbox: not opened in this run."
    head = (f"Lockbox ({int(box['lockbox_malignant'])} malignant, {int(box['lockbox_benign'])} benign ROIs of "
            f"{int(box['lockbox_patients'])} patients, scored once)")
    if box.get("lockbox_auc") is None:
        return f"{head}: one class only, so no AUC."
    low, high = box["lockbox_auc_ci_low"], box["lockbox_auc_ci_high"]
    return (f"{head}: {box.get('recipe', 'the recommended recipe')}, {auc_text(box['lockbox_auc'], low, high)}, "
            f"{chance_verdict(low, high)}; these counts tell from chance only a true AUC of "
            f"{_number(box['lockbox_detectable_auc'], 'lockbox_detectable_auc'):.2f} or more.")


def domain_sentences(domain: Mapping[str, Mapping[str, Any]] | None) -> list[str]:
    """Notebook 05's domain transfer (``{arm: {auc, auc_low, auc_high}}``, as it records it), one
    sentence per arm; one sentence saying it is missing when None or empty."""
    if not domain:
        return ["Domain transfer: notebook 05 did not record it in this RUN_DIR."]
    return [f"Domain transfer (notebook 05), {name}: {auc_text(r['auc'], r['auc_low'], r['auc_high'])}, "
            f"{chance_verdict(r['auc_low'], r['auc_high'])}." for name, r in domain.items()]


def what_we_found(tasks: Sequence[Mapping[str, Any]], *, comparisons: Sequence[tuple[str, str]] = (),
                  power: Sequence[Mapping[str, Any]] = (), leakage: Mapping[str, Any] | None = None,
                  lockbox: Mapping[str, Any] | None = None, domain: Mapping[str, Mapping[str, Any]] | None = None,
                  paper_auc: float | None = None) -> list[str]:
    """Every sentence of "What we found", in order: each task's models (:func:`task_sentence`),
    ``comparisons`` (pairs of ``recipe`` names in ``tasks``, :func:`comparison_sentence`), the
    power statements, the leakage lab, the lockbox, the domain transfer; ``paper_auc`` (Table 4's
    0.95), where given, is set beside the leakage lab's leaky arm.

    Parameters
    ----------
    tasks : sequence of mappings with ``task, recipe, auc, auc_low, auc_high``
    comparisons : sequence of (recipe, recipe) pairs
    power : sequence of :func:`power_sentence` mappings
    leakage, lockbox, domain : as :func:`leakage_sentence`, :func:`lockbox_sentence`, :func:`domain_sentences`
    paper_auc : float or None, the paper's headline AUC, quoted with the leakage lab's leaky arm

    Returns
    -------
    list of str, one sentence each
    """
    if not tasks:
        raise ConfigError("what_we_found: tasks is empty; pass the rows of the cross-validated models")
    by_name = {r["recipe"]: r for r in tasks}
    unknown = [n for pair in comparisons for n in pair if n not in by_name]
    if unknown:
        raise ConfigError(f"what_we_found: comparisons name {unknown}, not recipes of tasks ({list(by_name)})")
    out = [task_sentence(r) for r in tasks]
    out += [comparison_sentence(by_name[a], by_name[b]) for a, b in comparisons]
    out += [power_sentence(p) for p in power]
    out.append(leakage_sentence(leakage, paper_auc))
    out.append(lockbox_sentence(lockbox))
    return out + domain_sentences(domain)
