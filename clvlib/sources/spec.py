"""Source declarations: which file feeds each canonical table and how its columns map.

A sources file (``params/sources/*.yaml``) looks like::

    folder: ../../data/demo          # relative to this file; every `file` below is relative to it
    date_order: auto                 # default for all tables: auto | ymd | dmy | mdy
    tables:
      orders:
        file: exports/invoices-*.csv # a file, or a glob for a folder of monthly files
        sheet: Sheet1                # for .xlsx
        encoding: auto               # auto (UTF-8, UTF-8 with BOM, GB18030) or a codec name
        delimiter: auto              # auto or one character
        decimal: "."                 # "," for 1.234,56
        columns:                     # canonical name: header in the file (or {value: constant})
          order_id: Invoice No.
          order_date: Invoice Date
          currency: {value: USD}
        values:                      # canonical column: {value in the file: canonical value}
          status: {"Closed Won": booked, "Closed Lost": lost, "*": open}
      customers: {file: customers.csv}
      nps: null                      # not available (optional tables only)

A table without ``columns`` is expected in the canonical column names already. Mapping problems are
reported as ``ParamsError`` naming the sources file and the key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from clvlib import contract
from clvlib.errors import ParamsError

DATE_ORDERS = ("auto", "ymd", "dmy", "mdy")
FORMATS = ("csv", "xlsx", "parquet")
TABLE_KEYS = {"file", "sheet", "format", "encoding", "delimiter", "decimal", "date_order", "columns",
              "values", "header_row"}


@dataclass
class TableSource:
    table: str
    pattern: str
    folder: Path
    format: str | None = None
    sheet: str | int | None = None
    encoding: str = "auto"
    delimiter: str = "auto"
    decimal: str = "."
    date_order: str = "auto"
    header_row: int = 1
    columns: dict[str, str] = field(default_factory=dict)      # canonical -> source header
    constants: dict[str, object] = field(default_factory=dict)  # canonical -> constant value
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    def files(self) -> list[Path]:
        """The files this table reads, sorted (a glob may match several monthly files)."""
        p = Path(self.pattern)
        if not p.is_absolute():
            p = self.folder / p
        if any(ch in self.pattern for ch in "*?["):
            return sorted(Path(p.anchor).glob(str(p.relative_to(p.anchor))))
        return [p]

    def file_format(self, path: Path) -> str:
        if self.format:
            return self.format
        ext = path.suffix.lower()
        if ext in (".xlsx", ".xlsm"):
            return "xlsx"
        if ext in (".parquet", ".pq"):
            return "parquet"
        return "csv"


@dataclass
class Sources:
    file: Path
    folder: Path
    tables: dict[str, TableSource]


def load_sources(path: str | Path) -> Sources:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ParamsError("sources file not found (set `sources:` in company.yaml)", file=path) from None
    except yaml.YAMLError as e:
        raise ParamsError(f"not valid YAML: {e}", file=path) from None
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise ParamsError("must be a mapping with `folder` and `tables`", file=path)
    for key in raw:
        if key not in ("folder", "date_order", "encoding", "decimal", "tables", "description"):
            problems.append(f"{key}: unknown key (known: folder, date_order, encoding, decimal, tables)")
    folder = Path(raw.get("folder") or ".")
    if not folder.is_absolute():
        folder = (path.parent / folder).resolve()
    defaults = {k: raw[k] for k in ("date_order", "encoding", "decimal") if raw.get(k) is not None}
    tables_raw = raw.get("tables") or {}
    if not isinstance(tables_raw, dict):
        problems.append("tables: must map table names to their files")
        tables_raw = {}
    tables: dict[str, TableSource] = {}
    for name, t in tables_raw.items():
        if name not in contract.TABLES:
            problems.append(f"tables.{name}: not a table of the data contract "
                            f"({', '.join(contract.TABLES)})")
            continue
        if t is None:
            if contract.TABLES[name].required:
                problems.append(f"tables.{name}: required, cannot be null")
            continue
        if isinstance(t, str):
            t = {"file": t}
        if not isinstance(t, dict) or not t.get("file"):
            problems.append(f"tables.{name}: needs `file`")
            continue
        for k in t:
            if k not in TABLE_KEYS:
                problems.append(f"tables.{name}.{k}: unknown key (known: {', '.join(sorted(TABLE_KEYS))})")
        opts = {**defaults, **{k: t[k] for k in ("sheet", "format", "encoding", "delimiter", "decimal",
                                                   "date_order", "header_row") if k in t}}
        if opts.get("date_order", "auto") not in DATE_ORDERS:
            problems.append(f"tables.{name}.date_order: must be one of {', '.join(DATE_ORDERS)}")
        if opts.get("format") not in (None, *FORMATS):
            problems.append(f"tables.{name}.format: must be one of {', '.join(FORMATS)}")
        if opts.get("decimal", ".") not in (".", ","):
            problems.append(f"tables.{name}.decimal: must be '.' or ','")
        cols, consts = {}, {}
        table_def = contract.TABLES[name]
        for canon, src in (t.get("columns") or {}).items():
            if canon not in table_def.column_names:
                problems.append(f"tables.{name}.columns.{canon}: not a column of {name} "
                                f"({', '.join(table_def.column_names)})")
            elif isinstance(src, dict) and "value" in src:
                consts[canon] = src["value"]
            elif isinstance(src, str) and src:
                cols[canon] = src
            else:
                problems.append(f"tables.{name}.columns.{canon}: must be a header name or {{value: ...}}")
        values = {}
        for canon, mapping in (t.get("values") or {}).items():
            if canon not in table_def.column_names:
                problems.append(f"tables.{name}.values.{canon}: not a column of {name}")
            elif not isinstance(mapping, dict):
                problems.append(f"tables.{name}.values.{canon}: must map file values to canonical values")
            else:
                values[canon] = {str(k): v for k, v in mapping.items()}
        tables[name] = TableSource(table=name, pattern=str(t["file"]), folder=folder, columns=cols,
                                   constants=consts, values=values, **opts)
    for name, tdef in contract.TABLES.items():
        if tdef.required and name not in tables and name not in tables_raw:
            problems.append(f"tables.{name}: missing (the data contract requires it)")
    if problems:
        raise ParamsError("; ".join(problems), file=path)
    return Sources(file=path.resolve(), folder=folder, tables=tables)
