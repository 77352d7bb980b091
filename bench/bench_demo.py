"""Demo-company benchmark: ``clvlib demo-data --customers N`` (issue target: 1,000,000 customers, about
6 million order rows, in <= 60 s with <= 4 GB peak memory).

    python bench/bench_demo.py --customers 1000000 [--repeat 3]

Each run is ``clvlib demo-data --customers N --out bench/data/demo-N`` in a fresh process: wall time
from the parent, the child's user and system CPU time and peak resident memory from ``os.wait4``
(imports included), and the machine's load average before and after (the project machine is shared:
with other jobs running, wall time stretches while CPU time stays). Results are appended to
``bench/results/demo.json`` and printed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_SECONDS, TARGET_MB = 60.0, 4096.0


def run_once(customers: int, seed: int, out: Path) -> dict:
    """One ``clvlib demo-data`` in a child process: wall, CPU, peak RSS, load average."""
    cmd = [str(ROOT / ".venv" / "bin" / "clvlib"), "demo-data", "--customers", str(customers), "--seed", str(seed),
           "--out", str(out)]
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench_demo: clvlib demo-data failed: {err.strip()}")
    orders = sum(1 for _ in open(out / "orders.csv", "rb")) - 1
    return {"wall_s": round(wall, 2), "user_s": round(usage.ru_utime, 2), "sys_s": round(usage.ru_stime, 2),
            "peak_mb": round(usage.ru_maxrss / 1024, 1), "order_rows": orders,
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    out = HERE / "data" / f"demo-{a.customers}"
    runs = []
    for i in range(a.repeat):
        print(f"clvlib demo-data --customers {a.customers:,} ({i + 1}/{a.repeat}) ...", flush=True)
        runs.append(run_once(a.customers, a.seed, out))
        r = runs[-1]
        print(f"  {r['wall_s']:.1f} s wall, {r['user_s'] + r['sys_s']:.1f} s CPU (user {r['user_s']:.1f}, "
              f"sys {r['sys_s']:.1f}), peak {r['peak_mb']:,.0f} MB, {r['order_rows']:,} order rows, "
              f"load {r['load_before']:.1f} -> {r['load_after']:.1f}", flush=True)
    best = min(r["wall_s"] for r in runs)
    peak = max(r["peak_mb"] for r in runs)
    met = best <= TARGET_SECONDS and peak <= TARGET_MB
    print(f"best {best:.1f} s, largest peak {peak:,.0f} MB -- target <= {TARGET_SECONDS:.0f} s and "
          f"<= {TARGET_MB:.0f} MB: {'met' if met else 'NOT met'}")
    (HERE / "results").mkdir(exist_ok=True)
    record = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "customers": a.customers, "seed": a.seed,
              "python": platform.python_version(), "cpus": os.cpu_count(), "runs": runs,
              "best_wall_s": best, "peak_mb": peak, "target_met": met}
    with open(HERE / "results" / "demo.json", "a") as f:
        f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
