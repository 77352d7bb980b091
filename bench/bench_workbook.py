"""Whole-workbook benchmark: one ``clvlib run`` on a demo company of N customers (issue target: 1,000,000
customers, about 6 million order rows, <= 2 minutes and <= 4 GB peak memory).

    python bench/bench_workbook.py --customers 1000000 [--period 2026-10] [--repeat 1]

The company is built once by ``clvlib demo-data --customers N`` into ``bench/data/demo-N`` (the demo
benchmark's folder; reused when present), with a copy of ``params/`` pointing at it in
``bench/data/workbook-N/params``. Each run is ``clvlib run`` in a fresh process tree (the runner and its
notebook kernels): wall time from the parent; memory is the **peak of the summed resident memory of the
whole tree** (the runner plus every kernel), sampled every 0.1 s with psutil — a kernel's own peak can
fall between two samples, so the figure is a slight underestimate, never an overestimate of a sum;
the runner's own peak (``os.wait4``) is printed beside it. The seconds of every stage, notebook and the
render come from the run's ``run.json``. Results are appended to ``bench/results/workbook.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = ROOT / ".venv" / "bin"
TARGET_SECONDS, TARGET_MB = 120.0, 4096.0


def company(customers: int) -> Path:
    """The params of a demo company of ``customers`` customers (built when missing)."""
    data = HERE / "data" / f"demo-{customers}"
    if not (data / "orders.csv").exists():
        print(f"building the demo company ({customers:,} customers) in {data} ...", flush=True)
        subprocess.run([str(BIN / "clvlib"), "demo-data", "--customers", str(customers), "--out", str(data)],
                       check=True)
    params = HERE / "data" / f"workbook-{customers}" / "params"
    shutil.rmtree(params, ignore_errors=True)
    shutil.copytree(ROOT / "params", params)
    src = params / "sources" / "demo.yaml"
    src.write_text(re.sub(r"(?m)^folder: .*$", f"folder: {data}", src.read_text()))
    company = params / "company.yaml"
    company.write_text(re.sub(r"(?m)^demo: true", "demo: false", company.read_text()))
    return company


class TreeSampler(threading.Thread):
    """Peak of the summed RSS of a process and all its descendants, sampled every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 0.1):
        super().__init__(daemon=True)
        self.root, self.every, self.peak, self.stop = psutil.Process(pid), every, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self.stop.wait(self.every)


def kill_tree(pid: int) -> None:
    try:
        root = psutil.Process(pid)
        for p in [*root.children(recursive=True), root]:
            p.kill()
    except psutil.Error:
        pass


def staged_so_far(reports: Path) -> dict:
    """What a run that was stopped had finished: the notebooks and data files in its staging folder."""
    found = {"notebooks": [], "data": []}
    for staging in (reports / ".staging").glob("*"):
        found["notebooks"] = sorted(p.stem for p in (staging / "notebooks").glob("*.ipynb"))
        found["data"] = sorted(p.name for p in (staging / "data").glob("*"))
    return found


def run_once(params: Path, period: str, reports: Path, timeout: float) -> dict:
    shutil.rmtree(reports, ignore_errors=True)
    cmd = [str(BIN / "python"), "-c",
           "from pathlib import Path; from clvlib.run import run_period; "
           f"run_period({period!r}, {str(params)!r}, reports_dir=Path({str(reports)!r}))"]
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    # stderr to a file, not a pipe: nobody reads a pipe during the run, and a full one would block the runner
    errfile = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errfile)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    watchdog = threading.Timer(timeout, kill_tree, args=(proc.pid,))
    watchdog.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    watchdog.cancel()
    sampler.stop.set()
    errfile.seek(0)
    err = errfile.read().decode(errors="replace")
    errfile.close()
    if wall >= timeout:
        return {"finished": False, "stopped_after_s": round(wall, 1), "tree_peak_mb": round(sampler.peak / 2**20),
                "runner_peak_mb": round(usage.ru_maxrss / 1024), "load_before": round(load_before, 2),
                "done": staged_so_far(reports)}
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench_workbook: clvlib run failed: {err.strip()[-2000:]}")
    run = json.loads((reports / period / "run.json").read_text())
    return {"finished": True, "wall_s": round(wall, 1), "tree_peak_mb": round(sampler.peak / 2**20), "runner_peak_mb":
            round(usage.ru_maxrss / 1024), "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
            "stages_s": {k: v.get("seconds") for k, v in run.get("stages", {}).items()},
            "timings": run.get("timings", {})}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--period", default="2026-10")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1800, help="stop a run after this many seconds (default 1800)")
    a = ap.parse_args()
    params = company(a.customers)
    reports = HERE / "data" / f"workbook-{a.customers}" / "reports"
    runs = []
    for i in range(a.repeat):
        print(f"clvlib run --period {a.period} on {a.customers:,} customers ({i + 1}/{a.repeat}) ...", flush=True)
        r = run_once(params, a.period, reports, a.timeout)
        runs.append(r)
        if not r["finished"]:
            print(f"  stopped after {r['stopped_after_s']:.0f} s, unfinished; peak {r['tree_peak_mb']:,} MB so far; "
                  f"notebooks done: {', '.join(r['done']['notebooks']) or 'none'}", flush=True)
            continue
        print(f"  {r['wall_s']:.0f} s wall, peak {r['tree_peak_mb']:,} MB (runner and kernels together; "
              f"runner alone {r['runner_peak_mb']:,} MB), load {r['load_before']:.1f} -> {r['load_after']:.1f}")
        print("  stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in r["stages_s"].items() if v is not None))
        print("  " + json.dumps(r["timings"]), flush=True)
    done = [r for r in runs if r["finished"]]
    best = min(done, key=lambda r: r["wall_s"]) if done else None
    if best:
        print(f"best {best['wall_s']:.0f} s (target <= {TARGET_SECONDS:.0f}), "
              f"largest peak {max(r['tree_peak_mb'] for r in runs):,} MB (target <= {TARGET_MB:.0f})")
    else:
        print(f"no run finished within {a.timeout:.0f} s (target <= {TARGET_SECONDS:.0f} s)")
    out = HERE / "results" / "workbook.json"
    out.parent.mkdir(exist_ok=True)
    log = json.loads(out.read_text()) if out.exists() else []
    log.append({"customers": a.customers, "period": a.period, "machine": platform.node(),
                "cpus": os.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M"), "runs": runs})
    out.write_text(json.dumps(log, indent=1))


if __name__ == "__main__":
    main()
