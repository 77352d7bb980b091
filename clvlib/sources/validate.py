"""Check mapped rows against the data contract: every row is accepted or quarantined with a reason.

Rules, in order (a row collects every reason that applies, then appears once in the quarantine):
0. structure — a CSV record that does not split into the header's columns (only that reason is kept);
1. parsing — a value that cannot be read as the column's kind ("not a date", "not a number"), or an
   Excel cell that holds a formula without a saved value;
2. the contract's column rules, declared once in ``clvlib.contract`` and checked with pandera —
   required values present, codes among the allowed values, numbers within limits — plus a few table
   rules pandera cannot express per column (an FX rate must be above 0, end dates after start dates);
3. table rules — exact duplicate rows collapse to one (the extra copies are quarantined as
   duplicates), rows that share a key but differ are all quarantined; split shares of an order must
   sum to 1; the shares of a customer's owners on one day must not sum to more than 1;
4. links between tables (``link``, declared as ``contract.ForeignKey``) — orders, NPS and complaints for
   known customers, reps that exist, splits for known orders; names looked up (``by_name``).

Values that are changed rather than taken as given — an empty optional cell given the contract's
default, a negative invoice counted as a credit note — are recorded in ``Repairs``
(``clvlib.sources.repairs``). Reasons are keyed templates (``clvlib.sources.reasons``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_
import pyarrow.compute as pc

from clvlib import contract
from clvlib.arrow import _as_arrow, index_in, isin  # noqa: F401  (re-exported for clvlib.sources)
from clvlib.sources import parse, reasons
from clvlib.sources.readers import FILE, PROBLEM, ROW
from clvlib.sources.repairs import Repairs
from clvlib.sources.spec import norm

UNKNOWN = "*"
RAW_TEXT = "_text"


def shared_keys(s: pd.Series) -> np.ndarray:
    """True for non-empty values that occur more than once (pyarrow dictionary encoding)."""
    arr = _as_arrow(s)
    if not len(arr) or arr.null_count == len(arr):
        return np.zeros(len(arr), dtype=bool)
    enc = pc.dictionary_encode(arr)
    idx = enc.indices.to_numpy(zero_copy_only=False)
    valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    codes = np.where(valid, np.nan_to_num(idx, nan=0), 0).astype(np.int64)
    counts = np.bincount(codes[valid], minlength=len(enc.dictionary))
    return valid & (counts[codes] > 1)


class Quarantine:
    """Collects (table, row position, column, value, reason); one output line per input row."""

    COLUMNS = ["table", "source_file", "source_row", "column", "value", "rule", "reason", "reason_args"]

    def __init__(self):
        self._parts: list[pd.DataFrame] = []
        self._final: dict[str, np.ndarray] = {}

    def add(self, table: str, frame: pd.DataFrame, mask, column: str | None, key: str, args: dict | None = None, *,
            value=None, rule: str, final: bool = False):
        """Quarantine rows of ``frame`` where ``mask``, for the reason ``reasons.QUARANTINE[key]``.

        ``args``: the reason's values, scalars or Series aligned with ``frame`` (``column`` is given to
        it too). ``value``: the offending value shown with the row (default: ``frame[column]``). ``rule``
        is a short stable code (``unknown_currency``, ``not_a_date`` ...) for grouping. ``final``: these
        rows get no further reasons (a record that could not even be split into columns).
        """
        mask = np.asarray(mask, dtype=bool)
        if table in self._final and mask.any():
            mask = mask & ~np.isin(frame.index.to_numpy(), self._final[table])
        if not mask.any():
            return
        sub = frame.loc[mask]
        if value is None and column is not None and column in frame.columns:
            value = frame[column]
        vals = {"column": column or ""}
        vals.update({k: reasons.at_rows(v, mask, frame.index) for k, v in (args or {}).items()})
        self._parts.append(pd.DataFrame({
            "table": table, "_pos": sub.index.to_numpy(), "source_file": sub[FILE].to_numpy(),
            "source_row": sub[ROW].to_numpy(), "column": column or "",
            "value": reasons.at_rows(value, mask, frame.index) if value is not None else "", "rule": rule,
            "reason": reasons.render(reasons.QUARANTINE[key], vals), "reason_args": reasons.args_json(key, vals)}))
        if final:
            self._final[table] = np.union1d(self._final.get(table, np.array([], dtype=np.int64)),
                                            sub.index.to_numpy())

    def positions(self, table: str) -> np.ndarray:
        pos = [p["_pos"].to_numpy() for p in self._parts if p["table"].iat[0] == table]
        return np.unique(np.concatenate(pos)) if pos else np.array([], dtype=np.int64)

    def frame(self) -> pd.DataFrame:
        """One line per quarantined row; a row with several reasons has them joined (``; `` in
        ``reason``, one JSON list in ``reason_args``), the first rule being its ``rule``."""
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c == "source_row" else object)
                                 for c in self.COLUMNS})
        q = pd.concat(self._parts, ignore_index=True)
        for c in ("value", "column", "reason", "rule", "source_file", "table", "reason_args"):
            q[c] = q[c].astype(object).where(q[c].notna(), "")
        multi = q.duplicated(["table", "_pos"], keep=False)
        single = q[~multi].assign(reason_args=lambda d: "[" + d["reason_args"] + "]")
        parts = [single]
        if multi.any():
            def join(sep):
                return lambda c: sep.join(dict.fromkeys(str(x) for x in c if x))
            g = q[multi].groupby(["table", "_pos"], sort=False)
            parts.append(g.agg(source_file=("source_file", "first"), source_row=("source_row", "first"),
                               column=("column", join(", ")), value=("value", join(" | ")),
                               rule=("rule", "first"), reason=("reason", join("; ")),
                               reason_args=("reason_args", lambda c: "[" + join(", ")(c) + "]")).reset_index())
        out = pd.concat(parts, ignore_index=True)
        out["source_row"] = out["source_row"].astype("int64")
        return out.sort_values(["table", "source_file", "source_row"], kind="stable")[self.COLUMNS].reset_index(
            drop=True)


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


def _reason(check: str, column: contract.Column, value: pd.Series, mapped: bool) -> tuple[str, dict]:
    """(reason key, values) for a failed contract check."""
    if check == "not_nullable":
        return "missing_value", {}
    if check.startswith("isin"):
        return ("not_allowed_mapped" if mapped else "not_allowed"), {
            "value": value.astype("string").fillna("").str.slice(0, 60), "allowed": ", ".join(column.allowed)}
    if check.startswith("in_range"):
        return "out_of_range", {"low": "" if column.min is None else f"{column.min:g}",
                                "high": "" if column.max is None else f"{column.max:g}"}
    return "invalid_check", {"check": check}


def _map_values(series: pd.Series, mapping: dict, fell_back: dict | None = None) -> tuple[pd.Series, np.ndarray]:
    """Replace file values by canonical ones (keys compared without case/space; "*" = any other value,
    empty included); values not in the map are kept, to be judged by the contract.

    Returns the values and the mask of empty cells that the map gave a value (repairs).
    ``fell_back``: filled with {file value: rows} for the values that only "*" matched.
    """
    text = parse._text(series)
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    fallback = mapping.get(UNKNOWN)
    keys = [norm(u) for u in uniques]
    out = np.array([mapping.get(k, fallback if fallback is not None else u) for k, u in zip(keys, uniques)],
                   dtype=object)
    if fell_back is not None and fallback is not None and len(uniques):
        counts = np.bincount(codes, minlength=len(uniques))
        for k, u, c in zip(keys, uniques, counts):
            if k not in mapping:
                fell_back[str(u)] = int(c)
    filled = np.array([k == "" and v not in (None, "") for k, v in zip(keys, out)], dtype=bool)
    values = pd.Series(out[codes] if len(out) else np.array([], dtype=object), index=series.index, dtype=object)
    return values, (filled[codes] if len(filled) else np.zeros(len(series), dtype=bool))


def to_canonical(table: contract.Table, raw: pd.DataFrame, source, q: Quarantine,
                 headers: dict[str, str] | None = None, consume: bool = False, notes: list | None = None,
                 repairs: Repairs | None = None) -> pd.DataFrame:
    """Parse the mapped raw rows into the table's typed columns, quarantining what cannot be read.

    ``headers``: canonical column -> the file's header it came from (named in fatal messages).
    ``consume``: drop each raw column from ``raw`` once parsed (halves the memory of big tables); ``raw``
    keeps ``_file``, ``_row`` and the other bookkeeping columns. ``notes``: gets a line for each value
    map whose "*" caught file values (so a renamed "won" stage cannot silently become "open") and for
    the columns absent from the files that get the contract's default. ``repairs``: gets every empty
    cell that was given a value (a default, or what the sources file maps empty to).
    """
    headers = headers or {}
    repairs = repairs if repairs is not None else Repairs()
    out = pd.DataFrame(index=raw.index)
    out[FILE] = raw[FILE]
    out[ROW] = raw[ROW]
    if PROBLEM in raw.columns:
        prob = raw[PROBLEM].fillna("").astype(str).ne("")
        q.add(table.name, raw, prob.to_numpy(), "", "wrong_field_count",
              {"fields": raw.get("_fields"), "header": raw.get("_header")}, value=raw.get(RAW_TEXT), rule="invalid",
              final=True)
    unreadable: dict[str, np.ndarray] = {}
    defaulted = []
    for col in table.columns:
        out[col.name] = _column(table.name, col, raw, source, q, headers, notes, repairs, unreadable)
        if col.name not in raw.columns and col.name not in source.constants and col.default is not None \
                and not source.explicit(col.name):
            defaulted.append(col)
        if consume and col.name in raw.columns and not col.allowed:
            del raw[col.name]
    if defaulted and notes is not None:
        notes.append(reasons.note("columns_defaulted", table=table.name,
                                  columns=", ".join(c.name for c in defaulted),
                                  defaults=", ".join(f"{c.name} {reasons.shown(c.default)}" for c in defaulted)))
    _contract_rules(table, out, raw, source, q, unreadable)
    if consume:
        for c in [c for c in table.column_names if c in raw.columns]:
            del raw[c]
    _table_rules(table.name, out, raw, q, repairs)
    return out


def _column(table: str, col: contract.Column, raw: pd.DataFrame, source, q: Quarantine, headers: dict,
            notes: list | None, repairs: Repairs, unreadable: dict) -> pd.Series:
    """One column's typed values; unreadable cells quarantined, empty cells of a default filled (repaired)."""
    n = len(raw)
    constant = col.name in source.constants or col.name not in raw.columns
    if constant:      # one value for every row: parse it once
        series = pd.Series([source.constants.get(col.name, col.default)], dtype=object)
    else:
        series = raw[col.name]
    mapped_empty = np.zeros(n, dtype=bool)
    if col.name in source.values:
        caught: dict = {}
        series, mapped_empty = _map_values(series, source.values[col.name], caught)
        if caught and notes is not None and not constant:
            top = sorted(caught.items(), key=lambda kv: -kv[1])[:8]
            notes.append(reasons.note(
                "star_matched", table=table, column=col.name, value=source.values[col.name][UNKNOWN],
                listed=", ".join(f"'{v}' ({k:,} row{'s' if k != 1 else ''})" for v, k in top),
                listed_n=", ".join(f"'{v}' ({k:,})" for v, k in top)))
    values, bad, key, rule = _parse(col, series, source, raw, headers)
    why = bad.attrs.get("why", {}) if isinstance(bad, pd.Series) else {}
    if constant:
        values, bad = _broadcast(values, n, raw.index), np.full(n, bool(np.asarray(bad)[0]))
        series = _broadcast(series.astype(object).where(series.notna(), None).astype(str).where(
            series.notna(), None), n, raw.index)
        mapped_empty = np.zeros(n, dtype=bool)
    bad = np.asarray(bad, dtype=bool)
    if col.kind in ("money", "number") and col.name in source.scale:
        values = values * source.scale[col.name]
    if col.kind == "number" and col.name in source.invert:
        zero = values.eq(0).fillna(False).to_numpy(dtype=bool)
        values = (1.0 / values.where(~zero)).round(12)
        if zero.any():
            q.add(table, raw, zero, col.name, "zero_cannot_invert", value=series, rule="out_of_range")
            unreadable[col.name] = zero
    if bad.any():
        _unreadable(table, col.name, raw, bad, key, why, series, rule, q)
        values = values.where(~bad)
        unreadable[col.name] = unreadable.get(col.name, np.zeros(n, bool)) | bad
    formula = raw.get(FORMULA + col.name)
    if formula is not None and formula.notna().any():
        has = formula.notna().to_numpy()
        q.add(table, raw, has, col.name, "formula_without_value", {"formula": formula.astype(str).str.slice(0, 60)},
              value=formula, rule="formula_without_value")
        unreadable[col.name] = unreadable.get(col.name, np.zeros(n, bool)) | has
    if col.kind in ("id", "code", "text"):
        values = values.where(values != "")
    if mapped_empty.any():
        repairs.add(table, raw, mapped_empty & ~bad, col.name, "empty_mapped", before="", after=values)
    if not col.required and col.default is not None and col.kind != "date":
        empty = values.isna().to_numpy() & ~bad & ~unreadable.get(col.name, np.zeros(n, bool))
        if not constant and empty.any():
            repairs.add(table, raw, empty, col.name, "default_filled", before="", after=reasons.shown(col.default))
        values = values.fillna(col.default)
    return values


