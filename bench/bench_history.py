"""The month-by-month history of the demo company in one pass, timed: the models refitted at each of the
last ``history.months`` month ends (stage ``history``), every customer tiered at each (``tiers``) and
every KPI per customer, rep, team and company for each month (``kpis``) — what trends and the pay
backtest read. Each repeat starts from the period's intake and customer value (built once) and
rebuilds the three stages; the CPU time and the load average are recorded beside the wall time,
because the project machine may be shared.

    ../.venv/bin/python bench_history.py [--period 2026-10] [--repeat 3] [--months 24] [--customers N]

With ``--customers N`` the company is a demo company of N customers (``bench/data/demo-N``, built when
missing, as by ``bench_workbook.py``) instead of the shipped demo; the stages before the history
(intake, credit, customer value) are timed too, once.

Writes ``results/history.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--period", default="2026-10")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--months", type=int, default=None, help="history.months (default: params)")
    ap.add_argument("--customers", type=int, default=None, help="a demo company of this size (default: the demo)")
    a = ap.parse_args(argv)

    from clvlib.workbook import Workbook

    out = Path(tempfile.mkdtemp(prefix="bench-history-"))
    params = None
    if a.customers:
        from bench_workbook import company
        params = company(a.customers)
    wb = Workbook(a.period, params_path=params, out_dir=out, charts=False)
    if a.months:
        wb.params["history"]["months"] = a.months
    before = {}
    for name in ("intake", "credit", "customer_value"):
        s0 = time.perf_counter()
        wb.stage(name)
        before[name] = round(time.perf_counter() - s0, 2)
    print(f"stages before the history: {before}", flush=True)
    runs = []
    for k in range(a.repeat):
        load = os.getloadavg()[0]
        w0, c0 = time.perf_counter(), time.process_time()
        per = {}
        for name in ("history", "tiers", "kpis"):
            s0 = time.perf_counter()
            wb.stage(name, refresh=True)
            per[name] = round(time.perf_counter() - s0, 2)
            print(f"  {name}: {per[name]} s", flush=True)
        runs.append({"wall_s": round(time.perf_counter() - w0, 2), "cpu_s": round(time.process_time() - c0, 2),
                     "stages_s": per, "load_before": round(load, 2)})
        print(f"run {k + 1}: {runs[-1]}", flush=True)
    h = wb.stage("history")
    result = {"period": a.period, "months": len(h.months), "customers": int(h.month(h.months[-1]).shape[0]),
              "stages_before_s": before, "runs": runs, "best_wall_s": min(r["wall_s"] for r in runs),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    (HERE / "results").mkdir(exist_ok=True)
    name = f"history-{a.customers}.json" if a.customers else "history.json"
    (HERE / "results" / name).write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
