"""Inputs: read every declared source, map it to the data contract, accept or quarantine each row.

``load_inputs(params)`` is the one entry point. It returns the accepted canonical tables, the
quarantine (one line per set-aside input row: source file, row, column, value, reason), the repairs
(one line per value that was filled in or changed rather than taken as given: rule, value before and
after) and, per table, the files read with their sha256 and ``rows_read = rows_accepted +
rows_quarantined`` (``rows_repaired`` of the accepted rows had a value changed; ``rows_added`` were
added on load — split credit of shared accounts).

The steps, each in one place:

1. read and parse every table (``read_table``, ``validate.to_canonical``);
2. keys: exact duplicates collapse, conflicting ones are set aside — parents first, since their rows
   decide which customers and reps exist; names given instead of ids are looked up;
3. per table in ``contract.load_order()``: its references (``contract.ForeignKey``) and its own checks
   (orders: FX conversion and its plausibility; split sums; ownership shares);
4. credit (``clvlib.sources.credit``): reps of orders without one from the account's owners; credit
   notes follow their original invoice; split lines of orders set aside by these steps go with them.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from clvlib import contract, money
from clvlib.errors import DataError
from clvlib.sources import credit, reasons, sql
from clvlib.sources.parse import STRING
from clvlib.sources.readers import FIELDS, FILE, FORMULA, HEADER, PROBLEM, ROW, read_any, read_file, sha256
from clvlib.sources.reasons import Note
from clvlib.sources.repairs import RULES as REPAIR_RULES, Repairs, summary as repair_summary
from clvlib.sources.spec import NAME_LOOKUPS, Sources, TableSource, load_sources, norm
from clvlib.sources.validate import (RAW_TEXT, Quarantine, duplicates, isin, link, ownership_overlaps,
                                     resolve_names, set_aside_where, split_sums, to_canonical)

NAME_FLAG = "_byname:"

__all__ = ["Inputs", "load_inputs", "load_sources", "read_table", "read_any", "newest_date", "Quarantine",
           "Repairs", "Note", "write_repairs"]


def _no_repairs() -> pd.DataFrame:
    return Repairs().frame({})


@dataclass
class Inputs:
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    counts: dict[str, dict]
    sources: Sources | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    repairs: pd.DataFrame = field(default_factory=_no_repairs)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def usable(self) -> bool:
        """True when every required table has accepted rows."""
        return all(len(self.tables[t.name]) for t in contract.TABLES.values() if t.required)


def write_repairs(inputs: Inputs, folder) -> Path:
    """Write ``inputs.repairs`` as ``repairs.csv`` in ``folder`` (formula-like cells neutralised)."""
    from clvlib.safety import safe_csv

    return safe_csv(inputs.repairs, Path(folder) / "repairs.csv")


#: the dtype of each column kind in a canonical table (``contract``: id, text, code and month are text)
KIND_DTYPES = {"date": "datetime64[ns]", "money": "float64", "number": "float64", "int": "Int64"}


def _empty(table: contract.Table) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=KIND_DTYPES.get(c.kind, STRING)) for c in table.columns})


def _typed(df: pd.DataFrame, table: contract.Table) -> pd.DataFrame:
    """Every column in its kind's dtype (``KIND_DTYPES``, text as pyarrow strings), the ``origin`` of the
    split lines as text too: a table is then the same in memory as read back from its Parquet file,
    whichever rows made it (rows added on load, an empty table). Only columns that are not already of
    that dtype are converted; values are never changed."""
    for name, kind in [(c.name, c.kind) for c in table.columns] + [("origin", "text")]:
        dtype = pd.api.types.pandas_dtype(KIND_DTYPES.get(kind, STRING))
        if name in df and df[name].dtype != dtype:
            df[name] = df[name].astype(dtype)
    return df


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return path.name


def read_table(ts: TableSource, notes: list[str] | None = None):
    """Read all files of one table (or its query) and map their columns to the contract's names.

    Returns ``(raw, files, headers)``: the rows (canonical column names, ``_row``, ``_file``, name flags),
    ``[{file, sha256, rows, blank_rows}]`` and canonical column -> the header it came from (first file).
    For a SQL table the one "file" is the query (``ts.label``) and its sha256 that of the rows read.
    """
    table = contract.table(ts.table)
    notes = notes if notes is not None else []
    expect = [ts.candidates(c.name) for c in table.columns if c.required and c.name not in ts.constants]
    usecols = {norm(h) for c in table.columns for h in ts.candidates(c.name)}
    frames, info, used = [], [], {}
    for name, where, fr, digest in _inputs(ts, expect, usecols):
        out = _mapped(ts, table, fr, where, notes, used)
        out[FILE] = name
        frames.append(out)
        info.append({"file": str(where), "sha256": digest(), "rows": len(out), "blank_rows": fr.blank_rows})
        if fr.blank_rows:
            notes.append(reasons.note("blank_rows", table=ts.table, file=Path(where).name, n=f"{fr.blank_rows:,}"))
    raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    for c in raw.columns:
        if c.startswith(NAME_FLAG):
            raw[c] = raw[c].fillna(False).astype(bool)
    if PROBLEM in raw.columns:
        raw[PROBLEM] = raw[PROBLEM].fillna("")
    return raw, info, used


def _inputs(ts: TableSource, expect, usecols):
    """(name in ``source_file``, path or label, FileRead, digest function) for each input of the table:
    its files in order (hashed while they are parsed), or its query."""
    if ts.sql:
        fr = sql.read_query(ts, usecols)
        yield ts.label, ts.label, fr, lambda: sql.digest(fr.frame.drop(columns=[ROW]))
        return
    files = ts.files()
    if not files:
        raise DataError(f"no file matches '{ts.pattern}' for table {ts.table}; check `folder` and `file` in "
                        "the sources file", file=ts.folder)
    pool = ThreadPoolExecutor(max_workers=1)          # hash the files while they are being parsed
    digests = [pool.submit(sha256, path) for path in files if path.is_file()]
    pool.shutdown(wait=False)
    for k, path in enumerate(files):
        fr = read_file(path, ts.file_format(path), sheet=ts.sheet, encoding=ts.encoding, delimiter=ts.delimiter,
                       header_row=ts.header_row, expect=expect, usecols=usecols)
        yield _relative(path, ts.folder), path, fr, digests[k].result


def _mapped(ts: TableSource, table: contract.Table, fr, where, notes: list, used: dict) -> pd.DataFrame:
    """One input's columns under their canonical names (with ``_row`` and the problem columns); a mapped
    column missing from it stops with one line, an optional one is noted."""
    df = fr.frame
    present = {}
    for h in df.columns:
        present.setdefault(norm(h), h)
    cols: dict[str, pd.Series] = {}
    found_as: dict[str, str] = {}
    for col in table.columns:
        canon = col.name
        if canon in ts.constants:
            continue
        cands = ts.candidates(canon)
        found = next((present[norm(h)] for h in cands if norm(h) in present), None)
        if found is not None:
            cols[canon] = df[found]
            found_as[canon] = found
            used.setdefault(canon, found)
            if canon in NAME_LOOKUPS and ts.by_name:
                cols[NAME_FLAG + canon] = pd.Series(norm(found) in ts.by_name, index=df.index)
            continue
        _missing_column(ts, col, cands, fr, where, notes)
    out = pd.DataFrame(cols, index=df.index)
    for extra in (ROW, PROBLEM, RAW_TEXT, FIELDS, HEADER):
        if extra in df.columns:
            out[extra] = df[extra]
    for canon, header in found_as.items():
        if FORMULA + header in df.columns:
            out[FORMULA + canon] = df[FORMULA + header]
    return out


def _missing_column(ts: TableSource, col: contract.Column, cands: list[str], fr, where, notes: list):
    """A column of the contract that the input does not have: fatal if required or mapped, else a note."""
    canon = col.name
    shown = ", ".join(h for h in fr.headers[:40] if not h.startswith("_col"))
    what = " or ".join(f"'{h}'" for h in cands)
    mapped = f" (mapped to {canon})" if cands != [canon] else ""
    if ts.sql:
        found, fix = f"among the query's columns: {shown}", "or add that column to the query"
    else:
        found, fix = (f"in the header (row {fr.header_row}); the file's columns are: {shown}",
                      "or export that column")
    if col.required:
        raise DataError(f"required column {what}{mapped} not found {found} — fix `columns.{canon}` for table "
                        f"{ts.table} in the sources file, {fix}", file=where, column=cands[0])
    if ts.explicit(canon) and canon not in ts.optional:
        raise DataError(f"column {what}{mapped} not found {found} — fix or remove `columns.{canon}` for table "
                        f"{ts.table} in the sources file, or write it as {{header: ..., optional: true}}",
                        file=where, column=cands[0])
    if ts.explicit(canon):
        default = "empty" if col.default is None else reasons.shown(col.default)
        notes.append(reasons.note("column_absent", table=ts.table, file=Path(str(where)).name, header=what,
                                  column=canon, default=default))


def newest_date(ts: TableSource, column: str = "order_date"):
    """The newest readable date of ``column`` over the table's files (None if none), reading only that
    column — with the same header alternatives, title-row detection and encodings as ``load_inputs``."""
    from clvlib.sources.parse import parse_date

    cands = ts.candidates(column)
    newest = None
    usecols = {norm(h) for h in cands}
    reads = [sql.read_query(ts, usecols)] if ts.sql else (
        read_file(path, ts.file_format(path), sheet=ts.sheet, encoding=ts.encoding, delimiter=ts.delimiter,
                  header_row=ts.header_row, expect=[cands], usecols=usecols) for path in ts.files())
    for fr in reads:
        present = {norm(h): h for h in fr.frame.columns}
        found = next((present[norm(h)] for h in cands if norm(h) in present), None)
        if found is None:
            continue
        try:
            d, _ = parse_date(fr.frame[found], ts.date_order)
        except DataError:
            continue
        m = d.max()
        if pd.notna(m) and (newest is None or m > newest):
            newest = m
    return newest


def load_inputs(params, sources: Sources | None = None) -> Inputs:
    """Read, map and validate every table named in the params' sources file (the steps: module docstring).

    Raises ``DataError`` (one line: file, row, column, what to do) when an input cannot be used at all —
    a missing file or column, an undecidable date column, an unknown currency with ``fx.strict: true``,
    rates that are implausible with ``fx.plausibility: stop``.
    """
    t0 = time.perf_counter()
    run = _Intake(params, sources or load_sources(params.path("sources")))
    run.read()
    run.check_keys()
    for name in contract.load_order():
        if name in run.canon:
            run.check_links(name)
            run.check_table(name)
    run.settle_credit()
    return run.result(time.perf_counter() - t0)


class _Intake:
    """One intake: the tables as read (``raws``) and parsed (``canon``, row positions as index), and what
    was set aside (``q``), repaired (``repairs``) and noted on the way."""

    def __init__(self, params, sources: Sources):
        self.params, self.sources = params, sources
        self.rc = params["reporting_currency"]
        self.q, self.repairs, self.notes = Quarantine(), Repairs(), []
        self.raws: dict[str, pd.DataFrame] = {}
        self.canon: dict[str, pd.DataFrame] = {}
        self.files: dict[str, list] = {}
        self.headers: dict[str, dict] = {}
        self.named: dict[tuple[str, str], np.ndarray] = {}
        self.added = pd.DataFrame(columns=credit.SPLIT_COLUMNS)
        self._memo: dict[tuple, tuple] = {}

    def read(self):
        for name, tdef in contract.TABLES.items():
            ts = self.sources.tables.get(name)
            if ts is None:
                continue
            raw, info, used = read_table(ts, self.notes)
            self.raws[name], self.files[name], self.headers[name] = raw, info, used
            self.canon[name] = to_canonical(tdef, raw, ts, self.q, used, consume=True, notes=self.notes,
                                            repairs=self.repairs)

    def alive(self, name: str) -> pd.DataFrame:
        return self.canon[name].drop(index=self.q.positions(name), errors="ignore")

    def ids(self, name: str) -> pd.Index:
        """The ids (first key column) of the accepted rows of a table, so far."""
        def find():
            col = self.canon[name][contract.TABLES[name].key[0]]
            return pd.Index(col[~self.canon[name].index.isin(self.q.positions(name))].dropna().unique())
        return self._while_unchanged(("ids", name), find)

    def gone(self, name: str) -> pd.Series:
        """id -> where, for the ids of a table whose rows were all set aside, so far."""
        return self._while_unchanged(("gone", name), lambda: set_aside_where(
            self.canon[name], self.q.positions(name), contract.TABLES[name].key[0]))

    def _while_unchanged(self, key: tuple, make):
        """``make()``, computed again only once more rows have been quarantined."""
        seen = len(self.q._parts)
        if self._memo.get(key, (None,))[0] != seen:
            self._memo[key] = (seen, make())
        return self._memo[key][1]

    def check_keys(self):
        """Duplicates (parents first: they decide which customers and reps exist), then names -> ids."""
        parents = list(dict.fromkeys(NAME_LOOKUPS.values()))
        for name in [n for n in parents if n in self.canon]:
            duplicates(contract.TABLES[name], self.canon[name], self.raws[name], self.q, self.repairs)
        for name, df in self.canon.items():
            for fk in contract.TABLES[name].refs:
                flag = NAME_FLAG + fk.column
                if fk.column in NAME_LOOKUPS and flag in self.raws[name].columns and fk.table in self.canon:
                    self.named[(name, fk.column)] = resolve_names(
                        df, self.raws[name], name, fk.column, self.raws[name][flag].to_numpy(), self.canon[fk.table],
                        contract.TABLES[fk.table].key[0], self.q, fk.what)
        for name in [n for n in self.canon if n not in parents]:
            duplicates(contract.TABLES[name], self.canon[name], self.raws[name], self.q, self.repairs)

    def check_links(self, name: str):
        """The table's references (``contract.ForeignKey``): unknown or set-aside parents."""
        for fk in contract.TABLES[name].refs:
            if fk.table in self.canon:
                link(self.canon[name], self.raws[name], name, fk.column, self.ids(fk.table), self.q, fk.what,
                     set_aside=self.gone(fk.table), skip=self.named.get((name, fk.column)))

    def check_table(self, name: str):
        """The checks of one table that look at several of its rows (or at another table)."""
        check = {"orders": self.convert_orders,
                 "order_splits": lambda: split_sums(self.canon[name], self.raws[name], self.q),
                 "ownership": lambda: ownership_overlaps(self.canon[name], self.raws[name], self.q)}.get(name)
        if check is not None:
            check()

    # ---------------------------------------------------------------------------------------- money
    def convert_orders(self):
        """Every order at its date's rate; unknown currencies and missing rates set aside (or fatal)."""
        o = self.canon["orders"]
        fts = self.sources.tables.get("fx_rates")
        fx = self.alive("fx_rates") if "fx_rates" in self.canon else _empty(contract.FX_RATES)
        days = fts.max_age_days if fts is not None and fts.max_age_days is not None else self.params["fx"]["max_age_days"]
        base = fts.base if fts is not None else None
        if base and base != self.rc:
            self.notes.append(reasons.note("fx_base", base=base, currency=self.rc))
        lk = money.fx_lookup(o, fx, self.rc, days, base)
        live = ~o.index.isin(self.q.positions("orders"))
        if self.params["fx"]["strict"]:
            self._stop_on_missing_rate(o, lk, live, days)
        if lk.unknown.any():
            self.q.add("orders", o, lk.unknown.to_numpy(), "currency", "unknown_currency",
                       {"currency": o["currency"]}, rule="unknown_currency")
        if lk.no_rate.any():
            self.q.add("orders", o, lk.no_rate.to_numpy(), "currency",
                       "no_fx_rate_window" if days < 366 else "no_fx_rate",
                       {"currency": lk.missing, "days": days, "date": o["order_date"].dt.strftime("%Y-%m-%d")},
                       rule="no_fx_rate")
        converted = live & ~(lk.unknown | lk.no_rate).to_numpy()
        self.canon["orders"] = o = money.to_reporting(o, lk.rate, copy=False)
        self._check_plausible(o, converted)

    def _stop_on_missing_rate(self, o: pd.DataFrame, lk, live: np.ndarray, days: int):
        bad = (lk.unknown | lk.no_rate).to_numpy() & live
        if not bad.any():
            return
        i = o.index[bad.argmax()]
        what = (f"unknown currency '{o.at[i, 'currency']}'" if lk.unknown[i] else
                f"no FX rate for {lk.missing[i]} within {days} days before {o.at[i, 'order_date']:%Y-%m-%d}")
        raise DataError(f"{what}; add it to the FX table or set fx.strict: false to quarantine such rows",
                        file=_source_path(self.sources, "orders", o.at[i, FILE]), row=int(o.at[i, ROW]),
                        column="currency")

    def _check_plausible(self, o: pd.DataFrame, converted: np.ndarray):
        """Stop (or note, ``fx.plausibility: warn``) when the rates put a currency orders of magnitude off."""
        mode = self.params["fx"].get("plausibility", "stop")
        if mode == "off" or not converted.any():
            return
        sub = o.loc[converted, ["currency", "amount", "doc_type", "fx_rate"]]
        doubts = money.fx_plausibility(sub, sub["fx_rate"], self.rc)
        if not doubts:
            return
        fts = self.sources.tables.get("fx_rates")
        messages = [fx_doubt_message(d, self.rc, fts, self.sources.file) for d in doubts]
        if mode == "warn":
            self.notes.extend(reasons.note("fx_doubt", message=m) for m in messages)
            return
        more = f" (also implausible: {', '.join(d.currency for d in doubts[1:])})" if len(doubts) > 1 else ""
        files = fts.files() if fts is not None else []
        where = (files[0] if len(files) == 1 else fts.label if fts is not None and fts.sql else
                 fts.folder / fts.pattern if fts is not None else self.sources.file)
        raise DataError(messages[0] + more + "; or set fx.plausibility: warn in the params to go on with a warning",
                        file=where, column=self.headers.get("fx_rates", {}).get("rate", "rate"))

    # ---------------------------------------------------------------------------------------- credit
    def settle_credit(self):
        """Reps of orders without one from the owners; credit notes follow their invoice; the split lines
        of orders set aside by these steps go with them."""
        if "orders" not in self.canon:
            return
        o = self.canon["orders"]
        before = self.q.positions("orders")
        splits = self.alive("order_splits") if "order_splits" in self.canon else _empty(contract.ORDER_SPLITS)
        own = self.alive("ownership") if "ownership" in self.canon else _empty(contract.OWNERSHIP)
        first = credit.reps_from_owners(o, self.q, self.repairs, splits, own)
        credit.credit_notes_follow(o, self.q, self.repairs, self.notes)
        splits = pd.concat([splits[credit.SPLIT_COLUMNS], first[credit.SPLIT_COLUMNS]], ignore_index=True)
        then = credit.reps_from_owners(o, self.q, self.repairs, splits, own, following=True)
        self.added = pd.concat([first, then], ignore_index=True) if len(then) else first
        now_gone = np.setdiff1d(self.q.positions("orders"), before)
        if len(now_gone) and "order_splits" in self.canon:
            s = self.canon["order_splits"]
            ids = s["order_id"]
            hit = isin(ids, o.loc[now_gone, "order_id"].dropna()) & ~s.index.isin(self.q.positions("order_splits"))
            self.q.add("order_splits", self.raws["order_splits"], hit, "order_id", "order_set_aside",
                       {"id": ids, "where": ids.astype(object).map(self.gone("orders"))}, rule="unknown_order")

    # ---------------------------------------------------------------------------------------- result
    def result(self, seconds: float) -> Inputs:
        quarantine = self.q.frame()
        repairs = self.repairs.frame({n: self.q.positions(n) for n in self.canon})
        per_table = quarantine["table"].value_counts()
        tables, counts = {}, {}
        for name, tdef in contract.TABLES.items():
            tables[name], counts[name] = self._table(name, tdef, int(per_table.get(name, 0)))
        notes = self.notes + _repair_notes(repairs)
        return Inputs(tables=tables, quarantine=quarantine, counts=counts, sources=self.sources, seconds=seconds,
                      notes=list(dict.fromkeys(notes)), repairs=repairs)

    def _table(self, name: str, tdef: contract.Table, n_q: int) -> tuple[pd.DataFrame, dict]:
        """The accepted rows of one table (plus the rows added on load) and its row accounting."""
        added = self.added[credit.SPLIT_COLUMNS].assign(origin="owners") if name == "order_splits" else None
        n_added = 0 if added is None else len(added)
        if name not in self.canon:
            df = _empty(tdef)
            if n_added:
                df = _typed(pd.concat([df.assign(origin=pd.Series(dtype=STRING)), added], ignore_index=True), tdef)
            return df, {"files": [], "rows_read": 0, "rows_accepted": 0, "rows_quarantined": 0, "rows_repaired": 0,
                        "rows_added": n_added, "provided": False}
        pos = self.q.positions(name)
        df = self.canon.pop(name)
        df = df[~df.index.isin(pos)]
        if name == "orders":
            df = df.rename(columns={FILE: "source_file", ROW: "source_row"})
        else:
            df = df.drop(columns=[FILE, ROW])
        if added is not None:
            df = pd.concat([df.assign(origin="file"), added], ignore_index=True)
        df = _typed(df.reset_index(drop=True), tdef)
        count = {"files": self.files[name], "rows_read": len(self.raws[name]), "rows_accepted": len(df) - n_added,
                 "rows_quarantined": n_q, "rows_repaired": self.repairs.rows(name, pos), "rows_added": n_added,
                 "provided": True}
        assert count["rows_read"] == count["rows_accepted"] + n_q, f"row accounting broke for {name}"
        return df, count