def _unreadable(table: str, column: str, raw: pd.DataFrame, bad: np.ndarray, key: str, why: dict,
                series: pd.Series, rule: str, q: Quarantine):
    """Quarantine the cells of one column that cannot be read: the kind's reason, or each cell's own."""
    own = np.zeros(len(raw), dtype=bool)
    if why:
        by_key: dict[str, list] = {}
        for i, (k, a) in why.items():
            by_key.setdefault(k, []).append((i, a))
        for k, items in by_key.items():
            idx = [i for i, _ in items]
            args = {name: pd.Series([a[name] for _, a in items], index=idx, dtype=object).reindex(raw.index)
                    for name in items[0][1]}
            mask = raw.index.isin(idx) & bad
            q.add(table, raw, mask, column, k, args, value=series, rule=rule)
            own |= mask
    q.add(table, raw, bad & ~own, column, key, value=series, rule=rule)


FORMULA = "_formula:"        # raw column prefix: the formula text of a cell that holds no saved value


def _contract_rules(table: contract.Table, out: pd.DataFrame, raw: pd.DataFrame, source, q: Quarantine,
                    unreadable: dict):
    """The contract's column rules (required, allowed codes, limits), checked by pandera, all at once."""
    schema = _SCHEMAS.setdefault(table.name, _pandera_schema(table))
    try:
        schema.validate(out[table.column_names], lazy=True)
    except pa.errors.SchemaErrors as e:
        fc = e.failure_cases
        fc = fc[fc["index"].notna()]
        for (colname, check), grp in fc.groupby(["column", "check"], sort=False):
            mask = out.index.isin(grp["index"].astype(int))
            if colname in unreadable:          # already quarantined as unreadable: one reason is enough
                mask &= ~unreadable[colname]
            col = table.column(colname)
            shown = raw[colname] if colname in raw.columns else out[colname]
            key, args = _reason(str(check), col, shown, colname in source.values)
            q.add(table.name, raw, mask, colname, key, args, value=shown, rule=_rule(str(check)))


