"""Repairs: accepted rows whose values intake changed rather than took as given — each one on record.

A repair is never silent. Every changed value is one line of ``repairs.csv`` (``Repairs.frame``): the
table, the source file and row, the column, the value before and after, the rule, and the reason as a
sentence (``reason``, with ``reason_args`` for translation; see ``clvlib.sources.reasons``). A repaired
row is an accepted row, so ``rows_read = rows_accepted + rows_quarantined`` still holds; rows that intake
*adds* (split credit from a shared account's ownership shares) are counted as ``rows_added``.

The rules (``rule`` codes, which are also the keys of ``reasons.REPAIR``):

``default_filled``          an empty cell of an optional column gets the data contract's default
                            (e.g. ``cost_of_goods`` 0, ``status`` booked, ``share`` 1)
``empty_mapped``            an empty cell gets the value the sources file maps empty to (``""`` or ``"*"``
                            under ``values:``)
``negative_invoice``        a negative invoice is a credit note (``doc_type``)
``credit_note_sign``        a credit note's amount and cost of goods count as negative
``credit_note_follows_invoice``  a credit note takes its original invoice's customer and rep
``rep_from_owner``          a booked order without rep and split credit is credited to the account's owner
                            on the order date
``rep_from_shared_owners``  ... to the largest-share owner of a shared account, with
``owner_split_added``       split-credit lines added with the ownership shares
``duplicates_collapsed``    identical copies of a row are used once (the copies are quarantined)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.sources.readers import FILE, ROW
from clvlib.sources.reasons import REPAIR, args_json, at_rows, render

#: short English names of the repair rules (the reports translate them: ``intake.repair_rule.*``)
RULES = {
    "default_filled": "empty cells given the data contract's default",
    "empty_mapped": "empty cells given the value the sources file maps empty to",
    "negative_invoice": "negative invoices counted as credit notes",
    "credit_note_sign": "credit-note amounts and costs counted as negative",
    "credit_note_follows_invoice": "credit notes given their original invoice's customer and rep",
    "rep_from_owner": "orders without a rep credited to the account's owner on the order date",
    "rep_from_shared_owners": "orders without a rep on a shared account credited to its largest-share owner",
    "owner_split_added": "split-credit lines added from the ownership shares of a shared account",
    "duplicates_collapsed": "identical rows used once",
}


class Repairs:
    """Collects repaired values: (table, row position, column, before, after, rule, reason)."""

    COLUMNS = ["table", "source_file", "source_row", "column", "value_before", "value_after", "rule", "reason",
               "reason_args"]

    def __init__(self):
        self._parts: list[pd.DataFrame] = []

    def add(self, table: str, frame: pd.DataFrame, mask, column: str, rule: str, *, before, after,
            args: dict | None = None, of: str | None = None):
        """Record that ``column`` of the rows of ``frame`` at ``mask`` changed from ``before`` to ``after``.

        ``before``/``after`` and the ``args`` of the reason (``reasons.REPAIR[rule]``; ``column``,
        ``before`` and ``after`` are given to it too) are scalars or Series aligned with ``frame``.
        ``of``: the table whose rows ``frame`` holds, when the repaired row is one intake added to
        ``table`` (a split line added for an order): it stays on record only while that row is accepted.
        """
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        sub = frame.loc[mask]
        vals = {"column": column, "before": at_rows(before, mask, frame.index),
                "after": at_rows(after, mask, frame.index)}
        vals.update({k: at_rows(v, mask, frame.index) for k, v in (args or {}).items()})
        self._parts.append(pd.DataFrame({
            "table": table, "_of": of or table, "_pos": sub.index.to_numpy(), "source_file": sub[FILE].to_numpy(),
            "source_row": sub[ROW].to_numpy(), "column": column, "value_before": vals["before"],
            "value_after": vals["after"], "rule": rule, "reason": render(REPAIR[rule], vals),
            "reason_args": "[" + args_json(rule, vals) + "]"}))

    def frame(self, set_aside: dict[str, np.ndarray]) -> pd.DataFrame:
        """Every repair of a row that is accepted (``set_aside``: table -> quarantined row positions)."""
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c == "source_row" else object) for c in self.COLUMNS})
        r = pd.concat(self._parts, ignore_index=True)
        gone = np.zeros(len(r), dtype=bool)
        for table, pos in set_aside.items():
            gone |= (r["_of"] == table).to_numpy() & np.isin(r["_pos"].to_numpy(), pos)
        r = r[~gone]
        r["source_row"] = r["source_row"].astype("int64")
        return r.sort_values(["table", "source_file", "source_row"], kind="stable")[self.COLUMNS].reset_index(
            drop=True)

    def rows(self, table: str, set_aside: np.ndarray) -> int:
        """How many accepted rows of ``table`` (read from its files) have at least one repaired value."""
        pos = [p["_pos"].to_numpy() for p in self._parts if p["table"].iat[0] == table and p["_of"].iat[0] == table]
        if not pos:
            return 0
        return int(np.setdiff1d(np.unique(np.concatenate(pos)), set_aside).size)


def summary(repairs: pd.DataFrame) -> pd.DataFrame:
    """One line per (table, rule, column): how many rows were repaired, the first one as the example
    (its reason, ``example_args`` for translation, file and row); most frequent first."""
    cols = ["table", "rule", "column", "rows", "example", "example_args", "source_file", "source_row"]
    if repairs.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("rows", "source_row") else object) for c in cols})
    g = (repairs.groupby(["table", "rule", "column"], sort=False)
         .agg(rows=("rule", "size"), example=("reason", "first"), example_args=("reason_args", "first"),
              source_file=("source_file", "first"), source_row=("source_row", "first"))
         .reset_index().sort_values(["rows", "table"], ascending=[False, True], kind="stable"))
    return g[cols].reset_index(drop=True)
