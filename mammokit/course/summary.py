"""The course summary: how each notebook ran and the key metrics it recorded, as JSON + CSV for
programs (:mod:`mammokit.course.layout` reads them back) and Markdown for people."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from mammokit.course import layout
from mammokit.files import write_text
from mammokit.runs import read_records


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metric dicts to ``a.b`` keys; lists longer than a few items are left out."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            if len(value) <= 6 and all(not isinstance(v, (Mapping, list)) for v in value):
                flat[name] = ", ".join(str(v) for v in value)
        else:
            flat[name] = value
    return flat


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency such as tabulate)."""
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def write_summary(out: Path, profile: str, outcomes: Iterable[Any]) -> Path:
    """Write ``course.json`` (:class:`~mammokit.course.layout.CourseRun`), ``summary.csv`` (long:
    notebook, metric, value) and ``summary.md`` from the runner's outcomes; return the .md path."""
    course = layout.CourseRun(profile, str(out), tuple(
        layout.NotebookRun(o.notebook, "ok" if o.ok else "FAILED", o.seconds, o.peak_rss_mb, o.error)
        for o in outcomes))
    layout.write_course(out, course)
    runs = pd.DataFrame([{"notebook": nb.notebook, "status": nb.status, "seconds": nb.seconds,
                          "kernel_peak_rss_mb": nb.kernel_peak_rss_mb} for nb in course.notebooks],
                        columns=["notebook", "status", "seconds", "kernel_peak_rss_mb"])
    records = read_records(out)
    rows = [{"notebook": r.notebook, "metric": m, "value": getattr(r, m)}
            for r in runs.itertuples() for m in ("status", "seconds", "kernel_peak_rss_mb")]
    for notebook, metrics in records.items():
        rows += [{"notebook": notebook, "metric": k, "value": v} for k, v in flatten(metrics).items()]
    long = pd.DataFrame(rows, columns=["notebook", "metric", "value"])
    write_text(out / layout.SUMMARY_CSV, long.to_csv(index=False))

    parts = [f"# mammokit course summary ({profile} profile)", "",
             f"Run folder: `{out}`", "", "## Notebooks", "", markdown_table(runs), ""]
    total = runs["seconds"].sum() if len(runs) else 0.0
    parts += [f"Total: {total:.0f} s; largest kernel peak RSS: "
              f"{runs['kernel_peak_rss_mb'].max() if len(runs) else 0:.0f} MB.", ""]
    for notebook, metrics in records.items():
        flat = flatten(metrics)
        if flat:
            table = pd.DataFrame({"metric": list(flat), "value": [_fmt(v) for v in flat.values()]})
            parts += [f"## {notebook}", "", markdown_table(table), ""]
    path = out / layout.SUMMARY_MD
    write_text(path, "\n".join(parts))
    return path
