"""The three dependency lists (pyproject, environment.yml, binder) agree, Binder's pins resolve,
and the Colab setup cell really installs the kit from the one repository URL."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from mammokit.course import notebook

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
RUNTIME = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
DEV = [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ ]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_packages_as_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += [d for d in dep["pip"] if not d.startswith("-e")]
        else:
            conda.append(dep)
    names = {_name(d) for d in conda + pip} - {"python", "pip"}
    assert names == {r.name.lower() for r in RUNTIME + DEV}
    assert env["channels"] == ["conda-forge"]
    assert "-e ." in env["dependencies"][-1]["pip"], "environment.yml must install the kit itself"
    bounds = {_name(d): d.split(_name(d), 1)[1].strip() for d in conda + pip}
    for req in RUNTIME + DEV:
        assert bounds[req.name.lower()] == str(req.specifier), f"{req.name}: bounds differ"


def _binder_pins() -> dict[str, str]:
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    pins = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    assert all(len(p.specifier) == 1 and next(iter(p.specifier)).operator == "==" for p in pins), \
        "Binder pins every version with =="
    return {p.name.lower(): next(iter(p.specifier)).version for p in pins}


def test_binder_pins_the_runtime_dependencies_within_their_bounds():
    pins = _binder_pins()
    expected = {r.name.lower() for r in RUNTIME} - {"tensorflow"} | {"tensorflow-cpu"}
    assert set(pins) == expected
    for req in RUNTIME:
        name = "tensorflow-cpu" if req.name == "tensorflow" else req.name.lower()
        assert req.specifier.contains(pins[name]), f"binder pins {name}=={pins[name]} outside {req.specifier}"
    assert "-e ." in (ROOT / "binder" / "postBuild").read_text()


def _pypi_reachable() -> bool:
    try:
        urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=5)
        return True
    except OSError:
        return False


@pytest.mark.slow
def test_binder_pins_resolve_together_with_the_widgets_extension(tmp_path: Path):
    """pip resolves Binder's pinned set as it would install it (metadata only, nothing installed):
    every pin is kept, every runtime dependency of the kit is in the set, and so is the
    JupyterLab extension that draws the widgets. The full install is `make binder-check`."""
    if not _pypi_reachable():
        pytest.skip("PyPI is not reachable from here; resolving the Binder set needs the package index")
    from packaging.utils import canonicalize_name

    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                           "--report", str(report), "-r", str(ROOT / "binder" / "requirements.txt")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    resolved = {canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"]
                for i in json.loads(report.read_text())["install"]}
    for name, version in _binder_pins().items():
        assert resolved.get(canonicalize_name(name)) == version, f"{name}=={version} did not survive resolution"
    for req in RUNTIME:
        name = "tensorflow-cpu" if req.name == "tensorflow" else canonicalize_name(req.name)
        assert name in resolved and req.specifier.contains(resolved[name]), f"{req} is not met by the Binder set"
    assert "jupyterlab-widgets" in resolved


@pytest.mark.install
def test_binder_environment_installs_in_a_fresh_venv(tmp_path: Path):
    """What Binder does, minus Docker: a fresh venv, the pinned requirements, then postBuild's
    install of the kit; the result imports the stack and runs the CLI (~3 GB, a few minutes).
    Not part of `make test`: run it with `make binder-check`."""
    if not _pypi_reachable():
        pytest.skip("PyPI is not reachable from here; installing the Binder set needs the package index")
    venv = tmp_path / "binder-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")

    def run(*args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run([py, *args], capture_output=True, text=True, timeout=1500, cwd=ROOT)
        assert proc.returncode == 0, f"{' '.join(args)}\n{proc.stderr[-3000:]}"
        return proc

    run("-m", "pip", "install", "--quiet", "--no-cache-dir", "-r", str(ROOT / "binder" / "requirements.txt"))
    run("-m", "pip", "install", "--quiet", "--no-deps", "-e", str(ROOT))  # as postBuild
    versions = run("-c", "import keras, cv2, tensorflow as tf, ipywidgets, mammokit; "
                         "print(keras.__version__, tf.__version__, ipywidgets.__version__)").stdout.split()
    pins = _binder_pins()
    assert versions == [pins["keras"], pins["tensorflow-cpu"], pins["ipywidgets"]]
    assert "EPOCHS" in run("-m", "mammokit.cli", "params", "04_convnet").stdout
    labext = run("-m", "jupyter", "labextension", "list")
    assert "@jupyter-widgets/jupyterlab-manager" in labext.stdout + labext.stderr


def test_repository_url_is_written_once():
    assert PYPROJECT["project"]["urls"]["Homepage"] == notebook.REPO_URL
    readme = (ROOT / "README.md").read_text()
    assert f"mybinder.org/v2/gh/{notebook.REPO}/" in readme


def test_colab_setup_cell_installs_the_kit_from_github(tmp_path: Path):
    """Run the real setup cell in a real kernel that pretends to be Colab, with %pip recorded."""
    from kernels import run_cells, text

    fake_colab = "\n".join([
        "import sys, types",
        "sys.modules['google.colab'] = types.ModuleType('google.colab')",
        "CALLS = []",
        "get_ipython().register_magic_function(lambda line: CALLS.append(line), 'line', 'pip')",
    ])
    out = run_cells([fake_colab, "\n".join(notebook.setup_source("01_data").splitlines()[:5]),
                     "import json; print(json.dumps(CALLS))"], tmp_path)
    calls = text(out.cells[-1])
    assert f'install --quiet \\"mammokit @ git+{notebook.REPO_URL}\\"' in calls


def test_binder_start_sets_the_profile_measured_to_fit_and_runs_the_server():
    """binder/start (repo2docker runs it before the server) picks the profile whose notebooks
    were measured under a 2 GiB limit, leaves a user's choice alone, and hands over to the command."""
    from mammokit.profiles import PROFILES

    start = ROOT / "binder" / "start"
    assert os.access(start, os.X_OK), "binder/start must be executable"
    env = {k: v for k, v in os.environ.items() if k != "MAMMOKIT_PROFILE"}
    out = subprocess.run([str(start), "sh", "-c", "echo $MAMMOKIT_PROFILE"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "classroom" and out in PROFILES
    env["MAMMOKIT_PROFILE"] = "smoke"
    out = subprocess.run([str(start), "sh", "-c", "echo $MAMMOKIT_PROFILE"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "smoke"
