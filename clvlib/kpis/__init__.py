"""KPIs of customers, reps, teams and the company, for a list of months at once, and the scorecards.

One function per KPI, its definition in its docstring (and in plain English in ``DEFINITIONS``); each
returns long rows ``month, level, id, measure, value`` (``clvlib.kpis.common``). ``compute_kpis`` runs
them all for the KPI stage. Inputs are plain tables:

* ``orders`` — booked invoices and credit notes as known on the as-of date (``amount_rc``,
  ``gross_margin_rc``, ``due_date``, ``paid_date``); ``credit`` — ``credit_lines``; ``reps``;
* from the history stage: ``customers`` (month, customer_id, clv, first_purchase, last_purchase,
  expected_remaining_months, ...) and ``owners`` (month, customer_id, rep_id, share: the book at each
  month end); from the tiers stage: ``tiers`` (month, customer_id, tier);
* optional ``nps`` and ``complaints``.

Sales KPIs credit the reps who made the sale; relationship KPIs (retention, lifespan, NPS, health,
CLV) use the book. Book KPIs of a month need that month in ``owners`` (retention: the month a year
before), CLV KPIs that month in ``customers``.

Modules: ``sales`` (commission era), ``loyalty`` (repurchase, retention, churn, lifespan), ``lifetime``
(``expected_remaining_months``), ``nps``, ``profit`` (A tier's share), ``health``, ``collaboration``,
``bridge`` (book CLV, the CLV bridge, events), ``scorecards`` (scorecards, rank chart, front page).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from clvlib.kpis.bridge import (BRIDGE_COLUMNS, EVENT_COLUMNS, book_clv, bridge_between, bridge_lines, bridge_months,
                                clv_bridge, events, lost_events)
from clvlib.kpis.collaboration import collaboration, handovers
from clvlib.kpis.common import (LONG_COLUMNS, as_text, books, check_months, month_ends, month_index, month_label,
                                shared_codes, to_long)
from clvlib.kpis.definitions import DEFINITIONS, MODEL_KPIS, kpi_catalogue
from clvlib.kpis.health import health_formula, health_score
from clvlib.kpis.lifetime import expected_remaining_months
from clvlib.kpis.loyalty import (churn_rate, lifespan_months, old_customers, repurchase_rate, retention_rate,
                                 _retention)
from clvlib.kpis.nps import nps, nps_interval
from clvlib.kpis.profit import a_share_of_profit
from clvlib.kpis.sales import (avg_order_margin_12m, commission_rank, gross_margin_12m, invoices_12m, margin_pct,
                               new_customers_12m, revenue_12m, sales_12m)
from clvlib.kpis.scorecards import front_page, rank_chart, scorecards

DEFAULT_HEALTH_WEIGHTS = {"regularity": 0.3, "complaints": 0.2, "receivables": 0.3, "nps": 0.2}


@dataclass
class KpiResult:
    """What ``compute_kpis`` returns.

    ``table``: long rows (month, level, id, measure, value); ``bridge``: customer-level CLV bridge lines
    (``BRIDGE_COLUMNS``); ``events``: won / lost / retained (``EVENT_COLUMNS``); ``catalogue``: every
    measure with its definition and whether it is a model figure, a simple one or (small firms) a simple
    indicator; ``health_formula``: the formula the report prints; ``notes``; ``fallback``: why the models
    were not used (None when they were).
    """

    table: pd.DataFrame
    bridge: pd.DataFrame
    events: pd.DataFrame
    catalogue: pd.DataFrame
    health_formula: str
    notes: list[str] = field(default_factory=list)
    fallback: str | None = None


def settings_from(params) -> dict:
    """The keyword arguments of ``compute_kpis`` taken from validated params (``customers``, ``kpis``,
    ``clv.interval_level`` and the first tier label)."""
    k = params["kpis"]
    return {"lost_after_days": params["customers"]["lost_after_days"], "nps_min_responses": k["nps_min_responses"],
            "interval_level": params["clv"]["interval_level"], "health_weights": dict(k["health_weights"]),
            "handover_months": k["handover_months"], "top_tier": params["tiers"]["labels"][0]}


def _fallback(customers: pd.DataFrame, fallback: str | None) -> str | None:
    if fallback:
        return fallback
    if "expected_remaining_months" in customers and customers["expected_remaining_months"].isna().all():
        return "no purchase model at these month ends (too little repeat buying to fit it)"
    return None


def compute_kpis(orders, credit, reps, customers, owners, tiers, months, *, as_of=None, nps_table=None,
                 complaints=None, lost_after_days: int = 365, nps_min_responses: int = 30,
                 interval_level: float = 0.9, health_weights: dict | None = None, handover_months: int = 6,
                 top_tier: str = "A", fallback: str | None = None) -> KpiResult:
    """Every KPI for ``months`` (the settings: ``customers.lost_after_days``, ``kpis.*``,
    ``clv.interval_level``; ``top_tier`` = the first tier label). ``fallback``: the history stage's
    reason the purchase model could not be fitted, if any (also detected from missing expectations)."""
    months = check_months(months)
    weights = dict(health_weights or DEFAULT_HEALTH_WEIGHTS)
    fb = _fallback(customers, fallback)
    orders, customers, owners, tiers, nps_table, complaints = shared_codes(
        "customer_id", [orders, customers, owners, tiers, nps_table, complaints])
    reps, credit, owners = shared_codes("rep_id", [reps, credit, owners])
    book = books(owners, reps, months, as_of)          # built once for the KPIs that weight by the book
    sales = sales_12m(orders, credit, reps, months)
    parts = [to_long(sales, [c for c in sales.columns if c not in ("month", "level", "id")]),
             new_customers_12m(orders, credit, reps, months),
             commission_rank(sales, reps, months, as_of),
             repurchase_rate(orders, owners, reps, months, as_of, pairs=book)]
    ret = _retention(orders, owners, reps, months, as_of)
    parts.append(to_long(ret, ["retention_rate", "churn_rate", "old_customers", "retained_customers",
                               "churned_customers"]))
    parts.append(lifespan_months(customers, owners, reps, months, as_of, lost_after_days, pairs=book))
    if nps_table is not None:
        parts.append(nps(nps_table, owners, reps, months, as_of, interval_level, nps_min_responses, pairs=book))
    if tiers is not None:
        parts.append(a_share_of_profit(orders, tiers, owners, reps, months, as_of, top_tier, pairs=book))
    parts.append(health_score(orders, owners, reps, months, weights, nps_table, complaints, as_of, lost_after_days,
                              pairs=book))
    parts.append(collaboration(orders, credit, reps, owners, customers, months, as_of, handover_months))
    parts.append(book_clv(customers, owners, reps, months, as_of))
    bridged = bridge_months(customers, owners, months)
    lines = bridge_lines(customers, owners, orders, tiers, months, as_of, lost_after_days)
    parts.append(clv_bridge(lines, reps, months, bridged, as_of))
    table = pd.concat([p for p in parts if len(p)], ignore_index=True)[LONG_COLUMNS]
    table = table.sort_values(["month", "level", "id", "measure"], kind="stable").reset_index(drop=True)
    ev = events(orders, credit, owners, customers, tiers, months, as_of, lost_after_days)
    notes = _notes(months, customers, owners, bridged, nps_table, tiers, fb)
    notes += _few_responses(table, months[-1], nps_min_responses)
    return KpiResult(table=table, bridge=as_text(lines, ["customer_id", "rep_id"]),
                     events=as_text(ev, ["customer_id", "rep_id"]), catalogue=kpi_catalogue(fb),
                     health_formula=health_formula(weights), notes=notes, fallback=fb)


def _few_responses(table: pd.DataFrame, month: str, minimum: int) -> list[str]:
    """A warning naming the reps and teams whose NPS rests on too few responses in ``month``."""
    t = table[(table["month"] == month) & (table["measure"] == "nps_few_responses") & (table["value"] == 1)
              & table["level"].isin(["rep", "team", "company"])]
    if t.empty:
        return []
    names = ", ".join(f"{lv} {i}" for lv, i in zip(t["level"], t["id"]))
    return [f"NPS in {month} rests on fewer than {minimum} responses for {names}: read it as unreliable"]


def _notes(months, customers, owners, bridged, nps_table, tiers, fb) -> list[str]:
    notes = []
    have = set(owners["month"].unique())
    no_year_book = [m for m in months if month_label(month_index(m) - 12) not in have]
    if no_year_book:
        notes.append(f"retention and churn per rep and team need the book of a year before: not available for "
                     f"{', '.join(no_year_book)} (company figures are)")
    short = [m for m in months if m not in bridged or len({month_label(month_index(m) - k) for k in range(12)}
                                                          & set(bridged)) < 12]
    if short:
        notes.append(f"the 12-month CLV bridge and clv_rank need 12 monthly bridges: not available for "
                     f"{', '.join(short)}")
    if nps_table is None:
        notes.append("no NPS responses were given: NPS and the health score's NPS part are missing")
    if tiers is None:
        notes.append("no tiers were given: the A tier's share of profit is missing")
    if fb:
        simple = sorted(MODEL_KPIS - {"lifespan_months"})
        notes.append(f"the purchase model could not be used ({fb}): {', '.join(simple)} are simple indicators "
                     f"(CLV from the simple formula) and lifespan_months is missing (lifespan_observed_months, "
                     f"which needs no model, is shown)")
    return notes


__all__ = [
    "compute_kpis", "KpiResult", "DEFINITIONS", "MODEL_KPIS", "kpi_catalogue", "LONG_COLUMNS", "BRIDGE_COLUMNS",
    "EVENT_COLUMNS", "revenue_12m", "gross_margin_12m", "invoices_12m", "avg_order_margin_12m", "margin_pct",
    "new_customers_12m", "commission_rank", "sales_12m", "repurchase_rate", "retention_rate", "churn_rate",
    "old_customers", "lifespan_months", "expected_remaining_months", "nps", "nps_interval", "a_share_of_profit",
    "health_score", "health_formula", "collaboration", "handovers", "book_clv", "bridge_lines", "bridge_months",
    "clv_bridge", "bridge_between", "events", "settings_from", "lost_events", "scorecards", "rank_chart", "front_page", "month_ends",
]
