"""Check mapped rows against the data contract: every row is accepted or quarantined with a reason.

Rules, in order (a row collects every reason that applies, then appears once in the quarantine):
0. structure — a CSV record that does not split into the header's columns (only that reason is kept);
1. parsing — a value that cannot be read as the column's kind ("not a date", "not a number");
2. the contract's column rules, declared once in ``clvlib.contract`` and checked with pandera —
   required values present, codes among the allowed values, numbers within limits — plus a few table
   rules pandera cannot express per column (an FX rate must be above 0, end dates after start dates);
3. table rules — exact duplicate rows collapse to one (the extra copies are quarantined as
   duplicates), rows that share a key but differ are all quarantined; split shares of an order must
   sum to 1;
4. links between tables (``link``) — orders, NPS and complaints for known customers, reps that exist,
   splits for known orders, credit notes whose original invoice was not set aside; names looked up
   (``by_name``); and the FX conversion (``clvlib.money``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_
import pyarrow.compute as pc

from clvlib import contract
from clvlib.sources import parse
from clvlib.sources.readers import FILE, PROBLEM, ROW
from clvlib.sources.spec import norm

UNKNOWN = "*"
RAW_TEXT = "_text"


def _as_arrow(x) -> pa_.Array:
    arr = getattr(x, "array", x)
    if hasattr(arr, "_pa_array"):
        a = arr._pa_array
        return a.combine_chunks() if isinstance(a, pa_.ChunkedArray) else a
    return pa_.array(np.asarray(x, dtype=object), from_pandas=True)


def isin(values, members) -> np.ndarray:
    """``values.isin(members)`` for text ids, via pyarrow (pandas' string isin loops in Python).

    When ``members`` is much longer than ``values`` (5 million orders, a few thousand split lines), the
    members that occur among the values are found first, so only the short side is ever hashed.
    """
    left = _as_arrow(values)
    right = _as_arrow(members)
    if not len(left):
        return np.zeros(0, dtype=bool)
    if not len(right):
        return np.zeros(len(left), dtype=bool)
    if left.type != right.type:
        left, right = pc.cast(left, pa_.large_string()), pc.cast(right, pa_.large_string())
    if len(right) > 4 * len(left):
        right = pc.unique(pc.filter(right, pc.fill_null(pc.is_in(right, value_set=pc.unique(left)), False)))
    else:
        right = pc.unique(right)
    hit = pc.fill_null(pc.is_in(left, value_set=right, skip_nulls=True), False)
    return hit.to_numpy(zero_copy_only=False)


def index_in(values, members) -> np.ndarray:
    """Position in ``members`` of each value (-1 where absent), via pyarrow."""
    left, right = _as_arrow(values), _as_arrow(members)
    if not len(left) or not len(right):
        return np.full(len(left), -1, dtype=np.int64)
    if left.type != right.type:
        left, right = pc.cast(left, pa_.large_string()), pc.cast(right, pa_.large_string())
    return pc.fill_null(pc.index_in(left, value_set=right), -1).to_numpy(zero_copy_only=False).astype(np.int64)


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

    COLUMNS = ["table", "source_file", "source_row", "column", "value", "rule", "reason"]

    def __init__(self):
        self._parts: list[pd.DataFrame] = []
        self._final: dict[str, np.ndarray] = {}

    def add(self, table: str, frame: pd.DataFrame, mask, column: str | None, reason, value=None, *, rule: str,
            final: bool = False):
        """Quarantine rows of ``frame`` where ``mask``; ``reason``/``value`` scalars or aligned Series.

        ``rule`` is a short stable code (``unknown_currency``, ``not_a_date`` ...) for grouping and
        translation; ``reason`` is the sentence a person reads. ``final``: these rows get no further
        reasons (a record that could not even be split into columns).
        """
        mask = np.asarray(mask, dtype=bool)
        if table in self._final and mask.any():
            mask = mask & ~np.isin(frame.index.to_numpy(), self._final[table])
        if not mask.any():
            return
        sub = frame.loc[mask]

        def pick(x):
            if isinstance(x, pd.Series):
                x = x[mask] if x.index.equals(frame.index) else x.reindex(frame.index)[mask]
                return x.astype(object).where(x.notna(), "").astype(str).to_numpy()
            return x

        if value is None and column is not None and column in frame.columns:
            value = frame[column]
        self._parts.append(pd.DataFrame({
            "table": table, "_pos": sub.index.to_numpy(), "source_file": sub[FILE].to_numpy(),
            "source_row": sub[ROW].to_numpy(), "column": column or "",
            "value": pick(value) if value is not None else "", "rule": rule, "reason": pick(reason)}))
        if final:
            self._final[table] = np.union1d(self._final.get(table, np.array([], dtype=np.int64)),
                                            sub.index.to_numpy())

    def positions(self, table: str) -> np.ndarray:
        pos = [p["_pos"].to_numpy() for p in self._parts if p["table"].iat[0] == table]
        return np.unique(np.concatenate(pos)) if pos else np.array([], dtype=np.int64)

    def frame(self) -> pd.DataFrame:
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c == "source_row" else object)
                                 for c in self.COLUMNS})
        q = pd.concat(self._parts, ignore_index=True)
        for c in ("value", "column", "reason", "rule", "source_file", "table"):
            q[c] = q[c].astype(object).where(q[c].notna(), "")
        multi = q.duplicated(["table", "_pos"], keep=False)
        single = q[~multi]
        parts = [single]
        if multi.any():
            def join(sep):
                return lambda c: sep.join(dict.fromkeys(str(x) for x in c if x))
            g = q[multi].groupby(["table", "_pos"], sort=False)
            parts.append(g.agg(source_file=("source_file", "first"), source_row=("source_row", "first"),
                               column=("column", join(", ")), value=("value", join(" | ")),
                               rule=("rule", "first"), reason=("reason", join("; "))).reset_index())
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


def _reason(check: str, column: contract.Column, raw: pd.Series | None, mapped: bool):
    if check == "not_nullable":
        return f"{column.name} is empty (required)"
    if check.startswith("isin"):
        tail = (f" — map it under values.{column.name} in the sources file" if mapped else
                f" — map it with values.{column.name} in the sources file")
        if raw is not None:
            return (f"{column.name} " + _quoted(raw) + f" is not one of {', '.join(column.allowed)}" + tail)
        return f"{column.name} must be one of {', '.join(column.allowed)}" + tail
    if check.startswith("in_range"):
        lo = "" if column.min is None else f"{column.min:g}"
        hi = "" if column.max is None else f"{column.max:g}"
        return f"{column.name} must be between {lo} and {hi}"
    return f"{column.name} fails {check}"


def _quoted(s: pd.Series) -> pd.Series:
    return "'" + s.astype("string").fillna("").str.slice(0, 60) + "'"


def _map_values(series: pd.Series, mapping: dict, fell_back: dict | None = None) -> pd.Series:
    """Replace file values by canonical ones (keys compared without case/space; "*" = any other value,
    empty included); values not in the map are kept, to be judged by the contract.

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
    return pd.Series(out[codes] if len(out) else np.array([], dtype=object), index=series.index, dtype=object)


def to_canonical(table: contract.Table, raw: pd.DataFrame, source, q: Quarantine, reporting_currency: str,
                 headers: dict[str, str] | None = None, consume: bool = False, notes: list | None = None):
    """Parse the mapped raw rows into the table's typed columns, quarantining what cannot be read.

    ``headers``: canonical column -> the file's header it came from (named in fatal messages).
    ``consume``: drop each raw column from ``raw`` once parsed (halves the memory of big tables); ``raw``
    keeps ``_file``, ``_row`` and the other bookkeeping columns. ``notes``: gets a line for each value
    map whose "*" caught file values (so a renamed "won" stage cannot silently become "open").
    """
    from clvlib.errors import DataError

    headers = headers or {}
    out = pd.DataFrame(index=raw.index)
    out[FILE] = raw[FILE]
    out[ROW] = raw[ROW]
    if PROBLEM in raw.columns:
        prob = raw[PROBLEM].fillna("").astype(str).ne("")
        q.add(table.name, raw, prob.to_numpy(), "", raw[PROBLEM], value=raw.get(RAW_TEXT), rule="invalid",
              final=True)
    unreadable: dict[str, np.ndarray] = {}
    n = len(raw)
    for col in table.columns:
        kind = col.kind
        constant = col.name in source.constants or col.name not in raw.columns
        if constant:      # one value for every row: parse it once
            series = pd.Series([source.constants.get(col.name, col.default)], dtype=object)
        else:
            series = raw[col.name]
        if col.name in source.values:
            caught: dict = {}
            series = _map_values(series, source.values[col.name], caught)
            if caught and notes is not None and not constant:
                listed = ", ".join(f"'{v}' ({n:,} row{'s' if n != 1 else ''})" for v, n in
                                   sorted(caught.items(), key=lambda kv: -kv[1])[:8])
                notes.append(f"{table.name}.{col.name}: {listed} matched only \"*\" and became "
                             f"'{source.values[col.name][UNKNOWN]}' — list them in values.{col.name} if that "
                             "is wrong")
        values, bad, what, rule = _parse(col, series, source, raw, headers)
        why = bad.attrs.get("why", {}) if isinstance(bad, pd.Series) else {}
        if constant:
            values, bad = _broadcast(values, n, raw.index), np.full(n, bool(np.asarray(bad)[0]))
            series = _broadcast(series.astype(object).where(series.notna(), None).astype(str).where(
                series.notna(), None), n, raw.index)
        bad = np.asarray(bad, dtype=bool)
        if kind in ("money", "number") and col.name in source.scale:
            values = values * source.scale[col.name]
        if kind == "number" and col.name in source.invert:
            zero = values.eq(0).fillna(False).to_numpy(dtype=bool)
            values = (1.0 / values.where(~zero)).round(12)
            if zero.any():
                q.add(table.name, raw, zero, col.name, f"{col.name} is 0 and cannot be inverted",
                      value=series, rule="out_of_range")
                unreadable[col.name] = zero
        if bad.any():
            reason = f"{col.name}: {what}"
            if why:
                r = pd.Series(reason, index=raw.index, dtype=object)
                r[list(why)] = [f"{col.name}: {w}" for w in why.values()]
                reason = r
            q.add(table.name, raw, bad, col.name, reason, value=series, rule=rule)
            values = values.where(~bad)
            unreadable[col.name] = unreadable.get(col.name, np.zeros(len(raw), bool)) | bad
        if kind in ("id", "code", "text"):
            values = values.where(values != "")
        if not col.required and col.default is not None and kind != "date":
            values = values.fillna(col.default)
        out[col.name] = values
        del series, values
        if consume and col.name in raw.columns and not col.allowed:
            del raw[col.name]
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
            rawcol = raw[colname] if colname in raw.columns else None
            q.add(table.name, raw, mask, colname,
                  _reason(str(check), col, rawcol, colname in source.values),
                  value=rawcol if rawcol is not None else out[colname], rule=_rule(str(check)))
    if consume:
        for c in [c for c in table.column_names if c in raw.columns]:
            del raw[c]
    _table_rules(table.name, out, raw, q)
    return out


def _parse(col: contract.Column, series: pd.Series, source, raw: pd.DataFrame, headers: dict):
    """(values, bad, what, rule) for one column; ``bad.attrs['why']`` may hold per-row reasons."""
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
        return values, bad, "not a date", "not_a_date"
    if kind == "money":
        return (*parse.parse_number(series, source.decimal), "not a number", "not_a_number")
    if kind == "number":
        return (*parse.parse_number(series, source.decimal, percent=True), "not a number", "not_a_number")
    if kind == "int":
        return (*parse.parse_int(series), "not a whole number", "not_a_number")
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
    return source.folder / name if getattr(source, "folder", None) is not None else name


def _table_rules(name: str, t: pd.DataFrame, raw: pd.DataFrame, q: Quarantine):
    if name == "orders":
        # sign conventions: a credit note is negative; a negative invoice line is a credit note
        neg = t["amount"] < 0
        t.loc[neg & (t["doc_type"] == "invoice"), "doc_type"] = "credit_note"
        cn = t["doc_type"] == "credit_note"
        t.loc[cn, "amount"] = -t.loc[cn, "amount"].abs()
        t.loc[cn, "cost_of_goods"] = -t.loc[cn, "cost_of_goods"].abs()
    elif name == "fx_rates":
        zero = (t["rate"] == 0).fillna(False).to_numpy(dtype=bool)
        q.add(name, raw, zero, "rate", "rate must be greater than 0 (a rate of 0 would erase the amounts)",
              value=t["rate"], rule="out_of_range")
    elif name == "reps":
        back = (t["leave_date"].notna() & t["hire_date"].notna() & (t["leave_date"] < t["hire_date"]))
        q.add(name, raw, back.to_numpy(dtype=bool), "leave_date", "leave_date is before hire_date",
              rule="dates_reversed")
    elif name == "ownership":
        back = t["valid_to"].notna() & t["valid_from"].notna() & (t["valid_to"] < t["valid_from"])
        q.add(name, raw, back.to_numpy(dtype=bool), "valid_to", "valid_to is before valid_from",
              rule="dates_reversed")


def _where(frame: pd.DataFrame, index) -> pd.Series:
    """'row 12' (one file) or 'orders-2026-02.csv row 12' (several) for rows of ``frame``."""
    sub = frame.loc[index]
    rows = sub[ROW].astype("int64").astype(str)
    if frame[FILE].nunique() > 1:
        return sub[FILE].astype(str) + " row " + rows
    return "row " + rows


def duplicates(table: contract.Table, canon: pd.DataFrame, raw: pd.DataFrame, q: Quarantine):
    """Exact duplicates collapse to the first copy; same key with different values: all quarantined.

    Every row whose key could be read takes part, even a row set aside for another reason: a second,
    broken copy of an order number still means the source does not agree with itself.
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
    exact = pd.Series(False, index=c.index)
    ex = c.duplicated(keep="first")
    if ex.any():
        exact[ex.index[ex.to_numpy()]] = True
        grp = c.groupby(cols, dropna=False, sort=False).ngroup()
        first = pd.Series(c.index, index=c.index).groupby(grp.to_numpy()).transform("first")
        where = _where(canon, first[ex.to_numpy()].to_numpy())
        reason = pd.Series("", index=canon.index, dtype=object)
        reason[ex.index[ex.to_numpy()]] = ("exact duplicate of " + where + " (collapsed to one)").to_numpy()
        mask = canon.index.isin(ex.index[ex.to_numpy()])
        q.add(table.name, raw, mask, table.key[0], reason, value=canon[table.key[0]],
              rule="duplicate_row")
    c = c[~exact.to_numpy()]
    clash = c.duplicated(subset=list(table.key), keep=False)
    if clash.any():
        idx = c.index[clash.to_numpy()]
        several = canon[FILE].nunique() > 1
        rows = canon.loc[idx, ROW].astype("int64").astype(str)
        label = (canon.loc[idx, FILE].astype(str) + " row " + rows) if several else rows
        keys = c.loc[idx, list(table.key)].astype(str).agg("\x1f".join, axis=1)
        listed = label.groupby(keys.to_numpy()).transform(", ".join)
        keyname = "/".join(table.key)
        reason = pd.Series("", index=canon.index, dtype=object)
        reason[idx] = (f"conflicting rows share the same {keyname} (" + ("" if several else "rows ") + listed
                       + "); none is used until the source is corrected").to_numpy()
        q.add(table.name, raw, canon.index.isin(idx), table.key[0], reason,
              value=canon[table.key[0]], rule="conflicting_duplicate")


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
    reason = pd.Series("", index=splits.index, dtype=object)
    sb = s[bad]
    oid = sb["order_id"].astype(str).to_numpy()
    tot = total[bad].round(4).astype(str).to_numpy()
    reason[sb.index] = [
        (f"another line of the split of order {o} ({lost_where[o]}) was set aside, so the shares left sum to "
         f"{t}; the order is credited to its own rep instead") if o in lost_where else
        f"shares of order {o} sum to {t}, not 1; the order is credited to its own rep instead"
        for o, t in zip(oid, tot)]
    q.add("order_splits", raw, splits.index.isin(sb.index), "share", reason, value=splits["share"],
          rule="split_not_one")


def link(child: pd.DataFrame, raw: pd.DataFrame, table: str, column: str, parent_ids: pd.Index,
         q: Quarantine, what: str, optional: bool = False, set_aside: pd.Series | None = None,
         skip=None, parent_table: str | None = None):
    """Rows whose ``column`` is not among ``parent_ids`` are quarantined ("unknown customer ...").

    ``set_aside``: id -> where it was set aside ('row 12'), for ids that exist in the source but were
    themselves quarantined — the reason says so. ``skip``: rows already quarantined for this column.
    """
    vals = child[column]
    missing = ~isin(vals, parent_ids) & vals.notna().to_numpy()   # an empty id is reported as missing, not here
    if skip is not None:
        missing &= ~np.asarray(skip, dtype=bool)
    if not missing.any():
        return
    listed = f"the {parent_table or what + 's'} table"
    reason = pd.Series(f"unknown {what} (not in {listed})", index=child.index, dtype=object)
    if set_aside is not None and len(set_aside):
        hit = missing & isin(vals, pd.Index(set_aside.index.astype(str)))
        if hit.any():
            reason[hit] = (f"its {what} " + vals[hit].astype(str) + " was set aside ("
                           + vals[hit].map(set_aside).astype(str) + " of the " + (parent_table or what + "s")
                           + " table)").to_numpy()
    q.add(table, raw, missing, column, reason, value=vals, rule=f"unknown_{what}")


def resolve_names(child: pd.DataFrame, raw: pd.DataFrame, table: str, column: str, flags: np.ndarray,
                  parent: pd.DataFrame, parent_col: str, q: Quarantine, what: str, parent_table: str) -> np.ndarray:
    """Replace names by ids where ``flags`` (rows whose file gave names); returns rows quarantined here.

    A name matches a parent row by ``norm`` (case and spaces ignored); a name shared by parents with
    different ids is ambiguous; an unknown name is reported as such.
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
    n_ids = np.array([len(uniq[v]) for v in names], dtype=np.int64)[codes]
    first = np.array([uniq[v][0] if uniq[v] else "" for v in names], dtype=object)[codes]
    found = pd.Series(n_ids, index=vals.index)
    one = found.eq(1)
    many = found.gt(1)
    none = found.eq(0)
    if one.any():
        child.loc[one.index[one.to_numpy()], column] = first[one.to_numpy()]
    reason = pd.Series("", index=child.index, dtype=object)
    idx_many = many.index[many.to_numpy()]
    if len(idx_many):
        reason[idx_many] = [f"the name '{v}' matches several {what}s ({', '.join(uniq[v][:5])}); export the id "
                            "instead" for v in vals[idx_many]]
    idx_none = none.index[none.to_numpy()]
    if len(idx_none):
        reason[idx_none] = [f"no {what} named '{v}' in the {parent_table} table" for v in vals[idx_none]]
    val = child[column].astype("string")
    mask = child.index.isin(idx_many.union(idx_none))
    q.add(table, raw, mask, column, reason, value=val, rule=f"unknown_{what}")
    return mask
