"""Customer value: the workbook's CLV stage, from the booked order log to one row per customer.

Steps (each one a function of ``clvlib``'s engine, named here only to fix the workbook's choices):

1. **Purchase occasions** (``occasions``): each booked invoice with its gross margin *net of the
   credit notes that correct it* (a return reduces the profit of the order it returns); a credit note
   without a known original reduces the customer's latest earlier invoice. CLV is profit, as the
   seed defines it: the value of a purchase is its gross margin in the reporting currency (or revenue
   when ``clv.value: revenue``).
2. **Models**: BG/NBD (or Pareto/NBD) for the purchase process and Gamma-Gamma for the value per
   purchase, fitted on the customers' whole history up to the as-of date.
3. **CLV** over ``clv.horizon_months`` discounted at ``clv.monthly_discount_rate``, with an interval
   (parameter uncertainty, ``clv.interval_level``) for every customer, for every rep's book
   (ownership attribution: the account's owners on the as-of date, shares applied) and for the company
   total (``CustomerValue.total``: the quantiles of the total over all customers, owned or not, in
   the same draws -- not the sum of the books' interval ends).
4. **Customers the Gamma-Gamma model cannot describe** — repeat customers whose average margin per
   purchase is zero or negative (loss-making accounts) — keep the purchase model's expectation but
   are valued at their own average margin, not the population's: their CLV is at most zero.
5. **The seed's simple CLV** (average order value x purchases per year x lifespan x margin) beside
   the model, and **P(alive) three months ago**, to list valuable customers who are slipping away.
6. **Holdout check**: the purchase model refitted on data up to as-of minus ``clv.holdout_weeks``
   and compared with what happened since.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvlib.arrow import isin
from clvlib.attribution import current_owners, primary_owner
from clvlib.errors import ModelError
from clvlib.holdout import HoldoutResult, holdout_validation
from clvlib.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from clvlib.rfm import rfm_summary
from clvlib.value import clv_interval, customer_lifetime_value, simple_clv

COLUMNS = ["customer_id", "owner_rep_id", "frequency", "recency", "T", "monetary_value", "p_alive",
           "expected_purchases_12m", "clv", "clv_low", "clv_high", "clv_simple"]
LOOKBACK_DAYS = 91          # "P(alive) three months ago"


@dataclass
class CustomerValue:
    """Everything the customer-value section shows; ``table`` is ``data/customer_value.parquet``."""

    table: pd.DataFrame
    books: pd.DataFrame
    parameters: pd.DataFrame
    purchase_model: object
    spend_model: GammaGammaModel
    holdout: HoldoutResult | None
    settings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    fallback: str | None = None        # why the models could not be used (CLV is then the simple formula)
    total: dict = field(default_factory=dict)  # company total: n_customers, clv, clv_low, clv_high, clv_median
    owners: pd.DataFrame | None = None  # each customer's owners on as_of (current_owners); not stored


def occasions(orders: pd.DataFrame, value: str = "gross_margin") -> pd.DataFrame:
    """Booked invoices with revenue and margin net of their credit notes: customer_id, date, value."""
    col = "gross_margin_rc" if value == "gross_margin" else "amount_rc"
    inv = orders[orders["doc_type"] == "invoice"][["order_id", "customer_id", "order_date", col]].copy()
    cn = orders[orders["doc_type"] == "credit_note"][["customer_id", "order_date", "original_order_id", col]]
    known = isin(cn["original_order_id"], inv["order_id"])
    net = cn[known].groupby("original_order_id")[col].sum()
    inv[col] = inv[col] + inv["order_id"].map(net).fillna(0.0)
    orphans = cn[~known]
    if len(orphans):   # the customer's latest invoice on or before the credit note
        left = orphans.sort_values("order_date")
        right = inv.sort_values("order_date")[["customer_id", "order_date", "order_id"]]
        m = pd.merge_asof(left, right, on="order_date", by="customer_id", direction="backward")
        add = m.dropna(subset=["order_id"]).groupby("order_id")[col].sum()
        inv[col] = inv[col] + inv["order_id"].map(add).fillna(0.0)
    # NumPy floats: a map over text ids gives Arrow doubles, whose means round differently
    inv[col] = inv[col].to_numpy(dtype=float, na_value=np.nan)
    return inv.rename(columns={"order_date": "date", col: "value"})[["customer_id", "date", "value", "order_id"]]


def _purchase_model(kind: str):
    return ParetoNBDModel() if kind == "paretonbd" else BetaGeoModel()


def _parameters(purchase, spend) -> pd.DataFrame:
    rows = []
    for model, label in ((purchase, type(purchase).__name__), (spend, "GammaGammaModel")):
        se = getattr(model, "standard_errors_", {}) or {}
        for k, v in model.params_.items():
            rows.append({"model": label, "parameter": k, "estimate": v, "std_error": se.get(k, np.nan)})
    return pd.DataFrame(rows)


def repeat_mean_value(occ: pd.DataFrame) -> pd.Series:
    """Mean value of each customer's repeat occasions (same-day orders summed), which may be <= 0."""
    day = occ.groupby(["customer_id", "date"], sort=True)["value"].sum().reset_index()
    rep = day[day.duplicated("customer_id", keep="first")]
    return rep.groupby("customer_id")["value"].mean()


