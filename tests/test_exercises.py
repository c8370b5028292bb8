"""The exercise checks: every reference solution passes, otter's blank placeholder reports "not
answered yet", wrong answers fail with a message; a notebook never stops on a check."""
from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

import mammokit as mk
from mammokit import exercises as E
from mammokit.course.masters import read_source, solutions, sources

ALL = [ex for stem in E.NOTEBOOK_MODULES for ex in E.for_notebook(stem)]
KEY = solutions()  # the answer key: solution cells in notebooks/solutions/*.md (not in the package)
KERAS = {"04_convnet", "05_transfer_learning"}


def _params(exs):
    return [pytest.param(ex, id=ex.name, marks=[pytest.mark.slow] if ex.notebook in KERAS else [])
            for ex in exs]


def _run(source: str) -> dict:
    namespace = {"np": np, "mk": mk, "cv2": cv2}
    exec(source, namespace)  # the solution cell as a student's kernel runs it
    return namespace


def _blank(source: str) -> str:
    """What otter assign leaves for students: solution blocks and `# SOLUTION` lines become `...`."""
    source = re.sub(r"# BEGIN SOLUTION.*?# END SOLUTION", "...", source, flags=re.S)
    return re.sub(r"=.*# SOLUTION", "= ...", source)


def test_enough_exercises_per_notebook():
    for stem in E.NOTEBOOK_MODULES:
        exs = E.for_notebook(stem)
        code = [ex for ex in exs if ex.kind == "code"]
        predict = [ex for ex in exs if ex.kind == "predict"]
        assert len(code) >= 4, f"{stem}: {len(code)} code exercises"
        assert len(predict) >= 1, f"{stem}: {len(predict)} predict-then-run questions"
        assert E.written_questions(stem), f"{stem}: no written question"
        assert all(ex.name.startswith(f"q{stem[:2]}_") and ex.notebook == stem for ex in exs)
    assert len([ex for ex in ALL if ex.kind == "code"]) >= 24
    assert len(ALL) >= 40, "issue 21: at least 40 auto-graded questions"
    assert len({ex.name for ex in ALL}) == len(ALL), "exercise names must be unique"


def test_answer_names_are_lowercase_identifiers():
    """params.resolve rejects UPPERCASE globals; answers must also be valid names."""
    for ex in ALL:
        assert ex.answer.isidentifier() and ex.answer == ex.answer.lower(), ex.name
        assert "BEGIN SOLUTION" in KEY[ex.name] or "# SOLUTION" in KEY[ex.name], ex.name


