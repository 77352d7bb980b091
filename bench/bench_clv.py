"""CLV pipeline benchmark: clvlib against lifetimes 0.11.3 on a synthetic buy-till-you-die world.

    python bench/bench_clv.py [--customers 1000000] [--seed 2024] [--only clvlib|lifetimes] [--unit W|D]

Both pipelines run in their own subprocess on the same order log (1,000,000 customers, about 6
million orders, generated once into bench/data/ by bench/world.py):

1. summary    per-customer frequency / recency / T / monetary value (continuous weeks = days / 7, or days
              with --unit D)
2. bgnbd      BG/NBD fit
3. gammagamma Gamma-Gamma fit on the repeat customers
4. clv        12-month CLV, 1% monthly discount, month = 4.345 weeks (lifetimes' month for freq="W";
              clvlib is given days_per_month = 30.415 so both compute exactly the same quantity); in days
              lifetimes' month is 30 days and clvlib is given days_per_month = 30

Wall time per stage (time.perf_counter in the child) and the child's peak RSS (os.wait4 rusage,
which includes loading the data) are recorded; each library runs --repeat times (default 3) and the
table shows the fastest time of each stage and the largest peak. The fitted parameters and the CLVs
of the last runs are compared.
Results: a table on stdout and bench/results/clv.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"
STAGES = ("summary", "bgnbd", "gammagamma", "clv")
WEEKS_PER_MONTH_LIFETIMES = 4.345
DAYS_PER_MONTH_LIFETIMES = 30     # lifetimes' month for freq="D"


def world_path(n, seed) -> Path:
    return DATA / f"world_{n}_{seed}"


def ensure_world(n, seed, python) -> Path:
    """Generate the order log once, in a subprocess.

    The parent must stay small: Linux carries a process's peak RSS over fork + exec into the child's
    ``ru_maxrss``, so a parent that had generated the data would inflate both children's peaks.
    """
    path = world_path(n, seed)
    if not path.exists():
        subprocess.run([python, str(HERE / "world.py"), "--customers", str(n), "--seed", str(seed),
                        "--out", str(path)], check=True)
    return path


# ------------------------------------------------------------------ children
def _load(path):
    import pandas as pd
    path = Path(path)
    cols = {c: np.load(path / f"{c}.npy") for c in ("customer_id", "date", "value")}
    return pd.DataFrame(cols, copy=False)


def child_clvlib(df, unit="W"):
    from clvlib.models import BetaGeoModel, GammaGammaModel
    from clvlib.rfm import rfm_summary
    from clvlib.value import customer_lifetime_value
    times = {}
    t = time.perf_counter()
    s = rfm_summary(df, "customer_id", "date", "value", time_unit=unit)
    times["summary"] = time.perf_counter() - t
    t = time.perf_counter()
    bg = BetaGeoModel().fit(s)
    times["bgnbd"] = time.perf_counter() - t
    t = time.perf_counter()
    gg = GammaGammaModel().fit(s)
    times["gammagamma"] = time.perf_counter() - t
    t = time.perf_counter()
    dpm = WEEKS_PER_MONTH_LIFETIMES * 7 if unit == "W" else DAYS_PER_MONTH_LIFETIMES
    clv = customer_lifetime_value(bg, gg, s, horizon_months=12, monthly_discount_rate=0.01, time_unit=unit,
                                  days_per_month=dpm)
    times["clv"] = time.perf_counter() - t
    params = {**bg.params_, **gg.params_}
    return times, params, s.index.to_numpy(), clv.to_numpy()


def child_lifetimes(df, unit="W"):
    import warnings
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data
    times = {}
    t = time.perf_counter()
    s = summary_data_from_transaction_data(df, "customer_id", "date", monetary_value_col="value", freq="D")
    if unit == "W":
        s["recency"] = s["recency"] / 7.0   # days -> continuous weeks, exactly as clvlib
        s["T"] = s["T"] / 7.0
    times["summary"] = time.perf_counter() - t
    t = time.perf_counter()
    bgf = BetaGeoFitter(penalizer_coef=0.0).fit(s["frequency"], s["recency"], s["T"])
    times["bgnbd"] = time.perf_counter() - t
    t = time.perf_counter()
    rep = s[s["frequency"] > 0]
    ggf = GammaGammaFitter(penalizer_coef=0.0).fit(rep["frequency"], rep["monetary_value"])
    times["gammagamma"] = time.perf_counter() - t
    t = time.perf_counter()
    clv = ggf.customer_lifetime_value(bgf, s["frequency"], s["recency"], s["T"], s["monetary_value"], time=12,
                                      discount_rate=0.01, freq=unit)
    times["clv"] = time.perf_counter() - t
    params = {k: float(v) for k, v in bgf.params_.items()}
    params.update({("gamma" if k == "v" else k): float(v) for k, v in ggf.params_.items()})
    return times, params, s.index.to_numpy(), np.asarray(clv, dtype=float)


def run_child(name, path, unit="W"):
    df = _load(path)
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fn = {"clvlib": child_clvlib, "lifetimes": child_lifetimes}[name]
    times, params, ids, clv = fn(df, unit)
    out = DATA / f"clv_{name}.npz"
    np.savez(out, ids=ids, clv=clv)
    print(json.dumps({"name": name, "times": times, "params": params, "rss_after_load_mb": rss_loaded,
                      "n_customers": int(len(ids)), "clv_total": float(np.sum(clv))}))


# ------------------------------------------------------------------ parent
def spawn(name, path, python, unit="W"):
    proc = subprocess.Popen([python, str(Path(__file__).resolve()), "--child", name, "--data", str(path),
                             "--unit", unit],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.perf_counter()
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{name} child failed ({proc.returncode}):\n{err[-3000:]}")
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_rss_mb"] = usage.ru_maxrss / 1024
    res["process_wall_s"] = wall
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--only", choices=("clvlib", "lifetimes"))
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per library; the table shows each stage's fastest run and the largest peak RSS "
                         "(the machine is shared: the best of a few runs is the least disturbed)")
    ap.add_argument("--unit", choices=("W", "D"), default="W",
                    help="time unit of the summary and the models: continuous weeks (default) or days")
    ap.add_argument("--child", choices=("clvlib", "lifetimes"), help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        run_child(args.child, args.data, args.unit)
        return 0
    path = ensure_world(args.customers, args.seed, sys.executable)
    names = [args.only] if args.only else ["clvlib", "lifetimes"]
    results = {}
    for name in names:
        runs = []
        for i in range(args.repeat):
            print(f"running {name} ({i + 1}/{args.repeat}) ...", flush=True)
            runs.append(spawn(name, path, sys.executable, args.unit))
        best = dict(runs[-1])
        best["times"] = {st: min(r["times"][st] for r in runs) for st in STAGES}
        best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
        best["runs"] = [{"times": r["times"], "peak_rss_mb": r["peak_rss_mb"]} for r in runs]
        results[name] = best
    n_orders = int(np.load(path / "customer_id.npy", mmap_mode="r").size)
    report = {"customers": args.customers, "orders": n_orders, "seed": args.seed, "repeat": args.repeat,
              "unit": args.unit,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()},
              "results": results}

    # table
    cols = names
    w = 12
    lines = [f"CLV pipeline, {args.customers:,} customers, {n_orders:,} orders, time in "
             f"{'weeks' if args.unit == 'W' else 'days'}; best of {args.repeat} runs per stage, largest peak RSS"]
    lines.append("stage".ljust(20) + "".join(c.rjust(w) for c in cols) + ("ratio".rjust(w) if len(cols) == 2 else ""))
    for st in STAGES + ("total",):
        vals = [sum(results[c]["times"].values()) if st == "total" else results[c]["times"][st] for c in cols]
        row = f"{st + ' (s)':20}" + "".join(f"{v:{w}.3f}" for v in vals)
        if len(cols) == 2:
            row += f"{vals[1] / vals[0]:{w - 1}.1f}x"
        lines.append(row)
    vals = [results[c]["peak_rss_mb"] for c in cols]
    row = f"{'peak RSS (MB)':20}" + "".join(f"{v:{w}.0f}" for v in vals)
    if len(cols) == 2:
        row += f"{vals[0] / vals[1]:{w}.2f}"
    lines.append(row)
    lines.append(f"{'RSS after load (MB)':20}" + "".join(f"{results[c]['rss_after_load_mb']:{w}.0f}" for c in cols))
    if len(cols) == 2:
        a, b = results["clvlib"], results["lifetimes"]
        tot_a, tot_b = sum(a["times"].values()), sum(b["times"].values())
        rel = {k: abs(a["params"][k] - b["params"][k]) / abs(b["params"][k]) for k in a["params"]}
        za, zb = np.load(DATA / "clv_clvlib.npz", allow_pickle=True), np.load(DATA / "clv_lifetimes.npz",
                                                                                allow_pickle=True)
        same_ids = za["ids"].shape == zb["ids"].shape and bool(np.all(za["ids"] == zb["ids"]))
        if same_ids:
            denom = np.maximum(np.abs(zb["clv"]), 1e-9)
            clv_rel = np.abs(za["clv"] - zb["clv"]) / denom
            clv_cmp = {"max_rel_diff": float(clv_rel.max()), "median_rel_diff": float(np.median(clv_rel)),
                       "total_rel_diff": float(abs(za["clv"].sum() - zb["clv"].sum()) / abs(zb["clv"].sum()))}
        else:
            clv_cmp = {"error": "customer order differs"}
        report["comparison"] = {
            "speedup_total": tot_b / tot_a, "memory_ratio": a["peak_rss_mb"] / b["peak_rss_mb"],
            "param_rel_diff": rel, "max_param_rel_diff": max(rel.values()), "clv": clv_cmp,
            "targets": {"speedup_ge_20": tot_b / tot_a >= 20,
                        "memory_le_one_third": a["peak_rss_mb"] <= b["peak_rss_mb"] / 3,
                        "params_within_1e-3": max(rel.values()) <= 1e-3},
        }
        lines.append("")
        lines.append(f"speed-up {tot_b / tot_a:.1f}x (target >= 20x); memory {a['peak_rss_mb'] / b['peak_rss_mb']:.2f} "
                     f"of lifetimes' (target <= 0.33)")
        lines.append("max relative parameter difference: " + f"{max(rel.values()):.2e} "
                     + ", ".join(f"{k} {v:.1e}" for k, v in rel.items()))
        if "max_rel_diff" in clv_cmp:
            lines.append(f"CLV relative difference: max {clv_cmp['max_rel_diff']:.2e}, median "
                         f"{clv_cmp['median_rel_diff']:.2e}, total {clv_cmp['total_rel_diff']:.2e}")
    text = "\n".join(lines)
    print(text)
    report["table"] = text
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("clv.json" if args.unit == "W" else "clv_days.json")
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
