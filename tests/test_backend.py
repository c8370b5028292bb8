"""TensorFlow is loaded quietly, and before any module that needs it."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mammokit import backend

PACKAGE = Path(__file__).resolve().parents[1] / "mammokit"


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "mammokit":
                names |= {f"mammokit.{alias.name}" for alias in node.names}
    return names


def test_tensorflow_modules_are_exactly_those_that_import_it():
    direct = {}
    for path in [*PACKAGE.glob("*.py"), *PACKAGE.glob("exercises/ex*.py")]:  # exercises load theirs lazily
        name = path.stem if path.parent == PACKAGE else f"{path.parent.name}.{path.stem}"
        direct[name] = _imported(path)
    needs = {name for name, imported in direct.items()
             if any(m.split(".")[0] in ("keras", "tensorflow") for m in imported)}
    needs -= {"backend", "seed"}  # seed touches Keras only when it is already imported
    changed = True
    while changed:  # a module that imports one of these needs TensorFlow too
        more = {name for name, imported in direct.items() if name not in needs | {"__init__", "backend"}
                and any(m.startswith("mammokit.") and m.split(".")[1] in needs for m in imported)}
        needs |= more
        changed = bool(more)
    assert set(backend.TENSORFLOW_MODULES) == needs


def test_known_start_up_lines_are_noise_and_real_warnings_are_not():
    noise = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1795732676.444940    4379 cudart_stub.cc:31] Could not find cuda drivers on your machine.",
        "I0000 00:00:1795732676.500131    4379 cpu_feature_guard.cc:227] This TensorFlow binary is optimized",
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with flags.",
        "E0000 00:00:1795732750.978397    7444 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
        "E0000 cuda_dnn.cc:8310] Unable to register cuDNN factory: Attempting to register factory for plugin",
    ]
    real = ["W0000 op_level_cost_estimator.cc:699] Error in PredictCost() for the op: Conv2D",
            "E0000 resource_variable_ops.cc: Out of memory while trying to allocate 4.00GiB",
            "UserWarning: Do not pass an `input_shape`/`input_dim` argument to a layer."]
    assert all(backend.is_noise(line) for line in noise)
    assert not any(backend.is_noise(line) for line in real)


@pytest.mark.slow
@pytest.mark.parametrize("first", [
    "",
    "mk.params.train_config({})\n",  # notebook 06's first training cell: mammokit.train imported plainly
    "import keras\n",  # a student's own import
])
def test_first_model_module_use_prints_nothing_on_stderr(first):
    code = ("import mammokit as mk\n" + first +
            "model = mk.models.build_convnet(input_shape=(32, 32, 1))\n"
            "import tensorflow as tf\n"
            "model(tf.zeros((1, 32, 32, 1)))\n"
            "print('built')")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("built")
    assert done.stderr.strip() == "", f"start-up noise reached stderr:\n{done.stderr[-2000:]}"


def test_only_noise_is_dropped_and_the_rest_written_back(capfd):
    with backend.start_up_noise_dropped():
        os.write(2, b"I0000 cudart_stub.cc:31] Could not find cuda drivers\n")
        os.write(2, b"W0000 something.cc:12] a real warning\n")
        print("to stdout")
    out, err = capfd.readouterr()
    assert err == "W0000 something.cc:12] a real warning\n"
    assert out == "to stdout\n"