def build(orders: pd.DataFrame, ownership: pd.DataFrame, as_of, clv_params, *, holdout: bool = True,
          intervals: bool = True, lookback: bool = True, books: bool = True) -> CustomerValue:
    """Fit the models on ``orders`` (booked, as known on ``as_of``) and value every customer.

    The steps are those of the module docstring; when the models cannot be fitted the CLV is the
    simple formula over the horizon (``fallback`` says why). ``total`` is the company's CLV with the
    interval of the total over all customers, owned or not. ``intervals=False`` skips the intervals
    (the point values are the same), ``lookback=False`` the values three months ago, ``books=False``
    the reps' books (``books`` is then empty) — the history stage values every month end this way.
    """
    as_of = pd.Timestamp(as_of)
    occ = occasions(orders, clv_params["value"])
    occ["value_pos"] = occ["value"].clip(lower=0.0)
    summary = rfm_summary(occ, "customer_id", "date", "value_pos", as_of=as_of, time_unit=clv_params["time_unit"])
    mean_value = repeat_mean_value(occ).reindex(summary.index)
    owners = current_owners(ownership, as_of, orders)
    try:
        valued = _valued_by_models(summary, occ, mean_value, owners, as_of, clv_params, intervals, lookback)
    except _ModelsUnusable as e:
        valued = _valued_by_simple_formula(summary, clv_params, str(e))
    table = _table(summary, occ, owners, mean_value, valued.columns)
    rep_books = (valued.books if valued.books is not None else _books_without_interval(table, owners) if books
                 else pd.DataFrame(columns=["rep_id", "n_customers", "clv", "clv_low", "clv_high", "clv_median"]))
    total = {"n_customers": len(table), "clv": float(table["clv"].sum()), **valued.total_interval}
    ho = None
    if holdout and valued.fallback is None:
        try:
            ho = holdout_validation(occ, "customer_id", "date", as_of=as_of, holdout_weeks=clv_params["holdout_weeks"],
                                    model=_purchase_model(clv_params["model"]), time_unit=clv_params["time_unit"])
        except ModelError as e:
            valued.notes.append(f"no holdout check this month: {e}")
    settings = {"horizon_months": clv_params["horizon_months"],
                "monthly_discount_rate": clv_params["monthly_discount_rate"], "time_unit": clv_params["time_unit"],
                "value": clv_params["value"], "interval_level": clv_params["interval_level"],
                "lifespan_years": valued.simple.attrs.get("lifespan_years"),
                "churn_rate": valued.simple.attrs.get("churn_rate"), "loss_making_customers": valued.loss_making}
    return CustomerValue(table=table, books=rep_books, parameters=valued.parameters, purchase_model=valued.purchase,
                         spend_model=valued.spend, holdout=ho, settings=settings, notes=valued.notes,
                         fallback=valued.fallback, total=total, owners=owners)


class _ModelsUnusable(Exception):
    """The models cannot value these data; the message says why (it becomes ``fallback``)."""


@dataclass
class _Valued:
    """What one way of valuing the customers gives :func:`build` (models, or the simple formula)."""

    columns: dict                   # table columns, each a Series indexed like the summary
    books: pd.DataFrame | None      # per rep, with intervals (None: sum the table, no interval)
    total_interval: dict            # clv_low, clv_high, clv_median of the company total
    simple: pd.DataFrame            # simple_clv's result (its attrs hold lifespan and churn rate)
    parameters: pd.DataFrame
    purchase: object = None
    spend: GammaGammaModel | None = None
    notes: list[str] = field(default_factory=list)
    loss_making: int = 0
    fallback: str | None = None