def _parse(col: contract.Column, series: pd.Series, source, raw: pd.DataFrame, headers: dict):
    """(values, bad, reason key, rule) for one column; ``bad.attrs['why']`` may hold per-row reasons."""
    from clvlib.errors import DataError

    kind = col.kind
    if kind == "date":
        why: dict = {}
        try:
            values, bad = parse.parse_date(series, source.date_order, why=why)
        except parse.AmbiguousDates as e:
            i = e.example
            if len(series) != len(raw):
                raise DataError(f"{e} (the constant for {col.name})") from None
            raise DataError(str(e), file=_path(source, raw.at[i, FILE]), row=int(raw.at[i, ROW]),
                            column=headers.get(col.name, col.name)) from None
        bad = pd.Series(np.asarray(bad, dtype=bool), index=series.index)
        bad.attrs["why"] = why
        return values, bad, "not_a_date", "not_a_date"
    if kind == "month":
        return (*parse.parse_month(series, source.date_order), "not_a_month", "not_a_date")
    if kind == "money":
        return (*parse.parse_number(series, source.decimal), "not_a_number", "not_a_number")
    if kind == "number":
        return (*parse.parse_number(series, source.decimal, percent=True), "not_a_number", "not_a_number")
    if kind == "int":
        return (*parse.parse_int(series), "not_a_whole_number", "not_a_number")
    if kind == "id":
        return (*parse.parse_id(series), "", "")
    if kind == "code":
        return (*parse.parse_code(series, upper=col.name in ("currency", "country")), "", "")
    return (*parse.parse_text(series), "", "")


