"""Inputs: read every declared source, map it to the data contract, accept or quarantine each row.

``load_inputs(params)`` is the one entry point. It returns the accepted canonical tables, the
quarantine (one line per set-aside input row: source file, row, column, value, reason) and, per table,
the files read with their sha256 and ``rows_read = rows_accepted + rows_quarantined``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from clvlib import contract, money
from clvlib.errors import DataError
from clvlib.sources.readers import FILE, ROW, read_any, sha256
from clvlib.sources.spec import Sources, TableSource, load_sources
from clvlib.sources.validate import Quarantine, duplicates, link, split_sums, to_canonical

__all__ = ["Inputs", "load_inputs", "load_sources", "Quarantine"]


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


def read_table(ts: TableSource) -> tuple[pd.DataFrame, list[dict]]:
    """Read all files of one table and rename their columns to the contract's names."""
    table = contract.table(ts.table)
    files = ts.files()
    if not files:
        raise DataError(f"no file matches '{ts.pattern}' for table {ts.table}", file=ts.folder)
    frames, info = [], []
    for path in files:
        df = read_any(path, ts.file_format(path), sheet=ts.sheet, encoding=ts.encoding,
                      delimiter=ts.delimiter, header_row=ts.header_row)
        headers = [c for c in df.columns if c not in (ROW, FILE)]
        rename = {}
        lower = {h.lower(): h for h in headers}
        for canon in table.column_names:
            src = ts.columns.get(canon, canon if canon not in ts.constants else None)
            if src is None:
                continue
            if src in headers:
                rename[src] = canon
            elif src.lower() in lower:
                rename[lower[src.lower()]] = canon
            elif table.column(canon).required and canon not in ts.constants:
                mapped = f" (mapped to {canon})" if src != canon else ""
                raise DataError(f"required column '{src}'{mapped} not found; the file's columns are: "
                                f"{', '.join(headers[:30])}", file=path, column=src)
        keep = [c for c in df.columns if c in rename or c in (ROW, FILE)]
        df = df[keep].rename(columns=rename)
        frames.append(df)
        info.append({"file": str(path), "sha256": sha256(path), "rows": len(df)})
    raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    return raw, info


def load_inputs(params, sources: Sources | None = None) -> Inputs:
    """Read, map and validate every table named in the params' sources file."""
    t0 = time.perf_counter()
    sources = sources or load_sources(params.path("sources"))
    rc = params["reporting_currency"]
    q = Quarantine()
    raws: dict[str, pd.DataFrame] = {}
    canon: dict[str, pd.DataFrame] = {}
    files: dict[str, list] = {}
    for name, tdef in contract.TABLES.items():
        ts = sources.tables.get(name)
        if ts is None:
            continue
        raw, info = read_table(ts)
        raws[name], files[name] = raw, info
        canon[name] = to_canonical(tdef, raw, ts, q, rc)
        duplicates(tdef, canon[name], raw, q)

    def alive(name):
        return canon[name].drop(index=q.positions(name), errors="ignore")

    customers = pd.Index(alive("customers")["customer_id"].dropna().unique())
    reps = pd.Index(alive("reps")["rep_id"].dropna().unique())
    if "orders" in canon:
        o, r = canon["orders"], raws["orders"]
        link(o, r, "orders", "customer_id", customers, q, "customer")
        link(o, r, "orders", "rep_id", reps, q, "rep", optional=True)
        fx = alive("fx_rates") if "fx_rates" in canon else _empty(contract.FX_RATES)
        rate, unknown, no_rate = money.fx_rates_for(o, fx, rc, params["fx"]["max_age_days"])
        if params["fx"]["strict"] and (unknown.any() or no_rate.any()):
            i = (unknown | no_rate).idxmax()
            what = (f"unknown currency '{o.at[i, 'currency']}'" if unknown[i] else
                    f"no FX rate for {o.at[i, 'currency']} within {params['fx']['max_age_days']} days "
                    f"before {o.at[i, 'order_date']:%Y-%m-%d}")
            raise DataError(f"{what}; add it to the FX table or set fx.strict: false to quarantine such rows",
                            file=r.at[i, FILE], row=int(r.at[i, ROW]), column="currency")
        q.add("orders", r, unknown.to_numpy(), "currency",
              "unknown currency '" + o["currency"].astype(str) + "' (no FX rates for it)", rule="unknown_currency")
        days = params["fx"]["max_age_days"]
        q.add("orders", r, no_rate.to_numpy(), "currency",
              "no FX rate for " + o["currency"].astype(str) + f" on or up to {days} days before "
              + o["order_date"].dt.strftime("%Y-%m-%d"), rule="no_fx_rate")
        canon["orders"] = money.to_reporting(o, rate)
    if "order_splits" in canon:
        s, r = canon["order_splits"], raws["order_splits"]
        link(s, r, "order_splits", "order_id", pd.Index(alive("orders")["order_id"]), q, "order",
             set_aside=pd.Index(canon["orders"]["order_id"].dropna()))
        link(s, r, "order_splits", "rep_id", reps, q, "rep")
        split_sums(s, r, q)
    if "ownership" in canon:
        w, r = canon["ownership"], raws["ownership"]
        link(w, r, "ownership", "customer_id", customers, q, "customer")
        link(w, r, "ownership", "rep_id", reps, q, "rep")
        backwards = w["valid_to"].notna() & w["valid_from"].notna() & (w["valid_to"] < w["valid_from"])
        q.add("ownership", r, backwards.to_numpy(), "valid_to", "valid_to is before valid_from",
              rule="dates_reversed")
    for name in ("nps", "complaints"):
        if name in canon:
            link(canon[name], raws[name], name, "customer_id", customers, q, "customer")

    quarantine = q.frame()
    tables, counts = {}, {}
    for name, tdef in contract.TABLES.items():
        if name not in canon:
            tables[name] = _empty(tdef)
            counts[name] = {"files": [], "rows_read": 0, "rows_accepted": 0, "rows_quarantined": 0,
                            "provided": False}
            continue
        df = alive(name)
        n_q = int((quarantine["table"] == name).sum())
        df = df.rename(columns={FILE: "source_file", ROW: "source_row"})
        if name != "orders":
            df = df.drop(columns=["source_file", "source_row"])
        tables[name] = df.reset_index(drop=True)
        counts[name] = {"files": files[name], "rows_read": len(raws[name]), "rows_accepted": len(df),
                        "rows_quarantined": n_q, "provided": True}
        assert counts[name]["rows_read"] == len(df) + n_q, f"row accounting broke for {name}"
    tables["orders"] = _attribute_credit_notes(tables["orders"])
    return Inputs(tables=tables, quarantine=quarantine, counts=counts, sources=sources,
                  seconds=time.perf_counter() - t0)


def _attribute_credit_notes(o: pd.DataFrame) -> pd.DataFrame:
    """A credit note reduces the revenue and margin of the original order's customer and rep."""
    if "original_order_id" not in o or o.empty:
        return o
    inv = o[o["doc_type"] == "invoice"].drop_duplicates("order_id").set_index("order_id")
    cn = (o["doc_type"] == "credit_note") & o["original_order_id"].isin(inv.index)
    if cn.any():
        orig = o.loc[cn, "original_order_id"]
        o.loc[cn, "customer_id"] = orig.map(inv["customer_id"]).to_numpy()
        o.loc[cn, "rep_id"] = orig.map(inv["rep_id"]).to_numpy()
    return o
