"""Each course notebook, kernel plus a Jupyter server, under Binder's memory limit.

Binder gives a session about 2 GiB for the Jupyter server and its kernels together, and kills
the kernel when they pass it. This puts itself, a JupyterLab server (idle, as a student's
would be between messages) and ``mammokit course`` into one Linux memory cgroup limited to
``--limit-gib``, samples every process's resident memory twice a second, and reports per
notebook: the peak of kernel + server + runner memory (PSS, shared pages counted once; RSS too),
the cgroup's own charge (page cache included, but not pages another cgroup touched first), and
whether the cgroup hit its limit or killed anything. Needs root and a cgroup v1 memory controller (``/sys/fs/cgroup/memory``) or
cgroup v2; refuses clearly otherwise. Not part of ``make benchmarks`` (it runs the whole course).

    sudo .venv/bin/python benchmarks/binder_memory.py --profile classroom \
        -p DATA ../shared/mias-dev -p WEIGHTS random --out runs/binder-memory
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
V1 = Path("/sys/fs/cgroup/memory")
V2 = Path("/sys/fs/cgroup/unified") if Path("/sys/fs/cgroup/unified/cgroup.controllers").exists() else Path("/sys/fs/cgroup")
NOTEBOOK = re.compile(r"(\d\d_[a-z_]+)\.ipynb")


def make_cgroup(name: str, limit: int) -> tuple[Path, dict[str, Path]]:
    """A fresh memory cgroup limited to ``limit`` bytes (no swap); its files by role."""
    if (V1 / "memory.limit_in_bytes").exists():
        group = V1 / name
        group.mkdir(exist_ok=True)
        (group / "memory.limit_in_bytes").write_text(str(limit))
        memsw = group / "memory.memsw.limit_in_bytes"
        if memsw.exists():
            memsw.write_text(str(limit))
        return group, {"procs": group / "cgroup.procs", "usage": group / "memory.usage_in_bytes",
                       "peak": group / "memory.max_usage_in_bytes", "fails": group / "memory.failcnt",
                       "oom": group / "memory.oom_control"}
    if "memory" in (V2 / "cgroup.controllers").read_text().split():
        group = V2 / name
        group.mkdir(exist_ok=True)
        (group / "memory.max").write_text(str(limit))
        if (group / "memory.swap.max").exists():
            (group / "memory.swap.max").write_text("0")
        return group, {"procs": group / "cgroup.procs", "usage": group / "memory.current",
                       "peak": group / "memory.peak", "fails": group / "memory.events",
                       "oom": group / "memory.events"}
    raise SystemExit("no writable memory cgroup here (run as root on Linux with cgroup v1 or v2)")


def memory_by_process(procs: Path) -> dict[int, tuple[int, int, str]]:
    """``{pid: (RSS bytes, PSS bytes, command line)}`` of every process in the cgroup.

    RSS counts a page shared by two processes (Python's libraries) in both; PSS splits it, so
    the PSS of all processes adds up to the memory they really hold together."""
    out = {}
    for pid in procs.read_text().split():
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        kb = {k: int(v) * 1024 for k, v in re.findall(r"^(Rss|Pss):\s+(\d+) kB", rollup, re.M)}
        out[int(pid)] = (kb.get("Rss", 0), kb.get("Pss", 0), cmd)
    return out


def sample(files: dict[str, Path], peaks: dict[str, dict[str, float]], stop: threading.Event) -> None:
    """Twice a second: total RSS in the cgroup, charged to the notebook whose worker is running."""
    while not stop.is_set():
        procs = memory_by_process(files["procs"])
        names = [m.group(1) for *_, cmd in procs.values() if "mammokit.course.runner" in cmd
                 for m in [NOTEBOOK.search(cmd)] if m]
        sums = {"pss_total": sum(pss for _, pss, _ in procs.values()),
                "rss_total": sum(rss for rss, _, _ in procs.values()),
                "kernel": max((rss for rss, _, cmd in procs.values() if "ipykernel" in cmd), default=0),
                "server": max((rss for rss, _, cmd in procs.values() if "jupyter-lab" in cmd), default=0),
                "cgroup": int(files["usage"].read_text())}
        for name in names[:1]:
            row = peaks.setdefault(name, dict.fromkeys(sums, 0))
            for key, value in sums.items():
                row[key] = max(row[key], value)
        stop.wait(0.5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="classroom")
    ap.add_argument("--limit-gib", type=float, default=2.0)
    ap.add_argument("--out", default="runs/binder-memory")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"))
    args = ap.parse_args()
    limit = int(args.limit_gib * 2**30)
    group, files = make_cgroup(f"mammokit-binder-{os.getpid()}", limit)
    files["procs"].write_text(str(os.getpid()))  # this process and everything it starts
    bin_dir = Path(sys.executable).parent
    home = Path(args.out).resolve().parent / "binder-memory-jupyter"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "ws")}
    server = subprocess.Popen([str(bin_dir / "jupyter-lab"), "--no-browser", "--allow-root", "--port", "18999",
                               "--ip", "127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password="],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peaks: dict[str, dict[str, float]] = {}
    stop = threading.Event()
    sampler = threading.Thread(target=sample, args=(files, peaks, stop), daemon=True)
    try:
        time.sleep(5)  # the server's start-up memory is part of what Binder holds
        sampler.start()
        cmd = [str(bin_dir / "mammokit"), "course", "--profile", args.profile, "--out", args.out, "--overwrite"]
        cmd += [x for pair in args.p for x in ("-p", *pair)] + (["--only", *args.only] if args.only else [])
        start = time.monotonic()
        code = subprocess.run(cmd, cwd=ROOT).returncode
        seconds = time.monotonic() - start
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)
    oom = files["oom"].read_text()
    result = {"profile": args.profile, "limit_gib": args.limit_gib, "course_exit": code, "seconds": round(seconds),
              "cgroup_peak_mib": int(files["peak"].read_text()) / 2**20 if files["peak"].exists() else None,
              "limit_hits": files["fails"].read_text().strip(), "oom": oom.strip(),
              "notebooks": {k: {m: round(v / 2**20) for m, v in row.items()} for k, row in sorted(peaks.items())}}
    print("peaks in MiB; all = kernel + JupyterLab server + course runner; PSS counts shared pages once")
    print(f"{'notebook':24} {'all PSS':>8} {'all RSS':>8} {'kernel RSS':>11} {'server RSS':>11} {'cgroup':>7}")
    for name, row in result["notebooks"].items():
        print(f"{name:24} {row['pss_total']:>8} {row['rss_total']:>8} {row['kernel']:>11} {row['server']:>11} "
              f"{row['cgroup']:>7}")
    print(f"course exit {code}, {seconds:.0f} s; limit {args.limit_gib} GiB; {oom.replace(chr(10), ', ')}")
    out = ROOT / "benchmarks" / "results" / f"binder_memory_{args.profile}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    files["procs"].parent.parent.joinpath("cgroup.procs").write_text(str(os.getpid()))  # leave, then remove
    group.rmdir()
    return code


if __name__ == "__main__":
    sys.exit(main())
