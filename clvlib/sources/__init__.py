"""Inputs: read every declared source, map it to the data contract, accept or quarantine each row.

``load_inputs(params)`` is the one entry point. It returns the accepted canonical tables, the
quarantine (one line per set-aside input row: source file, row, column, value, reason) and, per table,
the files read with their sha256 and ``rows_read = rows_accepted + rows_quarantined``.
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
from clvlib.sources.readers import FILE, PROBLEM, ROW, read_any, read_file, sha256
from clvlib.sources.spec import NAME_LOOKUPS, Sources, TableSource, load_sources, norm
from clvlib.sources.validate import (RAW_TEXT, Quarantine, duplicates, index_in, isin, link, resolve_names,
                                     split_sums, to_canonical)

NAME_FLAG = "_byname:"

__all__ = ["Inputs", "load_inputs", "load_sources", "read_table", "read_any", "newest_date", "Quarantine"]


@dataclass
class Inputs:
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    counts: dict[str, dict]
    sources: Sources | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def usable(self) -> bool:
        """True when every required table has accepted rows."""
        return all(len(self.tables[t.name]) for t in contract.TABLES.values() if t.required)


def _empty(table: contract.Table) -> pd.DataFrame:
    df = pd.DataFrame({c.name: pd.Series(dtype="datetime64[ns]" if c.kind == "date" else
                                         float if c.kind in ("money", "number") else object)
                       for c in table.columns})
    return df


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return path.name


def read_table(ts: TableSource, notes: list[str] | None = None):
    """Read all files of one table and map their columns to the contract's names.

    Returns ``(raw, files, headers)``: the rows (canonical column names, ``_row``, ``_file``, name flags),
    ``[{file, sha256, rows, blank_rows}]`` and canonical column -> the header it came from (first file).
    """
    table = contract.table(ts.table)
    files = ts.files()
    if not files:
        raise DataError(f"no file matches '{ts.pattern}' for table {ts.table}; check `folder` and `file` in "
                        "the sources file", file=ts.folder)
    notes = notes if notes is not None else []
    expect = [ts.candidates(c.name) for c in table.columns if c.required and c.name not in ts.constants]
    usecols = {norm(h) for c in table.columns for h in ts.candidates(c.name)}
    frames, info, used = [], [], {}
    pool = ThreadPoolExecutor(max_workers=1)          # hash the files while they are being parsed
    digests = [pool.submit(sha256, path) for path in files if path.is_file()]
    pool.shutdown(wait=False)
    for k, path in enumerate(files):
        fr = read_file(path, ts.file_format(path), sheet=ts.sheet, encoding=ts.encoding, delimiter=ts.delimiter,
                       header_row=ts.header_row, expect=expect, usecols=usecols)
        df = fr.frame
        present = {}
        for h in df.columns:
            present.setdefault(norm(h), h)
        cols: dict[str, pd.Series] = {}
        for col in table.columns:
            canon = col.name
            if canon in ts.constants:
                continue
            cands = ts.candidates(canon)
            found = next((present[norm(h)] for h in cands if norm(h) in present), None)
            if found is not None:
                cols[canon] = df[found]
                used.setdefault(canon, found)
                if canon in NAME_LOOKUPS and ts.by_name:
                    cols[NAME_FLAG + canon] = pd.Series(norm(found) in ts.by_name, index=df.index)
                continue
            shown = ", ".join(h for h in fr.headers[:40] if not h.startswith("_col"))
            what = " or ".join(f"'{h}'" for h in cands)
            mapped = f" (mapped to {canon})" if cands != [canon] else ""
            if col.required:
                raise DataError(f"required column {what}{mapped} not found in the header (row {fr.header_row}); "
                                f"the file's columns are: {shown} — fix `columns.{canon}` for table {ts.table} "
                                "in the sources file, or export that column", file=path, column=cands[0])
            if ts.explicit(canon) and canon not in ts.optional:
                raise DataError(f"column {what}{mapped} not found in the header (row {fr.header_row}); the "
                                f"file's columns are: {shown} — fix or remove `columns.{canon}` for table "
                                f"{ts.table} in the sources file, or write it as {{header: ..., optional: true}}",
                                file=path, column=cands[0])
            if ts.explicit(canon):
                default = "empty" if col.default is None else f"{col.default}"
                notes.append(f"{ts.table}: {path.name} has no column {what}; {canon} is {default} for its rows")
        out = pd.DataFrame(cols, index=df.index)
        for extra in (ROW, PROBLEM, RAW_TEXT):
            if extra in df.columns:
                out[extra] = df[extra]
        out[FILE] = _relative(path, ts.folder)
        frames.append(out)
        info.append({"file": str(path), "sha256": digests[k].result(), "rows": len(out),
                     "blank_rows": fr.blank_rows})
        if fr.blank_rows:
            notes.append(f"{ts.table}: {path.name}: {fr.blank_rows:,} blank row(s) skipped (no value in any "
                         "mapped column)")
    raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    for c in raw.columns:
        if c.startswith(NAME_FLAG):
            raw[c] = raw[c].fillna(False).astype(bool)
    if PROBLEM in raw.columns:
        raw[PROBLEM] = raw[PROBLEM].fillna("")
    return raw, info, used


def newest_date(ts: TableSource, column: str = "order_date"):
    """The newest readable date of ``column`` over the table's files (None if none), reading only that
    column — with the same header alternatives, title-row detection and encodings as ``load_inputs``."""
    from clvlib.sources.parse import parse_date

    cands = ts.candidates(column)
    newest = None
    for path in ts.files():
        fr = read_file(path, ts.file_format(path), sheet=ts.sheet, encoding=ts.encoding, delimiter=ts.delimiter,
                       header_row=ts.header_row, expect=[cands], usecols={norm(h) for h in cands})
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


def _set_aside_where(canon: pd.DataFrame, gone: np.ndarray, column: str) -> pd.Series:
    """id -> 'row 12' (or 'file row 12') for ids whose rows were all set aside."""
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


def load_inputs(params, sources: Sources | None = None) -> Inputs:
    """Read, map and validate every table named in the params' sources file."""
    t0 = time.perf_counter()
    sources = sources or load_sources(params.path("sources"))
    rc = params["reporting_currency"]
    q = Quarantine()
    notes: list[str] = []
    raws: dict[str, pd.DataFrame] = {}
    canon: dict[str, pd.DataFrame] = {}
    files: dict[str, list] = {}
    for name, tdef in contract.TABLES.items():
        ts = sources.tables.get(name)
        if ts is None:
            continue
        raw, info, used = read_table(ts, notes)
        raws[name], files[name] = raw, info
        canon[name] = to_canonical(tdef, raw, ts, q, rc, used, consume=True, notes=notes)

    def alive(name):
        return canon[name].drop(index=q.positions(name), errors="ignore")

    # parents first: their duplicates decide which customers and reps exist
    for name in ("customers", "reps"):
        if name in canon:
            duplicates(contract.TABLES[name], canon[name], raws[name], q)
    # names instead of ids (by_name): look them up in customers.name / reps.name
    named: dict[tuple[str, str], np.ndarray] = {}
    for name, df in canon.items():
        for col, parent in NAME_LOOKUPS.items():
            flag = NAME_FLAG + col
            if flag in raws[name].columns and name != parent and parent in canon:
                named[(name, col)] = resolve_names(df, raws[name], name, col, raws[name][flag].to_numpy(),
                                                   canon[parent], col, q, parent[:-1], parent)
    for name, tdef in contract.TABLES.items():
        if name in canon and name not in ("customers", "reps"):
            duplicates(tdef, canon[name], raws[name], q)

    cust_gone = _set_aside_where(canon["customers"], q.positions("customers"), "customer_id") \
        if "customers" in canon else None
    rep_gone = _set_aside_where(canon["reps"], q.positions("reps"), "rep_id") if "reps" in canon else None
    customers = pd.Index(alive("customers")["customer_id"].dropna().unique()) if "customers" in canon else pd.Index([])
    reps = pd.Index(alive("reps")["rep_id"].dropna().unique()) if "reps" in canon else pd.Index([])

    def links(name, col, ids, what, gone, parent_table):
        link(canon[name], raws[name], name, col, ids, q, what, set_aside=gone, skip=named.get((name, col)),
             parent_table=parent_table)

    if "orders" in canon:
        o, r = canon["orders"], raws["orders"]
        links("orders", "customer_id", customers, "customer", cust_gone, "customers")
        links("orders", "rep_id", reps, "rep", rep_gone, "reps")
        fx = alive("fx_rates") if "fx_rates" in canon else _empty(contract.FX_RATES)
        fts = sources.tables.get("fx_rates")
        days = fts.max_age_days if fts is not None and fts.max_age_days is not None else params["fx"]["max_age_days"]
        base = fts.base if fts is not None else None
        if base and base != rc:
            notes.append(f"fx_rates are quoted in {base}; amounts are converted to {rc} through {base}")
        lk = money.fx_lookup(o, fx, rc, days, base)
        live = ~o.index.isin(q.positions("orders"))
        if params["fx"]["strict"] and ((lk.unknown | lk.no_rate) & live).any():
            i = ((lk.unknown | lk.no_rate) & live).idxmax()
            what = (f"unknown currency '{o.at[i, 'currency']}'" if lk.unknown[i] else
                    f"no FX rate for {lk.missing[i]} within {days} days before {o.at[i, 'order_date']:%Y-%m-%d}")
            raise DataError(f"{what}; add it to the FX table or set fx.strict: false to quarantine such rows",
                            file=_source_path(sources, "orders", r.at[i, FILE]), row=int(r.at[i, ROW]),
                            column="currency")
        unknown, no_rate = lk.unknown.to_numpy(), lk.no_rate.to_numpy()
        if unknown.any():
            cur = o["currency"][unknown].astype(str)
            q.add("orders", r, unknown, "currency", ("unknown currency '" + cur + "' (no FX rates for it)"
                                                     ).reindex(o.index), value=o["currency"], rule="unknown_currency")
        if no_rate.any():
            sub = o[no_rate]
            window = f" on or up to {days} days before " if days < 366 else " on or before "
            q.add("orders", r, no_rate, "currency",
                  ("no FX rate for " + lk.missing[no_rate].fillna("").astype(str) + window
                   + sub["order_date"].dt.strftime("%Y-%m-%d").fillna("")).reindex(o.index),
                  value=o["currency"], rule="no_fx_rate")
        canon["orders"] = o = money.to_reporting(o, lk.rate, copy=False)
        del lk
        _credit_notes(o, r, q, notes)
    if "order_splits" in canon:
        s, r = canon["order_splits"], raws["order_splits"]
        order_gone = _set_aside_where(canon["orders"], q.positions("orders"), "order_id") \
            if "orders" in canon else None
        live_orders = canon["orders"]["order_id"][~canon["orders"].index.isin(q.positions("orders"))] \
            if "orders" in canon else pd.Index([])
        links("order_splits", "order_id", live_orders, "order", order_gone, "orders")
        links("order_splits", "rep_id", reps, "rep", rep_gone, "reps")
        split_sums(s, r, q)
    if "ownership" in canon:
        links("ownership", "customer_id", customers, "customer", cust_gone, "customers")
        links("ownership", "rep_id", reps, "rep", rep_gone, "reps")
    for name in ("nps", "complaints"):
        if name in canon:
            links(name, "customer_id", customers, "customer", cust_gone, "customers")

    quarantine = q.frame()
    per_table = quarantine["table"].value_counts()
    tables, counts = {}, {}
    for name, tdef in contract.TABLES.items():
        if name not in canon:
            tables[name] = _empty(tdef)
            counts[name] = {"files": [], "rows_read": 0, "rows_accepted": 0, "rows_quarantined": 0,
                            "provided": False}
            continue
        df = canon.pop(name)
        df = df[~df.index.isin(q.positions(name))]
        n_q = int(per_table.get(name, 0))
        if name != "orders":
            df = df.drop(columns=[FILE, ROW])
        else:
            df = df.rename(columns={FILE: "source_file", ROW: "source_row"})
        tables[name] = df.reset_index(drop=True)
        del df
        counts[name] = {"files": files[name], "rows_read": len(raws[name]), "rows_accepted": len(tables[name]),
                        "rows_quarantined": n_q, "provided": True}
        assert counts[name]["rows_read"] == len(tables[name]) + n_q, f"row accounting broke for {name}"
    return Inputs(tables=tables, quarantine=quarantine, counts=counts, sources=sources,
                  seconds=time.perf_counter() - t0, notes=list(dict.fromkeys(notes)))


