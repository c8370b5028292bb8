"""One spec per setting: mammokit.profiles is the one table of per-profile values (the notebooks'
parameters, the recipes, the detector, the cell timeouts and the CLI read it), each shared knob's
check is declared once, and one function per config turns a notebook's parameters into options."""
from __future__ import annotations

import dataclasses
import os

import pytest

from mammokit import cli, profiles
from mammokit.checks import field_check
from mammokit.course import params, runner
from mammokit.errors import ConfigError


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("MAMMOKIT_") and name not in ("MAMMOKIT_HOME", "MAMMOKIT_CACHE", "MAMMOKIT_NOTEBOOKS"):
            monkeypatch.delenv(name)


def _resolve(notebook: str, profile: str, tmp_path, **given):
    return params.resolve(notebook, {"PROFILE": profile, "RUN_DIR": str(tmp_path / "run"), **given}, quiet=True)


def test_every_setting_has_a_value_for_every_profile_and_the_notebooks_match_the_specs():
    for key, row in profiles.TABLE.items():
        assert tuple(row) == profiles.PROFILES, f"{key}: give a value for each of {profiles.PROFILES}"
    assert tuple(params.NOTEBOOKS) == profiles.NOTEBOOKS, "params.NOTEBOOKS must follow mammokit.profiles.NOTEBOOKS"
    with pytest.raises(ConfigError, match="profile='fast' must be one of 'smoke'"):
        profiles.value("epochs", "fast")
    with pytest.raises(KeyError, match="no setting 'epoch'"):
        profiles.by_profile("epoch")


@pytest.mark.parametrize("profile", profiles.PROFILES)
def test_the_notebooks_recipes_detector_and_timeouts_read_the_table(profile, tmp_path, clean_env):
    from mammokit import detector, recipes

    value = lambda key: profiles.value(key, profile)  # noqa: E731
    p04 = _resolve("04_convnet", profile, tmp_path)
    assert (p04.ROI_SIZE, p04.EPOCHS, p04.BATCH_SIZE, p04.STEPS_PER_EPOCH, p04.INFLATE) == (
        value("roi_size"), value("epochs"), value("batch_size"), value("steps_per_epoch"), value("inflate"))
    p05 = _resolve("05_transfer_learning", profile, tmp_path)
    assert (p05.BATCH_SIZE, p05.EPOCHS, p05.FINE_TUNE) == (
        value("transfer_batch_size"), value("fine_tune_epochs"), value("fine_tune"))
    p06 = _resolve("06_evaluation", profile, tmp_path)
    assert (p06.STEPS_PER_EPOCH, p06.FOLDS) == (value("eval_steps_per_epoch"), value("folds"))
    convnet = recipes.CONVNET[profile]
    assert (convnet["size"], convnet["filters"], convnet["config"].epochs, convnet["config"].steps_per_epoch) == (
        value("recipe_size"), value("recipe_filters"), value("recipe_epochs"), value("recipe_steps"))
    spec = detector.DETECTOR[profile]
    assert (spec["filters"], spec["tta"], spec["calibrate"], spec["config"].epochs, spec["members"]) == (
        value("detector_filters"), value("detector_tta"), value("detector_calibrate"), value("detector_epochs"),
        value("detector_members"))
    assert runner.cell_timeout({"PROFILE": profile}) == value("cell_timeout_s")


def test_a_list_setting_handed_to_a_notebook_is_a_copy(tmp_path, clean_env):
    P = _resolve("05_transfer_learning", "smoke", tmp_path)
    P.FINE_TUNE.append("ResNet152V2")  # a student's cell may do this
    assert profiles.value("fine_tune", "smoke") == ["VGG19"]