def _broadcast(one: pd.Series, n: int, index) -> pd.Series:
    """A one-value Series repeated ``n`` times (cheaply: no per-row Python objects)."""
    v = one.iloc[0]
    if isinstance(one.dtype, pd.StringDtype) or pd.api.types.is_string_dtype(one.dtype) or one.dtype == object:
        missing = v is None or v is pd.NA or (isinstance(v, float) and v != v)
        arr = pa_.nulls(n, pa_.large_string()) if missing else pa_.repeat(pa_.scalar(str(v), pa_.large_string()), n)
        return pd.Series(pd.arrays.ArrowStringArray(arr), index=index)
    return pd.Series(np.repeat(one.to_numpy(), n), index=index).astype(one.dtype)


def _path(source, name: str):
    if hasattr(source, "where"):
        return source.where(name)
    return source.folder / name if getattr(source, "folder", None) is not None else name


def _table_rules(name: str, t: pd.DataFrame, raw: pd.DataFrame, q: Quarantine, repairs: Repairs):
    if name == "orders":
        _order_signs(t, raw, repairs)
    elif name == "fx_rates":
        zero = (t["rate"] == 0).fillna(False).to_numpy(dtype=bool)
        q.add(name, raw, zero, "rate", "zero_rate", value=t["rate"], rule="out_of_range")
    elif name == "reps":
        back = (t["leave_date"].notna() & t["hire_date"].notna() & (t["leave_date"] < t["hire_date"]))
        q.add(name, raw, back.to_numpy(dtype=bool), "leave_date", "leave_before_hire", rule="dates_reversed")
    elif name == "ownership":
        back = t["valid_to"].notna() & t["valid_from"].notna() & (t["valid_to"] < t["valid_from"])
        q.add(name, raw, back.to_numpy(dtype=bool), "valid_to", "valid_to_before_from", rule="dates_reversed")


