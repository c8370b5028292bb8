"""Cost of the data layer on this machine: phantom generation, catalog loading, image reading.

* **phantoms**: ``write_phantoms`` of the default set (40 patients, 80 films, 512 px) into a
  temporary folder — what the first ``load_catalog("synthetic")`` pays once;
* **catalog**: ``load_catalog`` of that set, and of the MIAS dev subset when present
  (``$MAMMOKIT_MIAS_DEV`` or ``../shared/mias-dev``; it reads only PGM headers);
* **read**: ``read_image`` per film: 8-bit PGM 512 px, MIAS PGM 1024 px, 12-bit DICOM 1024 px;
* **contact sheet** of the MIAS dev subset (81 crops).

Median of ``--repeats`` runs (the first catalog/PGM read warms the page cache). Prints a table
and writes ``benchmarks/results/bench_data.json``.

    python benchmarks/bench_data.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("MPLBACKEND", "Agg")


def _median_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import numpy as np

    from mammokit.data import load_catalog, read_image, synthetic
    from mammokit.data.dicom import write_dicom

    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        counter = iter(range(10**6))
        t = _median_s(lambda: synthetic.write_phantoms(tmp / f"set{next(counter)}"), args.repeats)
        rows.append(("phantoms: default set (80 films, 512 px)", t, "s"))
        folder = tmp / "set0"
        rows.append(("catalog: phantoms", _median_s(lambda: load_catalog(folder), args.repeats), "s"))
        pgm = folder / "syn001.pgm"
        rows.append(("read: phantom PGM 512 px", _median_s(lambda: read_image(pgm), 20 * args.repeats) * 1e3, "ms"))
        dcm = write_dicom(tmp / "a.dcm", (np.random.default_rng(0).integers(0, 4096, (1024, 1024))).astype(np.uint16),
                          bits_stored=12, window=(2048, 4096))
        rows.append(("read: DICOM 12-bit 1024 px, windowed", _median_s(lambda: read_image(dcm), 5 * args.repeats) * 1e3, "ms"))
        dev = Path(os.environ.get("MAMMOKIT_MIAS_DEV", HERE.parent.parent / "shared" / "mias-dev"))
        if (dev / "Info.txt").is_file():
            rows.append(("catalog: MIAS dev subset (214 films)", _median_s(lambda: load_catalog(dev), args.repeats), "s"))
            rows.append(("read: MIAS PGM 1024 px", _median_s(lambda: read_image(dev / "mdb005.pgm"), 20 * args.repeats) * 1e3, "ms"))
            from mammokit.plots import contact_sheet

            catalog = load_catalog(dev)
            rows.append(("contact sheet: MIAS dev subset (81 crops)",
                         _median_s(lambda: contact_sheet(catalog, size=128).savefig(tmp / "s.png", dpi=50), 1), "s"))

    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  median")
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:8.3f} {unit}")
    out = HERE / "results" / "bench_data.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(), "repeats": args.repeats,
                               "results": [{"what": n, "value": v, "unit": u} for n, v, u in rows]}, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