def _valued_by_models(summary, occ, mean_value, owners, as_of, clv_params, intervals=True, lookback=True) -> _Valued:
    """Steps 2-5: fit the models, CLV with intervals, loss-making customers, simple CLV, three months ago.

    Raises _ModelsUnusable when the models cannot be fitted, or their parameters are too uncertain for
    an interval.
    """
    unit, horizon, rate = clv_params["time_unit"], clv_params["horizon_months"], clv_params["monthly_discount_rate"]
    # loss-making repeat customers cannot be described by the Gamma-Gamma model (values must be > 0):
    # it is fitted without them, and they are valued at their own mean margin below
    loss = (summary["frequency"] > 0) & (mean_value.fillna(0) <= 0)
    fit_gg = summary.assign(frequency=summary["frequency"].where(~loss, 0),
                            monetary_value=summary["monetary_value"].where(~loss, 0.0))
    try:
        purchase = _purchase_model(clv_params["model"]).fit(summary)
        spend = GammaGammaModel().fit(fit_gg)
    except ModelError as e:
        raise _ModelsUnusable(str(e)) from None
    notes = [f"{type(m).__name__}: {m.fallback_}" for m in (purchase, spend) if getattr(m, "fallback_", None)]
    placeholder = float(spend.conditional_expected_average_value(fit_gg.iloc[:1].assign(frequency=0)).iloc[0])
    valued = summary.assign(monetary_value=summary["monetary_value"].where(~loss, placeholder))
    groups = owners.rename(columns={"customer_id": "customer", "rep_id": "group"})
    if intervals:
        clv, low, high, books, total = _with_intervals(purchase, spend, valued, groups, clv_params)
    else:
        clv = customer_lifetime_value(purchase, spend, valued, horizon, rate, unit).reindex(summary.index)
        low, high = (pd.Series(np.nan, index=summary.index, dtype=float) for _ in range(2))
        books, total = None, {k: np.nan for k in ("clv_low", "clv_high", "clv_median")}
    if loss.any():
        shift = _value_at_own_margin(loss, mean_value, spend, valued, clv, low, high)
        g = groups[groups["customer"].isin(shift.index)]
        delta = (g["customer"].map(shift) * g["share"]).groupby(g["group"]).sum()
        for col in ("clv", "clv_low", "clv_high", "clv_median"):
            if books is not None and col in books:
                books[col] = books[col] + delta.reindex(books.index).fillna(0.0)
        total = {k: v + float(shift.sum()) for k, v in total.items()}
        notes.append(f"{int(loss.sum())} repeat customers lose money on average per purchase; "
                     "they are valued at their own average margin")
    simple = simple_clv(summary, time_unit=unit)
    columns = {"p_alive": purchase.probability_alive(summary),
               "expected_purchases_12m": purchase.predict_purchases(summary, _months(12, unit)),
               "clv": clv, "clv_low": low, "clv_high": high, "clv_simple": simple["simple_clv"],
               **(_three_months_ago(occ, summary, loss, purchase, spend, placeholder, as_of, clv_params) if lookback
                  else {})}
    return _Valued(columns=columns, books=books.rename_axis("rep_id").reset_index() if books is not None else None,
                   total_interval=total,
                   simple=simple, parameters=_parameters(purchase, spend), purchase=purchase, spend=spend,
                   notes=notes, loss_making=int(loss.sum()))


def _with_intervals(purchase, spend, valued, groups, clv_params):
    """CLV with its interval per customer, per rep's book and for the company total (parameter draws)."""
    unit, horizon, rate = clv_params["time_unit"], clv_params["horizon_months"], clv_params["monthly_discount_rate"]
    try:
        interval = clv_interval(purchase, spend, valued, horizon, rate, unit, level=clv_params["interval_level"],
                                n_draws=clv_params["interval_draws"], random_state=clv_params["seed"], groups=groups)
    except ModelError as e:     # e.g. parameters so uncertain that a draw has no finite mean value
        raise _ModelsUnusable(f"the models were fitted but cannot value customers with an interval: {e}") from None
    ci = interval.customers.reindex(valued.index)
    total = {k: interval.total[k] for k in ("clv_low", "clv_high", "clv_median")}
    return ci["clv"].copy(), ci["clv_low"].copy(), ci["clv_high"].copy(), interval.groups.copy(), total


