"""Attribution: who gets the credit for an order, and who owns a customer on a given day.

Two attributions are used in the workbook, and every figure says which:

* **booking** (``credit_lines``) — the reps who made the sale: the order's split credit when it has
  one, else the order's ``rep_id``. A credit note follows its original invoice. Used for sales, margin
  and commission. An order without a rep is credited to the account's owner(s) on the order date
  already on load (``clvlib.sources.credit``, each one listed in ``repairs.csv``), so the orders table
  itself names every rep who gets credit.
* **ownership** (``owners_on`` / ``current_owners``) — who holds the account: the ownership rows valid
  on a date, handovers and shared accounts included. Used for a customer's future value (CLV) and a
  rep's book of customers.
"""
from __future__ import annotations

import pandas as pd

from clvlib.arrow import isin


def owners_on(ownership: pd.DataFrame, keys: pd.DataFrame, customer_col: str = "customer_id",
              date_col: str = "date") -> pd.DataFrame:
    """Ownership rows valid on each (customer, date) in ``keys``: adds ``rep_id`` and ``share``.

    A key with no valid ownership row is returned with ``rep_id`` missing.
    """
    k = keys[[customer_col, date_col]].drop_duplicates()
    m = k.merge(ownership[["customer_id", "rep_id", "share", "valid_from", "valid_to"]],
                left_on=customer_col, right_on="customer_id", how="left", suffixes=("", "_own"))
    valid = (m["valid_from"] <= m[date_col]) & (m["valid_to"].isna() | (m[date_col] <= m["valid_to"]))
    hit = m[valid]
    miss = k.merge(hit[[customer_col, date_col]].drop_duplicates(), how="left", indicator=True)
    miss = miss[miss["_merge"] == "left_only"].drop(columns="_merge")
    out = pd.concat([hit[[customer_col, date_col, "rep_id", "share"]], miss.assign(rep_id=pd.NA, share=1.0)],
                    ignore_index=True)
    return out


def current_owners(ownership: pd.DataFrame, as_of, orders: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each customer's owner(s) on ``as_of``: customer_id, rep_id, share (shares of a customer sum to 1).

    Customers whose ownership has lapsed (no valid row) fall back to the last rep who booked an order
    for them, when ``orders`` is given.
    """
    as_of = pd.Timestamp(as_of)
    own = ownership[(ownership["valid_from"] <= as_of)
                    & (ownership["valid_to"].isna() | (ownership["valid_to"] >= as_of))]
    own = own[["customer_id", "rep_id", "share"]].copy()
    own["share"] = own["share"] / own.groupby("customer_id")["share"].transform("sum")
    if orders is not None and len(orders):
        last = (orders[orders["rep_id"].notna() & (orders["order_date"] <= as_of)]
                .sort_values("order_date").drop_duplicates("customer_id", keep="last"))
        lapsed = last[~isin(last["customer_id"], own["customer_id"])]
        own = pd.concat([own, lapsed[["customer_id", "rep_id"]].assign(share=1.0)], ignore_index=True)
    return own.reset_index(drop=True)


def primary_owner(owners: pd.DataFrame) -> pd.Series:
    """customer_id -> the rep with the largest share (ties: the lowest rep_id)."""
    o = owners.sort_values(["customer_id", "share", "rep_id"], ascending=[True, False, True])
    return o.drop_duplicates("customer_id").set_index("customer_id")["rep_id"]


def credit_lines(orders: pd.DataFrame, splits: pd.DataFrame, ownership: pd.DataFrame | None = None) -> pd.DataFrame:
    """Booking attribution: one row per (order, rep) with ``share`` and ``basis``.

    Parameters
    ----------
    orders : DataFrame
        order_id, rep_id, doc_type, original_order_id (as ``clvlib.sources.load_inputs`` gives them).
    splits : DataFrame
        order_id, rep_id, share: split credit, shares of an order summing to 1 (the lines read from the
        split file, and those added on load for a shared account's orders without a rep).
    ownership : DataFrame, optional
        Not used. Kept so that existing calls ``credit_lines(orders, splits, ownership)`` keep working:
        the owner of an order without a rep is found on load, not here.

    Returns
    -------
    DataFrame
        order_id, rep_id, share, basis — ``basis`` is ``split`` (the order's split credit) or ``booking``
        (its rep_id, share 1). A credit note is credited like the invoice it corrects: by that invoice's
        split credit when it has one, else by its own split lines or rep_id (on load it took the
        invoice's rep). Shares of each order sum to 1.

    Raises
    ------
    DataError
        An order with neither a rep_id nor split credit (orders from ``load_inputs`` always have one).

    Examples
    --------
    >>> o = pd.DataFrame({"order_id": ["A", "B", "K"], "rep_id": ["R1", None, None],
    ...                   "doc_type": ["invoice", "invoice", "credit_note"], "original_order_id": [None, None, "B"]})
    >>> s = pd.DataFrame({"order_id": ["B", "B"], "rep_id": ["R1", "R2"], "share": [0.6, 0.4]})
    >>> credit_lines(o, s).values.tolist()
    [['B', 'R1', 0.6, 'split'], ['B', 'R2', 0.4, 'split'], ['K', 'R1', 0.6, 'split'], ['K', 'R2', 0.4, 'split'], ['A', 'R1', 1.0, 'booking']]
    """
    o = orders[["order_id", "rep_id", "doc_type", "original_order_id"]].copy()
    s = splits[["order_id", "rep_id", "share"]].rename(columns={"order_id": "credit_key"})
    o["credit_key"] = o["order_id"]                  # a credit note is credited like the invoice it corrects
    cn = (o["doc_type"] == "credit_note") & isin(o["original_order_id"], s["credit_key"])
    o.loc[cn, "credit_key"] = o.loc[cn, "original_order_id"]
    split = isin(o["credit_key"], s["credit_key"])
    a = o.loc[split, ["order_id", "credit_key"]].merge(s, on="credit_key")[["order_id", "rep_id", "share"]]
    rest = o[~split]
    if rest["rep_id"].isna().any():
        from clvlib.errors import DataError

        oid = rest.loc[rest["rep_id"].isna(), "order_id"].iloc[0]
        raise DataError(f"order {oid} has neither a rep_id nor split credit; orders read by "
                        "clvlib.sources.load_inputs always have one — read the inputs again")
    b = rest[["order_id", "rep_id"]].assign(share=1.0)
    return pd.concat([a.assign(basis="split"), b.assign(basis="booking")], ignore_index=True)
