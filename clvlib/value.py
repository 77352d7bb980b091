"""Customer value: model CLV, the simple spreadsheet formula, and CLV intervals.

The model CLV of a customer over a horizon of H months is

    CLV = sum_{m=1..H} (E[purchases by end of month m] - E[purchases by end of month m-1])
                       * E[value per purchase] / (1 + d)^m,

with the purchase expectation from a BG/NBD or Pareto/NBD model conditional on the customer's history
and the value from the Gamma-Gamma model. A month is 365.25 / 12 = 30.4375 days (4.348 weeks) unless
told otherwise. In the workbook the value column is gross margin, so CLV is profit, not revenue; the
functions here do not care which.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvlib.errors import DataError, ModelError, ParamsError
from clvlib.models._purchase import PurchaseModel
from clvlib.models.base import Real, pair_codes, single_threaded_blas, summary_arrays, unique_rows
from clvlib.models.bgnbd import BetaGeoModel
from clvlib.models.gammagamma import GammaGammaModel
from clvlib.rfm import DAYS_PER_UNIT

__all__ = ["customer_lifetime_value", "simple_clv", "clv_interval", "ClvInterval", "DAYS_PER_MONTH"]

#: Length of the CLV month in days: an average Gregorian month (365.25 / 12).
DAYS_PER_MONTH = 365.25 / 12


def _check_inputs(purchase_model, spend_model, horizon_months, monthly_discount_rate, time_unit, days_per_month,
                  summary, owner):
    if not isinstance(purchase_model, PurchaseModel):
        raise ParamsError(f"{owner}: purchase_model must be a fitted BetaGeoModel or ParetoNBDModel; "
                         f"got {type(purchase_model).__name__}")
    if not isinstance(spend_model, GammaGammaModel):
        raise ParamsError(f"{owner}: spend_model must be a fitted GammaGammaModel; got {type(spend_model).__name__}")
    purchase_model._check_fitted()
    spend_model._check_fitted()
    if isinstance(horizon_months, bool) or not isinstance(horizon_months, (int, np.integer)) or horizon_months < 1:
        raise ParamsError(f"{owner}: horizon_months must be an int >= 1; got {horizon_months!r}")
    if not Real(0, None, "left").is_satisfied_by(monthly_discount_rate):
        raise ParamsError(f"{owner}: monthly_discount_rate must be a float >= 0; got {monthly_discount_rate!r}")
    if time_unit not in DAYS_PER_UNIT:
        raise ParamsError(f"{owner}: time_unit must be one of {', '.join(map(repr, DAYS_PER_UNIT))}; got {time_unit!r}")
    if not Real(0, None, "neither").is_satisfied_by(days_per_month):
        raise ParamsError(f"{owner}: days_per_month must be a float > 0; got {days_per_month!r}")
    unit = getattr(summary, "attrs", {}).get("time_unit") if isinstance(summary, pd.DataFrame) else None
    if unit is not None and unit != time_unit:
        raise ParamsError(f"{owner}: the summary is in time unit {unit!r} but time_unit={time_unit!r}")


def _summary_time_unit(summary, time_unit):
    """The time unit to use: the one given, else the summary's own (``attrs["time_unit"]``, set by
    :func:`clvlib.rfm_summary`), else weeks. A given unit that contradicts the summary's is caught by
    :func:`_check_inputs`."""
    if time_unit is not None:
        return time_unit
    unit = summary.attrs.get("time_unit") if isinstance(summary, pd.DataFrame) else None
    return "W" if unit is None else unit


def _month_grid(horizon_months, monthly_discount_rate, time_unit, days_per_month):
    month = days_per_month / DAYS_PER_UNIT[time_unit]
    times = month * np.arange(1, horizon_months + 1, dtype=float)
    disc = (1.0 + monthly_discount_rate) ** -np.arange(1, horizon_months + 1, dtype=float)
    return times, disc


def _discounted_if_alive(model, params, x, T, times, disc):
    """sum_m disc_m * (g(t_m) - g(t_{m-1})) for arrays x, T (one row per distinct customer state).

    ``params`` may hold column vectors (one row per parameter draw); the result then has one row per
    draw.
    """
    params = tuple(np.asarray(v, dtype=float)[..., None] if np.ndim(v) else v for v in params)
    with np.errstate(all="ignore"):
        G = model._g(params, x[..., None], T[..., None], times)  # (..., U, H)
    dG = np.diff(G, axis=-1, prepend=0.0)
    return dG @ disc


def customer_lifetime_value(purchase_model, spend_model, summary, horizon_months=12, monthly_discount_rate=0.01,
                            time_unit=None, *, days_per_month=DAYS_PER_MONTH) -> pd.Series:
    r"""Discounted expected value of each customer over the next ``horizon_months`` months.

    .. math:: \mathrm{CLV}_i = \sum_{m=1}^{H} \frac{E[Y_i(t_m)] - E[Y_i(t_{m-1})]}{(1+d)^m}\,
              E[Z_i], \qquad t_m = m \cdot \text{month},

    where :math:`E[Y_i(t)]` is the purchase model's expected number of repeat purchases in the next t
    time units given the customer's history (BG/NBD eq. 10 / Pareto/NBD eq. 41) and :math:`E[Z_i]` the
    Gamma-Gamma conditional expected value per purchase. This is lifetimes' ``customer_lifetime_value``
    with the month length stated exactly for continuous time units.

    The value is whatever the summary's value column measured: in the workbook it is **gross margin**,
    so CLV is expected discounted *profit*; fed revenue, it would be revenue.

    Parameters
    ----------
    purchase_model : BetaGeoModel or ParetoNBDModel
        Fitted purchase model.
    spend_model : GammaGammaModel
        Fitted spend model.
    summary : pandas.DataFrame
        Per-customer ``frequency``, ``recency``, ``T``, ``monetary_value`` (see
        :func:`clvlib.rfm_summary`), in the time unit the models were fitted in.
    horizon_months : int, default 12
        Number of months H.
    monthly_discount_rate : float, default 0.01
        Discount rate d per month (0.01 a month is about 12.7% a year).
    time_unit : {"W", "D"}, optional
        Time unit of the summary. By default the summary's own, ``summary.attrs["time_unit"]`` (set by
        :func:`clvlib.rfm_summary`), else weeks; a unit given here that contradicts the summary's raises.
    days_per_month : float, default 30.4375
        Length of a month in days (365.25 / 12; 4.348 weeks). lifetimes uses 4.345 weeks
        (``days_per_month=30.415``) with ``freq="W"`` and 30 days with ``freq="D"``.

    Returns
    -------
    pandas.Series
        CLV per customer, indexed like ``summary``, named ``clv``.

    Notes
    -----
    The expected purchases factorise into P(alive) (per customer) times a term depending on
    (frequency, T) only, so the hypergeometric functions are evaluated once per distinct
    (frequency, T) pair: a million customers take a fraction of a second.

    Examples
    --------
    >>> from clvlib.models import BetaGeoModel, GammaGammaModel
    >>> import pandas as pd
    >>> s = pd.DataFrame({"frequency": [2, 0, 5], "recency": [30.0, 0.0, 36.0], "T": [39.0, 20.0, 39.0],
    ...                   "monetary_value": [20.0, 0.0, 35.0]})
    >>> bg = BetaGeoModel.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> gg = GammaGammaModel.from_params({"p": 6.25, "q": 3.74, "gamma": 15.44})
    >>> customer_lifetime_value(bg, gg, s).round(2).tolist()
    [33.06, 13.67, 134.4]
    """
    owner = "customer_lifetime_value"
    time_unit = _summary_time_unit(summary, time_unit)
    _check_inputs(purchase_model, spend_model, horizon_months, monthly_discount_rate, time_unit, days_per_month,
                  summary, owner)
    x, tx, T, idx = purchase_model._arrays(summary, owner)
    value = spend_model.conditional_expected_average_value(summary).to_numpy()
    times, disc = _month_grid(horizon_months, monthly_discount_rate, time_unit, days_per_month)
    p = purchase_model._p
    inv, xu, Tu = pair_codes(x, T)
    with single_threaded_blas():
        W = _discounted_if_alive(purchase_model, p, xu, Tu, times, disc)
    with np.errstate(all="ignore"):
        clv = purchase_model._alive(p, x, tx, T)
        clv *= value
        clv *= W[inv]
    return pd.Series(clv, index=idx, name="clv")


# ------------------------------------------------------------------ intervals
@dataclass
class ClvInterval:
    """Result of :func:`clv_interval`.

    Attributes
    ----------
    customers : pandas.DataFrame
        Per customer: ``clv`` (point estimate at the fitted parameters), ``clv_low``, ``clv_high`` (the
        interval's ends), ``clv_median`` (median over the draws).
    groups : pandas.DataFrame or None
        Per group: ``n_customers``, ``clv`` (total of the point estimates, shares applied),
        ``clv_low``, ``clv_high``, ``clv_median`` -- quantiles of the *total*, not sums of customers'
        quantiles.
    total : dict
        The whole summary (every customer, in a group or not): ``n_customers``, ``clv`` (sum of the
        point estimates), ``clv_low``, ``clv_high``, ``clv_median`` -- quantiles of the draw-by-draw
        total, not sums of the customers' or the groups' interval ends.
    level : float
    n_draws : int
    parameter_draws : pandas.DataFrame
        The parameter sets drawn (one row per draw), purchase-model then spend-model parameters.
    grid : float
        Time-grid step (summary time units) used to coarsen recency and T for the per-draw
        recomputation (0 = exact); see :func:`clv_interval`.
    """

    customers: pd.DataFrame
    groups: pd.DataFrame | None
    level: float
    n_draws: int
    parameter_draws: pd.DataFrame = field(repr=False)
    grid: float = 0.0
    total: dict = field(default_factory=dict)


def _coarse_states(cols, max_states):
    """Round the time columns to the coarsest grid needed for at most ``max_states`` distinct rows."""
    for step in (0.0, 1 / 7, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 52.0 / 12 * 3):
        rounded = [c if step == 0 or i == 0 else np.round(c / step) * step for i, c in enumerate(cols)]
        inv, first = unique_rows(*rounded)
        if len(first) <= max_states:
            return step, inv, [r[first] for r in rounded]
    return step, inv, [r[first] for r in rounded]


def _group_matrix(groups, idx):
    """(positions in the summary, group codes, shares, group labels) from a Series or long DataFrame."""
    if isinstance(groups, pd.Series):
        g = groups.dropna()
        cust, lab, share = g.index.to_numpy(), g.to_numpy(), np.ones(len(g))
    elif isinstance(groups, pd.DataFrame) and {"customer", "group"} <= set(groups.columns):
        g = groups.dropna(subset=["customer", "group"])
        cust, lab = g["customer"].to_numpy(), g["group"].to_numpy()
        share = g["share"].to_numpy(dtype=float) if "share" in g.columns else np.ones(len(g))
    else:
        raise ParamsError("clv_interval: groups must be a Series mapping customer -> group, or a DataFrame with "
                         "columns 'customer', 'group' (and optionally 'share')")
    if len(share) and (~np.isfinite(share) | (share < 0)).any():
        raise DataError("clv_interval: group shares must be finite and >= 0")
    pos = idx.get_indexer(cust)
    known = pos >= 0
    codes, labels = pd.factorize(lab[known], sort=True)
    return pos[known], codes, share[known], labels


def _interval_draws(purchase_model, spend_model, theta, phi, x, tx, T, m, xs, Ts, W_hat, W_exact, inv_s, cheap_alive,
                    alive_point, times, disc, inv_a, xa, txa, Ta, A_hat):
    n_draws = len(theta)
    draws = np.empty((n_draws, len(x)))
    chunk = max(1, int(4_000_000 // max(len(xs) * len(times), 1)))
    for lo in range(0, n_draws, chunk):
        hi = min(lo + chunk, n_draws)
        pd_ = tuple(theta[lo:hi, j][:, None] for j in range(theta.shape[1]))
        with np.errstate(all="ignore"):
            W = _discounted_if_alive(purchase_model, pd_, xs, Ts, times, disc) / W_hat  # (draws, states)
            W = np.where(np.isfinite(W), W, 1.0)
            if cheap_alive:
                alive = purchase_model._alive(pd_, x, tx, T)
            else:
                ratio = purchase_model._alive(pd_, xa, txa, Ta) / A_hat
                alive = alive_point * np.where(np.isfinite(ratio), ratio, 1.0)[:, inv_a]
        pdraw = tuple(phi[lo:hi, j][:, None] for j in range(phi.shape[1]))
        value = spend_model._expected(pdraw, x, m)
        draws[lo:hi] = value * alive * (W_exact * W[:, inv_s])

    return draws


def clv_interval(purchase_model, spend_model, summary, horizon_months=12, monthly_discount_rate=0.01, time_unit=None,
                 *, level=0.9, n_draws=200, random_state=0, groups=None, days_per_month=DAYS_PER_MONTH,
                 max_states=2000) -> ClvInterval:
    r"""CLV with an uncertainty interval for every customer and every group (a sales rep's book).

    **What the interval covers: parameter uncertainty.** The fitted parameters of both models are
    drawn ``n_draws`` times from their asymptotic normal distribution on the log scale (Laplace
    approximation: mean = the estimates, covariance = inverse observed information); CLV is recomputed
    for every draw, and the interval is the central ``level`` quantile range of the draws. It says how
    much the CLV figures could move because the models were estimated from finite data.

    **What it does not cover: the customer's own randomness.** A customer with CLV 100 and a tight
    interval will still not spend exactly 100: whether they buy, how often and how much is Poisson /
    gamma noise around the expectation, which is not included (for a single customer it is usually far
    larger than the parameter uncertainty; for the total of a large book it averages out). Nor does it
    cover model misspecification -- check that with :func:`clvlib.holdout.holdout_validation`.

    Draws of the two models are independent (they are fitted separately). Group totals and the
    grand total are quantiles of the draw-by-draw totals, so they account for the fact that all
    customers move together with the parameters (summing customers' or groups' interval ends would
    misstate the width).

    Parameters
    ----------
    purchase_model, spend_model, summary, horizon_months, monthly_discount_rate, time_unit, days_per_month
        As in :func:`customer_lifetime_value`.
    level : float, default 0.9
        Central probability of the interval (0.9: 5% and 95% quantiles).
    n_draws : int, default 200
        Number of parameter draws.
    random_state : int, default 0
        Seed; results are deterministic for a given seed.
    groups : pandas.Series or pandas.DataFrame, optional
        Series mapping customer id -> group label, or a DataFrame with columns ``customer``, ``group``
        and optionally ``share`` (a customer shared by several groups). Customers without a group are
        left out of the group table.
    max_states : int, default 2000
        Speed control. The expensive part of a draw is evaluated once per distinct (frequency, T) (and,
        for Pareto/NBD, recency) state; when there are more than ``max_states`` of them (5 * ``max_states``
        for the (frequency, T - recency, T) states of the Pareto/NBD P(alive)), recency and T are
        rounded to the finest grid (1 day, 0.5, 1, 2, ... weeks) giving at most that many states, and
        each customer's draws are the exact point estimate times the coarse state's draw / the coarse
        state's point value. With a grid of a day or half a week this changes the interval ends by well
        under 1% (tested); coarser grids are less exact, most for the Pareto/NBD P(alive). ``grid`` in
        the result reports the step used (0 = exact).

    Returns
    -------
    ClvInterval
        ``customers`` (``clv``, ``clv_low``, ``clv_high``, ``clv_median``), ``total`` (the same for the
        sum over all customers) and, with ``groups``, a per-group table.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvlib.models import BetaGeoModel, GammaGammaModel
    >>> s = pd.DataFrame({"frequency": [2, 0, 5], "recency": [30.0, 0.0, 36.0], "T": [39.0, 20.0, 39.0],
    ...                   "monetary_value": [20.0, 0.0, 35.0]})
    >>> bg = BetaGeoModel.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    ...                               covariance=[[1.6e-4, 0, 0, 0], [0, 0.143, 0, 0], [0, 0, 0.0345, 0],
    ...                                           [0, 0, 0, 0.498]])
    >>> gg = GammaGammaModel.from_params({"p": 6.25, "q": 3.74, "gamma": 15.44},
    ...                                  covariance=[[1.4, 0, 0], [0, 0.084, 0], [0, 0, 17.3]])
    >>> res = clv_interval(bg, gg, s, groups=pd.Series({0: "rep A", 1: "rep A", 2: "rep B"}))
    >>> bool(((res.customers.clv_low <= res.customers.clv) & (res.customers.clv <= res.customers.clv_high)).all())
    True
    >>> list(res.groups.index)
    ['rep A', 'rep B']
    """
    owner = "clv_interval"
    time_unit = _summary_time_unit(summary, time_unit)
    _check_inputs(purchase_model, spend_model, horizon_months, monthly_discount_rate, time_unit, days_per_month,
                  summary, owner)
    if not Real(0, 1, "neither").is_satisfied_by(level):
        raise ParamsError(f"{owner}: level must be a float in (0, 1); got {level!r}")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
        raise ParamsError(f"{owner}: n_draws must be an int >= 2; got {n_draws!r}")
    if isinstance(max_states, bool) or not isinstance(max_states, (int, np.integer)) or max_states < 1:
        raise ParamsError(f"{owner}: max_states must be an int >= 1; got {max_states!r}")
    x, tx, T, idx = purchase_model._arrays(summary, owner)
    spend_cols, _ = summary_arrays(summary, owner, columns=("frequency",), monetary=True)
    m = np.where(x > 0, spend_cols["monetary_value"], 0.0)
    times, disc = _month_grid(horizon_months, monthly_discount_rate, time_unit, days_per_month)
    p_hat = purchase_model._p
    # exact point estimate (as customer_lifetime_value)
    inv_e, first_e = unique_rows(x, T)
    W_exact = _discounted_if_alive(purchase_model, p_hat, x[first_e], T[first_e], times, disc)[inv_e]
    alive_point = purchase_model._alive(p_hat, x, tx, T)
    value_point = spend_model._expected(spend_model._p, x, m)
    with np.errstate(all="ignore"):
        point = value_point * alive_point * W_exact

    rng = np.random.default_rng(random_state)
    theta = purchase_model._log_param_draws(n_draws, rng)
    phi = spend_model._log_param_draws(n_draws, rng)
    spend_model._check_q(phi[:, 1])  # a draw with q <= 1 has no finite mean value

    # per-draw recomputation on (possibly coarsened) customer states, as ratios to the point values
    grid, inv_s, (xs, Ts) = _coarse_states([x, T], max_states)
    W_hat = _discounted_if_alive(purchase_model, p_hat, xs, Ts, times, disc)
    cheap_alive = isinstance(purchase_model, BetaGeoModel)
    if not cheap_alive:
        # P(alive) hinges on the time since the last purchase: coarsen (x, T - t_x, T)
        grid_a, inv_a, (xa, gap_a, Ta) = _coarse_states([x, T - np.minimum(tx, T), T], 5 * max_states)
        txa = np.maximum(Ta - gap_a, 0.0)
        grid = max(grid, grid_a)
        A_hat = purchase_model._alive(p_hat, xa, txa, Ta)

    with single_threaded_blas():
        draws = _interval_draws(purchase_model, spend_model, theta, phi, x, tx, T, m, xs, Ts, W_hat, W_exact, inv_s,
                                cheap_alive, alive_point, times, disc, *((inv_a, xa, txa, Ta, A_hat)
                                                                         if not cheap_alive else (None,) * 5))

    qs = [(1 - level) / 2, 0.5, (1 + level) / 2]
    q = np.quantile(draws, qs, axis=0)
    customers = pd.DataFrame({"clv": point, "clv_low": q[0], "clv_high": q[2], "clv_median": q[1]}, index=idx)
    tq = np.quantile(draws.sum(axis=1), qs)
    total = {"n_customers": len(idx), "clv": float(point.sum()), "clv_low": float(tq[0]),
             "clv_high": float(tq[2]), "clv_median": float(tq[1])}
    group_table = None
    if groups is not None:
        pos, codes, share, labels = _group_matrix(groups, idx)
        k = len(labels)
        tot = np.stack([np.bincount(codes, weights=share * draws[d, pos], minlength=k) for d in range(n_draws)])
        gq = np.quantile(tot, qs, axis=0)
        group_table = pd.DataFrame({
            "n_customers": np.bincount(codes, minlength=k),
            "clv": np.bincount(codes, weights=share * point[pos], minlength=k),
            "clv_low": gq[0], "clv_high": gq[2], "clv_median": gq[1]},
            index=pd.Index(labels, name="group"))
    names = [f"{type(purchase_model).__name__}.{k}" for k in purchase_model._param_names] + \
            [f"GammaGammaModel.{k}" for k in spend_model._param_names]
    pdraws = pd.DataFrame(np.hstack([theta, phi]), columns=names)
    return ClvInterval(customers, group_table, level, n_draws, pdraws, grid, total)


# ------------------------------------------------------------------ the simple formula
def simple_clv(summary, *, time_unit="W", margin=1.0, lifespan_years=None, horizon_years=None,
               min_tenure_years=1.0, churn_window_years=1.0) -> pd.DataFrame:
    r"""The spreadsheet formula: average order value x purchases per year x lifespan (years) x margin.

    Computed per customer from the summary (:func:`clvlib.rfm_summary` with a value column), with
    every assumption spelled out:

    * **average order value** = ``total_value / (frequency + 1)``: all purchase occasions in the
      period, the first included;
    * **purchases per year** = ``(frequency + 1) / max(T, min_tenure_years)`` in years: the customer's
      historical rate since their first purchase; customers younger than ``min_tenure_years`` are
      treated as observed for that long (otherwise a customer who bought once last week would count as
      buying 52 times a year);
    * **lifespan** = ``lifespan_years`` if given, else one population figure, ``1 / annual churn
      rate``, where the churn rate is the share of customers at least ``churn_window_years`` old whose
      last purchase is more than ``churn_window_years`` before the end of the data (the usual
      "inactive for a year = churned" rule); capped at ``horizon_years`` when given;
    * **margin** = the customer's margin share (a number, or a Series by customer); keep the default 1
      when the summary's values are already gross margin (as in the workbook).

    Why it differs from the model CLV (:func:`customer_lifetime_value`): it gives every customer the
    same remaining lifespan whether they bought last week or two years ago (no P(alive)); it projects a
    customer's past rate forward without shrinking extreme rates towards the population (no
    "regression to the mean" for customers with few purchases); it does not discount; and its horizon
    is the whole lifespan rather than the model's 12 months. It is therefore usually far higher for
    lapsed customers and for customers with a lucky short history, and close to the model only for
    steady, recently active customers.

    Parameters
    ----------
    summary : pandas.DataFrame
        Per-customer ``frequency``, ``recency``, ``T`` and ``total_value``.
    time_unit : {"W", "D"}, default "W"
        Time unit of the summary.
    margin : float or pandas.Series, default 1.0
        Margin share (0..1, or any factor) applied to the order values.
    lifespan_years : float, optional
        Expected customer lifespan in years; estimated from the data when omitted.
    horizon_years : float, optional
        Cap on the lifespan (e.g. 1 to compare with a 12-month model CLV).
    min_tenure_years : float, default 1.0
        Minimum observation time used for the purchase rate.
    churn_window_years : float, default 1.0
        Inactivity window defining churn for the lifespan estimate.

    Returns
    -------
    pandas.DataFrame
        Per customer: ``aov``, ``purchases_per_year``, ``lifespan_years``, ``margin``, ``simple_clv``.
        ``attrs["churn_rate"]`` and ``attrs["lifespan_years"]`` hold the population figures used.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"frequency": [3, 0], "recency": [40.0, 0.0], "T": [104.0, 10.0],
    ...                   "total_value": [400.0, 50.0]})
    >>> simple_clv(s, lifespan_years=3.0)["simple_clv"].round(2).tolist()
    [602.06, 150.0]
    """
    owner = "simple_clv"
    if time_unit not in DAYS_PER_UNIT:
        raise ParamsError(f"{owner}: time_unit must be one of {', '.join(map(repr, DAYS_PER_UNIT))}; got {time_unit!r}")
    cols, idx = summary_arrays(summary, owner, columns=("frequency", "recency", "T", "total_value"))
    for name, v in (("min_tenure_years", min_tenure_years), ("churn_window_years", churn_window_years)):
        if not Real(0, None, "neither").is_satisfied_by(v):
            raise ParamsError(f"{owner}: {name} must be a float > 0; got {v!r}")
    for name, v in (("lifespan_years", lifespan_years), ("horizon_years", horizon_years)):
        if v is not None and not Real(0, None, "neither").is_satisfied_by(v):
            raise ParamsError(f"{owner}: {name} must be None or a float > 0; got {v!r}")
    units_per_year = 365.25 / DAYS_PER_UNIT[time_unit]
    orders = cols["frequency"] + 1.0
    aov = cols["total_value"] / orders
    tenure = np.maximum(cols["T"] / units_per_year, min_tenure_years)
    ppy = orders / tenure
    churn_rate = np.nan
    if lifespan_years is None:
        age = cols["T"] / units_per_year
        eligible = age >= churn_window_years
        if not eligible.any():
            raise ModelError(f"{owner}: no customer is {churn_window_years:g} years old, so the churn rate cannot be "
                             f"estimated; pass lifespan_years")
        inactive = (cols["T"] - cols["recency"]) / units_per_year > churn_window_years
        churn_rate = float(inactive[eligible].mean()) / churn_window_years
        if churn_rate == 0:
            if horizon_years is None:
                raise ModelError(f"{owner}: no customer has churned, so the lifespan is unbounded; pass lifespan_years "
                                 f"or horizon_years")
            lifespan = float(horizon_years)
        else:
            lifespan = 1.0 / churn_rate
    else:
        lifespan = float(lifespan_years)
    if horizon_years is not None:
        lifespan = min(lifespan, float(horizon_years))
    if isinstance(margin, pd.Series):
        mg = margin.reindex(idx).to_numpy(dtype=float)
        if np.isnan(mg).any():
            raise DataError(f"{owner}: margin has no value for {int(np.isnan(mg).sum())} customers")
    elif Real().is_satisfied_by(margin):
        mg = np.full(len(idx), float(margin))
    else:
        raise ParamsError(f"{owner}: margin must be a number or a Series by customer; got {margin!r}")
    out = pd.DataFrame({"aov": aov, "purchases_per_year": ppy, "lifespan_years": lifespan, "margin": mg,
                        "simple_clv": aov * ppy * lifespan * mg}, index=idx)
    out.attrs["churn_rate"] = churn_rate
    out.attrs["lifespan_years"] = lifespan
    return out
