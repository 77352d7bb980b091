"""Stage ``intake``: every input file read, mapped to the data contract, each row accepted or set aside.

Files: the canonical tables as ``<table>.parquet``, ``quarantine.csv`` (one line per set-aside row),
``repairs.csv`` (one line per value changed on load) and ``intake.json`` (row counts per table, notes
with their translation keys, seconds).
"""
from __future__ import annotations

import json
from itertools import zip_longest
from pathlib import Path

import pandas as pd

from clvlib import contract
from clvlib.stages.base import Stage, register


def inputs_stamp(params) -> dict:
    """Size and modification time of every input file and of the sources file (for the fingerprint):
    the sources file is named by its resolved path, so two spellings of one path are one input. A table
    read from a database query is stamped by :func:`clvlib.sources.sql.version` (its source, the query's
    hash and the result of its version query, or its row count and the day)."""
    from clvlib.sources import sql
    from clvlib.sources.spec import load_sources
    from clvlib.workbook import ensure_demo_data

    ensure_demo_data(params)
    path = params.path("sources")
    srcs = load_sources(path)
    files = {}
    for f in [path] + [f for ts in srcs.tables.values() for f in ts.files()]:
        st = f.stat() if f.exists() else None
        files[str(f)] = [st.st_size, st.st_mtime_ns] if st else None
    for ts in srcs.tables.values():
        if ts.sql:
            files[f"{ts.table}: {ts.label}"] = sql.version(ts)
    return files


def build(wb):
    from clvlib.sources import load_inputs
    from clvlib.workbook import ensure_demo_data

    ensure_demo_data(wb.params)
    return load_inputs(wb.params)


def _note_key(n) -> dict | None:
    key = getattr(n, "key", None)
    return {"key": key, "args": n.args} if key else None


def _note(text: str, rec: dict | None):
    """A note read back: translatable again when its key was saved (``clvlib.sources.reasons.Note``)."""
    from clvlib.sources.reasons import NOTE, Note

    if rec and rec.get("key") in NOTE:
        return Note(rec["key"], **(rec.get("args") or {}))
    return text


def save(inp, data_dir: Path) -> None:
    from clvlib.safety import safe_csv
    from clvlib.sources import write_repairs

    for name, df in inp.tables.items():
        df.to_parquet(data_dir / f"{name}.parquet", index=False)
    safe_csv(inp.quarantine, data_dir / "quarantine.csv")
    write_repairs(inp, data_dir)
    (data_dir / "intake.json").write_text(json.dumps(
        {"counts": inp.counts, "seconds": round(inp.seconds, 3), "notes": [str(n) for n in inp.notes],
         "note_keys": [_note_key(n) for n in inp.notes]},
        indent=1, default=str, ensure_ascii=False))


def load(data_dir: Path):
    from clvlib.sources import Inputs

    tables = {name: pd.read_parquet(data_dir / f"{name}.parquet") for name in contract.TABLES}
    q = pd.read_csv(data_dir / "quarantine.csv", dtype=str, keep_default_na=False)
    repairs = pd.read_csv(data_dir / "repairs.csv", dtype=str, keep_default_na=False)
    meta = json.loads((data_dir / "intake.json").read_text())
    return Inputs(tables=tables, quarantine=q, counts=meta["counts"], seconds=meta["seconds"],
                  notes=[_note(n, k) for n, k in zip_longest(meta.get("notes", []), meta.get("note_keys", []))],
                  repairs=repairs)


STAGE = register(Stage(
    "intake", build, save, load, params=("reporting_currency", "fx"), stamp=inputs_stamp,
    files=tuple(f"{t}.parquet" for t in contract.TABLES) + ("quarantine.csv", "repairs.csv", "intake.json"),
    doc="the canonical tables, the quarantine and the row counts"))
