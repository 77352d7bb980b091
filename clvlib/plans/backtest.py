"""The plan comparison: every plan replayed over the backtest window, summed and compared with today's plan.

Pure functions over tables (no file I/O). The lines come from the payout engine
(:func:`clvlib.plans.run_plans` over ``pay.backtest_months`` — the ``payouts`` stage), the figures
from the window's :class:`~clvlib.plans.inputs.PayInputs`; nothing re-runs a notebook.

**Who is compared.** Cost counts every person a plan pays. The per-rep measures (fairness, losers,
correlations) are over the *compared reps*: every sales rep (``reps.role == sales``) employed at
least one day in the window (:func:`rep_figures`), the same people for every plan; a rep a plan pays
nothing counts with 0. Service and supply-chain colleagues (paid by team pools only) are in the cost
(``cost_other_roles``) but not in the per-rep measures: they build no CLV and sell nothing, so a
correlation or a loss against today's plan (which pays them nothing) means nothing for them.

**A rep's pay** is the sum of all the plan's lines for the rep over the window, in cents: what is paid
in cash in the window, after floors, clawbacks, holdbacks and the guarantee.

**Balances at the window's end.** Some lines are advances or deductions carried to later months
(:data:`clvlib.plans.rules.RULES`): a floor top-up with ``caps.carry: carry_forward``
(``floor.carried``, recovered by ``floor.recovered``) and a guarantee draw (``guarantee.draw`` /
``guarantee.recovery``) are *advances*: paid now, recovered from later pay. A clawback that could not
be taken (``clawback.deferred`` / ``clawback.recovered``) is owed by the rep; a holdback
(``commission.holdback`` / ``commission.release``) is owed to the rep. How they are counted: the cost
is the cash paid in the window, so every advance is in it (it has left the company) and nothing not
yet taken or not yet released is. The balances are reported beside the cost: an outstanding advance
is a claim on the rep's later pay — it lowers later cost only if the rep stays and later earns above
the floor; the part owed by reps who have left by the window's end (``advances_of_leavers``) will not
come back. The replay starts with no balances, as if every plan had started at the window's first
month.

The definitions in words are :data:`DEFINITIONS` (the report prints them); the functions below are
those words in code. :func:`gini`, :func:`top_share`, :func:`spearman`, :func:`leverage` are the
primitive measures; :func:`pay_measures` applies them to one plan's pay; :func:`comparison` gives one
row per plan (:data:`COMPARISON_COLUMNS`).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from clvlib.errors import ParamsError
from clvlib.plans.inputs import PayInputs, add_months, month_of

#: the columns of :func:`comparison`, in order
COMPARISON_COLUMNS = [
    "plan", "total_cost", "cost_vs_current", "cost_share_of_gross_profit", "cost_share_of_revenue", "cost_other_roles",
    "gini", "top10_share", "corr_payout_clv_growth", "corr_payout_revenue", "losers_vs_current", "losers_share",
    "max_loss_pct", "new_rep_share", "payout_per_retained_a_customer", "leverage", "reps_compared",
    "advances_outstanding", "advances_of_leavers", "clawbacks_outstanding", "holdbacks_outstanding"]

#: one plain sentence per measure (the report translates them)
DEFINITIONS = {
    "total_cost": "Everything the plan pays over the backtest window, to every person it pays, in the reporting "
                  "currency: the sum of its lines of pay. An advance (a carried floor top-up, a guarantee draw) is "
                  "counted as paid; an amount held back and not yet released is not.",
    "cost_vs_current": "The plan's total cost divided by today's plan's total cost over the same months.",
    "cost_share_of_gross_profit": "Total cost divided by the gross profit of all booked invoices and credit notes "
                                  "dated in the window (revenue minus cost of goods, freight and other costs).",
    "cost_share_of_revenue": "Total cost divided by the revenue of all booked invoices and credit notes dated in "
                             "the window.",
    "cost_other_roles": "The part of the total cost paid to service and supply-chain colleagues (team pools); "
                        "they are left out of the measures per rep below.",
    "gini": "Gini coefficient of the window's pay across the compared sales reps: the mean absolute difference "
            "between two reps' pay divided by twice the mean pay. 0 = everybody paid the same; near 1 = one rep "
            "gets everything.",
    "top10_share": "Share of the compared reps' pay that goes to the best-paid tenth of them (the best-paid "
                   "n/10 reps, rounded up).",
    "corr_payout_clv_growth": "Spearman rank correlation, across the compared reps, between a rep's pay over the "
                              "window and the CLV the rep built over it (the existing, new and lost parts of the "
                              "CLV bridge of the rep's book, transfers left out). 1 = the ranking by pay is the "
                              "ranking by value built.",
    "corr_payout_revenue": "Spearman rank correlation, across the compared reps, between a rep's pay over the "
                           "window and the revenue credited to the rep (booked documents dated in the window, by "
                           "credit share).",
    "losers_vs_current": "Number of compared reps whose pay over the window is under 95 % of what today's plan "
                         "pays them over the same months.",
    "losers_share": "Losers as a share of the compared reps.",
    "max_loss_pct": "The largest loss of one rep against today's plan, as a share of what today's plan pays that "
                    "rep (0.40 = 40 % less); among reps today's plan pays something; 0 when nobody loses.",
    "new_rep_share": "Share of the compared reps' pay going to reps hired in the last 12 months of the window.",
    "payout_per_retained_a_customer": "Total cost divided by the number of tier-A customers retained in the window "
                                      "(a customer reaching an anniversary of its first purchase with an invoice in "
                                      "the 12 months before it, tier A at that month's end).",
    "leverage": "The 90th percentile of the compared reps' pay divided by the median (linear interpolation "
                "between reps): how much more a top performer earns than a typical rep.",
    "reps_compared": "Number of sales reps employed at least one day in the window.",
    "advances_outstanding": "Advances not yet recovered at the window's end: floor top-ups carried forward and "
                            "guarantee draws, less what later pay already recovered. They are in the total cost.",
    "advances_of_leavers": "The part of the outstanding advances owed by reps who have left by the window's end "
                           "(it will not be recovered).",
    "clawbacks_outstanding": "Clawbacks charged but not yet taken from pay at the window's end (they would lower "
                             "later pay).",
    "holdbacks_outstanding": "Commission held back and not yet released at the window's end (it would raise later "
                             "pay; forfeited by reps who have left).",
}

#: balance rules: rule -> (balance, sign that makes the balance positive)
BALANCE_RULES = {"floor.carried": ("advance", 1), "floor.recovered": ("advance", 1),
                 "guarantee.draw": ("advance", 1), "guarantee.recovery": ("advance", 1),
                 "clawback.deferred": ("clawback", 1), "clawback.recovered": ("clawback", 1),
                 "commission.holdback": ("holdback", -1), "commission.release": ("holdback", -1)}


# ------------------------------------------------------------------ the primitive measures
def gini(pay) -> float:
    """Gini coefficient ``sum_ij |x_i - x_j| / (2 n^2 mean)`` of the values (NaN when the total is not
    positive). Computed as ``2 sum_i i x_(i) / (n sum x) - (n + 1) / n`` on the sorted values.
    A negative value (a rep whose credit notes exceed the collections) is used as it is."""
    x = np.sort(np.asarray(pay, dtype=float))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return float("nan")
    return float(2 * np.sum(np.arange(1, n + 1) * x) / (n * total) - (n + 1) / n)


def top_share(pay, fraction: float = 0.1) -> float:
    """Share of the total held by the ``ceil(n x fraction)`` largest values (NaN when the total is not positive)."""
    x = np.sort(np.asarray(pay, dtype=float))[::-1]
    total = x.sum()
    if not len(x) or total <= 0:
        return float("nan")
    k = max(1, math.ceil(len(x) * fraction - 1e-9))
    return float(x[:k].sum() / total)


def spearman(x, y) -> float:
    """Spearman's rank correlation: Pearson's correlation of the average ranks (ties share their mean
    rank). NaN with fewer than 3 values or when either side is constant."""
    a = pd.Series(np.asarray(x, dtype=float)).rank(method="average").to_numpy()
    b = pd.Series(np.asarray(y, dtype=float)).rank(method="average").to_numpy()
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def leverage(pay) -> float:
    """90th percentile over the median (numpy's linear interpolation); NaN when the median is not positive."""
    x = np.asarray(pay, dtype=float)
    if not len(x):
        return float("nan")
    p50, p90 = np.percentile(x, [50, 90])
    return float(p90 / p50) if p50 > 0 else float("nan")


def losers(pay, today, threshold: float = 0.95) -> np.ndarray:
    """True for each rep paid less than ``threshold`` x today's plan's pay."""
    return np.asarray(pay, dtype=float) < threshold * np.asarray(today, dtype=float)


def max_loss(pay, today) -> float:
    """Largest ``1 - pay / today`` among reps with ``today > 0`` (0 when nobody is paid less)."""
    p, t = np.asarray(pay, dtype=float), np.asarray(today, dtype=float)
    ok = t > 0
    if not ok.any():
        return 0.0
    return float(max(0.0, np.max(1 - p[ok] / t[ok])))


# ------------------------------------------------------------------ the figures
def rep_figures(inputs: PayInputs, *, new_rep_months: int = 12) -> pd.DataFrame:
    """The compared reps and their figures over the window, indexed by ``rep_id``.

    Rows: sales reps employed at least one day in the window. Columns: ``name, team, hire_date,
    leave_date, employed_months`` (sum of the share of each month employed), ``left`` (left on or
    before the window's last day), ``new_rep`` (hired in the last ``new_rep_months`` months of the
    window), ``revenue`` and ``gross_margin`` (booked documents dated in the window x credit share),
    ``clv_built`` (existing + new + lost parts of the rep's CLV bridge over the window; 0 without a
    bridge), ``a_retained`` (tier-A ``retained`` events in the window x book share).
    """
    months = inputs.months
    emp = inputs.employment()
    emp = emp[(emp["role"] == "sales") & (emp["fraction"] > 0)]
    employed = emp.groupby("rep_id")["fraction"].sum()
    reps = inputs.reps.drop_duplicates("rep_id").set_index("rep_id").reindex(employed.index)
    out = pd.DataFrame(index=employed.index.rename("rep_id"))
    out["name"] = reps["name"] if "name" in reps else out.index
    out["team"] = reps["team"]
    out["hire_date"] = pd.to_datetime(reps["hire_date"])
    out["leave_date"] = pd.to_datetime(reps["leave_date"])
    out["employed_months"] = employed.astype(float)
    last_day = pd.Period(months[-1], freq="M").to_timestamp(how="end").normalize()
    out["left"] = out["leave_date"].notna() & (out["leave_date"] <= last_day)
    first_new = add_months(months[-1], -(new_rep_months - 1))
    out["new_rep"] = month_of(out["hire_date"]).fillna("0000-00") >= first_new
    docs = _window_documents(inputs)
    credited = docs.merge(inputs.credit[["order_id", "rep_id", "share"]], on="order_id")
    share = credited["share"].astype(float)
    out["revenue"] = (credited["amount_rc"] * share).groupby(credited["rep_id"]).sum().reindex(out.index).fillna(0.0)
    out["gross_margin"] = ((credited["gross_margin_rc"] * share).groupby(credited["rep_id"]).sum()
                           .reindex(out.index).fillna(0.0))
    out["clv_built"] = 0.0
    if inputs.bridge is not None:
        b = inputs.bridge
        b = b[b["part"].isin(("existing", "new", "lost")) & b["month"].astype(str).isin(months)]
        out["clv_built"] = b.groupby("rep_id")["amount"].sum().reindex(out.index).fillna(0.0).astype(float)
    ret = _a_retained(inputs)
    out["a_retained"] = ret.groupby("rep_id")["share"].sum().reindex(out.index).fillna(0.0) if len(ret) else 0.0
    return out


def company_figures(inputs: PayInputs) -> dict:
    """``revenue``, ``gross_profit`` (booked documents dated in the window) and ``a_retained`` (tier-A
    customers retained in the window: the sum of the book shares of the ``retained`` events)."""
    docs = _window_documents(inputs)
    ret = _a_retained(inputs)
    return {"revenue": float(docs["amount_rc"].sum()), "gross_profit": float(docs["gross_margin_rc"].sum()),
            "a_retained": float(ret["share"].sum()) if len(ret) else 0.0}


def _window_documents(inputs: PayInputs) -> pd.DataFrame:
    o = inputs.orders
    if "status" in o.columns:
        o = o[o["status"] == "booked"]
    o = o.drop_duplicates("order_id")
    return o[month_of(o["order_date"]).isin(inputs.months)][["order_id", "amount_rc", "gross_margin_rc"]]


def _a_retained(inputs: PayInputs) -> pd.DataFrame:
    e = inputs.events
    if e is None or not len(e):
        return pd.DataFrame({"rep_id": pd.Series(dtype=object), "share": pd.Series(dtype=float)})
    e = e[(e["event"] == "retained") & (e["tier"] == "A") & e["month"].astype(str).isin(inputs.months)]
    return pd.DataFrame({"rep_id": e["rep_id"].to_numpy(), "share": e["share"].astype(float).to_numpy()})


# ------------------------------------------------------------------ pay per rep
def rep_pay(lines: pd.DataFrame) -> pd.DataFrame:
    """Each person's pay over the window in cents: rows ``rep_id``, one column per plan (0 when unpaid)."""
    g = lines.groupby(["rep_id", "plan"])["amount_cents"].sum().unstack("plan", fill_value=0)
    g.columns.name = None
    return g.astype(np.int64)


def pay_measures(pay_cents: pd.Series, today_cents: pd.Series, figures: pd.DataFrame, *,
                 loss_threshold: float = 0.95) -> dict:
    """The per-rep measures of one plan (see :data:`DEFINITIONS`) over the compared reps (``figures``' index).

    ``pay_cents`` / ``today_cents``: the plan's / today's plan's window pay per rep in cents (reps
    missing are paid 0; other people are ignored).
    """
    idx = figures.index
    pay = pay_cents.reindex(idx).fillna(0).to_numpy(dtype=float) / 100
    today = today_cents.reindex(idx).fillna(0).to_numpy(dtype=float) / 100
    lose = losers(pay, today, loss_threshold)
    total = pay.sum()
    return {"gini": gini(pay), "top10_share": top_share(pay, 0.1),
            "corr_payout_clv_growth": spearman(pay, figures["clv_built"]),
            "corr_payout_revenue": spearman(pay, figures["revenue"]),
            "losers_vs_current": int(lose.sum()), "losers_share": float(lose.mean()) if len(idx) else float("nan"),
            "max_loss_pct": max_loss(pay, today),
            "new_rep_share": float(pay[figures["new_rep"].to_numpy()].sum() / total) if total > 0 else float("nan"),
            "leverage": leverage(pay), "reps_compared": len(idx)}


def balances(lines: pd.DataFrame, figures: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per plan, the balances at the window's end (see the module docstring), in the reporting currency:
    ``advances_outstanding, advances_of_leavers, clawbacks_outstanding, holdbacks_outstanding``.
    ``figures`` (:func:`rep_figures`) says who has left."""
    plans = sorted(lines["plan"].unique())
    out = pd.DataFrame(0.0, index=pd.Index(plans, name="plan"),
                       columns=["advances_outstanding", "advances_of_leavers", "clawbacks_outstanding",
                                "holdbacks_outstanding"])
    b = lines[lines["rule"].isin(BALANCE_RULES)]
    if not len(b):
        return out
    kind = b["rule"].map(lambda r: BALANCE_RULES[r][0])
    signed = b["amount_cents"] * b["rule"].map(lambda r: BALANCE_RULES[r][1])
    left = set(figures.index[figures["left"]]) if figures is not None else set()
    per = signed.groupby([b["plan"], kind, b["rep_id"]]).sum().clip(lower=0) / 100
    for (plan, k, rep), v in per.items():
        out.loc[plan, {"advance": "advances_outstanding", "clawback": "clawbacks_outstanding",
                       "holdback": "holdbacks_outstanding"}[k]] += v
        if k == "advance" and rep in left:
            out.loc[plan, "advances_of_leavers"] += v
    return out.round(2)


# ------------------------------------------------------------------ the comparison
def comparison(lines: pd.DataFrame, inputs: PayInputs, *, current: str, loss_threshold: float = 0.95,
               new_rep_months: int = 12) -> pd.DataFrame:
    """One row per plan over the window (:data:`COMPARISON_COLUMNS`; definitions: :data:`DEFINITIONS`).

    Parameters
    ----------
    lines : DataFrame
        The lines of every plan over the window (``run_plans``; the ``payouts`` stage's ``lines``).
    inputs : PayInputs
        The window's tables the lines were computed from.
    current : str
        Today's plan (``pay.current_plan``): the reference of losers and cost ratios.
    loss_threshold : float, default=0.95
        A rep paid under this share of today's plan's pay is a loser.
    new_rep_months : int, default=12
        Reps hired in this many last months of the window are new.

    Returns
    -------
    DataFrame, one row per plan, today's plan first, the others by name. Money in the reporting
    currency (floats of whole cents); shares as fractions (0.25 = 25 %).
    """
    plans = list(lines["plan"].unique())
    if current not in plans:
        raise ParamsError(f"pay.current_plan: {current!r} has no lines in the backtest (plans: {', '.join(plans)})")
    figures = rep_figures(inputs, new_rep_months=new_rep_months)
    company = company_figures(inputs)
    pay = rep_pay(lines)
    role = inputs.reps.drop_duplicates("rep_id").set_index("rep_id")["role"].fillna("sales")
    other = ~pay.index.map(role).isin(["sales"])
    bal = balances(lines, figures)
    base_cost = pay[current].sum() / 100
    rows = []
    for plan in [current] + sorted(p for p in plans if p != current):
        cost = pay[plan].sum() / 100
        row = {"plan": plan, "total_cost": round(cost, 2),
               "cost_vs_current": cost / base_cost if base_cost else float("nan"),
               "cost_share_of_gross_profit": _ratio(cost, company["gross_profit"]),
               "cost_share_of_revenue": _ratio(cost, company["revenue"]),
               "cost_other_roles": round(pay.loc[other, plan].sum() / 100, 2),
               "payout_per_retained_a_customer": _ratio(cost, company["a_retained"])}
        row |= pay_measures(pay[plan], pay[current], figures, loss_threshold=loss_threshold)
        row |= bal.loc[plan].to_dict() if plan in bal.index else {}
        rows.append(row)
    return pd.DataFrame(rows)[COMPARISON_COLUMNS]


def rep_comparison(lines: pd.DataFrame, inputs: PayInputs, *, current: str, loss_threshold: float = 0.95,
                   new_rep_months: int = 12) -> pd.DataFrame:
    """One row per (plan, compared rep): ``plan, rep_id, name, team, pay, today, change, change_pct,
    loser, clv_built, revenue, new_rep, left`` (money in the reporting currency) — the table behind
    :func:`comparison`, for charts and the per-rep view."""
    figures = rep_figures(inputs, new_rep_months=new_rep_months)
    pay = rep_pay(lines).reindex(figures.index).fillna(0) / 100
    today = pay[current]
    parts = []
    for plan in [current] + sorted(p for p in pay.columns if p != current):
        p = pay[plan]
        parts.append(pd.DataFrame({
            "plan": plan, "rep_id": figures.index, "name": figures["name"], "team": figures["team"], "pay": p,
            "today": today, "change": p - today, "change_pct": ((p - today) / today).where(today > 0),
            "loser": losers(p, today, loss_threshold), "clv_built": figures["clv_built"],
            "revenue": figures["revenue"], "new_rep": figures["new_rep"], "left": figures["left"]}))
    return pd.concat(parts, ignore_index=True)


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")