def _source_path(sources: Sources, table: str, name: str) -> Path:
    ts = sources.tables.get(table)
    return (ts.folder if ts is not None else sources.folder) / name


def _credit_notes(o: pd.DataFrame, raw: pd.DataFrame, q: Quarantine, notes: list[str]):
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
        src = inv_rows[at[found]]
        dst = o.index[cn_rows[found]]
        for col in ("customer_id", "rep_id"):
            o.loc[dst, col] = o[col].iloc[src].to_numpy()
    rest = cn_rows[~found]
    if len(rest):
        where = _set_aside_where(o, q.positions("orders"), "order_id")
        miss = o["original_order_id"].iloc[rest]
        waits = isin(miss, pd.Index(where.index.astype(str)))
        if waits.any():
            rows = o.index[rest[waits]]
            reason = pd.Series("", index=o.index, dtype=object)
            oid = o.loc[rows, "original_order_id"]
            reason[rows] = ("its original invoice " + oid.astype(str) + " was set aside ("
                            + oid.astype(str).map(where).astype(str) + "); the credit note waits for it").to_numpy()
            q.add("orders", raw, o.index.isin(rows), "original_order_id", reason, value=o["original_order_id"],
                  rule="unknown_order")
        if (~waits).any():
            notes.append(f"orders: {int((~waits).sum()):,} credit note(s) name an original invoice that is not in "
                         "the orders (older than the export?); they reduce their own customer's and rep's figures")
