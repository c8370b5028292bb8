"""The ``mammokit`` command: data, course runs, sweeps, parameter listings, exercises and grading.

Every subcommand checks its output paths before it starts work; a :class:`MammokitError` or an
operating-system error (disk full, no permission) is printed as one line (no traceback) and the
command exits with status 2, so a bad argument reads like advice rather than a crash.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from mammokit.errors import ConfigError, DataError, MammokitError
from mammokit.files import check_output_dir, check_output_file, describe_os_error
from mammokit.profiles import PROFILES, QUICK_PROFILE, by_profile, help_text


def parse_value(raw: str) -> Any:
    """A ``-p`` value as papermill would see it: JSON when it parses (5, 1e-3, true, null, [..]), else text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        lowered = raw.lower()
        return {"true": True, "false": False, "none": None}.get(lowered, raw)


FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


# --- mammokit data ... ------------------------------------------------------------------------

def _data_download(args: argparse.Namespace) -> None:
    from mammokit.data import mias

    if args.dest is not None:
        check_output_dir(args.dest, "--dest")
    path = mias.download(dest=args.dest, mirrors=args.mirror or None)
    print(f"MIAS installed in {path}")


def _data_synth(args: argparse.Namespace) -> None:
    from mammokit.data import synthetic

    if args.out is not None:
        check_output_dir(args.out, "--out")
    path = synthetic.write_phantoms(args.out, n_patients=args.patients, size=args.size, seed=args.seed)
    print(f"phantoms written to {path}")


SOURCES = "a MIAS folder (Info.txt + mdbNNN.pgm), 'auto', 'synthetic', 'mias' or a DICOM manifest .csv"


def _single_file(source: str) -> Path | None:
    """``source`` when it is one file that is not a data source (an image, not a manifest or Info.txt)."""
    path = Path(source).expanduser()
    if source in ("auto", "mias", "synthetic") or not path.is_file():
        return None
    return None if path.suffix.lower() == ".csv" or path.name == "Info.txt" else path


def _catalog(source: str, what: str):
    from mammokit.data import load_catalog

    path = _single_file(source)
    if path is not None:
        raise DataError(f"{what} {path}: a single file (an image?), not a data set. Give {SOURCES}; "
                        f"`mammokit data info {path}` describes one image.")
    return load_catalog(source)


def _image_info(path: Path) -> None:
    from mammokit.data import read_image

    try:
        image = read_image(path)
    except DataError as exc:
        raise DataError(f"{exc} (`mammokit data info` takes {SOURCES}, or one image file)") from None
    print(f"{path}: a single image, not a data set\n"
          f"size:        {image.shape[1]} x {image.shape[0]} px (width x height)\n"
          f"pixels:      {image.dtype}, grey levels {int(image.min())}..{int(image.max())}\n"
          f"For counts of images, patients and classes give {SOURCES}.")


def _data_info(args: argparse.Namespace) -> None:
    from mammokit.data import summarise
    from mammokit.data.images import suspicious

    if (path := _single_file(args.source)) is not None:
        return _image_info(path)
    catalog = _catalog(args.source, "source")
    print(summarise(catalog))
    for line in suspicious(catalog):
        print(f"warning: {line}")


def _data_contact_sheet(args: argparse.Namespace) -> None:
    from mammokit.files import atomic_path
    from mammokit.plots import contact_sheet

    out = check_output_file(args.out, "out", suffixes=FIGURE_SUFFIXES)
    if not 10 <= args.dpi <= 1200:
        raise ConfigError(f"--dpi {args.dpi}: give dots per inch in [10, 1200] (default 100)")
    fig = contact_sheet(_catalog(args.source, "source"), size=args.size, preprocessed=args.preprocessed)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=args.dpi, bbox_inches="tight", format=out.suffix[1:].lower())
    print(f"contact sheet written to {out}")