def _value_at_own_margin(loss, mean_value, spend, valued, clv, low, high) -> pd.Series:
    """Step 4, in place on ``clv``, ``low``, ``high``: loss-making customers keep their discounted
    expected purchases but at their own mean margin (the interval keeps its relative width).
    Returns each one's change of CLV."""
    factor = clv[loss] / spend.conditional_expected_average_value(valued[loss])   # discounted purchases
    own = factor * mean_value[loss]
    shift = own - clv[loss]
    ratio_lo, ratio_hi = low[loss] / clv[loss], high[loss] / clv[loss]
    clv[loss] = own
    if low[loss].notna().any():                      # with intervals
        low[loss] = np.minimum(own * ratio_lo, own * ratio_hi)
        high[loss] = np.maximum(own * ratio_lo, own * ratio_hi)
    return shift


def _three_months_ago(occ, summary, loss, purchase, spend, placeholder, as_of, clv_params) -> dict:
    """Step 5: P(alive) and CLV of each customer with the same models, the history as known
    ``LOOKBACK_DAYS`` ago (empty when there was none)."""
    unit = clv_params["time_unit"]
    prev_as_of = as_of - pd.Timedelta(days=LOOKBACK_DAYS)
    prev_occ = occ[occ["date"] <= prev_as_of]
    if not len(prev_occ):
        return {}
    ps = rfm_summary(prev_occ, "customer_id", "date", "value_pos", as_of=prev_as_of, time_unit=unit)
    p_alive_prev = purchase.probability_alive(ps)
    # customers the Gamma-Gamma model cannot value *then*: losing money now, or no positive margin yet
    ps_loss = (ps.index.isin(summary.index[loss]) | (ps["monetary_value"] <= 0)) & (ps["frequency"] > 0)
    ps = ps.assign(monetary_value=ps["monetary_value"].where(~ps_loss, placeholder))
    clv_prev = customer_lifetime_value(purchase, spend, ps, clv_params["horizon_months"],
                                       clv_params["monthly_discount_rate"], unit)
    return {"p_alive_prev": p_alive_prev, "clv_prev": clv_prev}


def _valued_by_simple_formula(summary, clv_params, reason: str) -> _Valued:
    """The models cannot be fitted (too little data): CLV falls back to the simple formula over the
    horizon, with no intervals, P(alive) or holdout check — and the report says why."""
    unit, years = clv_params["time_unit"], clv_params["horizon_months"] / 12
    try:
        simple = simple_clv(summary, time_unit=unit, horizon_years=years)
    except ModelError:          # too young to estimate churn: assume customers stay the whole horizon
        simple = simple_clv(summary, time_unit=unit, lifespan_years=years)
    clv = simple["simple_clv"]
    params = pd.DataFrame(columns=["model", "parameter", "estimate", "std_error"])
    nan = {"clv_low": np.nan, "clv_high": np.nan, "clv_median": np.nan}
    return _Valued(columns={"clv": clv, "clv_simple": clv}, books=None, total_interval=nan, simple=simple,
                   parameters=params, fallback=reason)


def _table(summary, occ, owners, mean_value, columns: dict) -> pd.DataFrame:
    """The customer value table (``data/customer_value.parquet``): one row per customer of the
    summary; a valuation column that ``columns`` does not have is NaN."""
    idx = summary.index

    def col(name):
        return columns[name].reindex(idx).to_numpy() if name in columns else np.full(len(idx), np.nan)

    byc = occ.groupby("customer_id")
    return pd.DataFrame({
        "customer_id": idx.astype(str),
        "owner_rep_id": primary_owner(owners).reindex(idx).to_numpy(),
        "frequency": summary["frequency"].to_numpy(), "recency": summary["recency"].to_numpy(),
        "T": summary["T"].to_numpy(), "monetary_value": mean_value.fillna(0.0).to_numpy(),
        **{c: col(c) for c in ("p_alive", "expected_purchases_12m", "clv", "clv_low", "clv_high", "clv_simple")},
        "first_purchase": byc["date"].min().reindex(idx).to_numpy(),
        "last_purchase": byc["date"].max().reindex(idx).to_numpy(),
        "margin_to_date": byc["value"].sum().reindex(idx).to_numpy(),
        "p_alive_prev": col("p_alive_prev"), "clv_prev": col("clv_prev")})


