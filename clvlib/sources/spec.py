"""Source declarations: which file feeds each canonical table and how its columns map.

A sources file (``params/sources/*.yaml``) looks like::

    folder: ../../data/demo          # relative to this file; every `file` below is relative to it
    date_order: auto                 # default for all tables: auto | ymd | dmy | mdy
    tables:
      orders:
        file: exports/invoices-*.csv # a file, a glob of monthly files, or a folder (every CSV/XLSX/Parquet in it)
        sheet: Sheet1                # for .xlsx: a sheet name or number (0 = first)
        encoding: auto               # auto (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030/GBK) or a codec
        delimiter: auto              # auto or one character
        decimal: "."                 # "," for 1.234,56
        header_row: auto             # auto: the first row holding the mapped headers; or its number
        columns:                     # canonical name: header in the file
          order_id: Invoice No.
          customer_id: [Customer Code, 客户编码]        # alternatives: the first header found is used
          cost_of_goods: {header: Cost, optional: true} # may be absent: the contract default is used
          currency: {value: USD}                       # a constant
        values:                      # canonical column: {value in the file: canonical value}
          status: {"Closed Won": booked, "Closed Lost": lost, "*": open}
        by_name: [Account Name]      # headers that hold names, not ids: looked up in customers.name / reps.name
        scale: {amount: 1000}        # multiply a number column (amounts in thousands, percentages x 0.01)
        invert: [rate]               # use 1 / value (FX quoted as foreign units per reporting unit)
      fx_rates:
        file: rates.csv
        base: EUR                    # the currency the rates are quoted against (default: reporting currency)
        max_age_days: 400            # overrides params fx.max_age_days for this table (period rates)
      customers: {file: customers.csv}
      nps: null                      # not available (optional tables only)

A table without ``columns`` is expected in the canonical column names already. Matching of headers and
of ``values`` keys ignores case and surrounding spaces. Mapping problems are reported as
``ParamsError`` naming the sources file and the key, all at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from clvlib import contract
from clvlib.errors import ParamsError

DATE_ORDERS = ("auto", "ymd", "dmy", "mdy")
FORMATS = ("csv", "xlsx", "parquet")
TABLE_KEYS = {"file", "sheet", "format", "encoding", "delimiter", "decimal", "date_order", "columns",
              "values", "header_row", "by_name", "scale", "invert", "base", "max_age_days"}
TOP_KEYS = ("folder", "date_order", "encoding", "decimal", "delimiter", "tables", "description")
DATA_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")
#: canonical id columns whose values may be given as names (``by_name``) and the table that has the names
NAME_LOOKUPS = {"customer_id": "customers", "rep_id": "reps"}


def norm(text) -> str:
    """How headers, value-map keys and names are compared: case, surrounding and repeated spaces ignored."""
    return re.sub(r"\s+", " ", str(text).replace("\ufeff", "")).strip().casefold()


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
    header_row: int | None = None                                 # None = auto
    columns: dict[str, str] = field(default_factory=dict)      # canonical -> (first) source header
    constants: dict[str, object] = field(default_factory=dict)  # canonical -> constant value
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # canonical -> {norm(file value): value}
    headers: dict[str, list[str]] = field(default_factory=dict)  # canonical -> alternative headers
    optional: set[str] = field(default_factory=set)             # explicitly mapped, may be absent
    by_name: set[str] = field(default_factory=set)              # norm(header) of name columns
    scale: dict[str, float] = field(default_factory=dict)
    invert: set[str] = field(default_factory=set)
    base: str | None = None                                      # fx_rates: quote currency
    max_age_days: int | None = None                              # fx_rates: overrides params

    def candidates(self, canon: str) -> list[str]:
        """The headers that may hold ``canon`` in a file, in order of preference."""
        if canon in self.constants:
            return []
        return self.headers.get(canon) or ([self.columns[canon]] if canon in self.columns else [canon])

    def explicit(self, canon: str) -> bool:
        return canon in self.headers or canon in self.columns

    def files(self) -> list[Path]:
        """The files this table reads, sorted (a glob or a folder may hold several monthly files)."""
        p = Path(self.pattern)
        if not p.is_absolute():
            p = self.folder / p
        if any(ch in self.pattern for ch in "*?["):
            found = sorted(Path(p.anchor).glob(str(p.relative_to(p.anchor))))
            return [f for f in found if not f.name.startswith(("~$", ".~lock"))]   # Excel/LibreOffice lock files
        if p.is_dir():
            return sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in DATA_SUFFIXES
                          and not f.name.startswith(("~$", ".")))
        return [p]

    def file_format(self, path: Path) -> str:
        if self.format:
            return self.format
        ext = path.suffix.lower()
        if ext in (".xlsx", ".xlsm"):
            return "xlsx"
        if ext in (".parquet", ".pq"):
            return "parquet"
        if ext in (".xls", ".xlsb", ".numbers", ".ods"):
            return ext[1:]           # not readable: read_any says what to do
        return "csv"


@dataclass
class Sources:
    file: Path
    folder: Path
    tables: dict[str, TableSource]


def _headers(value) -> list[str] | None:
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return [v.strip() for v in value]
    return None


def _table(name: str, t: dict, defaults: dict, folder: Path, problems: list[str]) -> TableSource | None:
    """One table's declaration checked and read; every problem appended to ``problems`` (one line each)."""
    table_def = contract.TABLES[name]
    where = f"tables.{name}"
    for k in t:
        if k not in TABLE_KEYS:
            problems.append(f"{where}.{k}: unknown key (known: {', '.join(sorted(TABLE_KEYS))})")
    opts = _file_options(t, defaults, where, problems)
    header_row = _header_row(t, where, problems)
    cols, consts, headers, optional = _columns(table_def, t.get("columns") or {}, where, problems)
    values = _value_maps(table_def, t.get("values") or {}, where, problems)
    by_name = t.get("by_name") or []
    if isinstance(by_name, str):
        by_name = [by_name]
    name_headers = {norm(h) for c in NAME_LOOKUPS for h in headers.get(c, [])}
    for h in by_name:
        if not isinstance(h, str) or norm(h) not in name_headers:
            problems.append(f"{where}.by_name: {h!r} is not a header mapped to "
                            f"{' or '.join(c for c in NAME_LOOKUPS if c in table_def.column_names)}")
    scale, invert = _number_transforms(table_def, t, where, problems)
    base, max_age = _fx_options(name, t, where, problems)
    return TableSource(table=name, pattern=str(t["file"]), folder=folder, columns=cols, constants=consts,
                       values=values, headers=headers, optional=optional, by_name={norm(h) for h in by_name
                                                                                   if isinstance(h, str)},
                       scale=scale, invert=invert, base=base, max_age_days=max_age,
                       header_row=header_row, **opts)


