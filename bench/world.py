"""A synthetic buy-till-you-die world for the CLV benchmark: BG/NBD purchasing, Gamma-Gamma spend.

Deterministic for a given seed and vectorised (a million customers in a few seconds). The order log
is sorted by date, as an order log would be, and about 3% of orders are second orders placed on
the same day as another one (they merge into one purchase occasion).
"""
from __future__ import annotations

import numpy as np

#: True parameters of the world (weekly time unit).
TRUE_PARAMS = {"r": 0.6, "alpha": 4.0, "a": 0.8, "b": 4.0, "p": 6.0, "q": 4.0, "gamma": 15.0}
START = np.datetime64("2023-01-01", "D")
ACQUISITION_DAYS = 365   # customers are acquired uniformly over the first year
OBSERVATION_DAYS = 730   # the data end two years after START


def make_world(n_customers: int = 1_000_000, seed: int = 2024):
    """Return (customer_id int64, date datetime64[D], value float64) arrays of the order log."""
    rng = np.random.default_rng(seed)
    P = TRUE_PARAMS
    n = n_customers
    acq = rng.integers(0, ACQUISITION_DAYS, n)
    T_weeks = (OBSERVATION_DAYS - 1 - acq) / 7.0
    lam = rng.gamma(P["r"], 1.0 / P["alpha"], n)          # purchases per week while alive
    p_drop = rng.beta(P["a"], P["b"], n)                   # drop-out probability after each repeat purchase
    nu = rng.gamma(P["q"], 1.0 / P["gamma"], n)            # spend rate: mean order value p / nu
    cust_parts = [np.arange(n)]
    day_parts = [acq]
    # repeat purchases: exponential gaps while alive and inside the window
    active = np.arange(n)
    t = np.zeros(n)
    while active.size:
        t[active] += rng.exponential(1.0, active.size) / np.maximum(lam[active], 1e-300)
        inside = t[active] <= T_weeks[active]
        active = active[inside]
        cust_parts.append(active)
        day_parts.append(acq[active] + np.floor(t[active] * 7.0).astype(np.int64))
        alive = rng.random(active.size) >= p_drop[active]
        active = active[alive]
    cust = np.concatenate(cust_parts)
    day = np.concatenate(day_parts)
    # a few same-day second orders
    dup = rng.random(cust.size) < 0.03
    cust = np.concatenate([cust, cust[dup]])
    day = np.concatenate([day, day[dup]])
    value = rng.gamma(P["p"], 1.0, cust.size) / nu[cust]
    value = np.round(value, 2)
    order = np.argsort(day, kind="stable")                 # an order log is sorted by date
    ids = rng.permutation(n).astype(np.int64) + 1          # customer numbers 1..n, unrelated to behaviour
    return ids[cust[order]], (START + day[order]).astype("datetime64[D]"), value[order]


#: True parameters of the Pareto/NBD world (weekly time unit; close to the CDNOW estimates).
PARETO_PARAMS = {"r": 0.55, "alpha": 10.5, "s": 0.6, "beta": 11.5}


def make_paretonbd_world(n_customers: int = 100_000, seed: int = 2024):
    """Order log (customer_id, date, value) of a Pareto/NBD world (Schmittlein, Morrison & Colombo 1987).

    Each customer buys once on acquisition, then as a Poisson process with rate lambda ~ Gamma(r, alpha)
    until an exponential lifetime with rate mu ~ Gamma(s, beta) ends; dates are whole days.
    """
    rng = np.random.default_rng(seed)
    P = PARETO_PARAMS
    n = n_customers
    acq = rng.integers(0, ACQUISITION_DAYS, n)
    T_weeks = (OBSERVATION_DAYS - 1 - acq) / 7.0
    lam = rng.gamma(P["r"], 1.0 / P["alpha"], n)
    mu = rng.gamma(P["s"], 1.0 / P["beta"], n)
    life = rng.exponential(1.0, n) / mu
    window = np.minimum(life, T_weeks)
    k = rng.poisson(lam * window)                          # repeat purchases while alive, in the window
    cust = np.concatenate([np.arange(n), np.repeat(np.arange(n), k)])
    when = np.concatenate([np.zeros(n), rng.random(int(k.sum())) * np.repeat(window, k)])
    day = acq[cust] + np.floor(when * 7.0).astype(np.int64)
    value = np.round(rng.gamma(6.0, 5.0, cust.size), 2)
    order = np.argsort(day, kind="stable")
    ids = rng.permutation(n).astype(np.int64) + 1
    return ids[cust[order]], (START + day[order]).astype("datetime64[D]"), value[order]


def main(argv=None):
    import argparse
    import time
    from pathlib import Path
    ap = argparse.ArgumentParser(description="Generate the benchmark order log (one .npy file per column).")
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", choices=("bgnbd", "paretonbd"), default="bgnbd", help="the purchase process")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    make = make_paretonbd_world if args.model == "paretonbd" else make_world
    cust, date, value = make(args.customers, args.seed)
    out = Path(args.out)
    tmp = out.with_name(out.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    np.save(tmp / "customer_id.npy", cust)
    np.save(tmp / "date.npy", date.astype("datetime64[ns]"))
    np.save(tmp / "value.npy", value)
    tmp.rename(out)
    print(f"generated {out.name}: {cust.size:,} orders of {args.customers:,} customers, {date.min()}..{date.max()}, "
          f"in {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