def _order_signs(t: pd.DataFrame, raw: pd.DataFrame, repairs: Repairs):
    """Sign conventions: a negative invoice is a credit note; a credit note's amount and cost are negative."""
    neg = (t["amount"] < 0).fillna(False).to_numpy(dtype=bool)
    turn = neg & (t["doc_type"] == "invoice").fillna(False).to_numpy(dtype=bool)
    if turn.any():
        repairs.add("orders", t, turn, "doc_type", "negative_invoice", before="invoice", after="credit_note",
                    args={"amount": t["amount"].map("{:,.2f}".format)})
        t.loc[turn, "doc_type"] = "credit_note"
    cn = (t["doc_type"] == "credit_note").fillna(False).to_numpy(dtype=bool)
    for col in ("amount", "cost_of_goods"):
        pos = cn & (t[col] > 0).fillna(False).to_numpy(dtype=bool)
        if pos.any():
            repairs.add("orders", t, pos, col, "credit_note_sign", before=t[col], after=-t[col])
            t.loc[pos, col] = -t.loc[pos, col]


def set_aside_where(canon: pd.DataFrame, gone: np.ndarray, column: str) -> pd.Series:
    """id -> 'row 12' (or 'file row 12') for the ids of ``column`` whose rows were all set aside
    (``gone``: their positions)."""
    if not len(gone):
        return pd.Series(dtype=object)
    out = canon.index.isin(gone)
    g = canon.loc[out, [column, FILE, ROW]]
    g = g[g[column].notna().to_numpy()]
    if g.empty:
        return pd.Series(dtype=object)
    col = canon[column]
    still = col[~out & isin(col, g[column])]            # ids that also have an accepted row
    g = g[~isin(g[column], still)]
    if g.empty:
        return pd.Series(dtype=object)
    several = canon[FILE].nunique() > 1
    rows = g[ROW].astype("int64").astype(str)
    if several:
        return (g[FILE].astype(str) + " row " + rows).groupby(g[column].astype(str).to_numpy()).agg(", ".join)
    joined = rows.groupby(g[column].astype(str).to_numpy()).agg(list)
    return joined.map(lambda r: ("rows " if len(r) > 1 else "row ") + ", ".join(r))


