"""Adversarial parameters (class 5 of issue 12): lower-case names, bad environment variables and
bad ``-p`` values are named at once; ``mammokit course`` checks every value before the first
notebook starts."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from bad_inputs import check_case

from mammokit import cli, transfer
from mammokit.course import params
from mammokit.errors import ConfigError, MammokitError


def _resolve(notebook: str, namespace: dict, env: dict | None = None):
    def action(tmp: Path):
        import os

        saved = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            return params.resolve(notebook, namespace, quiet=True)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return action


def _file(tmp: Path) -> str:
    (tmp / "taken").write_text("a user's file")
    return str(tmp / "taken")


CASES = [
    ("lower-case-epochs", _resolve("04_convnet", {"epochs": 3}), ConfigError, ("epochs", "upper case", "EPOCHS")),
    ("title-case-seed", _resolve("01_data", {"Seed": 1}), ConfigError, ("Seed", "SEED")),
    ("two-lower-case", _resolve("04_convnet", {"epochs": 3, "batch_size": 8}), ConfigError,
     ("batch_size", "epochs", "BATCH_SIZE")),
    ("misspelled-upper", _resolve("04_convnet", {"EPOCHZ": 3}), ConfigError, ("EPOCHZ", "did you mean EPOCHS")),
    ("env-epochs-negative", _resolve("04_convnet", {}, {"MAMMOKIT_EPOCHS": "-1"}), ConfigError,
     ("EPOCHS=-1", "$MAMMOKIT_EPOCHS")),
    ("env-seed-text", _resolve("01_data", {}, {"MAMMOKIT_SEED": "abc"}), ConfigError, ("'abc'", "$MAMMOKIT_SEED")),
    ("env-learning-rate-too-big", _resolve("04_convnet", {}, {"MAMMOKIT_LEARNING_RATE": "5"}), ConfigError,
     ("LEARNING_RATE=5", "$MAMMOKIT_LEARNING_RATE")),
    ("env-backbones-unknown", _resolve("05_transfer_learning", {}, {"MAMMOKIT_BACKBONES": '["VGG20"]'}), ConfigError,
     ("BACKBONES", "$MAMMOKIT_BACKBONES")),
    ("notebook-value-not-env", _resolve("04_convnet", {"EPOCHS": 0}), ConfigError, ("EPOCHS=0",)),
    ("run-dir-is-a-file", lambda t: _resolve("01_data", {"RUN_DIR": _file(t)})(t), ConfigError,
     ("RUN_DIR=", "taken", "is a file")),
    ("run-dir-below-a-file", lambda t: _resolve("01_data", {"RUN_DIR": _file(t) + "/run"})(t), ConfigError,
     ("RUN_DIR=", "taken")),
    ("check-value-unknown", lambda t: params.check_value("04_convnet", "EPOCHZ", 3), ConfigError,
     ("EPOCHZ", "did you mean EPOCHS")),
    ("check-value-bad", lambda t: params.check_value("06_evaluation", "FOLDS", 1, source="-p FOLDS"), ConfigError,
     ("FOLDS=1", "-p FOLDS")),
]


def test_at_least_ten_distinct_parameter_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 10


@pytest.mark.parametrize("action,error,needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_parameters_are_named(tmp_path: Path, action, error, needles):
    check_case(tmp_path, action, error, needles)
    assert not (tmp_path / "taken" / "run").exists()


COURSE_CASES = [
    ("course-epochs-negative", ["-p", "EPOCHS", "-1"], ("04_convnet", "EPOCHS=-1", "-p EPOCHS")),
    ("course-epochs-text", ["-p", "EPOCHS", "five"], ("EPOCHS='five'", "-p EPOCHS")),
    ("course-folds-one", ["-p", "FOLDS", "1"], ("06_evaluation", "FOLDS=1")),
    ("course-backbone-unknown", ["-p", "BACKBONES", '["VGG20"]'], ("05_transfer_learning", "BACKBONES")),
    ("course-roi-size-huge", ["-p", "ROI_SIZE", "100000"], ("ROI_SIZE=100000",)),
    ("course-lower-case", ["-p", "epochs", "3"], ("epochs",)),
    ("course-sets-run-dir", ["-p", "RUN_DIR", "/tmp/x"], ("RUN_DIR", "--out")),
]


@pytest.mark.parametrize("extra,needles", [c[1:] for c in COURSE_CASES], ids=[c[0] for c in COURSE_CASES])
def test_course_checks_every_value_before_the_first_notebook(tmp_path: Path, capsys, extra, needles):
    out = tmp_path / "run"
    start = time.monotonic()
    assert cli.main(["course", "--out", str(out), *extra]) == 2
    assert time.monotonic() - start < 20, "checked up front, not after notebooks ran"
    err = capsys.readouterr().err
    assert err.startswith("mammokit: error: ") and "Traceback" not in err
    for needle in needles:
        assert needle in err, f"{needle!r} missing from: {err}"
    assert not out.exists(), "nothing was started"


def test_weights_advice_names_the_working_value():
    """Offline, the advice says how to get random weights in a notebook and on the command line."""
    advice = transfer.manual_weights_help("VGG19")
    assert 'WEIGHTS = "random"' in advice and "-p WEIGHTS random" in advice


def test_every_case_is_a_mammokit_error():
    assert all(issubclass(c[2], MammokitError) for c in CASES)
