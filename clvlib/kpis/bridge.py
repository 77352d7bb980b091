"""The book's CLV and its bridge between month ends; the won / lost / retained events for pay plans.

**Book CLV** of a rep at a month end: Σ over the customers of the book of round(share × CLV) (to the
cent, half to even); team: its reps' books; company: every owned customer.

**Bridge** from month end m-1 to m, per (customer, rep) pair with shares s0 (at m-1, 0 if absent), s1
(at m) and the customer's CLV c0 (at m-1) and c1 (at m), in cents v0 = round(s0 c0), v1 = round(s1 c1):

* ``transferred`` = round((s1 - s0) · c0): the share that moved to or from the rep, priced at the CLV
  *before* the move (a handover out is -s0·c0, in +s1·c0; a customer becoming co-owned moves half);
* the rest, v1 - v0 - transferred (= the change of the account's value on the rep's current share),
  is ``new`` when the customer was not a customer at m-1 (won in month m), ``lost`` when it was lost in
  month m (``lost_after_days`` since its last invoice passed in the month), else ``existing``.

So book_clv(m) - book_clv(m-1) = existing + new + lost + transferred **exactly** (integer cents) for
every rep, team and the company, and over a span the sum of the monthly bridges. *Refinement of the
WAVE design*: WAVE puts a share change between two owners in ``existing`` and an incoming transfer at
the new CLV; here transfers are priced at the CLV before the move, so the receiving rep answers for the
month's change on the account (``existing``) and the company's transfers add up to zero.

``clv_built_12m`` = existing + new + lost over the 12 monthly bridges ending at m (transfers excluded:
a handover builds nothing); ``clv_rank`` ranks the sales reps employed at m by it (1 = most built).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.errors import DataError
from clvlib.kpis.common import (COMPANY, check_months, employed, month_ends, month_index, month_indexes, month_label,
                                month_labels, months_of, require, to_long)
from clvlib.kpis.sales import commission_rank, first_invoices

BRIDGE_COLUMNS = ["month", "rep_id", "customer_id", "part", "amount", "amount_cents", "tier"]
EVENT_COLUMNS = ["month", "customer_id", "event", "rep_id", "share", "tier", "order_id", "value"]
PARTS = ("existing", "new", "lost", "transferred")


def cents(x) -> np.ndarray:
    """Money to integer cents, rounded half to even (one rule for every line)."""
    return np.rint(np.asarray(x, dtype=float) * 100.0).astype(np.int64)


def lost_events(orders: pd.DataFrame, lost_after_days: int = 365, as_of=None) -> pd.DataFrame:
    """Every time a customer was **lost**: an invoice day with no invoice in the ``lost_after_days``
    after it (the definition of ``clvlib.overview.customer_flow``), lost on that day + lost_after_days
    (known only once that day has passed: not after ``as_of``). customer_id, lost_date, month,
    order_id (the last invoice before it)."""
    inv = orders[orders["doc_type"] == "invoice"][["customer_id", "order_date", "order_id"]]
    inv = inv.sort_values(["customer_id", "order_date", "order_id"]).drop_duplicates(["customer_id", "order_date"],
                                                                                     keep="last")
    nxt = inv.groupby("customer_id")["order_date"].shift(-1)
    lost_date = inv["order_date"] + pd.Timedelta(days=lost_after_days)
    ev = inv[nxt.isna() | (nxt > lost_date)].assign(lost_date=lost_date)
    if as_of is not None:
        ev = ev[ev["lost_date"] <= pd.Timestamp(as_of)]
    ev = ev.assign(month=month_labels(pd.Series(months_of(ev["lost_date"]), index=ev.index)).astype(str))
    return ev[["customer_id", "lost_date", "month", "order_id"]].reset_index(drop=True)


def _book_values(customers, owners) -> pd.DataFrame:
    """(month, customer_id, rep_id, share, clv, cents) for the book pairs of customers with a CLV."""
    require(customers, "customers", ["month", "customer_id", "clv"])
    require(owners, "owners", ["month", "customer_id", "rep_id", "share"])
    bad = customers["clv"].isna()
    if bad.any():
        first = customers[bad].iloc[0]
        raise DataError(f"customers: clv is missing in {int(bad.sum())} rows (first: month {first['month']}, "
                        f"customer {first['customer_id']}); the CLV bridge needs every customer's value")
    o = owners.groupby(["month", "customer_id", "rep_id"], sort=False)["share"].sum().reset_index()
    b = o.merge(customers[["month", "customer_id", "clv"]], on=["month", "customer_id"])
    return b.assign(cents=cents(b["share"] * b["clv"]))


def bridge_months(customers, owners, months) -> list[str]:
    """The months m of ``months`` that have a bridge: m and m-1 both in ``customers`` and ``owners``."""
    have = set(customers["month"].unique()) & set(owners["month"].unique())
    return [m for m in check_months(months) if m in have and month_label(month_index(m) - 1) in have]


def bridge_lines(customers, owners, orders, tiers, months, as_of=None, lost_after_days: int = 365) -> pd.DataFrame:
    """Customer-level bridge lines ``month, rep_id, customer_id, part, amount, amount_cents, tier`` for
    each month of ``bridge_months`` (see the module). Lines of zero are left out."""
    bm = bridge_months(customers, owners, months)
    if not bm:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "amount_cents" else object) for c in BRIDGE_COLUMNS})
    prev_label = {month_label(month_index(m) - 1): m for m in bm}
    b = _book_values(customers, owners)
    cur = b[b["month"].isin(bm)]
    prev = b[b["month"].isin(list(prev_label))].assign(month=lambda d: d["month"].map(prev_label))
    pairs = prev.merge(cur, on=["month", "customer_id", "rep_id"], how="outer", suffixes=("0", "1"))
    c0 = customers[customers["month"].isin(list(prev_label))][["month", "customer_id", "clv"]]
    c0 = c0.assign(month=c0["month"].map(prev_label)).rename(columns={"clv": "c0"})
    pairs = pairs.merge(c0, on=["month", "customer_id"], how="left")
    s0, s1 = pairs["share0"].fillna(0.0).to_numpy(), pairs["share1"].fillna(0.0).to_numpy()
    v0, v1 = pairs["cents0"].fillna(0).to_numpy(np.int64), pairs["cents1"].fillna(0).to_numpy(np.int64)
    known = pairs["c0"].notna().to_numpy()
    transfer = np.where(known, cents((s1 - s0) * pairs["c0"].fillna(0.0).to_numpy()), 0)
    change = v1 - v0 - transfer
    lost = lost_events(orders, lost_after_days, as_of)[["month", "customer_id"]].drop_duplicates().assign(lost=True)
    is_lost = pairs[["month", "customer_id"]].merge(lost, how="left")["lost"].notna().to_numpy()
    part = np.where(~known, "new", np.where(is_lost, "lost", "existing"))
    key = pairs[["month", "rep_id", "customer_id"]]
    lines = pd.concat([key.assign(part="transferred", amount_cents=transfer)[transfer != 0],
                       key.assign(part=part, amount_cents=change)[change != 0]], ignore_index=True)
    lines["amount"] = lines["amount_cents"] / 100.0
    t = tiers[["month", "customer_id", "tier"]] if tiers is not None else pd.DataFrame(
        columns=["month", "customer_id", "tier"])
    lines = lines.merge(t, on=["month", "customer_id"], how="left")
    return lines.sort_values(["month", "rep_id", "customer_id", "part"]).reset_index(drop=True)[BRIDGE_COLUMNS]


def _by_level(df: pd.DataFrame, value_cols, reps, ends) -> pd.DataFrame:
    """Rep, team and company sums of rep-keyed rows (month, rep_id, cols); the service and supply-chain
    colleagues employed at the month end get their team's row."""
    team_of = reps.set_index("rep_id")["team"]
    rep = df.groupby(["month", "rep_id"])[value_cols].sum().reset_index().rename(columns={"rep_id": "id"})
    team = (df.assign(id=df["rep_id"].map(team_of)).dropna(subset=["id"]).groupby(["month", "id"])[value_cols]
            .sum().reset_index())
    comp = df.groupby("month")[value_cols].sum().reset_index().assign(id=COMPANY)
    roles = reps.set_index("rep_id")["role"].fillna("sales")
    helpers = employed(reps, ends, role=None)
    helpers = helpers[helpers["rep_id"].map(roles).isin(["service", "supply_chain"])]
    helpers = helpers.assign(team=helpers["rep_id"].map(team_of))
    col = helpers.merge(team.rename(columns={"id": "team"}), on=["month", "team"]).drop(columns="team")
    col = col.rename(columns={"rep_id": "id"})
    return pd.concat([rep.assign(level="rep"), col.assign(level="rep"), team.assign(level="team"),
                      comp.assign(level="company")], ignore_index=True)