def _where(frame: pd.DataFrame, index) -> pd.Series:
    """'row 12' (one file) or 'orders-2026-02.csv row 12' (several) for rows of ``frame``."""
    sub = frame.loc[index]
    rows = sub[ROW].astype("int64").astype(str)
    if frame[FILE].nunique() > 1:
        return sub[FILE].astype(str) + " row " + rows
    return "row " + rows


def _rows_listed(frame: pd.DataFrame, index: np.ndarray, groups: np.ndarray) -> pd.Series:
    """group -> 'rows 2, 3' (one file) or 'a.csv row 2, b.csv row 7' (several), for rows of ``frame``."""
    several = frame[FILE].nunique() > 1
    rows = frame.loc[index, ROW].astype("int64").astype(str)
    label = (frame.loc[index, FILE].astype(str) + " row " + rows) if several else rows
    listed = pd.Series(label.to_numpy(), index=index).groupby(groups).agg(", ".join)
    if several:
        return listed
    n = pd.Series(groups).groupby(groups).size().reindex(listed.index)
    return pd.Series(np.where(n.to_numpy() > 1, "rows ", "row "), index=listed.index) + listed


def duplicates(table: contract.Table, canon: pd.DataFrame, raw: pd.DataFrame, q: Quarantine,
               repairs: Repairs | None = None):
    """Exact duplicates collapse to the first copy; same key with different values: all quarantined.

    Every row whose key could be read takes part, even a row set aside for another reason: a second,
    broken copy of an order number still means the source does not agree with itself. The copies are
    quarantined (``duplicate_row``) and the row kept is on record as repaired (``duplicates_collapsed``).
    """
    if not table.key:
        return
    cols = table.column_names
    key = list(table.key)
    if len(key) == 1:
        shared = shared_keys(canon[key[0]])
    else:
        keyed = canon[key].notna().all(axis=1).to_numpy()
        shared = keyed & canon[key].duplicated(keep=False).to_numpy()
    if shared.sum() < 2:
        return
    c = canon.loc[shared, cols]                    # only rows whose key occurs more than once
    exact = c.duplicated(keep="first")
    if exact.any():
        _collapse(table, canon, raw, c, exact, q, repairs)
    c = c[~exact.to_numpy()]
    clash = c.duplicated(subset=key, keep=False)
    if clash.any():
        idx = c.index[clash.to_numpy()]
        several = canon[FILE].nunique() > 1
        rows = canon.loc[idx, ROW].astype("int64").astype(str)
        label = (canon.loc[idx, FILE].astype(str) + " row " + rows) if several else rows
        keys = c.loc[idx, key].astype(str).agg("\x1f".join, axis=1)
        listed = label.groupby(keys.to_numpy()).transform(", ".join)
        where = pd.Series("", index=canon.index, dtype=object)
        where[idx] = (("" if several else "rows ") + listed).to_numpy()
        q.add(table.name, raw, canon.index.isin(idx), table.key[0], "conflicting_duplicate",
              {"key_column": "/".join(table.key), "where": where}, value=canon[table.key[0]], rule="conflicting_duplicate")


