"""Synthetic customers for the noise tests: BG/NBD purchase histories with Gamma-Gamma margins."""
from __future__ import annotations

import numpy as np
import pandas as pd

BG = {"r": 0.8, "alpha": 10.0, "a": 0.6, "b": 3.0}
GG = {"p": 4.0, "q": 5.0, "gamma": 400.0}


def bgnbd_summary(n=2000, seed=0, bg=BG, gg=GG, max_T=104.0, books=None, p_factor=None):
    """A per-customer summary (frequency, recency, T, monetary_value) simulated from BG/NBD and
    Gamma-Gamma with known parameters.

    ``books`` (int) splits the customers into that many books (column ``book``); ``p_factor`` (list,
    one per book) multiplies each book's drop-out probabilities (book-level heterogeneity).
    """
    rng = np.random.default_rng(seed)
    T = rng.uniform(4.0, max_T, n)
    lam = rng.gamma(bg["r"], 1 / bg["alpha"], n)
    p = rng.beta(bg["a"], bg["b"], n)
    book = np.arange(n) % books if books else np.zeros(n, dtype=int)
    if p_factor is not None:
        p = np.clip(p * np.asarray(p_factor)[book], 1e-6, 0.999)
    x = np.zeros(n)
    tx = np.zeros(n)
    t = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        i = np.flatnonzero(alive)
        t[i] += rng.exponential(1 / lam[i])
        ok = t[i] <= T[i]
        alive[i[~ok]] = False
        j = i[ok]
        x[j] += 1
        tx[j] = t[j]
        dies = rng.random(len(j)) < p[j]
        alive[j[dies]] = False
    nu = rng.gamma(gg["q"], 1 / gg["gamma"], n)
    total = rng.gamma(np.maximum(x, 1) * gg["p"]) / nu
    m = np.where(x > 0, total / np.maximum(x, 1), 0.0)
    s = pd.DataFrame({"frequency": x, "recency": tx, "T": T, "monetary_value": m},
                     index=pd.Index([f"C{i:05d}" for i in range(n)], name="customer_id"))
    if books:
        s["book"] = [f"R{b:02d}" for b in book]
    return s