def _file_options(t: dict, defaults: dict, where: str, problems: list[str]) -> dict:
    """sheet, format, encoding, delimiter, decimal, date_order: the table's, else the file's defaults."""
    opts = {**defaults, **{k: t[k] for k in ("sheet", "format", "encoding", "delimiter", "decimal",
                                               "date_order") if k in t and t[k] is not None}}
    if opts.get("date_order", "auto") not in DATE_ORDERS:
        problems.append(f"{where}.date_order: must be one of {', '.join(DATE_ORDERS)}")
    if opts.get("format") not in (None, *FORMATS):
        problems.append(f"{where}.format: must be one of {', '.join(FORMATS)}")
    if opts.get("decimal", ".") not in (".", ","):
        problems.append(f"{where}.decimal: must be '.' or ','")
    delim = opts.get("delimiter", "auto")
    if delim != "auto" and not (isinstance(delim, str) and len(delim.encode("utf-8")) == 1):
        problems.append(f"{where}.delimiter: must be auto or one character such as ',' ';' or '\\t'")
    if not isinstance(opts.get("encoding", "auto"), str):
        problems.append(f"{where}.encoding: must be auto or a codec name such as utf-8 or gb18030")
    return opts


def _header_row(t: dict, where: str, problems: list[str]) -> int | None:
    header_row = t.get("header_row", "auto")
    if header_row in (None, "auto"):
        return None
    if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
        problems.append(f"{where}.header_row: must be auto or the row number of the header (1 = first)")
        return None
    return header_row


def _columns(table_def: contract.Table, columns, where: str, problems: list[str]):
    """(first header, constants, alternative headers, optional columns) of the ``columns:`` mapping."""
    cols, consts, headers, optional = {}, {}, {}, set()
    if not isinstance(columns, dict):
        problems.append(f"{where}.columns: must map canonical column names to headers")
        columns = {}
    for canon, src in columns.items():
        if canon not in table_def.column_names:
            problems.append(f"{where}.columns.{canon}: not a column of {table_def.name} "
                            f"({', '.join(table_def.column_names)})")
            continue
        if isinstance(src, dict) and "value" in src:
            if set(src) - {"value"}:
                problems.append(f"{where}.columns.{canon}: a constant is written {{value: ...}} alone")
            consts[canon] = src["value"]
            continue
        opt = False
        if isinstance(src, dict) and "header" in src:
            extra = set(src) - {"header", "optional"}
            if extra or not isinstance(src.get("optional", False), bool):
                problems.append(f"{where}.columns.{canon}: write {{header: NAME or [NAMES], optional: true}}")
            opt = bool(src.get("optional", False))
            src = src["header"]
        hs = _headers(src)
        if hs is None:
            problems.append(f"{where}.columns.{canon}: must be a header name, a list of alternative "
                            "header names, {header: ..., optional: true} or {value: ...}")
            continue
        if opt and table_def.column(canon).required:
            problems.append(f"{where}.columns.{canon}: a required column cannot be optional")
        cols[canon], headers[canon] = hs[0], hs
        if opt:
            optional.add(canon)
    return cols, consts, headers, optional


