"""How long each notebook took when we ran it, per profile: measured, recorded, then printed.

Each notebook's setup cell prints :func:`describe` for it, so the time a student is told comes
from a real course run, not from a number typed into the text. A maintainer refreshes the
record after a course run:

    mammokit course --profile classroom -p DATA ../shared/mias-dev --out runs/timing
    python -m mammokit.course.timings runs/timing --data "MIAS dev subset (81 lesion ROIs)"

The record is ``mammokit/resources/notebook_times.csv``: one row per notebook × profile.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
from pathlib import Path

from mammokit.profiles import PROFILES
from mammokit.course.layout import COURSE, read_course
from mammokit.errors import ConfigError, DataError
from mammokit.files import write_text

RECORD = Path(__file__).resolve().parents[1] / "resources" / "notebook_times.csv"
COLUMNS = ("notebook", "profile", "seconds", "data", "machine", "measured")


def read(path: Path = RECORD) -> list[dict[str, str]]:
    """The recorded rows (empty when nothing is recorded yet)."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 5 s``: how a person reads a duration.

    >>> duration(42.4), duration(185)
    ('42 s', '3 min 5 s')
    """
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60} s"


def describe(notebook: str, path: Path = RECORD) -> str:
    """One paragraph: this notebook's measured time in each profile, or that it was not measured."""
    rows = {r["profile"]: r for r in read(path) if r["notebook"] == notebook}
    parts = []
    for profile in PROFILES:
        row = rows.get(profile)
        if row is None:
            parts.append(f"{profile}: not measured yet" + (" (meant for a GPU)" if profile == "paper" else ""))
        else:
            parts.append(f"{profile}: {duration(float(row['seconds']))} ({row['data']}; {row['machine']}, "
                         f"{row['measured']})")
    return f"Measured time of {notebook}, top to bottom — " + "; ".join(parts) + "."


def record(run: Path | str, data: str, machine: str | None = None, path: Path = RECORD) -> list[dict[str, str]]:
    """Replace the rows of ``run``'s profile with the seconds its course record lists (ok notebooks only;
    :func:`mammokit.course.layout.read_course`)."""
    course = read_course(run)
    profile = course.profile
    if profile not in PROFILES:
        raise ConfigError(f"{Path(run) / COURSE}: profile {profile!r} is not one of {', '.join(PROFILES)}")
    seconds = {nb.notebook: nb.seconds for nb in course.notebooks if nb.ok}
    if not seconds:
        raise ConfigError(f"{Path(run) / COURSE}: no notebook ran to the end; nothing to record")
    machine = machine or f"{os.cpu_count()}-core CPU"
    today = dt.date.today().isoformat()
    new = [{"notebook": nb, "profile": profile, "seconds": f"{s:.0f}", "data": data, "machine": machine,
            "measured": today} for nb, s in sorted(seconds.items())]
    rows = [r for r in read(path) if not (r["profile"] == profile and r["notebook"] in seconds)] + new
    rows.sort(key=lambda r: (r["notebook"], PROFILES.index(r["profile"])))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, out.getvalue())
    return new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mammokit.course.timings", description=__doc__.split("\n")[0])
    parser.add_argument("run", help="a `mammokit course --out` folder (its course.json)")
    parser.add_argument("--data", required=True, help="what the run ran on, as students should read it")
    parser.add_argument("--machine", default=None, help="default: '<N>-core CPU'")
    args = parser.parse_args(argv)
    try:
        for row in record(args.run, args.data, args.machine):
            print(f"{row['notebook']} {row['profile']}: {duration(float(row['seconds']))}")
    except (ConfigError, DataError, OSError) as exc:
        print(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover - thin wrapper
    raise SystemExit(main())