def test_the_cli_help_names_each_profile_and_its_cell_timeout(capsys):
    with pytest.raises(SystemExit):
        cli.main(["course", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for profile in profiles.PROFILES:
        assert f"{profile}: {profiles.ABOUT[profile]}" in text
        assert f"{profile} {profiles.value('cell_timeout_s', profile)}" in text


# --- each shared knob is checked once -------------------------------------------------------------------

def _param(notebook: str, name: str) -> params.Param:
    return next(p for p in params.spec(notebook) if p.name == name)


@pytest.mark.parametrize("field, notebook, name, bad", [
    ("batch_size", "04_convnet", "BATCH_SIZE", 5000),
    ("learning_rate", "04_convnet", "LEARNING_RATE", 0.0),
    ("inflate", "06_evaluation", "INFLATE", 65),
    ("steps_per_epoch", "06_evaluation", "STEPS_PER_EPOCH", 0),
])
def test_a_training_knob_allows_the_same_values_in_trainconfig_and_in_the_notebook(field, notebook, name, bad,
                                                                                   tmp_path, clean_env):
    from mammokit.train import TrainConfig

    assert field_check(TrainConfig, field) is _param(notebook, name).check
    with pytest.raises(ConfigError, match=f"TrainConfig: {field}="):
        TrainConfig(**{field: bad})
    with pytest.raises(ConfigError, match=f"{name}="):
        _resolve(notebook, "smoke", tmp_path, **{name: bad})


def test_the_roi_side_is_one_check_for_notebooks_rois_windows_and_the_lab(tmp_path, clean_env):
    import numpy as np

    from mammokit import leakage, patches, roi

    roi_size, leakage_size = _param("04_convnet", "ROI_SIZE").check, _param("03_augmentation", "LEAKAGE_SIZE").check
    assert roi_size is profiles.ROI_SIZE is leakage_size
    for call in (lambda: roi.extract_roi(np.zeros((64, 64), np.uint8), 10, 10, 5, size=2000),
                 lambda: patches.build_patch_dataset(None, size=2000),
                 lambda: leakage.LabConfig(size=2000),
                 lambda: _resolve("04_convnet", "smoke", tmp_path, ROI_SIZE=2000)):
        says = "=2000 (must be|is not allowed; expected) (None or )?an integer in \\[8, 1024\\]"
        with pytest.raises(ConfigError, match=says):
            call()


def test_preprocessconfig_declares_each_bound_with_its_field():
    from mammokit.preprocess import PreprocessConfig

    declared = {f.name for f in dataclasses.fields(PreprocessConfig) if "check" in f.metadata}
    assert declared == {f.name for f in dataclasses.fields(PreprocessConfig)}
    for field, bad, says in (("kernel", 4, "an odd integer in [1, 31]"), ("otsu_classes", 4, "an integer in [2, 3]"),
                             ("clahe_clip", -1.0, "a number in [0, 40]"), ("crop", "yes", "True or False"),
                             ("denoise", "wiener", "one of 'none', 'median'")):
        with pytest.raises(ConfigError, match=f"PreprocessConfig: {field}=") as info:
            PreprocessConfig(**{field: bad})
        assert says in str(info.value)


# --- one function from notebook parameters to each config ----------------------------------------------

@pytest.mark.parametrize("profile", profiles.PROFILES)
def test_train_config_takes_what_the_notebook_sets(profile, tmp_path, clean_env):
    from mammokit.course.params import train_config

    P = _resolve("04_convnet", profile, tmp_path, EPOCHS=3, LEARNING_RATE=0.01)
    config = train_config(P, restore_best=False, verbose=2)
    assert (config.epochs, config.batch_size, config.steps_per_epoch, config.learning_rate, config.augment,
            config.inflate, config.seed) == (3, P.BATCH_SIZE, P.STEPS_PER_EPOCH, 0.01, P.AUGMENT, P.INFLATE, P.SEED)
    assert (config.restore_best, config.verbose) == (False, 2)
    P6 = _resolve("06_evaluation", profile, tmp_path)
    config6 = train_config(P6, verbose=0)  # 06 has no LEARNING_RATE or AUGMENT: TrainConfig's defaults
    assert (config6.inflate, config6.steps_per_epoch, config6.learning_rate, config6.augment) == (
        profiles.value("inflate", profile), profiles.value("eval_steps_per_epoch", profile), 1e-3, True)
    P5 = _resolve("05_transfer_learning", profile, tmp_path, EPOCHS=0)
    assert train_config(P5).epochs == 0  # fine-tuning's head phase alone
    with pytest.raises(ConfigError, match="'verbos' \\(did you mean 'verbose'\\?\\)"):
        train_config(P, verbos=0)


def test_preprocess_config_and_lab_config(tmp_path, clean_env):
    from mammokit.course.params import lab_config, preprocess_config
    from mammokit.preprocess import PreprocessConfig

    P2 = _resolve("02_preprocessing", "smoke", tmp_path, PREPROCESS={"otsu_offset": 10, "kernel": 3})
    assert preprocess_config(P2) == PreprocessConfig(otsu_offset=10, kernel=3)
    assert preprocess_config(_resolve("02_preprocessing", "smoke", tmp_path)) == PreprocessConfig()
    with pytest.raises(ConfigError, match="'kernal' \\(did you mean 'kernel'\\?\\)"):
        preprocess_config(_resolve("02_preprocessing", "smoke", tmp_path, PREPROCESS={"kernal": 3}))
    with pytest.raises(ConfigError, match="PreprocessConfig: kernel=4"):
        preprocess_config(_resolve("02_preprocessing", "smoke", tmp_path, PREPROCESS={"kernel": 4}))
    P3 = _resolve("03_augmentation", "classroom", tmp_path, INFLATE_FACTOR=4)
    cfg = lab_config(P3)
    assert (cfg.factor, cfg.size, cfg.train.epochs, cfg.train.augment) == (4, P3.LEAKAGE_SIZE, P3.LEAKAGE_EPOCHS, False)
    assert lab_config(P3, dense=8).dense == 8