def _value_maps(table_def: contract.Table, vraw, where: str, problems: list[str]) -> dict:
    """canonical column -> {norm(file value) or "*": canonical value} of the ``values:`` mapping."""
    values = {}
    if not isinstance(vraw, dict):
        problems.append(f"{where}.values: must map canonical columns to {{file value: canonical value}}")
        vraw = {}
    for canon, mapping in vraw.items():
        if canon not in table_def.column_names:
            problems.append(f"{where}.values.{canon}: not a column of {table_def.name}")
            continue
        if not isinstance(mapping, dict):
            problems.append(f"{where}.values.{canon}: must map file values to canonical values")
            continue
        col = table_def.column(canon)
        out = {}
        for k, v in mapping.items():
            key = "*" if k == "*" else norm("" if k is None else k)
            if col.allowed and v not in col.allowed:
                problems.append(f"{where}.values.{canon}: {k!r} maps to {v!r}, which is not one of "
                                f"{', '.join(col.allowed)}")
            out[key] = v
        values[canon] = out
    return values


def _number_transforms(table_def: contract.Table, t: dict, where: str, problems: list[str]):
    """(``scale:`` factors, ``invert:`` columns), only on money and number columns."""
    scale = {}
    for canon, f in (t.get("scale") or {}).items():
        if canon not in table_def.column_names or table_def.column(canon).kind not in ("money", "number"):
            problems.append(f"{where}.scale.{canon}: only money and number columns can be scaled")
        elif isinstance(f, bool) or not isinstance(f, (int, float)) or f == 0:
            problems.append(f"{where}.scale.{canon}: must be a non-zero number, e.g. 0.01 for percentages")
        else:
            scale[canon] = float(f)
    invert = t.get("invert") or []
    if isinstance(invert, str):
        invert = [invert]
    for canon in invert:
        if canon not in table_def.column_names or table_def.column(canon).kind != "number":
            problems.append(f"{where}.invert: {canon!r} is not a number column of {table_def.name}")
    return scale, set(invert)


def _fx_options(name: str, t: dict, where: str, problems: list[str]):
    """(``base``, ``max_age_days``) — of the fx_rates table only."""
    base = t.get("base")
    max_age = t.get("max_age_days")
    if name != "fx_rates" and (base is not None or max_age is not None):
        problems.append(f"{where}: base and max_age_days apply to fx_rates only")
    if base is not None and not (isinstance(base, str) and re.fullmatch(r"[A-Z]{3}", base)):
        problems.append(f"{where}.base: must be a 3-letter ISO 4217 code in capitals such as USD")
    if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int)
                                or not 0 <= max_age <= 3660):
        problems.append(f"{where}.max_age_days: must be a whole number between 0 and 3660")
    return base, max_age


def load_sources(path: str | Path) -> Sources:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ParamsError("sources file not found (set `sources:` in company.yaml)", file=path) from None
    except UnicodeDecodeError:
        raise ParamsError("not UTF-8 text; save the sources file as UTF-8", file=path) from None
    except yaml.YAMLError as e:
        raise ParamsError(f"not valid YAML: {' '.join(str(e).split())}", file=path) from None
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise ParamsError("must be a mapping with `folder` and `tables`", file=path)
    for key in raw:
        if key not in TOP_KEYS:
            problems.append(f"{key}: unknown key (known: {', '.join(TOP_KEYS)})")
    folder = Path(str(raw.get("folder") or ".")).expanduser()
    if not folder.is_absolute():
        folder = (path.parent / folder).resolve()
    defaults = {k: raw[k] for k in ("date_order", "encoding", "decimal", "delimiter") if raw.get(k) is not None}
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
        ts = _table(name, t, defaults, folder, problems)
        if ts is not None:
            tables[name] = ts
    for name, tdef in contract.TABLES.items():
        if tdef.required and name not in tables and name not in tables_raw:
            problems.append(f"tables.{name}: missing (the data contract requires it)")
    if problems:
        raise ParamsError("; ".join(problems), file=path)
    return Sources(file=path.resolve(), folder=folder, tables=tables)