def _collapse(table: contract.Table, canon: pd.DataFrame, raw: pd.DataFrame, c: pd.DataFrame, exact: pd.Series,
              q: Quarantine, repairs: Repairs | None):
    """Quarantine the extra copies of identical rows; record the kept copy as used once."""
    ex = exact.to_numpy()
    grp = c.groupby(table.column_names, dropna=False, sort=False).ngroup()
    first = pd.Series(c.index, index=c.index).groupby(grp.to_numpy()).transform("first")
    where = pd.Series("", index=canon.index, dtype=object)
    where[c.index[ex]] = _where(canon, first[ex].to_numpy()).to_numpy()
    q.add(table.name, raw, canon.index.isin(c.index[ex]), table.key[0], "duplicate_row", {"where": where},
          value=canon[table.key[0]], rule="duplicate_row")
    if repairs is None:
        return
    copies = first.groupby(first.to_numpy()).size()
    kept = copies.index.to_numpy()
    listed = _rows_listed(canon, c.index.to_numpy(), first.to_numpy())
    n = pd.Series(0, index=canon.index)
    n[kept] = copies.to_numpy()
    shown = pd.Series("", index=canon.index, dtype=object)
    shown[kept] = listed.reindex(kept).to_numpy()
    repairs.add(table.name, canon, canon.index.isin(kept), table.key[0], "duplicates_collapsed",
                before=n.astype(str) + " identical rows", after="used once", args={"n": n, "where": shown})


def split_sums(splits: pd.DataFrame, raw: pd.DataFrame, q: Quarantine):
    """Shares of one order must sum to 1; a split with a line set aside is set aside as a whole."""
    gone = q.positions("order_splits")
    alive = splits.index.difference(gone)
    s = splits.loc[alive]
    total = s.groupby("order_id")["share"].transform("sum")
    bad = ((total - 1.0).abs() > 1e-6).to_numpy()
    if not bad.any():
        return
    lost = splits.loc[splits.index.isin(gone) & isin(splits["order_id"], s.loc[bad, "order_id"])]
    lost_where = {}
    if len(lost):
        lost_where = _where(splits, lost.index).groupby(lost["order_id"].astype(str).to_numpy()).agg(", ".join)
        lost_where = lost_where.to_dict()
    sb = s[bad]
    oid = sb["order_id"].astype(str)
    args = {"order": oid, "total": total[bad].round(4).astype(str), "where": oid.map(lost_where)}
    line_lost = oid.isin(list(lost_where)).to_numpy()
    for key, m in (("split_line_set_aside", line_lost), ("split_not_one", ~line_lost)):
        q.add("order_splits", raw, splits.index.isin(sb.index[m]), "share", key,
              {k: v.reindex(splits.index) for k, v in args.items()}, value=splits["share"], rule="split_not_one")


def ownership_overlaps(own: pd.DataFrame, raw: pd.DataFrame, q: Quarantine):
    """The shares of a customer's owners valid on one day must not sum to more than 1.

    The sum is highest on the day one of the rows starts, so each row's ``valid_from`` is checked: every
    row valid on a day whose shares exceed 1 is quarantined (a handover that overlaps by a day, or a
    shared account whose shares add up to 150 %, cannot decide who gets the credit).
    """
    gone = q.positions("ownership")
    s = own.loc[own.index.difference(gone), ["customer_id", "share", "valid_from", "valid_to"]]
    s = s[s["customer_id"].notna() & s["valid_from"].notna() & s["share"].notna()]
    several = s["customer_id"].duplicated(keep=False)
    s = s[several.to_numpy()]
    if s.empty:
        return
    p = s.rename_axis("_at").reset_index().merge(s.rename_axis("_row").reset_index(), on="customer_id",
                                                 suffixes=("", "_o"))
    p = p[(p["valid_from_o"] <= p["valid_from"]) & (p["valid_to_o"].isna() | (p["valid_to_o"] >= p["valid_from"]))]
    total = p.groupby("_at")["share_o"].sum()
    over = total[total > 1 + 1e-9]
    if over.empty:
        return
    hit = p[p["_at"].isin(over.index)].sort_values(["valid_from", "_at", "_row"], kind="stable")
    listed = _rows_listed(own, hit["_row"].to_numpy(), hit["_at"].to_numpy())
    first = hit.drop_duplicates("_row")                        # each row: the first day it is over 1
    at = first["_at"].to_numpy()
    args = {"customer": pd.Series(own.loc[at, "customer_id"].to_numpy(), index=first["_row"].to_numpy()),
            "date": pd.Series(own.loc[at, "valid_from"].dt.strftime("%Y-%m-%d").to_numpy(), index=first["_row"].to_numpy()),
            "total": pd.Series(over.reindex(at).round(4).map("{:g}".format).to_numpy(), index=first["_row"].to_numpy()),
            "where": pd.Series(listed.reindex(at).to_numpy(), index=first["_row"].to_numpy())}
    q.add("ownership", raw, own.index.isin(first["_row"]), "share", "ownership_over_one",
          {k: v.reindex(own.index) for k, v in args.items()}, value=own["share"], rule="ownership_over_one")


