"""The course summary: how each notebook ran and the key metrics it recorded, as CSV + Markdown."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

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
    """Write ``summary.csv`` (long: notebook, metric, value) and ``summary.md``; return the .md path."""
    runs = pd.DataFrame([
        {"notebook": o.notebook, "status": "ok" if o.ok else "FAILED",
         "seconds": o.seconds, "kernel_peak_rss_mb": o.peak_rss_mb}
        for o in outcomes
    ])
    records = read_records(out)
    rows = [{"notebook": r.notebook, "metric": m, "value": getattr(r, m)}
            for r in runs.itertuples() for m in ("status", "seconds", "kernel_peak_rss_mb")]
    for notebook, metrics in records.items():
        rows += [{"notebook": notebook, "metric": k, "value": v} for k, v in flatten(metrics).items()]
    long = pd.DataFrame(rows, columns=["notebook", "metric", "value"])
    write_text(out / "summary.csv", long.to_csv(index=False))

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
    path = out / "summary.md"
    write_text(path, "\n".join(parts))
    return path
