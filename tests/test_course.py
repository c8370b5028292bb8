"""`mammokit course` and `mammokit sweep` on tiny stand-in notebooks (the real ones are run
by nbval, see conftest.py): order, stop at the first failing cell, summary, refusal to overwrite,
a grid that survives one failing run. Kernels start the commands' own way (a subprocess per
notebook): that path is what these tests check, so they do not use tests/kernels.py."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mammokit import cli, runs
from mammokit.course import layout
from mammokit.course.notebook import write_notebook

RECORD = 'mk.runs.record(P.RUN_DIR, "{stem}", {{"value": {expr}, "profile": P.PROFILE}})'


@pytest.fixture()
def course_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder / "01_data.ipynb", "# One\nrecords N_SHOW",
                   [("code", RECORD.format(stem="01_data", expr="P.N_SHOW * 10"))])
    write_notebook(folder / "04_convnet.ipynb", "# Four\nfails for EPOCHS=3",
                   [("code", 'assert P.EPOCHS != 3, "three epochs is unlucky"'),
                    ("code", RECORD.format(stem="04_convnet", expr="P.EPOCHS * P.LEARNING_RATE"))])
    monkeypatch.setenv("MAMMOKIT_NOTEBOOKS", str(folder))
    return folder


@pytest.mark.slow
def test_course_runs_in_order_and_writes_summary(course_dir: Path, tmp_path: Path, capsys):
    out = tmp_path / "run"
    assert cli.main(["course", "--profile", "smoke", "--out", str(out), "-p", "N_SHOW", "2"]) == 0
    printed = capsys.readouterr().out
    assert printed.index("[1/2] 01_data") < printed.index("[2/2] 04_convnet")
    assert {p.name for p in (out / "notebooks").iterdir()} == {"01_data.ipynb", "04_convnet.ipynb"}
    assert (out / "html" / "01_data.html").read_text().count("<html") == 1
    assert json.loads((out / "metrics" / "01_data.json").read_text())["value"] == 20
    summary = pd.read_csv(out / "summary.csv")
    peak = summary.query("notebook == '01_data' and metric == 'kernel_peak_rss_mb'")["value"]
    assert float(peak.iloc[0]) > 20  # a real kernel's peak memory, in MB
    assert "| 01_data | ok |" in (out / "summary.md").read_text()


@pytest.mark.slow
def test_course_refuses_an_existing_run_unless_told(course_dir: Path, tmp_path: Path, capsys):
    out = tmp_path / "run"
    (out / "old").mkdir(parents=True)
    (out / ".mammokit-run").write_text("")  # an earlier run's folder
    assert cli.main(["course", "--out", str(out), "--only", "01_data"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert cli.main(["course", "--out", str(out), "--only", "01_data", "--overwrite"]) == 0
    assert not (out / "old").exists()


@pytest.mark.slow
def test_course_stops_at_first_failing_cell(course_dir: Path, tmp_path: Path, capsys):
    out = tmp_path / "run"
    assert cli.main(["course", "--out", str(out), "-p", "EPOCHS", "3", "--only", "04_convnet", "01_data"]) == 2
    err = capsys.readouterr().err
    assert "04_convnet.ipynb: code cell" in err and "three epochs is unlucky" in err
    assert 'assert P.EPOCHS != 3' in err  # the failing cell's source is shown
    assert not (out / "notebooks" / "01_data.ipynb").exists(), "later notebooks must not run"
    assert "| 04_convnet | FAILED |" in (out / "summary.md").read_text()
    [run] = layout.read_course(out).notebooks  # what programs read back: the record, not the Markdown
    assert (run.notebook, run.status, run.ok) == ("04_convnet", "FAILED", False) and "unlucky" in run.error


@pytest.mark.parametrize("argv, message", [
    (["-p", "EPOCHZ", "1"], "no notebook takes parameter(s) EPOCHZ"),
    (["-p", "RUN_DIR", "x"], "use --profile / --out"),
    (["--only", "07_extra"], "unknown notebook(s) 07_extra"),
])
def test_course_rejects_bad_requests(course_dir: Path, tmp_path: Path, capsys, argv, message):
    assert cli.main(["course", "--out", str(tmp_path / "run"), *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_sweep_collects_a_grid_and_survives_a_failing_run(course_dir: Path, tmp_path: Path):
    out = tmp_path / "sweep"
    argv = ["sweep", "04_convnet", "-p", "EPOCHS", "1", "3", "-p", "LEARNING_RATE", "0.1", "0.2",
            "--jobs", "2", "--out", str(out)]
    assert cli.main(argv) == 0
    table = pd.read_csv(out / "sweep.csv").sort_values(["EPOCHS", "LEARNING_RATE"])
    assert len(table) == 4
    assert table["status"].tolist() == ["ok", "ok", "failed", "failed"]
    assert table["value"].iloc[:2].tolist() == pytest.approx([0.1, 0.2])
    assert "three epochs is unlucky" in table["error"].iloc[2]
    assert (out / "sweep.png").stat().st_size > 1000
    assert "EPOCHS" in (out / "sweep.md").read_text()


def test_sweep_rejects_unknown_parameters(course_dir: Path, tmp_path: Path, capsys):
    assert cli.main(["sweep", "04_convnet", "-p", "EPOCH", "1", "--out", str(tmp_path / "s")]) == 2
    assert "04_convnet has no parameter(s) EPOCH" in capsys.readouterr().err


def test_sweep_checks_values_before_any_run_starts(course_dir: Path, tmp_path: Path, capsys):
    out = tmp_path / "s"
    assert cli.main(["sweep", "04_convnet", "-p", "EPOCHS", "-1", "2", "--out", str(out)]) == 2
    assert "-p EPOCHS" in capsys.readouterr().err
    assert not out.exists(), "nothing may start when one value is bad"


@pytest.mark.slow
def test_course_reads_a_relative_data_path_from_the_callers_folder(
        course_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """-p DATA mias-dev means ./mias-dev where the instructor typed it, although the notebooks
    run in their own folder; --out is relative to the caller too."""
    from mammokit.data import synthetic

    write_notebook(course_dir / "01_data.ipynb", "# One\nloads DATA",
                   [("code", "catalog = mk.data.load_catalog(P.DATA)"),
                    ("code", RECORD.format(stem="01_data", expr="len(catalog)"))])
    here = tmp_path / "elsewhere"
    synthetic.write_phantoms(here / "films", n_patients=2, size=128, seed=0)
    monkeypatch.chdir(here)
    assert cli.main(["course", "--out", "run", "-p", "DATA", "films", "--only", "01_data"]) == 0
    metrics = json.loads((here / "run" / "metrics" / "01_data.json").read_text())
    assert metrics["value"] > 0


def test_params_command_lists_defaults_and_allowed_values(capsys):
    assert cli.main(["params", "04_convnet"]) == 0
    text = capsys.readouterr().out
    assert "EPOCHS" in text and "paper=90" in text and "one of 'smoke', 'classroom', 'paper'" in text


@pytest.mark.slow
def test_a_stalled_cell_fails_within_the_cell_timeout_naming_notebook_and_cell(
        course_dir: Path, tmp_path: Path, capsys):
    import time

    write_notebook(course_dir / "02_preprocessing.ipynb", "# Two\nstalls",
                   [("code", "print('before')"), ("code", "import time\ntime.sleep(600)  # a stalled cell")])
    start = time.monotonic()
    argv = ["course", "--out", str(tmp_path / "run"), "--only", "02_preprocessing", "--cell-timeout", "3"]
    assert cli.main(argv) == 2
    assert time.monotonic() - start < 120, "the course must not wait for the stalled cell"
    err = capsys.readouterr().err
    assert "02_preprocessing.ipynb: code cell" in err and "time.sleep(600)" in err
    assert "longer than 3 s" in err and "--cell-timeout" in err


def test_the_notebook_client_polls_its_sockets_in_short_slices(monkeypatch):
    """A poll that misses a wake-up costs a slice, not the whole cell timeout (see poll_in_slices)."""
    import asyncio
    import time
    from queue import Empty

    from jupyter_client.channels import AsyncZMQSocketChannel

    from mammokit.course import runner

    asked = []

    async def missed_twice(self, timeout=None):
        asked.append(timeout)
        if len(asked) <= 2:
            raise Empty
        return {"msg": "ready"}

    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", missed_twice)
    runner.poll_in_slices()
    runner.poll_in_slices()  # idempotent: wraps once
    assert asyncio.run(AsyncZMQSocketChannel.get_msg(None, timeout=600)) == {"msg": "ready"}
    assert len(asked) == 3 and max(asked) <= runner.POLL_SLICE_S

    async def never(self, timeout=None):
        await asyncio.sleep(timeout)
        raise Empty

    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", never)
    runner.poll_in_slices()
    start = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(AsyncZMQSocketChannel.get_msg(None, timeout=1.2))
    assert 1.1 < time.monotonic() - start < 3


def test_the_course_summary_is_a_typed_record_read_back_from_json(tmp_path: Path):
    from mammokit.course.runner import Outcome
    from mammokit.course.summary import write_summary

    out = tmp_path / "run"
    layout.prepare_out(out, overwrite=False)
    runs.record(out, "01_data", {"n_films": 12, "nested": {"auc": 0.5}})
    write_summary(out, "classroom", [Outcome("01_data", "x", 12.5, 300.0),
                                     Outcome("02_preprocessing", "y", 3.0, 200.0, "boom")])
    course = layout.read_course(out)
    assert course.profile == "classroom" and [(n.notebook, n.status, n.seconds) for n in course.notebooks] == [
        ("01_data", "ok", 12.5), ("02_preprocessing", "FAILED", 3.0)]
    long = pd.read_csv(out / layout.SUMMARY_CSV)
    assert set(long.query("notebook == '01_data'").metric) >= {"status", "seconds", "n_films", "nested.auc"}
    (out / "stray").write_text("")
    with pytest.raises(Exception, match="--overwrite"):
        layout.prepare_out(out, overwrite=False)
    layout.prepare_out(out, overwrite=True)
    assert not (out / "stray").exists() and (out / layout.RUN_MARKER).is_file()
    mine = tmp_path / "mine"
    (mine / "thesis.txt").parent.mkdir()
    (mine / "thesis.txt").write_text("")
    with pytest.raises(Exception, match="not a mammokit run"):
        layout.prepare_out(mine, overwrite=True)
    assert (mine / "thesis.txt").exists()
