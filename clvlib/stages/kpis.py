"""Stage ``kpis``: the commission-era and CLV-era KPIs per customer, rep, team and company for every
month of the history, the CLV bridge, the events pay plans react to, and the scorecards
(``clvlib.kpis``).

Files: ``history_kpis.parquet`` (long: month, level, id, measure, value), ``customer_kpis.parquet``
(the period's customers, one column per KPI), ``clv_bridge.parquet`` (customer-level bridge lines),
``customer_events.parquet`` (won / lost / retained), ``rep_scorecard.parquet``,
``team_scorecard.parquet``, ``kpi_catalogue.parquet`` and ``kpis.json`` (health formula, notes).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from clvlib.stages.base import Stage, register


@dataclass
class Kpis:
    """The KPI stage's result."""

    table: pd.DataFrame                 # long rows
    bridge: pd.DataFrame
    events: pd.DataFrame
    catalogue: pd.DataFrame
    rep_scorecard: pd.DataFrame
    team_scorecard: pd.DataFrame
    health_formula: str
    months: list[str]
    notes: list[str] = field(default_factory=list)
    fallback: str | None = None

    def level(self, level: str, month: str | None = None) -> pd.DataFrame:
        """One level's KPIs as a wide table (``month, id`` and one column per measure)."""
        t = self.table[self.table["level"] == level]
        if month is not None:
            t = t[t["month"] == month]
        wide = t.pivot_table(index=["month", "id"], columns="measure", values="value", aggfunc="first")
        wide.columns.name = None
        return wide.reset_index()

    def company(self) -> pd.DataFrame:
        """The company's KPIs by month (one row per month, every defined measure: missing where the data
        cannot give it, e.g. retention without a year of history)."""
        from clvlib.kpis import DEFINITIONS

        wide = self.level("company").drop(columns="id").set_index("month")
        return wide.reindex(columns=list(dict.fromkeys([*wide.columns, *DEFINITIONS])))

    @property
    def customers(self) -> pd.DataFrame:
        """The period's customers, one column per KPI."""
        return self.level("customer", self.months[-1]).drop(columns="month").rename(columns={"id": "customer_id"})


def build(wb) -> Kpis:
    from clvlib.kpis import compute_kpis, scorecards, settings_from

    h, tiers = wb.stage("history"), wb.stage("tiers")
    present = set(h.customers["month"].unique())
    months = [m for m in h.months if m in present]
    fb = "; ".join(f"{m}: {why}" for m, why in sorted(h.fallback.items())) or None
    r = compute_kpis(wb.orders(), wb.credit(), wb.table("reps"), h.customers, h.owners,
                     tiers.tiers[["month", "customer_id", "tier"]], months, as_of=wb.as_of,
                     nps_table=wb.table("nps"), complaints=wb.table("complaints"), fallback=fb,
                     **settings_from(wb.params))
    rep, team = scorecards(r.table, months[-1], wb.table("reps"), wb.as_of)
    return Kpis(table=r.table, bridge=r.bridge, events=r.events, catalogue=r.catalogue, rep_scorecard=rep,
                team_scorecard=team, health_formula=r.health_formula, months=months, notes=list(r.notes),
                fallback=r.fallback)


def save(k: Kpis, data_dir: Path) -> None:
    d = Path(data_dir)
    k.table.to_parquet(d / "history_kpis.parquet", index=False)
    k.customers.to_parquet(d / "customer_kpis.parquet", index=False)
    k.bridge.to_parquet(d / "clv_bridge.parquet", index=False)
    k.events.to_parquet(d / "customer_events.parquet", index=False)
    k.rep_scorecard.to_parquet(d / "rep_scorecard.parquet", index=False)
    k.team_scorecard.to_parquet(d / "team_scorecard.parquet", index=False)
    k.catalogue.to_parquet(d / "kpi_catalogue.parquet", index=False)
    (d / "kpis.json").write_text(json.dumps({"health_formula": k.health_formula, "months": k.months,
                                             "notes": k.notes, "fallback": k.fallback}, indent=1))


def load(data_dir: Path) -> Kpis:
    d = Path(data_dir)
    meta = json.loads((d / "kpis.json").read_text())
    return Kpis(table=pd.read_parquet(d / "history_kpis.parquet"), bridge=pd.read_parquet(d / "clv_bridge.parquet"),
                events=pd.read_parquet(d / "customer_events.parquet"),
                catalogue=pd.read_parquet(d / "kpi_catalogue.parquet"),
                rep_scorecard=pd.read_parquet(d / "rep_scorecard.parquet"),
                team_scorecard=pd.read_parquet(d / "team_scorecard.parquet"), health_formula=meta["health_formula"],
                months=meta["months"], notes=meta["notes"], fallback=meta["fallback"])


STAGE = register(Stage("kpis", build, save, load, needs=("intake", "credit", "history", "tiers"),
                       params=("customers", "kpis", "clv.interval_level", "tiers.labels"),
                       files=("history_kpis.parquet", "customer_kpis.parquet", "clv_bridge.parquet",
                              "customer_events.parquet", "rep_scorecard.parquet", "team_scorecard.parquet"),
                       doc="commission-era and CLV-era KPIs per customer, rep, team and company, month by month"))
