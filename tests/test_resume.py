"""Kill a real training process with SIGKILL mid-epoch; the rerun resumes and finishes.

The child hangs inside epoch 4 (after two of its batches) when MAMMOKIT_TEST_HANG is set,
so the kill lands mid-epoch at a known place instead of at a random, flaky moment; SIGKILL
gives it no chance to clean up, like a Colab disconnect or the OOM killer.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mammokit import runs, train

CHILD = r'''
import json, os, sys, time
import numpy as np
import keras
from mammokit import models, train

run_dir, log = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
images = rng.integers(0, 256, (32, 16, 16), dtype=np.uint8)
labels = np.arange(32) % 2

class Spy(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        with open(log, "a") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "epoch_begin": epoch}) + "\n")
    def on_train_batch_end(self, batch, logs=None):
        if os.environ.get("MAMMOKIT_TEST_HANG") and self._epoch == 3 and batch == 1:
            open(os.path.join(run_dir, "HANGING"), "w").close()
            time.sleep(600)
    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch + 1
    _epoch = 0

model = models.build_convnet((16, 16, 1), filters=(4, 8), dense=8, seed=1)
train.fit(model, (images, labels), (images[:8], labels[:8]),
          train.TrainConfig(epochs=6, batch_size=8, augment=False, seed=1, verbose=0),
          run_dir=run_dir, name="killme", callbacks=[Spy()])
print("FINISHED")
'''


def _run(script: Path, run_dir: Path, log: Path, hang: bool) -> subprocess.Popen:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("MAMMOKIT_TEST_HANG", None)
    if hang:
        env["MAMMOKIT_TEST_HANG"] = "1"
    return subprocess.Popen([sys.executable, str(script), str(run_dir), str(log)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_sigkill_mid_epoch_then_rerun_resumes_from_last_completed_epoch(tmp_path: Path):
    script, run_dir, log = tmp_path / "child.py", tmp_path / "run", tmp_path / "epochs.jsonl"
    script.write_text(CHILD)
    first = _run(script, run_dir, log, hang=True)
    deadline = time.monotonic() + 240
    while not (run_dir / "HANGING").exists():
        if first.poll() is not None:
            pytest.fail(f"the first run ended before the kill point:\n{first.stdout.read()}")
        if time.monotonic() > deadline:
            first.kill()
            pytest.fail("the first run never reached epoch 4")
        time.sleep(0.2)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL

    csv = runs.history_path(run_dir, "killme")
    before = runs.read_history(csv)
    assert before["epoch"].tolist() == [1, 2, 3], "three epochs were complete when it died"
    assert (run_dir / "backup" / "killme" / "training_metadata.json").is_file()
    assert json.loads((run_dir / "backup" / "killme" / "training_metadata.json").read_text())["epoch"] == 3

    second = _run(script, run_dir, log, hang=False)
    out, _ = second.communicate(timeout=240)
    assert second.returncode == 0, out
    assert "FINISHED" in out

    begun = [json.loads(line) for line in log.read_text().splitlines()]
    first_epochs = [b["epoch_begin"] for b in begun if b["pid"] == first.pid]
    second_epochs = [b["epoch_begin"] for b in begun if b["pid"] == second.pid]
    assert first_epochs == [0, 1, 2, 3]
    assert second_epochs == [3, 4, 5], "the rerun starts at the epoch the kill interrupted"

    after = runs.read_history(csv)
    assert after["epoch"].tolist() == [1, 2, 3, 4, 5, 6]
    # the completed epochs' rows were kept, not retrained
    assert after.iloc[:3].equals(before)
    assert (run_dir / "models" / "killme.keras").is_file()
    assert not (run_dir / "backup" / "killme").exists(), "a finished run removes its backup"
