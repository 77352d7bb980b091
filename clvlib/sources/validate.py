"""Check mapped rows against the data contract: every row is accepted or quarantined with a reason.

Rules, in order (a row collects every reason that applies, then appears once in the quarantine):
1. parsing — a value that cannot be read as the column's kind ("not a date", "not a number");
2. the contract's column rules, declared once in ``clvlib.contract`` and checked with pandera —
   required values present, codes among the allowed values, numbers within limits;
3. table rules — exact duplicate rows collapse to one (the extra copies are quarantined as
   duplicates), rows that share a key but differ are all quarantined; split shares of an order must
   sum to 1;
4. links between tables (``link``) — orders, NPS and complaints for known customers, reps that exist,
   splits for known orders; and the FX conversion (``clvlib.money``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from clvlib import contract
from clvlib.sources import parse
from clvlib.sources.readers import FILE, ROW

UNKNOWN = "*"


class Quarantine:
    """Collects (table, row position, column, value, reason); one output line per input row."""

    COLUMNS = ["table", "source_file", "source_row", "column", "value", "rule", "reason"]

    def __init__(self):
        self._parts: list[pd.DataFrame] = []

    def add(self, table: str, frame: pd.DataFrame, mask, column: str | None, reason, value=None, *, rule: str):
        """Quarantine rows of ``frame`` where ``mask``; ``reason``/``value`` scalars or aligned Series.

        ``rule`` is a short stable code (``unknown_currency``, ``not_a_date`` ...) for grouping and
        translation; ``reason`` is the sentence a person reads.
        """
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        sub = frame.loc[mask]
        def pick(x):
            if isinstance(x, pd.Series):
                return x.reindex(frame.index)[mask].astype("string").fillna("").to_numpy()
            return x
        if value is None and column is not None and column in frame.columns:
            value = frame[column]
        self._parts.append(pd.DataFrame({
            "table": table, "_pos": sub.index.to_numpy(), "source_file": sub[FILE].to_numpy(),
            "source_row": sub[ROW].to_numpy(), "column": column or "",
            "value": pick(value) if value is not None else "", "rule": rule, "reason": pick(reason)}))

    def positions(self, table: str) -> np.ndarray:
        pos = [p["_pos"].to_numpy() for p in self._parts if (p["table"] == table).any()]
        return np.unique(np.concatenate(pos)) if pos else np.array([], dtype=int)

    def frame(self) -> pd.DataFrame:
        if not self._parts:
            return pd.DataFrame(columns=self.COLUMNS)
        q = pd.concat(self._parts, ignore_index=True)
        q["value"] = q["value"].astype("string").fillna("")
        q["column"] = q["column"].astype("string").fillna("")
        g = q.groupby(["table", "_pos"], sort=False)
        out = g.agg(source_file=("source_file", "first"), source_row=("source_row", "first"),
                    column=("column", lambda c: ", ".join(dict.fromkeys(x for x in c if x))),
                    value=("value", lambda v: " | ".join(dict.fromkeys(x for x in v if x))),
                    rule=("rule", "first"),
                    reason=("reason", lambda r: "; ".join(dict.fromkeys(r)))).reset_index()
        return out.sort_values(["table", "source_file", "source_row"])[self.COLUMNS].reset_index(drop=True)


def _pandera_schema(table: contract.Table) -> pa.DataFrameSchema:
    cols = {}
    for c in table.columns:
        checks = []
        if c.allowed:
            checks.append(pa.Check.isin(list(c.allowed)))
        if c.min is not None or c.max is not None:
            lo = -np.inf if c.min is None else c.min
            hi = np.inf if c.max is None else c.max
            checks.append(pa.Check.in_range(lo, hi))
        cols[c.name] = pa.Column(checks=checks, nullable=not c.required, required=False)
    return pa.DataFrameSchema(cols)


_SCHEMAS: dict[str, pa.DataFrameSchema] = {}


def _rule(check: str) -> str:
    if check == "not_nullable":
        return "missing_value"
    if check.startswith("isin"):
        return "not_allowed"
    if check.startswith("in_range"):
        return "out_of_range"
    return "invalid"


def _reason(check: str, column: contract.Column) -> str:
    if check == "not_nullable":
        return f"{column.name} is empty (required)"
    if check.startswith("isin"):
        return f"{column.name} must be one of {', '.join(column.allowed)}"
    if check.startswith("in_range"):
        lo = "" if column.min is None else f"{column.min:g}"
        hi = "" if column.max is None else f"{column.max:g}"
        return f"{column.name} must be between {lo} and {hi}"
    return f"{column.name} fails {check}"


def to_canonical(table: contract.Table, raw: pd.DataFrame, source, q: Quarantine, reporting_currency: str):
    """Parse the mapped raw rows into the table's typed columns, quarantining what cannot be read."""
    out = pd.DataFrame(index=raw.index)
    out[FILE] = raw[FILE]
    out[ROW] = raw[ROW]
    unreadable: dict[str, pd.Series] = {}
    for col in table.columns:
        if col.name in source.constants:
            series = pd.Series([source.constants[col.name]] * len(raw), index=raw.index, dtype=object)
        elif col.name in raw.columns:
            series = raw[col.name]
        else:
            series = pd.Series([col.default] * len(raw), index=raw.index, dtype=object)
        if col.name in source.values:
            series = _map_values(series, source.values[col.name])
        kind = col.kind
        if kind == "date":
            values, bad = parse.parse_date(series, source.date_order, file=source.pattern, column=col.name)
            why, rule = "not a date", "not_a_date"
        elif kind == "money":
            values, bad = parse.parse_number(series, source.decimal)
            why, rule = "not a number", "not_a_number"
        elif kind == "number":
            values, bad = parse.parse_number(series, source.decimal, percent=True)
            why, rule = "not a number", "not_a_number"
        elif kind == "int":
            values, bad = parse.parse_int(series)
            why, rule = "not a whole number", "not_a_number"
        elif kind == "id":
            values, bad = parse.parse_id(series)
            why = rule = ""
        elif kind == "code":
            values, bad = parse.parse_code(series, upper=col.name in ("currency", "country"))
            why = rule = ""
        else:
            values, bad = parse.parse_text(series)
            why = rule = ""
        if bad.any():
            q.add(table.name, raw, bad, col.name, f"{col.name}: {why}", value=series.astype("string"), rule=rule)
            values = values.where(~bad)
            unreadable[col.name] = bad
        if kind in ("id", "code", "text"):
            values = values.where(values != "")
        if not col.required and col.default is not None:
            values = values.fillna(col.default) if kind not in ("date",) else values
        out[col.name] = values
    schema = _SCHEMAS.setdefault(table.name, _pandera_schema(table))
    try:
        schema.validate(out[table.column_names], lazy=True)
    except pa.errors.SchemaErrors as e:
        fc = e.failure_cases
        fc = fc[fc["index"].notna()]
        for (colname, check), grp in fc.groupby(["column", "check"], sort=False):
            mask = out.index.isin(grp["index"].astype(int))
            if colname in unreadable:          # already quarantined as unreadable: one reason is enough
                mask &= ~unreadable[colname].to_numpy()
            col = table.column(colname)
            q.add(table.name, raw, mask, colname, _reason(str(check), col), value=raw.get(colname, out[colname]),
                  rule=_rule(str(check)))
    if table.name == "orders":
        _orders_rules(out)
    return out


