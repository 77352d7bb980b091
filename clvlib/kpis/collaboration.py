"""Team collaboration: accounts shared through split credit, handovers, value kept after a handover.

* **Shared accounts**: customers with at least one order in the 12 months whose credit was split with a
  colleague (a ``split`` credit line with share < 1); **shared margin**: the rep's credited gross margin
  on those orders (team: its reps' shares; company: the whole margin of the split orders).
* **Handover** in month h: a customer held at the ends of both h-1 and h whose book lost at least one
  rep (the givers) and gained at least one (the receivers). Counted per account, in the 12 months.
* **Value kept after a handover**: for the handovers of the 12 months ending ``handover_months`` (K)
  months before m, Σ share · CLV(h + K) / Σ share · CLV(h) over the accounts received (share = the
  receiver's share at h; CLV of the whole account) — 1.0 means the account is worth as much K months on.
* **Service and supply-chain colleagues** carry their team's book in the book KPIs (see
  ``common.book_pairs``); the scorecard shows it.
* ``collaboration_score`` (0-100) = 100 x the mean, over the parts a rep has, of their percentile among
  the sales reps employed at the month end ((rank - 1) / (n - 1), ties averaged) of shared accounts,
  shared margin and value kept after handovers received. Relative by design: it ranks, it does not
  grade. A team's score is the mean of its reps' scores; there is no company score.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.kpis.common import (COMPANY, check_months, employed, month_ends, month_index, month_indexes, month_labels,
                                months_of, over_windows, ratio, require, to_long)


def _labelled(w):
    return w.assign(month=month_labels(w["mi"])).drop(columns="mi")


def shared_accounts(orders, credit, reps, months) -> pd.DataFrame:
    """Wide rows (month, level, id, shared_accounts_12m, shared_margin_12m) for reps, teams, company."""
    months = check_months(months)
    targets = [month_index(m) for m in months]
    require(credit, "credit", ["order_id", "rep_id", "share", "basis"])
    split = credit[(credit["basis"] == "split") & (credit["share"] < 1)][["order_id", "rep_id", "share"]]
    o = orders[["order_id", "customer_id", "order_date", "gross_margin_rc"]]
    x = split.merge(o, on="order_id")
    x = x.assign(mi=months_of(x["order_date"]), margin=x["gross_margin_rc"] * x["share"], n=1.0,
                 team=x["rep_id"].map(reps.set_index("rep_id")["team"]))
    full = o[o["order_id"].isin(split["order_id"])]
    full = full.assign(mi=months_of(full["order_date"]), margin=full["gross_margin_rc"].astype(float), n=1.0,
                       rep_id=COMPANY)
    parts = []
    for level, df, key in (("rep", x, "rep_id"), ("team", x.dropna(subset=["team"]), "team"),
                           ("company", full, "rep_id")):
        acc = over_windows(df, [key, "customer_id"], ["n"], targets)
        acc = acc.groupby([key, "mi"]).size().rename("shared_accounts_12m").reset_index()
        mar = over_windows(df, [key], ["margin"], targets).rename(columns={"margin": "shared_margin_12m"})
        w = _labelled(acc.merge(mar, on=[key, "mi"], how="outer")).rename(columns={key: "id"})
        parts.append(w.assign(level=level))
    return pd.concat(parts, ignore_index=True)[["month", "level", "id", "shared_accounts_12m", "shared_margin_12m"]]


def handovers(owners: pd.DataFrame) -> pd.DataFrame:
    """Every handover in ``owners`` between consecutive month ends: month (h), customer_id, rep_id,
    role (``given`` | ``received``) and share (the giver's share at h-1, the receiver's at h)."""
    require(owners, "owners", ["month", "customer_id", "rep_id", "share"])
    o = owners[["month", "customer_id", "rep_id", "share"]].assign(mi=month_indexes(owners["month"]))
    present = set(o["mi"].unique())
    prev = o.assign(mi=o["mi"] + 1)
    prev = prev[prev["mi"].isin(present)]
    cur = o[o["mi"].isin(set(prev["mi"]))]
    both = prev[["mi", "customer_id"]].drop_duplicates().merge(cur[["mi", "customer_id"]].drop_duplicates())
    m = prev.drop(columns="month").merge(cur.drop(columns="month"), on=["mi", "customer_id", "rep_id"], how="outer",
                                         suffixes=("_prev", "_cur"), indicator=True)
    m = m.merge(both, on=["mi", "customer_id"])
    flags = m.assign(gone=m["_merge"] == "left_only", came=m["_merge"] == "right_only")
    f = flags.groupby(["mi", "customer_id"])[["gone", "came"]].transform("any")
    h = m[f["gone"] & f["came"] & (m["_merge"] != "both")]
    out = pd.DataFrame({"month": month_labels(h["mi"]).to_numpy(), "customer_id": h["customer_id"].to_numpy(),
                        "rep_id": h["rep_id"].to_numpy(),
                        "role": np.where(h["_merge"] == "left_only", "given", "received"),
                        "share": np.where(h["_merge"] == "left_only", h["share_prev"], h["share_cur"])})
    return out.reset_index(drop=True)


def handover_kpis(owners, customers, reps, months, handover_months: int = 6) -> pd.DataFrame:
    """Wide rows (month, level, id, handovers_given_12m, handovers_received_12m, handover_value_kept)."""
    months = check_months(months)
    targets = [month_index(m) for m in months]
    h = handovers(owners)
    h = h.assign(mi=month_indexes(h["month"]), n=1.0, team=h["rep_id"].map(reps.set_index("rep_id")["team"]))
    parts = []
    for role, name in (("given", "handovers_given_12m"), ("received", "handovers_received_12m")):
        r = h[h["role"] == role]
        for level, key, df in (("rep", "rep_id", r), ("team", "team", r.dropna(subset=["team"]))):
            w = over_windows(df, [key], ["n"], targets).rename(columns={key: "id", "n": name})
            parts.append(_labelled(w).assign(level=level))
    events = h[["mi", "customer_id"]].drop_duplicates().assign(id=COMPANY, n=1.0)
    parts.append(_labelled(over_windows(events, ["id"], ["n"], targets)).rename(
        columns={"n": "handovers_given_12m"}).assign(level="company", handovers_received_12m=lambda d: d[
            "handovers_given_12m"]))
    wide = pd.concat(parts, ignore_index=True).groupby(["month", "level", "id"], sort=True).sum(min_count=1)
    kept = _value_kept(h[h["role"] == "received"], customers, targets, handover_months)
    return wide.reset_index().merge(kept, on=["month", "level", "id"], how="outer")


def _value_kept(received, customers, targets, K) -> pd.DataFrame:
    require(customers, "customers", ["month", "customer_id", "clv"])
    clv = customers[["month", "customer_id", "clv"]].assign(mi=month_indexes(customers["month"]))
    r = received.merge(clv[["mi", "customer_id", "clv"]], on=["mi", "customer_id"], how="inner")
    later = clv.assign(mi=clv["mi"] - K)[["mi", "customer_id", "clv"]].rename(columns={"clv": "clv_later"})
    r = r.merge(later, on=["mi", "customer_id"], how="inner")
    r = r.assign(v0=r["share"] * r["clv"], v1=r["share"] * r["clv_later"])
    parts = []
    for level, key, df in (("rep", "rep_id", r), ("team", "team", r.dropna(subset=["team"])),
                           ("company", "id", r.assign(id=COMPANY))):
        w = over_windows(df, [key], ["v0", "v1"], targets, lag=K).rename(columns={key: "id"})
        parts.append(_labelled(w).assign(level=level))
    out = pd.concat(parts, ignore_index=True)
    out["handover_value_kept"] = ratio(out["v1"], out["v0"].where(out["v0"] > 0))
    return out[["month", "level", "id", "handover_value_kept"]]


def collaboration_score(wide: pd.DataFrame, reps: pd.DataFrame, months, as_of=None) -> pd.DataFrame:
    """``collaboration_score`` (0-100) of each employed sales rep and of each team (see the module)."""
    ends = month_ends(months, as_of)
    emp = employed(reps, ends).rename(columns={"rep_id": "id"})
    r = emp.merge(wide[wide["level"] == "rep"], on=["month", "id"], how="left")
    r = r.fillna({"shared_accounts_12m": 0.0, "shared_margin_12m": 0.0})
    pct = []
    for col in ("shared_accounts_12m", "shared_margin_12m", "handover_value_kept"):
        rank = r.groupby("month")[col].rank(method="average")
        n = r.groupby("month")[col].transform("count")
        pct.append(np.where(n > 1, (rank - 1) / (n - 1).where(n > 1), np.where(rank.notna(), 1.0, np.nan)))
    pct = np.vstack(pct)
    have = ~np.isnan(pct)
    r["collaboration_score"] = 100.0 * ratio(np.where(have, pct, 0.0).sum(axis=0), have.sum(axis=0))
    r["team"] = r["id"].map(reps.set_index("rep_id")["team"])
    t = r.dropna(subset=["team"]).groupby(["month", "team"])["collaboration_score"].mean().reset_index()
    out = pd.concat([r[["month", "id", "collaboration_score"]].assign(level="rep"),
                     t.rename(columns={"team": "id"}).assign(level="team")], ignore_index=True)
    return to_long(out, ["collaboration_score"])


def collaboration(orders, credit, reps, owners, customers, months, as_of=None, handover_months: int = 6) -> pd.DataFrame:
    """Long rows of every collaboration KPI: ``shared_accounts_12m``, ``shared_margin_12m``,
    ``handovers_given_12m``, ``handovers_received_12m``, ``handover_value_kept``, ``collaboration_score``
    (definitions in the module docstring)."""
    months = check_months(months)
    wide = shared_accounts(orders, credit, reps, months)
    if owners is not None and customers is not None:
        wide = wide.merge(handover_kpis(owners, customers, reps, months, handover_months),
                          on=["month", "level", "id"], how="outer")
    measures = [c for c in wide.columns if c not in ("month", "level", "id")]
    return pd.concat([to_long(wide, measures), collaboration_score(wide, reps, months, as_of)], ignore_index=True)
