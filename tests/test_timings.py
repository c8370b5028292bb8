"""The notebook times students are told come from a recorded course run (mammokit.course.timings)."""
from __future__ import annotations

from pathlib import Path

import pytest

from mammokit.course import layout, timings
from mammokit.course.params import NOTEBOOKS
from mammokit.errors import ConfigError, DataError


def _run(folder: Path, profile: str, rows: list[tuple[str, str, float]]) -> Path:
    """A course output folder as the runner leaves it: its typed record (course.json)."""
    layout.write_course(folder, layout.CourseRun(profile, str(folder), tuple(
        layout.NotebookRun(nb, status, seconds, 500.0) for nb, status, seconds in rows)))
    return folder


def test_a_course_run_is_recorded_and_described(tmp_path: Path):
    record = tmp_path / "times.csv"
    run = _run(tmp_path / "run", "classroom", [("01_data", "ok", 65.2), ("02_preprocessing", "FAILED", 3.0)])
    rows = timings.record(run, "MIAS dev subset", "2-core CPU", path=record)
    assert [(r["notebook"], r["seconds"]) for r in rows] == [("01_data", "65")], "a failed notebook is not a time"
    text = timings.describe("01_data", path=record)
    assert "classroom: 1 min 5 s (MIAS dev subset; 2-core CPU" in text
    assert "smoke: not measured yet" in text and "paper: not measured yet (meant for a GPU)" in text
    again = _run(tmp_path / "again", "classroom", [("01_data", "ok", 70.0)])
    timings.record(again, "MIAS dev subset", path=record)
    assert [r["seconds"] for r in timings.read(record)] == ["70"], "a new run replaces the old row"


def test_a_folder_that_is_not_a_course_run_is_named(tmp_path: Path):
    with pytest.raises(ConfigError, match="course.json"):
        timings.record(tmp_path, "x", path=tmp_path / "t.csv")
    assert timings.main([str(tmp_path), "--data", "x"]) == 2
    (tmp_path / "summary.md").write_text("# mammokit course summary (classroom profile)\n")  # prose is not data
    with pytest.raises(ConfigError, match="course.json"):
        timings.record(tmp_path, "x", path=tmp_path / "t.csv")
    (tmp_path / "course.json").write_text('{"profile": "classroom"}')
    with pytest.raises(DataError, match="course.json"):
        timings.record(tmp_path, "x", path=tmp_path / "t.csv")
    assert timings.main([str(tmp_path), "--data", "x"]) == 2


def test_every_notebook_has_a_measured_smoke_and_classroom_time():
    rows = timings.read()
    for profile in ("smoke", "classroom"):
        measured = {r["notebook"] for r in rows if r["profile"] == profile}
        assert measured == set(NOTEBOOKS), f"{profile}: re-record with python -m mammokit.course.timings"
    assert all(float(r["seconds"]) > 0 for r in rows)