def _map_values(series: pd.Series, mapping: dict) -> pd.Series:
    text = parse._text(series)
    fallback = mapping.get(UNKNOWN)
    mapped = text.map(lambda v: mapping.get(v, mapping.get(v.lower(), fallback if fallback is not None else v)))
    return mapped.astype(object)


def _orders_rules(o: pd.DataFrame):
    """Sign conventions: a credit note is negative; a negative invoice line is a credit note."""
    neg = o["amount"] < 0
    o.loc[neg & (o["doc_type"] == "invoice"), "doc_type"] = "credit_note"
    cn = o["doc_type"] == "credit_note"
    o.loc[cn, "amount"] = -o.loc[cn, "amount"].abs()
    o.loc[cn, "cost_of_goods"] = -o.loc[cn, "cost_of_goods"].abs()


def duplicates(table: contract.Table, canon: pd.DataFrame, raw: pd.DataFrame, q: Quarantine):
    """Exact duplicates collapse to the first copy; same key with different values: all quarantined."""
    if not table.key:
        return
    cols = table.column_names
    alive = canon.index.difference(q.positions(table.name))
    c = canon.loc[alive]
    exact = c.duplicated(subset=cols, keep="first")
    if exact.any():
        first_row = c.groupby(cols, dropna=False, sort=False)[ROW].transform("first")
        q.add(table.name, raw.loc[alive], exact.to_numpy(), table.key[0],
              "exact duplicate of row " + first_row[exact].astype(int).astype(str) + " (collapsed to one)",
              value=c[table.key[0]], rule="duplicate_row")
        c = c[~exact]
    clash = c.duplicated(subset=list(table.key), keep=False)
    if clash.any():
        rows = c[clash].groupby(list(table.key), dropna=False, sort=False)[ROW].transform(
            lambda r: ", ".join(r.astype(int).astype(str)))
        keyname = "/".join(table.key)
        mask = canon.index.isin(c.index[clash])
        reason = pd.Series("", index=canon.index, dtype=object)
        reason[c.index[clash]] = (f"conflicting rows share the same {keyname} (rows " + rows + "); "
                                  "none is used until the source is corrected")
        q.add(table.name, raw, mask, table.key[0], reason, value=canon[table.key[0]].astype("string"),
              rule="conflicting_duplicate")


def split_sums(splits: pd.DataFrame, raw: pd.DataFrame, q: Quarantine):
    alive = splits.index.difference(q.positions("order_splits"))
    s = splits.loc[alive]
    total = s.groupby("order_id")["share"].transform("sum")
    bad = (total - 1.0).abs() > 1e-6
    if bad.any():
        mask = splits.index.isin(s.index[bad])
        reason = pd.Series("", index=splits.index, dtype=object)
        reason[s.index[bad]] = ("shares of order " + s.loc[bad, "order_id"].astype(str) + " sum to "
                                + total[bad].round(4).astype(str)
                                + ", not 1; the order is credited to its own rep_id instead")
        q.add("order_splits", raw, mask, "share", reason, value=splits["share"].astype("string"),
              rule="split_not_one")


def link(child: pd.DataFrame, raw: pd.DataFrame, table: str, column: str, parent_ids: pd.Index,
         q: Quarantine, what: str, optional: bool = False, set_aside: pd.Index | None = None):
    """Rows whose ``column`` is not among ``parent_ids`` are quarantined ("unknown customer ...").

    ``set_aside``: ids that exist in the source but were themselves quarantined — the reason says so.
    """
    vals = child[column]
    missing = ~vals.isin(parent_ids)
    if optional:
        missing &= vals.notna()
    if missing.any():
        reason = pd.Series(f"unknown {what} (not in the {what} list)", index=child.index, dtype=object)
        if set_aside is not None:
            reason[vals.isin(set_aside)] = f"its {what} was set aside (see that {what}'s quarantine line)"
        q.add(table, raw, missing.to_numpy(), column, reason, value=vals.astype("string"), rule=f"unknown_{what}")