def _books_without_interval(table, owners) -> pd.DataFrame:
    """Per rep's book: customers and CLV total (shares applied), no interval."""
    g = owners.assign(customer_id=owners["customer_id"].astype(str)).merge(table[["customer_id", "clv"]],
                                                                            on="customer_id")   # the table's ids are text
    books = (g.assign(clv=g["clv"] * g["share"]).groupby("rep_id")
             .agg(n_customers=("customer_id", "nunique"), clv=("clv", "sum")).reset_index())
    books["clv_low"] = books["clv_high"] = books["clv_median"] = np.nan
    return books


def _months(n: int, unit: str) -> float:
    from clvlib.rfm import DAYS_PER_UNIT
    from clvlib.value import DAYS_PER_MONTH

    return n * DAYS_PER_MONTH / DAYS_PER_UNIT[unit]


def at_risk(table: pd.DataFrame, top_share: float = 0.2, min_drop: float = 0.2) -> pd.DataFrame:
    """Valuable customers slipping away: among the top ``top_share`` by CLV three months ago, those
    whose P(alive) fell by at least ``min_drop``, largest value lost first."""
    t = table.dropna(subset=["clv_prev", "p_alive_prev"])
    if t.empty:
        return t.assign(value_lost=pd.Series(dtype=float))
    cut = t["clv_prev"].quantile(1 - top_share)
    r = t[(t["clv_prev"] >= cut) & (t["p_alive_prev"] - t["p_alive"] >= min_drop)].copy()
    r["p_alive_change"] = r["p_alive"] - r["p_alive_prev"]
    r["value_lost"] = r["clv_prev"] - r["clv"]
    return r.sort_values("value_lost", ascending=False)


def distribution(table: pd.DataFrame) -> pd.DataFrame:
    """Customers and total CLV per CLV band, bands growing 1-3-10 (for the distribution chart).

    Columns ``band_low``, ``band_high`` (``band_low`` = -inf for the band of customers worth nothing
    or less), ``customers``, ``clv``.
    """
    v = table["clv"]
    top = max(float(v.max()), 1.0)
    edges = [-np.inf, 1.0]
    while edges[-1] < top:
        edges.append(edges[-1] * (3.0 if str(int(edges[-1]))[0] == "1" else 10 / 3))
    edges = [round(e) if np.isfinite(e) else e for e in edges]
    cat = pd.cut(v, edges, right=False)
    g = table.groupby(cat, observed=False).agg(customers=("customer_id", "size"), clv=("clv", "sum"))
    g["band_low"] = [iv.left for iv in g.index]
    g["band_high"] = [iv.right for iv in g.index]
    return g.reset_index(drop=True)[["band_low", "band_high", "customers", "clv"]]


def concentration(table: pd.DataFrame) -> pd.DataFrame:
    """Cumulative share of total CLV by share of customers (the Pareto curve)."""
    v = np.sort(table["clv"].clip(lower=0).to_numpy())[::-1]
    total = v.sum()
    n = len(v)
    pts = np.unique(np.linspace(0, n, 41).astype(int))[1:]
    return pd.DataFrame({"customers_share": pts / n, "clv_share": np.cumsum(v)[pts - 1] / total if total else 0.0})


# ------------------------------------------------------------------ the stage's files in data/
def save(cv: CustomerValue, data_dir) -> None:
    """Write the stage's tables: customer_value.parquet (the contract), rep_books, clv_parameters,
    holdout_* and customer_value.json (settings, notes, the company total with its interval, holdout
    metrics)."""
    import json
    from pathlib import Path

    d = Path(data_dir)
    cv.table[COLUMNS + [c for c in cv.table.columns if c not in COLUMNS]].to_parquet(d / "customer_value.parquet", index=False)
    cv.books.to_parquet(d / "rep_books.parquet", index=False)
    cv.parameters.to_parquet(d / "clv_parameters.parquet", index=False)
    total = {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in cv.total.items()}
    meta = {"settings": cv.settings, "notes": cv.notes, "fallback": cv.fallback, "total": total}
    if cv.holdout is not None:
        cv.holdout.by_frequency.reset_index().to_parquet(d / "holdout_by_frequency.parquet", index=False)
        cv.holdout.tracking.to_parquet(d / "holdout_tracking.parquet", index=False)
        meta["holdout"] = {"metrics": {k: float(v) for k, v in cv.holdout.metrics.items()},
                           "calibration_end": str(cv.holdout.calibration_end.date()),
                           "as_of": str(cv.holdout.as_of.date())}
    (d / "customer_value.json").write_text(json.dumps(meta, indent=1, default=float))