def _add_data(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="download, generate or inspect data")
    dsub = data.add_subparsers(dest="data_command", required=True)

    dl = dsub.add_parser("download", help="download a public dataset (MIAS), verify it, install it")
    dl.add_argument("dataset", choices=["mias"])
    dl.add_argument("--dest", default=None, help="install folder (default: data/mias)")
    dl.add_argument("--mirror", action="append", help="archive URL to try first (repeatable)")
    dl.set_defaults(func=_data_download)

    syn = dsub.add_parser("synth", help="write synthetic phantoms in the MIAS layout")
    syn.add_argument("--out", default=None, help="folder (default: data/synthetic)")
    syn.add_argument("--patients", type=int, default=None, help="patients (two films each)")
    syn.add_argument("--size", type=int, default=None, help="image side in pixels")
    syn.add_argument("--seed", type=int, default=0)
    syn.set_defaults(func=_data_synth)

    info = dsub.add_parser("info", help="counts of images, patients and classes for a source")
    info.add_argument("source", help="'auto', 'synthetic', a MIAS folder or a DICOM manifest CSV")
    info.set_defaults(func=_data_info)

    sheet = dsub.add_parser("contact-sheet", help="PNG of a crop around every annotated centre")
    sheet.add_argument("source")
    sheet.add_argument("out", help="output PNG")
    sheet.add_argument("--size", type=int, default=128, help="crop side in pixels")
    sheet.add_argument("--preprocessed", action="store_true", help="crop the preprocessed image")
    sheet.add_argument("--dpi", type=int, default=100)
    sheet.set_defaults(func=_data_contact_sheet)


# --- mammokit course / sweep / params ---------------------------------------------------------

def _pairs(items: Sequence[Sequence[str]] | None) -> dict[str, Any]:
    return {key: parse_value(value) for key, value in (items or [])}


def _course(args: argparse.Namespace) -> None:
    from mammokit.course.runner import run_course

    run_course(profile=args.profile, out=args.out, parameters=_pairs(args.p),
               overwrite=args.overwrite, notebooks=args.only, cell_timeout=args.cell_timeout)


def _sweep(args: argparse.Namespace) -> None:
    from mammokit.course.sweep import run_sweep

    grid = {values[0]: [parse_value(v) for v in values[1:]] for values in args.p}
    for key, values in grid.items():
        if not values:
            raise MammokitError(f"-p {key}: give at least one value, e.g. -p {key} 1 2")
    run_sweep(args.notebook, grid=grid, out=args.out, jobs=args.jobs, profile=args.profile,
              parameters=_pairs(args.fixed), overwrite=args.overwrite, metrics=args.metric,
              cell_timeout=args.cell_timeout)


def _params(args: argparse.Namespace) -> None:
    from mammokit.course.params import describe

    print(describe(args.notebook))


_PROFILE_HELP = f"{help_text()} (default: {QUICK_PROFILE})"
_TIMEOUT_HELP = "fail a cell that runs longer (default: " + ", ".join(
    f"{k} {v}" for k, v in by_profile("cell_timeout_s").items()) + ")"


def _add_runs(sub: argparse._SubParsersAction) -> None:
    course = sub.add_parser("course", help="run notebooks 01-06 headless with papermill")
    course.add_argument("--profile", default=QUICK_PROFILE, choices=PROFILES, help=_PROFILE_HELP)
    course.add_argument("--out", default=None, help="run folder (default: runs/<profile>)")
    course.add_argument("-p", nargs=2, action="append", metavar=("KEY", "VALUE"),
                        help="override a parameter in every notebook that has it")
    course.add_argument("--only", nargs="+", default=None, help="run only these notebooks (stems)")
    course.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    course.add_argument("--cell-timeout", type=int, default=None, metavar="SECONDS",
                        help=_TIMEOUT_HELP)
    course.set_defaults(func=_course)

    sweep = sub.add_parser("sweep", help="a grid of papermill runs of one notebook")
    sweep.add_argument("notebook", help="e.g. 04_convnet or notebooks/04_convnet.ipynb")
    sweep.add_argument("-p", nargs="+", action="append", required=True, metavar="KEY VALUE",
                       help="a parameter and the values to try: -p EPOCHS 1 2")
    sweep.add_argument("--set", dest="fixed", nargs=2, action="append", metavar=("KEY", "VALUE"),
                       help="a parameter fixed for every run")
    sweep.add_argument("--profile", default=QUICK_PROFILE, choices=PROFILES, help=_PROFILE_HELP)
    sweep.add_argument("--jobs", type=int, default=1, help="runs in parallel")
    sweep.add_argument("--out", default=None, help="sweep folder (default: runs/sweep-<notebook>)")
    sweep.add_argument("--overwrite", action="store_true")
    sweep.add_argument("--metric", action="append", help="a recorded metric to plot (repeatable)")
    sweep.add_argument("--cell-timeout", type=int, default=None, metavar="SECONDS",
                       help=_TIMEOUT_HELP)
    sweep.set_defaults(func=_sweep)

    params = sub.add_parser("params", help="list a notebook's parameters, defaults and allowed values")
    params.add_argument("notebook")
    params.set_defaults(func=_params)