def _bound_names(source: str) -> set[str]:
    import ast

    code = "\n".join(line[:len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())  # IPython magics are not Python
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def test_answer_names_are_not_reused_by_the_notebook():
    """otter checks answers after the WHOLE notebook ran: no other cell may rebind an answer's name."""
    import nbformat

    from mammokit.paths import notebooks_dir

    for stem in E.NOTEBOOK_MODULES:
        nb = nbformat.read(notebooks_dir() / f"{stem}.ipynb", as_version=4)
        solutions = {KEY[ex.name] for ex in E.for_notebook(stem)}
        bound = set().union(*(_bound_names(c.source) for c in nb.cells
                              if c.cell_type == "code" and c.source not in solutions and "..." not in c.source))
        for ex in E.for_notebook(stem):
            assert ex.answer not in bound, f"{stem} rebinds {ex.answer!r}; rename the answer of {ex.name}"


@pytest.mark.parametrize("ex", _params(ALL))
def test_solution_passes_blank_is_not_answered_and_wrong_fails(ex: E.Exercise):
    E.check(ex.name, _run(KEY[ex.name])[ex.answer])
    if ex.fallback is not None:  # the kit's own function for the step, which the notebook falls back to
        E.check(ex.name, ex.fallback, forbid=False)  # to a student's answer it is a forbidden shortcut
    with pytest.raises(E.NotAnswered, match="not answered yet"):
        E.check(ex.name, _run(_blank(KEY[ex.name]))[ex.answer])
    wrong = (lambda *args, **kwargs: 0) if ex.kind == "code" else "nonsense"
    with pytest.raises(E.WrongAnswer, match=ex.name) as info:
        E.check(ex.name, wrong)
    assert len(str(info.value)) > len(ex.name) + 20, "a wrong answer gets a helpful message"


NEAR_MISSES = {  # the mistakes students make, each caught by behaviour
    "q01_row_index": lambda y, height: height - y,
    "q01_patient_id": lambda image_id: f"p{int(image_id[3:]) // 2:03d}",
    "q01_side": lambda image_id: "L" if int(image_id[3:]) % 2 else "R",
    "q02_otsu": lambda hist: int(np.average(np.arange(256), weights=hist)),
    "q02_crop": lambda image, row, col, size: image[max(int(row) - size // 2, 0):int(row) + size // 2,
                                                    max(int(col) - size // 2, 0):int(col) + size // 2],
    "q02_open_mask": lambda binary, kernel: cv2.dilate(binary, np.ones((kernel, kernel), np.uint8)),
    "q03_patient_split": lambda table, seed: mk.splits.Split(*np.array_split(
        np.random.default_rng(seed).permutation(len(table)), [int(0.6 * len(table)), int(0.8 * len(table))])),
    "q03_symmetries": lambda image: [np.rot90(m, k) for m in (image, image[:, ::-1]) for k in range(4)],  # no dedupe
    "q03_rotate90": lambda image, k: np.rot90(image, -k).copy(),
    "q06_metrics": lambda cm: {"accuracy": 0.5, "sensitivity": cm[1][1] / (cm[1][1] + cm[0][1]),
                               "precision": 0.5, "f_score": 0.5},
    "q06_youden": lambda labels, proba: 0.5,
    "q06_auc": lambda labels, proba: float(np.mean(proba[np.asarray(labels) == 1] > 0.5)),
    "q06_confusion_matrix": lambda labels, predicted: np.array([[1, 0], [0, 1]]),
}


@pytest.mark.parametrize("name", sorted(NEAR_MISSES))
def test_near_misses_fail(name: str):
    verdict = E.verdict(name, NEAR_MISSES[name])
    assert verdict.status == "wrong", f"{name} accepted a wrong answer"
    assert verdict.message


@pytest.mark.slow
def test_keras_near_misses_fail():
    from keras import layers

    def block_with_bias(x, filters):
        x = layers.Conv2D(filters, 3, padding="same")(x)
        x = layers.Activation("relu")(layers.BatchNormalization()(x))
        return layers.MaxPooling2D(2)(x)

    assert "bias" in E.verdict("q04_conv_block", block_with_bias).message
    assert E.verdict("q04_class_weights", lambda y: {0: 1.0, 1: 1.0}).status == "wrong"
    assert E.verdict("q04_output_side", lambda size, n: size // n).status == "wrong"
    assert E.verdict("q05_vgg_preprocess", lambda rgb: rgb - np.array([103.939, 116.779, 123.68])).status == "wrong"
    assert E.verdict("q05_input_side", lambda name, size: size).status == "wrong"


def test_grader_reports_and_never_raises():
    """grader.check finds the answer by name in the notebook's globals (here: an exec namespace)."""
    ns = {"grader": E.Grader("01_data")}

    def check(answer):
        ns["row_index"] = answer
        exec("verdict = grader.check('q01_row_index')", ns)
        return ns["verdict"]

    assert check(...).status == "not answered"
    verdict = check(lambda y, height: y)
    assert verdict.status == "wrong" and "BOTTOM" in verdict.message
    assert "❌" in verdict._repr_markdown_()
    assert check(lambda y, height: height - 1 - y).passed
    exec("verdicts = grader.check_all()", ns)
    assert [v.name for v in ns["verdicts"]] == [ex.name for ex in E.for_notebook("01_data")]
    with pytest.raises(mk.ConfigError, match="no exercise"):
        ns["grader"].check("q02_otsu")


def test_use_falls_back_to_the_kits_function_or_none_and_says_so(capsys):
    ex = E.get("q01_patient_id")
    assert E.use("q01_patient_id", ...) is ex.fallback is not None
    assert "the kit's own function" in capsys.readouterr().out
    mine = lambda image_id: f"p{(int(image_id[3:]) + 1) // 2:03d}"  # noqa: E731
    assert E.use("q01_patient_id", mine) is mine
    assert "using your `patient_id`" in capsys.readouterr().out
    assert E.use("q01_row_index", lambda y, height: y) is None  # the kit has no stand-in: the next cell skips it
    assert "skipping what uses your `row_index`" in capsys.readouterr().out


def test_a_crashing_answer_is_a_wrong_answer_naming_the_error():
    verdict = E.verdict("q01_side", lambda image_id: int("x"))
    assert verdict.status == "wrong" and "ValueError" in verdict.message


def test_unknown_exercise_and_notebook_are_config_errors():
    with pytest.raises(mk.ConfigError, match="unknown exercise"):
        E.get("q01_nope")
    with pytest.raises(mk.ConfigError, match="no exercises for notebook"):
        E.for_notebook("07_nope")


def test_colab_widget_manager_is_switched_on_only_on_colab(monkeypatch):
    import sys
    import types

    from mammokit.course.notebook import enable_colab_widgets

    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert enable_colab_widgets() is False
    calls = []
    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append(1))
    colab = types.ModuleType("google.colab")
    colab.output = output
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    assert enable_colab_widgets() is True and calls == [1]


def test_every_cell_that_shows_a_widget_switches_colab_to_its_widget_manager_first():
    import nbformat

    from mammokit.paths import notebooks_dir

    shown = 0
    for path in sorted(notebooks_dir().glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and "mk.widgets." in cell.source and "Explorer(" in cell.source:
                shown += 1
                before = cell.source.split("Explorer(")[0]
                assert "mk.notebook.enable_colab_widgets()" in before, f"{path.name}: {cell.source[:80]}"
    assert shown >= 1


# --- the answer key is not in the package; checks see only plain data (issue 21 item 1) ----------

def test_the_installed_package_carries_no_answer_key():
    """`Exercise.reference`/`.solution` are gone, no exercise module defines a ref_* answer, and no
    solution body appears anywhere in mammokit/ (the key is in notebooks/solutions/*.md)."""
    from pathlib import Path

    package = Path(mk.__file__).parent
    for ex in ALL:
        assert not hasattr(ex, "reference") and not hasattr(ex, "solution"), ex.name
        module = E._module(ex.notebook)
        assert not [n for n in vars(module) if n.startswith("ref_")], module.__name__
    sources = "\n".join(p.read_text() for p in package.rglob("*.py"))
    for name, solution in KEY.items():
        body = re.search(r"# BEGIN SOLUTION\n(.*?)\n\s*# END SOLUTION", solution, re.S)
        if body and len(body.group(1).strip()) > 40:
            assert body.group(1) not in sources, f"{name}'s solution is in the package"
    with pytest.raises(AttributeError):
        E.get("q01_row_index").reference  # noqa: B018 - the instructor's attack: the key is gone


class _Rigged:
    """An answer that claims to equal anything."""

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__

    def __int__(self):
        return 2


def test_plain_data_only_reaches_the_checks():
    arr = np.arange(6, dtype=np.int16).reshape(2, 3)
    back = E.unplain(__import__("json").loads(__import__("json").dumps(E.plain(
        {0: arr, "s": {1, 2}, "t": (1.5, None, "x"), "n": np.float32(2.5), "l": [True]}))))
    assert back["s"] == {1, 2} and back["t"] == (1.5, None, "x") and back["n"] == 2.5 and back["l"] == [True]
    assert back[0].dtype == np.int16 and np.array_equal(back[0], arr)
    for rigged in (_Rigged(), type("Str", (str,), {"__eq__": lambda s, o: True})("x")):
        with pytest.raises(E.WrongAnswer, match="gave a"):
            E.unplain(E.plain(rigged))
    assert E.verdict("q01_side", lambda image_id: _Rigged()).status == "wrong"
    assert E.verdict("q01_films_per_patient", _Rigged()).status == "wrong"
    assert E.verdict("q01_class_counts", lambda catalog: {k: _Rigged() for k in ("normal", "benign",
                                                                                  "malignant")}).status == "wrong"


def test_a_record_is_judged_where_the_submission_never_ran(tmp_path, monkeypatch):
    """record() in a tampered "kernel" (numpy's comparisons and the module's expect patched to
    accept anything) writes outputs only; judge() replays them with clean code and says wrong."""
    import json

    monkeypatch.setenv(E.RECORD_ENV, str(tmp_path / "record.jsonl"))
    monkeypatch.setenv(E.SEED_ENV, "12345")
    ex01 = E._module("01_data")
    with monkeypatch.context() as m:
        m.setattr(np, "array_equal", lambda *a, **k: True)
        m.setattr(np, "flatnonzero", lambda *a, **k: np.array([], dtype=int))
        m.setattr(ex01, "expect", lambda ok, message: None)
        m.setattr(E, "check", lambda *a, **k: None)
        assert E.verdict("q01_row_index", lambda y, height: y).passed  # the tampered kernel fools itself
        exec("row_index = lambda y, height: y\nE.record('q01_row_index')\n"  # record() reads answers by name
             "side = lambda image_id: 'L'\nE.record('q01_side')\n"
             "patient_id = lambda image_id: f'p{(int(image_id[3:]) + 1) // 2:03d}'\nE.record('q01_patient_id')\n"
             "E.record('q01_class_counts')", {"E": E})  # no class_counts: recorded as missing
    entries = {e["name"]: e for e in map(json.loads, (tmp_path / "record.jsonl").read_text().splitlines())}
    assert entries["q01_class_counts"].get("missing") and entries["q01_row_index"]["seed"] == "12345"
    assert E.judge("q01_row_index", entries["q01_row_index"]["events"]).status == "wrong"
    assert E.judge("q01_side", entries["q01_side"]["events"]).status == "wrong"
    assert E.judge("q01_patient_id", entries["q01_patient_id"]["events"]).passed
    assert "recorded no answer" in E.judge("q01_patient_id", []).message  # a record cut short
    forged = [{"out": {"__unsupported__": "Rigged"}}]
    assert E.judge("q01_films_per_patient", forged).status == "wrong"
    monkeypatch.setenv(E.SEED_ENV, "999")  # the judge draws other inputs than the run: the outputs no longer fit
    assert E.judge("q01_patient_id", entries["q01_patient_id"]["events"]).status == "wrong"


def test_checks_draw_fresh_inputs_per_grading_seed(monkeypatch):
    seen = set()
    for seed in ("0", "1", "2"):
        monkeypatch.setenv(E.SEED_ENV, seed)
        got = []
        E.verdict("q01_side", lambda image_id: got.append(image_id) or "LR"[int(image_id[3:]) % 2])
        seen.add(tuple(got))
    assert len(seen) == 3


def test_solutions_and_fallbacks_pass_under_any_grading_seed(monkeypatch):
    for seed in range(1, 4):  # three grading seeds: each check's inputs differ per seed
        monkeypatch.setenv(E.SEED_ENV, str(seed * 7919))
        for ex in ALL:
            if ex.notebook in KERAS:
                continue
            assert E.verdict(ex.name, _run(KEY[ex.name])[ex.answer]).passed, (seed, ex.name)
            if ex.fallback is not None:
                assert E.verdict(ex.name, ex.fallback, forbid=False).passed, (seed, ex.name)


def test_class_counts_accepts_the_documented_label_column():
    """Item 5b: the check runs on the catalog notebook 01 really has (phantoms), so `label` works."""
    by_label = lambda c: {"normal": int(c["label"].isna().sum()), "benign": int((c["label"] == 0).sum()),  # noqa: E731
                          "malignant": int((c["label"] == 1).sum())}
    assert E.verdict("q01_class_counts", by_label).passed


def test_row_index_feedback_does_not_give_the_answer():
    message = E.verdict("q01_row_index", lambda y, height: height - y).message
    assert "expected" not in message and "height - 1" not in message and "BOTTOM" in message


@pytest.mark.slow
def test_freeze_check_covers_batch_norm():
    """Item 6: a solution that unfreezes batch norm among the top n layers (the old master's) fails."""
    def unfreezes_batch_norm(model, n):
        backbone = mk.transfer.backbone_layers(model)
        weighted = [layer for layer in backbone if layer.weights]
        top = weighted[len(weighted) - n:] if n else []
        for layer in backbone:
            layer.trainable = any(layer is t for t in top)
        model.get_layer("mk_head").trainable = True
        return model

    verdict = E.verdict("q05_freeze", unfreezes_batch_norm)
    assert verdict.status == "wrong" and "batch norm stays frozen" in verdict.message
    source = next(p for p in sources() if p.stem == "05_transfer_learning")
    prompt = next(c.source for c in read_source(source).cells if c.metadata.get("exercise") == "q05_freeze")
    assert "BatchNormalization" in KEY["q05_freeze"] and "BatchNormalization" in prompt


# --- notebook 06's evaluation exercises (issue 21 item 4): each near-miss is a real mistake ----------

def _rank_auc(labels, scores):
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    diff = scores[labels == 1][:, None] - scores[labels == 0][None, :]
    return ((diff > 0) + 0.5 * (diff == 0)).mean()


def _bootstrap(labels, scores, patients, n_boot, seed, *, by_patient=True, level=95):
    """by_patient=False resamples ROIs, as if every ROI were its own patient: too narrow on clustered data."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    units = np.asarray(patients) if by_patient else np.arange(labels.size)
    ids = np.unique(units)
    members = [np.flatnonzero(units == u) for u in ids]
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(n_boot):
        idx = np.concatenate([members[i] for i in rng.integers(0, len(ids), len(ids))])
        if 0 < labels[idx].sum() < idx.size:
            aucs.append(_rank_auc(labels[idx], scores[idx]))
    tail = (100 - level) / 2
    return tuple(np.percentile(aucs, [tail, 100 - tail]))


def _permutation(labels, scores, n_perm, seed, *, plus_one=True, strict=False):
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    observed = _rank_auc(labels, scores)
    null = np.array([_rank_auc(rng.permutation(labels), scores) for _ in range(n_perm)])
    hits = int(np.sum(null > observed if strict else null >= observed))
    return (hits + plus_one) / (n_perm + plus_one)


def _cosine(test, train):
    a = np.asarray(test, dtype=float).reshape(len(test), -1)
    b = np.asarray(train, dtype=float).reshape(len(train), -1)
    a, b = a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a @ b.T).max(axis=1)


EVALUATION_NEAR_MISSES = [
    ("q06_patient_bootstrap", lambda y, s, p, n, seed: _bootstrap(y, s, p, n, seed, by_patient=False)),
    ("q06_patient_bootstrap", lambda y, s, p, n, seed: _bootstrap(y, s, p, n, seed, level=80)),  # percentiles 10/90
    ("q06_permutation", lambda y, s, n, seed: _permutation(y, s, n, seed, plus_one=False)),
    ("q06_permutation", lambda y, s, n, seed: _permutation(y, s, n, seed, strict=True)),  # ties not counted
    ("q06_nearest_copy", _cosine),  # no centring: every bright image looks alike
    ("q06_nearest_copy", lambda test, train: _cosine(np.asarray(test) - 128.0, np.asarray(train) - 128.0)),
]


@pytest.mark.parametrize("name, answer", EVALUATION_NEAR_MISSES, ids=[f"{n}-{i}" for i, (n, _) in
                                                                      enumerate(EVALUATION_NEAR_MISSES)])
def test_evaluation_near_misses_fail(name, answer):
    verdict = E.verdict(name, answer)
    assert verdict.status == "wrong", f"{name} accepted a near-miss"
    assert verdict.message and len(verdict.message) > 40


def test_evaluation_exercises_name_their_shortcuts():
    import mammokit.evaluate
    import mammokit.significance

    forbidden = {
        "q06_patient_bootstrap": lambda y, s, p, n, seed: tuple(mammokit.evaluate.bootstrap_ci(
            y, s, p, n_boot=n, seed=seed, metrics=("auc",))[["ci_low", "ci_high"]].iloc[0]),
        "q06_permutation": lambda y, s, n, seed: mammokit.significance.auc_permutation_test(y, s, n_perm=n, seed=seed)[1],
        "q06_nearest_copy": lambda test, train: np.corrcoef(np.reshape(test, (len(test), -1)).astype(float), np.reshape(
            train, (len(train), -1)).astype(float))[:len(test), len(test):].max(axis=1),
    }
    for name, answer in forbidden.items():
        assert E.check(name, answer, forbid=False) is None  # right answers, by the forbidden road
        verdict = E.verdict(name, answer)
        assert verdict.status == "wrong" and "shortcut" in verdict.message, (name, verdict.message)


# --- notebooks 03-04's methods exercises (issue 21 item 4): each near-miss is a real mistake -------

def _row_kfold(patients, k):
    """k-fold over rows: a patient's ROIs end on both sides."""
    rows = np.arange(len(patients))
    return [(np.setdiff1d(rows, test), test) for test in np.array_split(rows, k)]


def _one_fold(patients, k):
    """Every patient in one fold: disjoint and covering, but not k folds worth the name."""
    rows = np.arange(len(patients))
    return [(rows[:0], rows)] + [(rows, rows[:0])] * (k - 1)


def _round_robin_kfold(patients, k):
    """Another correct answer: shuffle the patients, deal them round like cards."""
    ids = np.random.default_rng(0).permutation(np.unique(patients))
    fold = dict(zip(ids, np.arange(len(ids)) % k))
    row_fold = np.array([fold[p] for p in patients])
    return [(np.flatnonzero(row_fold != f), np.flatnonzero(row_fold == f)) for f in range(k)]


def _unique_symmetries(image):
    """Another correct answer: np.unique over the eight flattened transforms."""
    eight = np.stack([np.rot90(m, k) for m in (image, image[:, ::-1]) for k in range(4)])
    return list(np.unique(eight.reshape(8, -1), axis=0).reshape(-1, *image.shape))


METHODS_NEAR_MISSES = [
    ("q03_group_kfold", _row_kfold),
    ("q03_group_kfold", _one_fold),
    ("q03_group_kfold", lambda patients, k: _round_robin_kfold(patients, k)[:-1]),  # a fold short
    ("q03_symmetries", lambda image: [np.rot90(image, k) for k in range(4)]),  # no mirrors, duplicates kept
    ("q03_symmetries", lambda image: list({np.rot90(image, k).tobytes(): np.rot90(image, k)
                                           for k in range(4)}.values())),  # no mirrors
]


@pytest.mark.parametrize("name, answer", METHODS_NEAR_MISSES, ids=[f"{n}-{i}" for i, (n, _) in
                                                                   enumerate(METHODS_NEAR_MISSES)])
def test_methods_near_misses_fail(name, answer):
    verdict = E.verdict(name, answer)
    assert verdict.status == "wrong", f"{name} accepted a wrong answer"
    assert verdict.message


def test_methods_accept_other_correct_answers():
    assert E.verdict("q03_group_kfold", _round_robin_kfold).passed
    assert E.verdict("q03_symmetries", _unique_symmetries).passed


def test_group_kfold_forbids_the_library_and_the_kit():
    from sklearn.model_selection import GroupKFold

    def sklearn_folds(patients, k):
        return list(GroupKFold(n_splits=k).split(np.zeros(len(patients)), groups=patients))

    def kit_folds(patients, k):
        import pandas as pd
        table = pd.DataFrame({"patient_id": patients, "label": np.arange(len(patients)) % 2})
        return [(f.train, f.test) for f in mk.splits.kfold_by_patient(table, k=k)]

    for shortcut, name in ((sklearn_folds, "GroupKFold"), (kit_folds, "kfold_by_patient")):
        verdict = E.verdict("q03_group_kfold", shortcut)
        assert verdict.status == "wrong" and name in verdict.message, verdict.message


def _windows(image, kernel):
    h, w = np.shape(kernel)
    return np.lib.stride_tricks.sliding_window_view(np.asarray(image, dtype=float), (h, w))


@pytest.mark.slow
def test_convnet_by_hand_near_misses_fail():
    """Notebook 04's convolution, softmax, cross-entropy and overfit-one-batch exercises."""
    import scipy.signal

    conv_misses = {
        "flipped": lambda image, kernel: np.einsum("ijkl,kl->ij", _windows(image, kernel), np.asarray(kernel)[::-1, ::-1]),
        "output too small": lambda image, kernel: np.einsum("ijkl,kl->ij", _windows(image, kernel), kernel)[:-1, :-1],
        "same padding": lambda image, kernel: np.pad(np.einsum("ijkl,kl->ij", _windows(image, kernel), kernel),
                                                     ((0, kernel.shape[0] - 1), (0, kernel.shape[1] - 1))),
    }
    for what, answer in conv_misses.items():
        assert E.verdict("q04_conv2d", answer).status == "wrong", what
    assert E.verdict("q04_conv2d", lambda image, kernel: np.einsum("ijkl,kl->ij", _windows(image, kernel),
                                                                   kernel)).passed  # another correct answer
    assert "flipped" in E.verdict("q04_conv2d", conv_misses["flipped"]).message
    assert "correlate2d" in E.verdict("q04_conv2d", lambda image, kernel: scipy.signal.correlate2d(
        image, kernel, mode="valid")).message

    with np.errstate(over="ignore", invalid="ignore"):
        naive = E.verdict("q04_softmax", lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
        global_shift = E.verdict("q04_softmax", lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(axis=1,
                                                                                                        keepdims=True))
    assert naive.status == "wrong" and "nan or inf" in naive.message
    assert global_shift.status == "wrong"  # one shift for the whole array underflows a row of -1000s
    assert E.verdict("q04_softmax", lambda z: np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0)).status == "wrong"

    true_p = lambda p, y: np.asarray(p)[np.arange(len(y)), y]  # noqa: E731
    for what, answer in {"sum": lambda p, y: -np.sum(np.log(true_p(p, y))),
                         "class 1 always": lambda p, y: -np.mean(np.log(np.asarray(p)[:, 1])),
                         "log2": lambda p, y: -np.mean(np.log2(true_p(p, y))),
                         "no minus": lambda p, y: np.mean(np.log(true_p(p, y)))}.items():
        assert E.verdict("q04_cross_entropy", answer).status == "wrong", what

    def accuracies(model_fn, x, y, steps=50):
        model = model_fn()
        return [float(model.train_on_batch(x, y, return_dict=True)["accuracy"]) for _ in range(steps)]

    def always_fifty(model_fn, x, y, steps=50):
        model = model_fn()
        return [float(model.train_on_batch(x, y, return_dict=True)["loss"]) for _ in range(50)]

    for answer in (accuracies, always_fifty):
        assert E.verdict("q04_overfit", answer).status == "wrong", answer.__name__
