"""Stage ``tiers``: every customer tiered A/B/C at each month end of the history (``clvlib.tiers``).

One model is fitted at the window's first month (or taken from ``tiers.model_file``) and refitted only
when ``tiers.refit`` says; between refits customers move only when they clearly cross a boundary.

Files: ``history_tiers.parquet`` (long: measure ``tier`` = the tier's position, 1 = A, and the RFM
scores), ``customer_tiers.parquet`` (month, customer_id, tier, plain_tier, RFM scores),
``tier_migration.parquet`` (the period against the previous month and against 12 months ago),
``tier_profile.parquet``, ``tier_model.json`` (the model in force: JSON, never pickle) and
``tiers.json`` (notes, share changed, PSI, silhouette). It also adds ``tier`` and ``tier_prev`` (last
month's tier) to ``customer_value.parquet``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from clvlib.stages.base import Stage, register


@dataclass
class Tiers:
    """The tiers stage's result."""

    tiers: pd.DataFrame                  # month, customer_id, tier, plain_tier, r_score, f_score, m_score, rfm_cell
    labels: list[str]
    models: list[dict]                   # {"month", "why", "model"}
    migration: pd.DataFrame              # against, from, to, customers (counts, with "new"/"gone")
    profile: pd.DataFrame                # per tier of the period
    stability: dict                      # share_changed, psi (previous month, 12 months ago), silhouette
    notes: list[str] = field(default_factory=list)

    def month(self, month: str) -> pd.Series:
        """``customer_id -> tier`` at a month end."""
        t = self.tiers[self.tiers["month"] == month]
        return t.set_index("customer_id")["tier"]

    def by_month(self) -> dict[str, pd.Series]:
        """:meth:`month` of every month end, from one pass over the table."""
        return {m: g.set_index("customer_id")["tier"]
                for m, g in self.tiers.groupby("month", sort=True, observed=True)}

    @property
    def model(self) -> dict:
        """The model in force at the period (``CustomerTiers.to_json``)."""
        return self.models[-1]["model"]


def _migration(tiers: Tiers, months: list[str]) -> pd.DataFrame:
    from clvlib.tiers import migration_matrix

    now, parts = tiers.month(months[-1]), []
    for against, k in (("previous_month", 2), ("twelve_months_ago", 13)):
        if len(months) < k:
            continue
        m = migration_matrix(tiers.month(months[-k]), now, labels=tiers.labels)
        long = m.rename_axis(index="from", columns="to").stack().rename("customers").reset_index()
        parts.append(long.assign(against=against, month=months[-k]))
    cols = ["against", "month", "from", "to", "customers"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def _stability(tiers: Tiers, months: list[str]) -> dict:
    from clvlib.tiers import population_stability_index, share_changed

    by_month = tiers.by_month()
    now, out = by_month[months[-1]], {}
    for name, k in (("previous_month", 2), ("twelve_months_ago", 13)):
        if len(months) >= k:
            before = by_month[months[-k]]
            out[f"share_changed_{name}"] = share_changed(before, now)
            out[f"psi_{name}"] = population_stability_index(before, now, labels=tiers.labels)
    pairs = [share_changed(by_month[a], by_month[b]) for a, b in zip(months, months[1:])]
    out["worst_month_share_kept"] = 1 - max(pairs) if pairs else float("nan")
    out["silhouette"] = tiers.models[-1]["model"].get("silhouette_") if tiers.models else None
    return out


def build(wb) -> Tiers:
    from clvlib.history import month_end
    from clvlib.tiers import assign_tiers, params_for_estimator, tier_features, tier_profile

    h, p = wb.stage("history"), wb.params["tiers"]
    present = set(h.customers["month"].unique())
    months = [m for m in h.months if m in present]
    feats = {m: tier_features(h.month(m), month_end(m, wb.as_of)) for m in months}
    model = json.loads(Path(wb.params.path("tiers.model_file")).read_text()) if p["model_file"] else None
    a = assign_tiers(feats, params_for_estimator(p), p["refit"], p["refit_month"], model=model,
                     clv_fallback=h.fallback)
    res = Tiers(tiers=a.tiers, labels=list(p["labels"]), models=a.models, migration=pd.DataFrame(),
                profile=pd.DataFrame(), stability={}, notes=list(a.notes))
    res.migration = _migration(res, months)
    res.stability = _stability(res, months)
    now = feats[months[-1]]
    res.profile = tier_profile(res.month(months[-1]), now["clv"], wb.orders(), month_end(months[-1], wb.as_of),
                               labels=res.labels)
    return res


def save(t: Tiers, data_dir: Path) -> None:
    from clvlib.history import to_long

    d = Path(data_dir)
    t.tiers.to_parquet(d / "customer_tiers.parquet", index=False)
    rank = {lab: i + 1 for i, lab in enumerate(t.labels)}
    wide = t.tiers.assign(tier=t.tiers["tier"].map(rank))
    measures = ["tier"] + [c for c in ("r_score", "f_score", "m_score") if c in wide]
    to_long(wide, "customer", "customer_id", measures).to_parquet(d / "history_tiers.parquet", index=False)
    t.migration.to_parquet(d / "tier_migration.parquet", index=False)
    t.profile.to_parquet(d / "tier_profile.parquet", index=False)
    (d / "tier_model.json").write_text(json.dumps(t.model, indent=1, sort_keys=True))
    (d / "tiers.json").write_text(json.dumps({"labels": t.labels, "models": t.models, "stability": t.stability,
                                              "notes": t.notes}, indent=1, default=float))
    _add_to_customer_value(t, d)


def _add_to_customer_value(t: Tiers, d: Path) -> None:
    """``tier`` and ``tier_prev`` (the previous month end's tier) in ``customer_value.parquet``."""
    path = d / "customer_value.parquet"
    if not path.exists():
        return
    cv = pd.read_parquet(path).drop(columns=["tier", "tier_prev"], errors="ignore")
    months = sorted(t.tiers["month"].unique())
    cv["tier"] = cv["customer_id"].map(t.month(months[-1]))
    cv["tier_prev"] = cv["customer_id"].map(t.month(months[-2])) if len(months) > 1 else None
    tmp = path.with_suffix(".parquet.tmp")
    cv.to_parquet(tmp, index=False)
    tmp.replace(path)             # atomically: a notebook may be reading the customer-value stage now


def load(data_dir: Path) -> Tiers:
    d = Path(data_dir)
    meta = json.loads((d / "tiers.json").read_text())
    return Tiers(tiers=pd.read_parquet(d / "customer_tiers.parquet"), labels=meta["labels"], models=meta["models"],
                 migration=pd.read_parquet(d / "tier_migration.parquet"),
                 profile=pd.read_parquet(d / "tier_profile.parquet"), stability=meta["stability"],
                 notes=meta["notes"])


STAGE = register(Stage("tiers", build, save, load, needs=("intake", "customer_value", "history"),
                       params=("tiers",),
                       files=("customer_tiers.parquet", "history_tiers.parquet", "tier_migration.parquet",
                              "tier_profile.parquet", "tier_model.json"),
                       doc="customers tiered A/B/C at every month end, stable from month to month"))