# --- mammokit masters / assign / grade -----------------------------------------------------------

def _masters(args: argparse.Namespace) -> None:
    from mammokit.course.masters import make_masters

    for path in make_masters(args.src, args.dest, only=args.only):
        print(f"exercise checks and master written: {path}")


def _assign(args: argparse.Namespace) -> None:
    from mammokit.course.grading import assign

    for stem, seconds in assign(args.src, args.students, args.autograders, only=args.only).items():
        print(f"{stem}: student notebook and autograder written ({seconds:.1f} s)")


def _grade(args: argparse.Namespace) -> None:
    from mammokit.course.grading import grade

    grade(args.submissions, args.out, autograders=args.autograders, overwrite=args.overwrite,
          profile=args.profile, timeout=args.timeout, jobs=args.jobs)


def _add_grading(sub: argparse._SubParsersAction) -> None:
    masters = sub.add_parser("masters", help="from the course's text sources: the exercise checks "
                             "(mammokit/exercises) and otter master notebooks, no otter run")
    masters.add_argument("src", nargs="?", default=None, help="folder of NN_name.md sources (default: notebooks/solutions)")
    masters.add_argument("dest", nargs="?", default=None, help="folder for the masters (default: dist/masters)")
    masters.add_argument("--only", nargs="+", default=None, help="only these notebooks (stems)")
    masters.set_defaults(func=_masters)

    assign = sub.add_parser("assign", help="build the course from its text sources: exercise checks, masters, "
                            "then (otter) student notebooks and autograders")
    assign.add_argument("--src", default=None, help="folder of NN_name.md sources (default: notebooks/solutions)")
    assign.add_argument("--students", default=None, help="student notebooks folder (default: notebooks)")
    assign.add_argument("--autograders", default=None, help="autograder zips folder (default: dist/autograder)")
    assign.add_argument("--only", nargs="+", default=None, help="only these notebooks (stems)")
    assign.set_defaults(func=_assign)

    grade = sub.add_parser("grade", help="grade submitted notebooks with otter's local runner (no Docker)")
    grade.add_argument("submissions", nargs="+", help="notebooks, or folders of them (one subfolder per student)")
    grade.add_argument("--out", required=True, help="scores CSV (one row per submission x question); "
                                                    "a <name>_summary.csv per student goes beside it")
    grade.add_argument("--autograders", default=None, help="folder of <stem>.zip (default: dist/autograder)")
    grade.add_argument("--overwrite", action="store_true", help="replace existing score files")
    grade.add_argument("--profile", default=QUICK_PROFILE, choices=PROFILES,
                       help=f"profile the submissions run under while grading (default: {QUICK_PROFILE}, fast)")
    grade.add_argument("--timeout", type=float, default=900, help="seconds per submission (default 900)")
    grade.add_argument("--jobs", type=int, default=1, help="submissions graded at once, each in its own process "
                       "(default 1; about half the CPU cores is a good choice)")
    grade.set_defaults(func=_grade)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mammokit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _add_data(sub)
    _add_runs(sub)
    _add_grading(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except MammokitError as exc:
        print(f"mammokit: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, permissions, a file where a folder belongs: one line, no traceback
        print(f"mammokit: error: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mammokit: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