@dataclass
class SavedHoldout:
    by_frequency: pd.DataFrame
    tracking: pd.DataFrame
    metrics: pd.Series
    calibration_end: pd.Timestamp
    as_of: pd.Timestamp


def load(data_dir) -> CustomerValue:
    """Read the stage back (models are not stored: their parameters are in ``parameters``)."""
    import json
    from pathlib import Path

    d = Path(data_dir)
    meta = json.loads((d / "customer_value.json").read_text())
    ho = None
    if "holdout" in meta:
        ho = SavedHoldout(pd.read_parquet(d / "holdout_by_frequency.parquet").set_index("calibration_purchases"),
                          pd.read_parquet(d / "holdout_tracking.parquet"), pd.Series(meta["holdout"]["metrics"]),
                          pd.Timestamp(meta["holdout"]["calibration_end"]), pd.Timestamp(meta["holdout"]["as_of"]))
    table = pd.read_parquet(d / "customer_value.parquet")
    total = {"n_customers": len(table), "clv": float(table["clv"].sum()), "clv_low": None, "clv_high": None,
             "clv_median": None} | meta.get("total", {})
    total = {k: (np.nan if v is None else v) for k, v in total.items()}
    return CustomerValue(table=table, books=pd.read_parquet(d / "rep_books.parquet"),
                         parameters=pd.read_parquet(d / "clv_parameters.parquet"), purchase_model=None,
                         spend_model=None, holdout=ho, settings=meta["settings"], notes=meta["notes"],
                         fallback=meta.get("fallback"), total=total)


# ------------------------------------------------------------------ what the section shows
def headline(table: pd.DataFrame, top_share: float = 0.2) -> dict:
    """Figures for the cards: total CLV, its interval, expected live customers, concentration."""
    v = table["clv"]
    top = v.clip(lower=0).sort_values(ascending=False)
    n_top = max(1, int(round(len(top) * top_share)))
    total_pos = top.sum()
    alive = table["p_alive"].sum(min_count=1)
    return {"customers": len(table), "clv_total": float(v.sum()),
            "expected_alive": float(alive),
            "top_share_of_clv": float(top.iloc[:n_top].sum() / total_pos) if total_pos else float("nan"),
            "simple_total": float(table["clv_simple"].sum()),
            "expected_purchases_12m": float(table["expected_purchases_12m"].sum(min_count=1))}


def p_alive_bands(table: pd.DataFrame) -> pd.DataFrame:
    """Customers and CLV by P(alive) band (0-10%, ..., 90-100%)."""
    edges = np.linspace(0, 1, 11)
    band = pd.cut(table["p_alive"].clip(0, 1), edges, include_lowest=True)
    g = table.groupby(band, observed=False).agg(customers=("customer_id", "size"), clv=("clv", "sum"))
    g["band"] = [f"{int(iv.left * 100)}–{int(round(iv.right * 100))}%" for iv in g.index]
    return g.reset_index(drop=True)[["band", "customers", "clv"]]


def model_vs_simple(table: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The customers where the simple formula and the model disagree most (simple minus model)."""
    t = table.assign(gap=table["clv_simple"] - table["clv"])
    return t.reindex(t["gap"].abs().sort_values(ascending=False).index).head(n)


def sample_for_chart(table: pd.DataFrame, n: int = 4000) -> pd.DataFrame:
    """At most ``n`` customers for a scatter chart: all of them, or the largest by either CLV."""
    if len(table) <= n:
        return table
    keep = set(table.nlargest(n // 2, "clv").index) | set(table.nlargest(n // 2, "clv_simple").index)
    return table.loc[sorted(keep)].head(n)