def link(child: pd.DataFrame, raw: pd.DataFrame, table: str, column: str, parent_ids: pd.Index,
         q: Quarantine, what: str, set_aside: pd.Series | None = None, skip=None):
    """Rows whose ``column`` is not among ``parent_ids`` are quarantined ("unknown customer ...").

    ``what``: customer | rep | order (the reason names it). ``set_aside``: id -> where it was set aside
    ('row 12'), for ids that exist in the source but were themselves quarantined — the reason says so.
    ``skip``: rows already quarantined for this column.
    """
    vals = child[column]
    missing = ~isin(vals, parent_ids) & vals.notna().to_numpy()   # an empty id is reported as missing, not here
    if skip is not None:
        missing &= ~np.asarray(skip, dtype=bool)
    if not missing.any():
        return
    hit = np.zeros(len(child), dtype=bool)
    if set_aside is not None and len(set_aside):
        hit = missing & isin(vals, pd.Index(set_aside.index.astype(str)))
        if hit.any():
            q.add(table, raw, hit, column, f"{what}_set_aside",
                  {"id": vals, "where": vals.astype(object).map(set_aside)}, value=vals, rule=f"unknown_{what}")
    q.add(table, raw, missing & ~hit, column, f"unknown_{what}", value=vals, rule=f"unknown_{what}")


def resolve_names(child: pd.DataFrame, raw: pd.DataFrame, table: str, column: str, flags: np.ndarray,
                  parent: pd.DataFrame, parent_col: str, q: Quarantine, what: str) -> np.ndarray:
    """Replace names by ids where ``flags`` (rows whose file gave names); returns rows quarantined here.

    A name matches a parent row by ``norm`` (case and spaces ignored); a name shared by parents with
    different ids is ambiguous; an unknown name is reported as such. ``what``: customer | rep.
    """
    flags = np.asarray(flags, dtype=bool) & child[column].notna().to_numpy()
    done = np.zeros(len(child), dtype=bool)
    if not flags.any():
        return done
    ids_of: dict[str, list] = {}
    p = parent[[parent_col, "name"]].dropna()
    for name, pid in zip(p["name"].astype(str), p[parent_col].astype(str)):
        lst = ids_of.setdefault(norm(name), [])
        if pid not in lst:
            lst.append(pid)
    vals = child.loc[flags, column].astype(str)
    codes, names = pd.factorize(vals)
    uniq = {v: ids_of.get(norm(v), []) for v in names}
    n_ids = pd.Series(np.array([len(uniq[v]) for v in names], dtype=np.int64)[codes], index=vals.index)
    first = np.array([uniq[v][0] if uniq[v] else "" for v in names], dtype=object)[codes]
    one = n_ids.eq(1).to_numpy()
    if one.any():
        child.loc[vals.index[one], column] = first[one]
    val = child[column].astype("string")
    many = child.index.isin(vals.index[n_ids.gt(1).to_numpy()])
    none = child.index.isin(vals.index[n_ids.eq(0).to_numpy()])
    ids = pd.Series([", ".join(uniq[v][:5]) for v in vals], index=vals.index).reindex(child.index)
    q.add(table, raw, many, column, f"{what}_name_ambiguous", {"name": val, "ids": ids}, value=val,
          rule=f"unknown_{what}")
    q.add(table, raw, none, column, f"{what}_name_unknown", {"name": val}, value=val, rule=f"unknown_{what}")
    return many | none