def book_clv(customers, owners, reps, months, as_of=None) -> pd.DataFrame:
    """``book_clv``: the CLV of the book at the month end, Σ round(share × CLV) over its customers (a
    service or supply-chain colleague: their team's book); ``book_customers`` the share-weighted number
    of customers in it."""
    months = check_months(months)
    b = _book_values(customers[customers["month"].isin(months)], owners[owners["month"].isin(months)])
    b = b.assign(book_clv=b["cents"].astype(float), book_customers=b["share"])
    wide = _by_level(b, ["book_clv", "book_customers"], reps, month_ends(months, as_of))
    wide["book_clv"] = wide["book_clv"] / 100.0
    return to_long(wide, ["book_clv", "book_customers"])


def clv_bridge(lines: pd.DataFrame, reps, months, bridged, as_of=None) -> pd.DataFrame:
    """The month's bridge (``clv_change_<part>_1m``), the 12 months' (``clv_change_<part>``, only
    when all 12 monthly bridges ending at m exist), ``clv_built_12m`` and ``clv_rank``, at the rep,
    team and company levels, from ``bridge_lines``; ``bridged`` are the months that have a bridge
    (``bridge_months``)."""
    months = check_months(months)
    have = sorted(set(bridged))
    if not have:
        return to_long(pd.DataFrame(columns=["month", "level", "id"]), [])
    g = lines.groupby(["month", "rep_id", "part"])["amount_cents"].sum().unstack("part")
    wide_1m = g.reindex(columns=list(PARTS)).fillna(0).astype(np.int64).reset_index()
    lv = _by_level(wide_1m, list(PARTS), reps, month_ends(have, as_of))
    lv["mi"] = month_indexes(lv["month"])
    out = []
    for m in months:
        i = month_index(m)
        span = lv[(lv["mi"] > i - 12) & (lv["mi"] <= i)]
        row = lv[lv["mi"] == i][["level", "id", *PARTS]].rename(columns={p: f"clv_change_{p}_1m" for p in PARTS})
        full = len({month_label(j) for j in range(i - 11, i + 1)} & set(have)) == 12
        tot = span.groupby(["level", "id"])[list(PARTS)].sum().reset_index()
        tot = tot.rename(columns={p: f"clv_change_{p}" for p in PARTS})
        if not full:
            tot[[f"clv_change_{p}" for p in PARTS]] = np.nan
        out.append(row.merge(tot, on=["level", "id"], how="outer").assign(month=m))
    wide = pd.concat(out, ignore_index=True)
    money = [c for c in wide.columns if c.startswith("clv_change_")]
    wide[money] = wide[money].astype(float) / 100.0
    wide["clv_built_12m"] = wide[["clv_change_existing", "clv_change_new", "clv_change_lost"]].sum(axis=1, min_count=3)
    ranks = commission_rank(wide, reps, months, as_of, measure="clv_built_12m", name="clv_rank")
    ranks = ranks[ranks["month"].isin(wide.loc[wide["clv_built_12m"].notna(), "month"])]
    return pd.concat([to_long(wide, money + ["clv_built_12m"]), ranks], ignore_index=True)


