r"""Expected remaining customer lifetime from the purchase model, truncated at a cap.

BG/NBD (Fader, Hardie & Lee 2005): while alive a customer buys at Poisson rate :math:`\lambda` and drops
out *at* a repeat purchase with probability :math:`p`. Drop-out purchases are a thinning of the purchase
process, so for a customer alive now the remaining lifetime is :math:`L \sim \mathrm{Exp}(\lambda p)`.
Given the history (x, t_x, T) *and* alive, the posterior is :math:`\lambda \sim \mathrm{Gamma}(r + x,
\alpha + T)` and :math:`p \sim \mathrm{Beta}(a, b + x)`, independent (the likelihood of an alive customer
is :math:`\lambda^x e^{-\lambda T} (1-p)^x`). With the cap H,

.. math::
    E[\min(L, H) \mid p] = \int_0^H E[e^{-\lambda p s}]\,ds
      = \int_0^H \Big(\frac{\beta}{\beta + p s}\Big)^{k} ds
      = \frac{\beta}{p}\,\log\Big(1 + \frac{pH}{\beta}\Big)\,
        \mathrm{exprel}\Big(-(k - 1)\log\big(1 + \tfrac{pH}{\beta}\big)\Big),

with :math:`k = r + x`, :math:`\beta = \alpha + T` and :math:`\mathrm{exprel}(z) = (e^z - 1)/z` (finite at
k = 1). The expectation over p is a Gauss–Jacobi quadrature with the Beta(a, b + x) density as its
weight (exact for polynomials of degree 2n - 1; the integrand is smooth on [0, 1]). Finally the
customer is alive with probability P(alive), and a dead customer has no remaining lifetime:
:math:`E[\min(L, H)] = P(\text{alive}) \cdot E[\min(L, H) \mid \text{alive}]`.

Pareto/NBD (Schmittlein, Morrison & Colombo 1987): :math:`L \sim \mathrm{Exp}(\mu)` and, given alive,
:math:`\mu \sim \mathrm{Gamma}(s, \beta + T)` (Fader & Hardie 2005, note 009), so the same integral in
closed form: :math:`(\beta + T) \log(1 + H/(\beta + T))\, \mathrm{exprel}(-(s - 1) \log(1 + H/(\beta+T)))`.

Deterministic (no random numbers); ``tests/test_kpis.py`` checks it against a seeded simulation.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import exprel, roots_jacobi

from clvlib.errors import ModelError
from clvlib.kpis.common import DAYS_PER_MONTH

DAYS_PER_UNIT = {"D": 1.0, "W": 7.0}
QUADRATURE_NODES = 48
CHUNK = 1 << 15


def _beta_nodes(a: float, b: float, n: int = QUADRATURE_NODES):
    """Nodes and weights (summing to 1) of the expectation over p ~ Beta(a, b)."""
    t, w = roots_jacobi(n, b - 1.0, a - 1.0)     # weight (1 - t)^(b-1) (1 + t)^(a-1) on [-1, 1]
    return (1.0 + t) / 2.0, w / w.sum()


def _capped_exp_gamma(k, beta, H):
    """E[min(L, H)] for L ~ Exp(rate), rate ~ Gamma(k, beta) (shape, rate), arrays broadcast."""
    u = np.log1p(H / beta)
    return beta * u * exprel(-(k - 1.0) * u)


def _bgnbd_alive(params, x, T, H):
    """E[min(L, H) | alive] per customer; it depends on (x, T) only, so it is evaluated once per distinct
    pair (customers who first bought on the same day and bought as often share it)."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    out = np.empty(len(x))
    for xv in np.unique(x):
        p, w = _beta_nodes(a, b + xv)
        idx = np.flatnonzero(x == xv)
        t, where = np.unique(T[idx], return_inverse=True)
        vals = np.empty(len(t))
        for lo in range(0, len(t), CHUNK):
            beta = (alpha + t[lo:lo + CHUNK])[:, None]
            # E over lambda ~ Gamma(r + x, alpha + T) of min(L, H) with L ~ Exp(lambda p): rescale by p
            # a row-wise sum, not a matrix product: each customer's value then does not depend, even in
            # the last bit, on how many others share its frequency (BLAS blocks rows differently)
            vals[lo:lo + CHUNK] = (_capped_exp_gamma(r + xv, beta / p[None, :], H) * w).sum(axis=1)
        out[idx] = vals[where]
    return out


def expected_remaining_months(purchase_model, summary: pd.DataFrame, cap_months: float,
                              time_unit: str = "W") -> pd.Series:
    """Expected remaining lifetime of each customer in months, truncated at ``cap_months``.

    Parameters
    ----------
    purchase_model : BetaGeoModel or ParetoNBDModel, fitted; or None
        None (no model could be fitted) gives missing values.
    summary : pandas.DataFrame
        ``frequency``, ``recency``, ``T`` in ``time_unit`` (as made by ``clvlib.rfm_summary``).
    cap_months : float
        The truncation H (``kpis.lifespan_cap_months``).
    time_unit : {"W", "D"}
        The summary's time unit.

    Returns
    -------
    pandas.Series
        ``expected_remaining_months``, indexed like ``summary``: P(alive) · E[min(L, H) | alive] (see
        the module's derivation), in months of 365.25/12 days.
    """
    if time_unit not in DAYS_PER_UNIT:
        raise ModelError(f"expected_remaining_months: time_unit must be 'W' or 'D'; got {time_unit!r}")
    if not np.isfinite(cap_months) or cap_months <= 0:
        raise ModelError(f"expected_remaining_months: cap_months must be > 0; got {cap_months!r}")
    if purchase_model is None or len(summary) == 0:
        return pd.Series(np.nan, index=summary.index, name="expected_remaining_months", dtype=float)
    unit_per_month = DAYS_PER_MONTH / DAYS_PER_UNIT[time_unit]
    H = float(cap_months) * unit_per_month
    x = summary["frequency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    params = purchase_model.params_
    alive = purchase_model.probability_alive(summary).to_numpy(dtype=float)
    name = type(purchase_model).__name__
    if set(params) == {"r", "alpha", "a", "b"}:
        given_alive = _bgnbd_alive(params, x, T, H)
    elif set(params) == {"r", "alpha", "s", "beta"}:
        given_alive = _capped_exp_gamma(params["s"], params["beta"] + T, H)
    else:
        raise ModelError(f"expected_remaining_months: {name} is neither BG/NBD nor Pareto/NBD")
    months = alive * given_alive / unit_per_month
    return pd.Series(months, index=summary.index, name="expected_remaining_months")