def _repair_notes(repairs: pd.DataFrame) -> list[Note]:
    """One note per repair rule and column: what, how many rows, the first as an example."""
    return [reasons.note("repaired", table=r.table, column=r.column, rule=r.rule, rule_text=REPAIR_RULES[r.rule],
                         n=f"{r.rows:,}", file=r.source_file, row=r.source_row, example=r.example)
            for r in repair_summary(repairs).itertuples()]


def fx_doubt_message(d: money.FxDoubt, rc: str, fts: TableSource | None, sources_file) -> str:
    """One sentence: which currency, the median rate found against the expected, and the setting to fix."""
    base = (fts.base if fts is not None else None) or rc
    inverted = fts is not None and "rate" in fts.invert
    where = f"tables.fx_rates in {Path(sources_file).name}"
    found = f"1 {d.currency} converts to a median of {d.median_rate:.4g} {rc}"
    ex = d.example
    shown = (f"; a {ex['amount']:,.0f} {d.currency} order counts as {ex['amount_rc']:,.0f} {rc}"
             if ex and d.kind != "size" else "")
    if d.kind == "inverted":
        lo, hi = d.expected
        fix = (f"remove `invert: [rate]` from {where} (the table is already in {base} per unit)" if inverted else
               f"add `invert: [rate]` to {where} (the table quotes units per {base})")
        return (f"the FX rates for {d.currency} look inverted: {found}, but 1 {d.currency} has been worth "
                f"{lo:.3g}–{hi:.3g} {rc} since 2000{shown} — {fix}")
    if d.kind == "scale":
        lo, hi = d.expected
        times = d.median_rate / hi if d.median_rate > hi else lo / d.median_rate
        return (f"the FX rates for {d.currency} look mis-scaled: {found}, about {times:,.0f}× "
                f"{'more' if d.median_rate > hi else 'less'} than 1 {d.currency} has been worth since 2000 "
                f"({lo:.3g}–{hi:.3g} {rc})"
                f"{shown} — check `base:` (now {base}: the rates are read as {base} per unit), `scale:` (e.g. "
                f"`scale: {{rate: 0.01}}` for rates per 100 units) and `invert:` in {where}")
    ratio = d.median_order / d.others_order
    return (f"orders in {d.currency} look mis-converted: after conversion their median is {d.median_order:,.0f} "
            f"{rc}, {max(ratio, 1 / ratio):,.0f}× {'more' if ratio > 1 else 'less'} than the other currencies' "
            f"({d.others_order:,.0f} {rc}; {found}) — check `invert:`, `base:` and `scale:` in {where}")


def _source_path(sources: Sources, table: str, name: str):
    ts = sources.tables.get(table)
    return ts.where(name) if ts is not None else sources.folder / name
