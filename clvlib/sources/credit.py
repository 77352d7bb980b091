"""Who gets the credit, settled on load: the orders table itself names the rep(s) credited.

* A booked order (invoice, or a credit note whose original is not in the orders) with no ``rep_id`` and
  no split credit is credited to the customer's owner on the order date (``attribution.owners_on``):
  one owner fills ``rep_id``; a shared account fills ``rep_id`` with the largest share (ties: the lowest
  id) and adds split-credit lines with the owners' shares. Each is a repair. With nobody owning the
  account that day the order is quarantined.
* A credit note is credited like its original invoice: it takes the invoice's customer and rep (a
  repair where they differ); one whose invoice was set aside waits with it (quarantined); one whose
  invoice is not in the orders at all (older than the export) keeps its own, and a note says how many.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.attribution import owners_on
from clvlib.sources import reasons
from clvlib.sources.readers import FILE, ROW
from clvlib.sources.repairs import Repairs
from clvlib.sources.validate import Quarantine, index_in, isin, set_aside_where

SPLIT_COLUMNS = ["order_id", "rep_id", "share"]


def _follows_an_invoice(o: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """Credit notes that name an original document present in the orders (set aside or not), among
    ``rows`` (positions; default all)."""
    rows = np.arange(len(o)) if rows is None else rows
    cn = ((o["doc_type"].iloc[rows] == "credit_note").fillna(False).to_numpy(dtype=bool)
          & o["original_order_id"].iloc[rows].notna().to_numpy())
    out = np.zeros(len(rows), dtype=bool)
    if cn.any():
        out[cn] = isin(o["original_order_id"].iloc[rows[cn]], o["order_id"].dropna())
    return out


def reps_from_owners(o: pd.DataFrame, q: Quarantine, repairs: Repairs, splits: pd.DataFrame,
                     ownership: pd.DataFrame, *, following: bool = False) -> pd.DataFrame:
    """Fill ``rep_id`` of booked orders without rep and split credit from the account's owners.

    ``splits`` and ``ownership`` are the accepted rows. ``following``: False — the orders that do not
    follow an original invoice (run this first); True — credit notes that follow one and still have no
    rep after taking the invoice's (an invoice that is not booked has none). Changes ``o`` in place;
    returns the split-credit lines added for shared accounts (order_id, rep_id, share, the order's
    ``_file``/``_row``).
    """
    none = pd.DataFrame(columns=SPLIT_COLUMNS + [FILE, ROW])
    cand = np.flatnonzero(~o.index.isin(q.positions("orders")) & o["rep_id"].isna().to_numpy()
                          & (o["status"] == "booked").fillna(False).to_numpy(dtype=bool)
                          & o["customer_id"].notna().to_numpy() & o["order_date"].notna().to_numpy())
    if not len(cand):
        return none
    follows = _follows_an_invoice(o, cand)
    key = np.where(follows, o["original_order_id"].iloc[cand].astype(object), o["order_id"].iloc[cand].astype(object))
    keep = (follows if following else ~follows) & ~isin(pd.Series(key, dtype=object), splits["order_id"].dropna())
    need = np.zeros(len(o), dtype=bool)
    need[cand[keep]] = True
    if not need.any():
        return none
    keys = o.loc[need, ["customer_id", "order_date"]].rename(columns={"order_date": "date"})
    own = owners_on(ownership, keys)
    m = keys.rename_axis("_pos").reset_index().merge(own, on=["customer_id", "date"], how="left")
    date = keys["date"].dt.strftime("%Y-%m-%d")
    nobody = o.index.isin(m.loc[m["rep_id"].isna(), "_pos"])
    q.add("orders", o, nobody, "rep_id", "no_rep_no_owner", {"customer": o["customer_id"], "date": date},
          value=o["rep_id"], rule="no_owner")
    m = m[m["rep_id"].notna()].copy()
    if m.empty:
        return pd.DataFrame(columns=SPLIT_COLUMNS + [FILE, ROW])
    m["share"] = m["share"].fillna(1.0)
    m["share"] = m["share"] / m.groupby("_pos")["share"].transform("sum")
    m = m.sort_values(["_pos", "share", "rep_id"], ascending=[True, False, True], kind="stable")
    n = m.groupby("_pos")["rep_id"].transform("size")
    first = m.drop_duplicates("_pos").set_index("_pos")
    owners = (m["rep_id"].astype(str) + " " + (m["share"] * 100).round(2).map("{:g}%".format)).groupby(
        m["_pos"].to_numpy()).agg(", ".join)
    count = n.groupby(m["_pos"].to_numpy()).first()
    rep = first["rep_id"].reindex(o.index)
    one = o.index.isin(count.index[count.eq(1)])
    several = o.index.isin(count.index[count.gt(1)])
    repairs.add("orders", o, one, "rep_id", "rep_from_owner", before="", after=rep, args={"date": date})
    repairs.add("orders", o, several, "rep_id", "rep_from_shared_owners", before="", after=rep,
                args={"date": date, "n": count.reindex(o.index), "owners": owners.reindex(o.index)})
    o.loc[one | several, "rep_id"] = rep[one | several].to_numpy()
    return _owner_lines(o, m[n.gt(1).to_numpy()], date, repairs)


def _owner_lines(o: pd.DataFrame, m: pd.DataFrame, date: pd.Series, repairs: Repairs) -> pd.DataFrame:
    """The split-credit lines of shared accounts (one per owner), each on record as a repair."""
    pos = m["_pos"].to_numpy()
    lines = pd.DataFrame({"order_id": o.loc[pos, "order_id"].to_numpy(), "rep_id": m["rep_id"].to_numpy(),
                          "share": m["share"].to_numpy(), FILE: o.loc[pos, FILE].to_numpy(),
                          ROW: o.loc[pos, ROW].to_numpy()}, index=pd.Index(pos))
    if len(lines):
        after = lines["rep_id"].astype(str) + " " + lines["share"].round(6).map("{:g}".format)
        repairs.add("order_splits", lines, np.ones(len(lines), dtype=bool), "share", "owner_split_added",
                    before="", after=after, args={"order": lines["order_id"], "date": date.reindex(lines.index)},
                    of="orders")
    return lines.reset_index(drop=True)


def credit_notes_follow(o: pd.DataFrame, q: Quarantine, repairs: Repairs, notes: list):
    """A credit note reduces the revenue and margin of its original invoice's customer and rep.

    One whose original invoice was set aside waits with it (it would otherwise reduce figures for a sale
    that is not counted); one whose original is not in the orders at all (older than the export) is
    kept and reduces its own customer's and rep's figures.
    """
    if o.empty:
        return
    live = ~o.index.isin(q.positions("orders"))
    cn = ((o["doc_type"] == "credit_note").fillna(False).to_numpy(dtype=bool)
          & o["original_order_id"].notna().to_numpy() & live)
    if not cn.any():
        return
    cn_rows = np.flatnonzero(cn)
    orig = o["original_order_id"].iloc[cn_rows]
    inv = live & (o["doc_type"] == "invoice").fillna(False).to_numpy(dtype=bool)
    inv &= isin(o["order_id"], orig)                  # only the invoices that credit notes name
    inv_rows = np.flatnonzero(inv)
    at = index_in(orig, o["order_id"].iloc[inv_rows])
    found = at >= 0
    if found.any():
        _take_invoice_credit(o, cn_rows[found], inv_rows[at[found]], repairs)
    rest = cn_rows[~found]
    if len(rest):
        where = set_aside_where(o, q.positions("orders"), "order_id")
        miss = o["original_order_id"].iloc[rest]
        waits = isin(miss, pd.Index(where.index.astype(str)))
        if waits.any():
            mask = o.index.isin(o.index[rest[waits]])
            oid = o["original_order_id"]
            q.add("orders", o, mask, "original_order_id", "credit_note_waits",
                  {"order": oid, "where": oid.astype(object).map(where)}, value=oid, rule="unknown_order")
        if (~waits).any():
            notes.append(reasons.note("credit_note_original_missing", n=f"{int((~waits).sum()):,}"))


def _take_invoice_credit(o: pd.DataFrame, cn_rows: np.ndarray, inv_rows: np.ndarray, repairs: Repairs):
    """Copy the customer and rep of each original invoice (positions ``inv_rows``) to its credit note
    (``cn_rows``); each value that changes is a repair."""
    for col in ("customer_id", "rep_id"):
        old = o[col].iloc[cn_rows].to_numpy(dtype=object)
        new = o[col].iloc[inv_rows].to_numpy(dtype=object)
        gap_old, gap_new = pd.isna(old), pd.isna(new)
        same = gap_old & gap_new
        both = ~gap_old & ~gap_new
        same[both] = (old[both] == new[both]).astype(bool)
        changed = ~same
        if not changed.any():
            continue
        rows = cn_rows[changed]
        sub = o[[FILE, ROW, "original_order_id"]].iloc[rows]
        repairs.add("orders", sub, np.ones(len(rows), dtype=bool), col, "credit_note_follows_invoice",
                    before=old[changed], after=new[changed], args={"order": sub["original_order_id"]})
        o.iloc[rows, o.columns.get_loc(col)] = new[changed]
