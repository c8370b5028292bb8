"""A parameter grid over one notebook: papermill runs in parallel, one table, one plot.

Each run gets its own run folder; the metrics it records (``mk.runs.record``) become one
row of ``sweep.csv``. A failing run is reported in its row and the others go on.
"""
from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from mammokit import profiles
from mammokit.errors import MammokitError
from mammokit.files import atomic_path, write_text


def grid_points(grid: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in a stable order (first key varies slowest)."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def run_name(point: Mapping[str, Any]) -> str:
    """A folder name for one grid point, e.g. ``EPOCHS=2,LEARNING_RATE=0.001``."""
    safe = "".join(ch if ch.isalnum() or ch in "._-=," else "_" for ch in
                   ",".join(f"{k}={v}" for k, v in point.items()))
    return safe[:120]


def headline_metrics(table: pd.DataFrame, numeric: list[str], n: int = 4) -> list[str]:
    """The metrics worth a panel: those that vary between runs, AUC/accuracy/loss first."""
    varying = [c for c in numeric if table[c].nunique(dropna=True) > 1] or numeric

    def rank(name: str) -> int:
        return next((i for i, word in enumerate(("auc", "accuracy", "loss")) if word in name), 3)

    return sorted(varying, key=rank)[:n]


def plot_sweep(table: pd.DataFrame, keys: list[str], metrics: list[str]):
    """One panel per numeric metric: the metric against the first key, one line per second key."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from mammokit.plots import use_style

    use_style()
    shown = metrics[:4] or ["seconds"]
    fig, axes = plt.subplots(1, len(shown), figsize=(4.5 * len(shown), 3.6), squeeze=False)
    data = table.assign(**{k: table[k].astype(str) for k in keys})
    for ax, metric in zip(axes[0], shown):
        sns.pointplot(data=data, x=keys[0], y=metric, hue=keys[1] if len(keys) > 1 else None, ax=ax)
        ax.set_title(metric)
        ax.set_xlabel(keys[0])
        ax.set_ylabel(metric)
    fig.suptitle("Sweep: " + " × ".join(keys))
    fig.tight_layout()
    return fig


def run_sweep(notebook: str, grid: Mapping[str, list[Any]], out: Path | str | None = None,
              jobs: int = 1, profile: str = profiles.QUICK_PROFILE, parameters: Mapping[str, Any] | None = None,
              overwrite: bool = False, metrics: list[str] | None = None,
              cell_timeout: int | None = None) -> pd.DataFrame:
    """Run ``notebook`` once per grid point (up to ``jobs`` at a time); write table + plot.

    Returns the table: one row per run with its parameters, status, seconds, peak RSS and
    every scalar metric the notebook recorded. ``metrics`` names the plotted ones (default:
    those that vary, AUC/accuracy/loss first). ``cell_timeout`` (seconds) fails a cell that
    runs longer; default: the profile's.
    """
    from mammokit import paths
    from mammokit.course import params
    from mammokit.course import layout
    from mammokit.course.runner import course_notebooks, run_isolated
    from mammokit.runs import metrics as recorded
    from mammokit.course.summary import flatten, markdown_table

    [nb] = course_notebooks([notebook])
    names = {p.name for p in params.spec(nb.stem)}
    fixed = params.absolute_paths(parameters or {})
    grid = {key: [params.absolute_paths({key: v})[key] for v in values] for key, values in grid.items()}
    unknown = sorted((set(grid) | set(fixed)) - names)
    if unknown:
        raise MammokitError(f"{nb.stem} has no parameter(s) {', '.join(unknown)}; "
                            f"see `mammokit params {nb.stem}`")
    for key, values in [*((k, [v]) for k, v in fixed.items()), *grid.items()]:
        for value in values:  # a bad -p EPOCHS -1 fails now, not after the first runs started
            params.check_value(nb.stem, key, value, source=f"-p {key}")
    if jobs < 1:
        raise MammokitError(f"--jobs must be at least 1, got {jobs}")
    out = Path(out or paths.runs_dir() / f"sweep-{nb.stem}").resolve()
    layout.prepare_out(out, overwrite)
    points = grid_points(grid)
    print(f"mammokit sweep: {nb.stem}, {len(points)} runs, {jobs} at a time -> {out}", flush=True)

    def one(point: dict[str, Any]) -> dict[str, Any]:
        run_dir = layout.sweep_run_dir(out, run_name(point))
        outcome = run_isolated(nb, run_dir / nb.name,
                               {**fixed, **point, "PROFILE": profile, "RUN_DIR": str(run_dir)},
                               cwd=nb.parent, timeout=cell_timeout)
        status = "ok" if outcome.ok else "failed"
        first_line = (outcome.error or "").splitlines()[:3]
        print(f"  {run_name(point)}: {status} ({outcome.seconds:.0f} s)"
              + ("" if outcome.ok else " -- " + " / ".join(first_line)), flush=True)
        metrics = flatten(recorded(run_dir, nb.stem))
        return {**point, "status": status, "seconds": outcome.seconds,
                "peak_rss_mb": outcome.peak_rss_mb, "error": outcome.error or "", **metrics}

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        rows = list(pool.map(one, points))
    table = pd.DataFrame(rows)
    write_text(out / layout.SWEEP_CSV, table.to_csv(index=False))
    keys = list(grid)
    numeric = [c for c in table.columns if c not in keys and c not in ("seconds", "peak_rss_mb")
               and pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])]
    write_text(out / layout.SWEEP_MD, f"# Sweep of {nb.stem} ({profile})\n\n"
               + markdown_table(table[[*keys, "status", "seconds", *numeric]]) + "\n")
    ok = table[table["status"] == "ok"]
    if len(ok):
        fig = plot_sweep(ok, keys, list(metrics) if metrics else headline_metrics(ok, numeric))
        with atomic_path(out / layout.SWEEP_PNG) as tmp:
            fig.savefig(tmp, dpi=100)
    failed = int((table["status"] != "ok").sum())
    print(f"table: {out / layout.SWEEP_CSV}" + (f"; {failed} run(s) failed" if failed else ""), flush=True)
    return table