def bridge_between(lines: pd.DataFrame, reps, start: str, end: str, as_of=None) -> pd.DataFrame:
    """Each rep's, team's and the company's CLV change from the end of month ``start`` to the end of
    month ``end``: the sum of the monthly bridges of the months after ``start`` up to ``end``, one
    column per part (``existing, new, lost, transferred``) and ``total`` (book_clv(end) -
    book_clv(start), exactly, when every month in between has a bridge). Money in the reporting
    currency, summed from integer cents."""
    lo, hi = month_index(start), month_index(end)
    mi = month_indexes(lines["month"])
    x = lines[(mi > lo) & (mi <= hi)]
    g = x.groupby(["rep_id", "part"])["amount_cents"].sum().unstack("part")
    g = g.reindex(columns=list(PARTS)).fillna(0).astype(np.int64).reset_index().assign(month=end)
    wide = _by_level(g, list(PARTS), reps, month_ends([end], as_of))
    wide["total"] = wide[list(PARTS)].sum(axis=1)
    for c in [*PARTS, "total"]:
        wide[c] = wide[c] / 100.0
    return wide[["level", "id", *PARTS, "total"]].reset_index(drop=True)


def events(orders, credit, owners, customers, tiers, months, as_of=None, lost_after_days: int = 365) -> pd.DataFrame:
    """Events for the pay plans: ``month, customer_id, event, rep_id, share, tier, order_id, value``.

    * ``won``: the month of the customer's first invoice (``order_id``); reps and shares by the credit
      of that invoice; value = the customer's CLV at that month end.
    * ``lost``: the customer was lost in the month (see ``lost_events``; ``order_id`` = its last
      invoice); reps and shares of the book at the month end; value = its CLV at the end of the month
      before (what was at stake).
    * ``retained``: an anniversary month of the first invoice (12·k months later, k >= 1) with an
      invoice in the 12 months ending then (``order_id`` = the latest); reps of the book; value = CLV
      at the month end.

    ``tier`` = the customer's tier at that month end; value is the whole customer's CLV (not times the
    share). Values are missing where ``customers`` lacks the month.
    """
    months = check_months(months)
    require(orders, "orders", ["order_id", "order_date", "customer_id", "doc_type"])
    first = first_invoices(orders)
    first["month"] = month_labels(first["mi"])
    won = first[first["month"].isin(months)].merge(credit[["order_id", "rep_id", "share"]], on="order_id")
    won = won.assign(event="won")
    lost = lost_events(orders, lost_after_days, as_of)
    lost = lost[lost["month"].isin(months)].assign(event="lost")
    retained = _retained(orders, first, months, as_of).assign(event="retained")
    book = owners[["month", "customer_id", "rep_id", "share"]]
    booked = pd.concat([lost, retained], ignore_index=True).merge(book, on=["month", "customer_id"], how="left")
    ev = pd.concat([won, booked], ignore_index=True)
    clv = customers[["month", "customer_id", "clv"]]
    nxt = {m: month_label(month_index(m) + 1) for m in clv["month"].unique()}
    prev = clv.assign(month=clv["month"].map(nxt)).rename(columns={"clv": "prev"})
    ev = ev.merge(clv, on=["month", "customer_id"], how="left").merge(prev, on=["month", "customer_id"], how="left")
    ev["value"] = np.where(ev["event"] == "lost", ev["prev"], ev["clv"])
    t = tiers[["month", "customer_id", "tier"]] if tiers is not None else pd.DataFrame(
        columns=["month", "customer_id", "tier"])
    ev = ev.merge(t, on=["month", "customer_id"], how="left")
    order = {"won": 0, "retained": 1, "lost": 2}
    ev = ev.assign(_o=ev["event"].map(order)).sort_values(["month", "_o", "customer_id", "rep_id"])
    return ev[EVENT_COLUMNS].reset_index(drop=True)


def _retained(orders, first, months, as_of) -> pd.DataFrame:
    """(month, customer_id, order_id) of the anniversary months with an invoice in the 12 months to them."""
    inv = orders[orders["doc_type"] == "invoice"][["customer_id", "order_date", "order_id"]]
    if as_of is not None:
        inv = inv[inv["order_date"] <= pd.Timestamp(as_of)]
    inv = inv.assign(mi=months_of(inv["order_date"]))
    rows = []
    for m in months:
        i = month_index(m)
        due = first[(first["mi"] < i) & ((i - first["mi"]) % 12 == 0)][["customer_id"]]
        w = inv[(inv["mi"] > i - 12) & (inv["mi"] <= i) & inv["customer_id"].isin(due["customer_id"])]
        last = w.sort_values(["order_date", "order_id"]).drop_duplicates("customer_id", keep="last")
        rows.append(last[["customer_id", "order_id"]].assign(month=m))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["month", "customer_id", "order_id"])
