"""Re-running a notebook's setup in the same kernel works (issue #13, item 1).

The README tells students to change a parameter and re-run; the ``P`` made by the first
run must not then be taken for an unknown parameter.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from kernels import run_cells, text
from mammokit.course import notebook, params
from mammokit.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
STEMS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_resolve_accepts_its_own_result_and_still_refuses_a_typo(tmp_path):
    namespace = {"RUN_DIR": str(tmp_path), "SEED": None, "N_SHOW": None}
    namespace["P"] = params.resolve("01_data", namespace, quiet=True)
    namespace["SEED"] = 7  # the student changes a parameter and runs the setup cell again
    again = params.resolve("01_data", namespace, quiet=True)
    assert again.SEED == 7
    with pytest.raises(ConfigError, match="N_SHOWW"):
        params.resolve("01_data", {**namespace, "N_SHOWW": 3}, quiet=True)


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_setup_cell_runs_twice_in_one_kernel(stem, tmp_path):
    setup = notebook.setup_source(stem)
    nb = run_cells([notebook.parameters_source(stem), setup, "SEED = 7", setup,
                    "assert P.SEED == 7, P.SEED\nprint('rerun ok', P.notebook)"], tmp_path)  # fails on any error
    assert "rerun ok " + stem in text(nb.cells[-1])


@pytest.mark.slow
def test_setup_cell_mounts_google_drive_on_colab_when_asked(tmp_path):
    """A kernel that pretends to be Colab: DRIVE = True mounts Drive and RUN_DIR goes there."""
    my_drive = tmp_path / "drive" / "MyDrive"
    my_drive.mkdir(parents=True)
    fake_colab = "\n".join([
        "import os, sys, types",
        "colab, drive = types.ModuleType('google.colab'), types.ModuleType('google.colab.drive')",
        "mounts = []",
        "drive.mount = mounts.append",
        "colab.drive = drive",
        "sys.modules.update({'google.colab': colab, 'google.colab.drive': drive})",
        "get_ipython().register_magic_function(lambda line: None, 'line', 'pip')",
        "os.environ.pop('MAMMOKIT_RUN_DIR', None)",
        "import mammokit.paths",
        f"mammokit.paths.DRIVE_RUNS = mammokit.paths.Path({str(my_drive / 'mammokit' / 'runs')!r})",
    ])
    nb = run_cells([fake_colab, notebook.parameters_source("01_data") + "\nDRIVE = True",
                    notebook.setup_source("01_data"), "print('mounted', mounts, P.RUN_DIR)"], tmp_path)
    assert f"mounted ['/content/drive'] {my_drive / 'mammokit' / 'runs' / 'latest'}" in text(nb.cells[-1])


def test_drive_without_a_mounted_drive_keeps_run_dir_local_and_says_so(tmp_path, monkeypatch, capsys):
    from mammokit import paths

    monkeypatch.delenv("MAMMOKIT_RUN_DIR", raising=False)
    monkeypatch.setattr(paths, "DRIVE_RUNS", tmp_path / "nowhere" / "MyDrive" / "mammokit" / "runs")
    monkeypatch.setattr(paths, "runs_dir", lambda: tmp_path / "local")
    resolved = params.resolve("01_data", {"DRIVE": True})
    assert resolved.RUN_DIR == str(tmp_path / "local" / "latest")
    assert "Google Drive is not mounted" in capsys.readouterr().out
