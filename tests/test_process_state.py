"""Importing the kit changes nothing about the process, and seeding does only what it can do."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter (the kit on its path); what it prints last, as JSON."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_every_module_leaves_the_umask_alone():
    out = _python("""
        import json, os, pkgutil, importlib
        os.umask(0o027)
        calls = []
        real = os.umask
        os.umask = lambda mask: calls.append(mask) or real(mask)  # record every change, then make it
        import mammokit
        names = [m.name for m in pkgutil.walk_packages(mammokit.__path__, "mammokit.")
                 if not m.name.endswith("__main__")]
        for name in names:
            importlib.import_module(name)
        os.umask = real
        mask = os.umask(0o022)
        print(json.dumps({"calls": calls, "mask": mask, "modules": len(names),
                          "hashseed": os.environ.get("PYTHONHASHSEED")}))
    """)
    assert out["modules"] > 40
    assert out["calls"] == [], "a module changed the umask while being imported"
    assert out["mask"] == 0o027


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_outputs_take_the_umask_in_force_when_written(tmp_path, mask):
    from mammokit.files import atomic_folder, current_umask, write_text

    old = os.umask(mask)
    try:
        assert current_umask() == mask and current_umask() == mask, "reading the umask leaves it as it was"
        write_text(tmp_path / "a.txt", "done")
        with atomic_folder(tmp_path / "folder") as tmp:
            (tmp / "inside.txt").write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (tmp_path / "folder").stat().st_mode & 0o777 == 0o777 & ~mask


def test_seeding_leaves_the_environment_alone():
    from mammokit.seed import seed_everything

    before = dict(os.environ)
    seed_everything(7, keras=False)
    assert dict(os.environ) == before, "PYTHONHASHSEED only acts when an interpreter starts: setting it does nothing"


def test_a_patient_split_does_not_depend_on_string_hashing():
    code = """
        import json
        import numpy as np, pandas as pd
        from mammokit import splits
        from mammokit.seed import seed_everything
        seed_everything(0, keras=False)
        patients = [f"p{i:03d}" for i in range(40)]
        table = pd.DataFrame({"patient_id": np.repeat(patients, 2), "label": np.tile([0, 1], 40)})
        split = splits.split_by_patient(table, seed=3)
        folds = splits.kfold_by_patient(table, k=4, seed=3)
        print(json.dumps({"split": [s.tolist() for s in split], "folds": [f.test.tolist() for f in folds],
                          "order": list({p for p in patients})}))
    """
    one, other = _python(code, PYTHONHASHSEED="1"), _python(code, PYTHONHASHSEED="2")
    assert one["order"] != other["order"], "the two interpreters must really hash strings differently"
    assert (one["split"], one["folds"]) == (other["split"], other["folds"])
