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

A table may instead be a query against a database (:mod:`clvlib.sources.sql`)::

    database:                        # for every table with a `query` (a table may have its own)
      url: postgresql+psycopg://clv_reader@db.example.com:5432/odoo   # a SQLAlchemy URL, no password
      password_env: CLV_DB_PASSWORD  # the environment variable that holds the password
      parameters: {company_id: 1}    # bound to :company_id in the queries
    tables:
      orders:
        query: select name as order_id, invoice_date as order_date, ... from account_move order by id
        query_name: invoices         # names the query in source_file (default: the table's name)
        version_query: select count(*), max(write_date) from account_move   # optional, see sql.py

A table without ``columns`` is expected in the canonical column names already. Matching of headers and
of ``values`` keys ignores case and surrounding spaces.

The file is declared as pydantic models and read by :mod:`clvlib.settings`, the one mechanism for every
settings file (``company.yaml``, the pay plans): unknown keys are errors, and every problem of the file
is reported at once as ONE ``ParamsError`` naming the file, each problem as ``dotted.key: message``
(``tables.orders.columns.amout: not a column of orders (did you mean amount? ...)``). Each table of
the data contract has its own model (:func:`table_model`), so its ``columns``, ``values`` and ``scale``
know that table's columns. Rules across keys that must be checked even when other keys are wrong (a
required table missing, ``by_name`` naming a header that is not mapped) run on the raw file
(:func:`_checks`). :func:`load_sources` turns the validated models into :class:`TableSource` objects,
the form the readers and the intake use.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Optional

from pydantic import AfterValidator, Field, create_model, field_validator, model_validator


from clvlib import contract, settings
from clvlib.errors import ParamsError
from clvlib.settings import Problem, Settings, checked

DATE_ORDERS = ("auto", "ymd", "dmy", "mdy")
FORMATS = ("csv", "xlsx", "parquet")
DATA_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")
#: canonical id columns whose values may be given as names (``by_name``) and the table that has the names
NAME_LOOKUPS = {"customer_id": "customers", "rep_id": "reps"}
FORMS = "a header name, a list of alternative header names, {header: ..., optional: true} or {value: ...}"


def norm(text) -> str:
    """How headers, value-map keys and names are compared: case, surrounding and repeated spaces ignored."""
    return re.sub(r"\s+", " ", str(text).replace("\ufeff", "")).strip().casefold()


# ------------------------------------------------------------------------------------------- the models
def _text(v) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _codec(v) -> bool:
    """auto, or a name Python knows as a text encoding."""
    if v == "auto":
        return True
    try:
        return codecs.lookup(v)._is_text_encoding
    except LookupError:
        return False


def _url(v) -> bool:
    """A SQLAlchemy URL that parses (``dialect+driver://user@host:port/database?options``)."""
    if not _text(v):
        return False
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(v)
    except ArgumentError:
        return False
    return True


def _no_password(v) -> bool:
    from sqlalchemy.engine import make_url

    url = make_url(v)
    return url.password is None and "password" not in {k.lower() for k in url.query}


def _as_list(v):
    """A single name where a list is expected is a list of one."""
    return [v] if isinstance(v, str) else v


Text = checked(str, _text, "a non-empty text")
Path_ = checked(str, _text, "a folder (relative to the sources file, or absolute)")
FileName = checked(str, _text, "a file name, a glob such as invoices-*.csv, or a folder")
Encoding = checked(str, lambda v: isinstance(v, str) and _codec(v),
                   "auto or a codec name such as utf-8, gb18030 or cp1252")
Delimiter = checked(str, lambda v: v == "auto" or (isinstance(v, str) and len(v.encode("utf-8")) == 1),
                    "auto or one character such as ',' ';' or '\\t'")
Sheet = checked(Any, lambda v: _text(v) or (isinstance(v, int) and not isinstance(v, bool) and v >= 0),
                "a sheet name or number (0 = the first sheet)")
HeaderRow = checked(Any, lambda v: v == "auto" or (isinstance(v, int) and not isinstance(v, bool) and v >= 1),
                    "auto or the row number of the header (1 = first)")
Headers = checked(list[str], lambda v: isinstance(v, list) and bool(v) and all(_text(h) for h in v),
                  "a header name or a list of alternative header names")
Names = checked(list[str], lambda v: isinstance(v, list) and all(_text(h) for h in v),
                "a header name or a list of header names")
Scalar = checked(Any, lambda v: isinstance(v, (str, int, float)), "a text or a number")
NonZero = checked(float, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v != 0,
                  "a non-zero number, e.g. 0.01 for percentages or 1000 for amounts in thousands")
Currency = checked(str, lambda v: isinstance(v, str) and bool(re.fullmatch(r"[A-Z]{3}", v)),
                   "a 3-letter ISO 4217 code in capitals such as USD")
Url = checked(str, _url, "a SQLAlchemy URL such as postgresql+psycopg://reader@db.example.com:5432/erp, "
                         "sqlite:///erp.db or duckdb:///erp.duckdb")
EnvName = checked(str, lambda v: isinstance(v, str) and bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v)),
                  "the name of an environment variable such as CLV_DB_PASSWORD")
Sql = checked(str, _text, "a SQL query (SELECT ...)")
Bindable = checked(dict[str, Any], lambda v: isinstance(v, dict) and all(
    isinstance(x, (str, int, float, bool)) and re.fullmatch(r"[A-Za-z_]\w*", k) for k, x in v.items()),
    "a mapping of parameter names to values, such as {company_id: 1}")
DateOrder = Literal["auto", "ymd", "dmy", "mdy"]
Decimal = checked(str, lambda v: v in (".", ","), "'.' or ','")
MaxAge = checked(int, lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 3660,
                 "a whole number between 0 and 3660")
ValueMap = checked(dict[str, Any], lambda v: isinstance(v, dict) and all(isinstance(x, (str, int, float))
                                                                       for x in v.values()),
                   "a mapping of file values to canonical values, such as {Closed Won: booked, \"*\": open}")


class ColumnSource(Settings):
    """One entry of ``columns:`` — ``Header``, ``[Header, Alternative]``, ``{header: ..., optional: true}``
    or ``{value: constant}``."""

    unknown_key: ClassVar[str] = "unknown key"
    header: Headers | None = Field(None, description="The header(s) that may hold the column, first found used")
    optional: bool = Field(False, description="The column may be absent from the file (its default is used)")
    value: Scalar | None = Field(None, description="A constant for every row instead of a column of the file")

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, v):
        if isinstance(v, (str, list)):
            return {"header": _as_list(v)}
        if not isinstance(v, dict):
            raise Problem(None, f"must be {FORMS}, got {v!r}")
        if "value" in v and len(v) > 1:
            raise Problem(None, "a constant is written {value: ...} alone")
        if "header" in v:
            return {**v, "header": _as_list(v["header"])}
        return v

    @model_validator(mode="after")
    def _header_or_value(self):
        if self.header is None and "value" not in self.model_fields_set:
            raise Problem("header", "required: the header name(s) of the column, or write {value: ...} for a "
                                    "constant")
        return self


def _not_optional(c: ColumnSource) -> ColumnSource:
    if c is not None and c.optional:
        raise Problem(None, "a required column cannot be optional")
    return c


def _allowed(col: contract.Column):
    def check(mapping: dict) -> dict:
        for k, v in mapping.items():
            if v not in col.allowed:
                raise Problem(None, f"{k!r} maps to {v!r}, which is not one of {', '.join(col.allowed)}")
        return mapping
    return check


class DatabaseSpec(Settings):
    """The database the ``query`` tables read from: its URL (without the password) and where the password is."""

    unknown_key: ClassVar[str] = "unknown key"
    url: Url = Field(description="SQLAlchemy URL without the password; a relative sqlite/duckdb path is relative "
                                 "to `folder`")
    password_env: EnvName | None = Field(None, description="Environment variable holding the password (never "
                                                           "written in a file)")
    parameters: Bindable = Field({}, description="Values bound to :name placeholders in the queries")
    chunk_rows: int = Field(50_000, ge=100, le=10_000_000, description="Rows fetched at a time")

    @field_validator("url")
    @classmethod
    def _url_without_password(cls, v):
        if not _no_password(v):
            raise Problem(None, "must not hold a password: remove it from the URL and name the environment "
                                "variable that holds it in password_env")
        return v


class FileOptions(Settings):
    """How the files are read: the sources file's top level gives defaults, a table may override them."""

    date_order: DateOrder | None = Field(None, description="How 05/03/2026-style dates are written: auto (told "
                                                           "from the values), ymd, dmy or mdy")
    encoding: Encoding | None = Field(None, description="auto (UTF-8, UTF-8/16 with BOM, GB18030/GBK) or a codec")
    delimiter: Delimiter | None = Field(None, description="auto or one character")
    decimal: Decimal | None = Field(None, description="'.' or ',' (for 1.234,56)")


class TableSpec(FileOptions):
    """One table of a sources file (subclassed per table of the data contract by :func:`table_model`)."""

    unknown_key: ClassVar[str] = "unknown key"
    table: ClassVar[str] = ""
    file: FileName | None = Field(None, description="The file, a glob of monthly files, or a folder holding "
                                                    "the table")
    query: Sql | None = Field(None, description="Instead of `file`: a SQL query whose columns are the table's")
    query_name: Text | None = Field(None, description="Names the query in source_file (default: the table name)")
    version_query: Sql | None = Field(None, description="A query returning one row that changes whenever the "
                                                        "query's data does (default: its row count and the day)")
    database: DatabaseSpec | None = Field(None, description="The database of this table's query (default: the "
                                                            "file's `database`)")
    sheet: Sheet | None = Field(None, description="For .xlsx: a sheet name or number (0 = first)")
    format: Literal["csv", "xlsx", "parquet"] | None = Field(None, description="csv, xlsx or parquet (default: "
                                                                              "from the file name)")
    header_row: HeaderRow = Field("auto", description="auto (the first row holding the mapped headers) or "
                                                      "the header's row number")
    by_name: Names = Field([], description="Headers that hold names, not ids: looked up in customers.name / "
                                           "reps.name")
    invert: Names = Field([], description="Number columns read as 1 / value (FX quoted the other way round)")
    base: Currency | None = Field(None, description="fx_rates: the currency the rates are quoted against "
                                                    "(default: the reporting currency)")
    max_age_days: MaxAge | None = Field(None, description="fx_rates: overrides params "
                                                                      "fx.max_age_days for this table")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v):
        if isinstance(v, str):
            return {"file": v}
        if not isinstance(v, dict):
            raise Problem(None, f"must be a file name or a mapping with `file`, got {v!r}")
        return v

    @field_validator("by_name", "invert", mode="before")
    @classmethod
    def _one_is_a_list(cls, v):
        return _as_list(v)

    @field_validator("base", "max_age_days")
    @classmethod
    def _fx_only(cls, v):
        if v is not None and cls.table != "fx_rates":
            raise Problem(None, "base and max_age_days apply to fx_rates only")
        return v

    @field_validator("invert")
    @classmethod
    def _number_columns(cls, v):
        tdef = contract.TABLES[cls.table]
        numbers = [c.name for c in tdef.columns if c.kind == "number"]
        for canon in v:
            if canon not in numbers:
                has = f"its number columns: {', '.join(numbers)}" if numbers else "it has none"
                raise Problem(None, f"{canon!r} is not a number column of {tdef.name} ({has})")
        return v


def _camel(name: str) -> str:
    return "".join(p.title() for p in name.split("_"))


@lru_cache(maxsize=None)
def table_model(name: str) -> type[TableSpec]:
    """The model of one table of the data contract: its ``columns``, ``values`` and ``scale`` keyed by
    that table's columns (a key that is not one of them is an error naming the table)."""
    tdef = contract.TABLES[name]
    cols = {c.name: (Annotated[Optional[ColumnSource], AfterValidator(_not_optional)] if c.required
                     else Optional[ColumnSource], Field(None, description=c.description)) for c in tdef.columns}
    columns = create_model(f"{_camel(name)}Columns", __base__=Settings, **cols)
    columns.unknown_key = f"not a column of {name}"
    columns.expected = "a mapping of canonical column names to headers"
    vals = {c.name: (Annotated[Optional[ValueMap], AfterValidator(_allowed(c))] if c.allowed
                     else Optional[ValueMap], Field(None)) for c in tdef.columns}
    values = create_model(f"{_camel(name)}Values", __base__=Settings, **vals)
    values.unknown_key = f"not a column of {name}"
    values.expected = "a mapping of canonical columns to {file value: canonical value}"
    numbers = {c.name: (Optional[NonZero], Field(None)) for c in tdef.columns if c.kind in ("money", "number")}
    scale = create_model(f"{_camel(name)}Scale", __base__=Settings, **numbers)
    scale.unknown_key = "only money and number columns can be scaled"
    scale.expected = "a mapping of money or number columns to factors, such as {amount: 1000}"
    model = create_model(
        f"{_camel(name)}Source", __base__=TableSpec,
        columns=(columns, Field(default_factory=columns, description="canonical column: header(s) in the file")),
        values=(values, Field(default_factory=values, description="canonical column: {file value: value}")),
        scale=(scale, Field(default_factory=scale, description="money or number column: factor")))
    model.table = name
    return model


def _tables_model() -> type[Settings]:
    fields = {name: (Optional[table_model(name)], Field(None, description=t.description))
              for name, t in contract.TABLES.items()}
    model = create_model("Tables", __base__=Settings, **fields)
    model.unknown_key = "not a table of the data contract"
    model.expected = "a mapping of table names to their files"
    return model


class SourcesSpec(FileOptions):
    """A sources file: where the files are, the file options' defaults, one entry per table."""

    unknown_key: ClassVar[str] = "unknown key"
    description: Text | None = Field(None, description="What this file reads (shown by check-data)")
    folder: Path_ = Field(".", description="Where the files are; relative to the sources file")
    database: DatabaseSpec | None = Field(None, description="The database that tables with a `query` read from")
    tables: _tables_model() = Field(description="which file feeds each table of the data contract")


def _checks(raw: dict, spec) -> list[str]:
    """Rules across keys, on the raw file (so they are reported even when other keys are wrong)."""
    problems = []
    tables = raw.get("tables")
    if not isinstance(tables, dict):
        return problems
    for name, tdef in contract.TABLES.items():
        if tdef.required and tables.get(name) is None:
            problems.append(f"tables.{name}: " + ("required, cannot be null" if name in tables else
                                                  "missing (the data contract requires it)"))
    for name, t in tables.items():
        if name in contract.TABLES and isinstance(t, dict):
            problems += _by_name_problems(name, t)
            problems += _file_or_query_problems(name, t, raw.get("database"))
    return problems


FILE_ONLY = ("sheet", "format", "encoding", "delimiter", "header_row")


def _file_or_query_problems(name: str, t: dict, database) -> list[str]:
    """A table reads either a file or a query (with a database to run it on), and only the options that apply."""
    where = f"tables.{name}"
    has_file, has_query = t.get("file") is not None, t.get("query") is not None
    if not has_file and not has_query:
        return [f"{where}: needs `file` (a file, glob or folder) or `query` (SQL against a database)"]
    if has_file and has_query:
        return [f"{where}: `file` and `query` exclude each other; keep one"]
    if has_file:
        return [f"{where}.{k}: applies to a `query` only" for k in ("query_name", "version_query", "database")
                if t.get(k) is not None]
    out = [f"{where}.{k}: applies to files only" for k in FILE_ONLY if t.get(k) is not None]
    if t.get("database") is None and database is None:
        out.append(f"{where}.query: needs a database: set `database: {{url: ...}}` at the top of the sources file "
                   "or in the table")
    return out


def _by_name_problems(name: str, t: dict) -> list[str]:
    """``by_name`` may name only headers mapped to customer_id or rep_id (the columns names are looked up for)."""
    by_name = _as_list(t.get("by_name") or [])
    columns = t.get("columns") if isinstance(t.get("columns"), dict) else {}
    mapped = set()
    for canon in NAME_LOOKUPS:
        src = columns.get(canon)
        src = src.get("header") if isinstance(src, dict) else src
        mapped |= {norm(h) for h in _as_list(src or []) if isinstance(h, str)}
    lookups = [c for c in NAME_LOOKUPS if c in contract.TABLES[name].column_names]
    return [f"tables.{name}.by_name: {h!r} is not a header mapped to {' or '.join(lookups) or 'an id column'}"
            for h in (by_name if isinstance(by_name, list) else []) if isinstance(h, str) and norm(h) not in mapped]


# ------------------------------------------------------------------------------------------- the runtime form
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
    query: str | None = None                                     # a SQL source: its query ...
    query_name: str | None = None
    version_query: str | None = None
    database: "Database | None" = None                           # ... and the database it runs on

    @property
    def sql(self) -> bool:
        """True for a table read from a database query rather than files."""
        return self.query is not None

    @property
    def label(self) -> str:
        """How rows of a SQL table name their source (``source_file``): the URL without user, password and
        host options that carry secrets, then ``#`` and the query's name."""
        return f"{self.database.safe_url}#{self.query_name or self.table}" if self.sql else self.pattern

    def where(self, name: str):
        """The path (files) or label (SQL) of an input named ``name`` in ``source_file``."""
        return name if self.sql else self.folder / name

    def candidates(self, canon: str) -> list[str]:
        """The headers that may hold ``canon`` in a file, in order of preference."""
        if canon in self.constants:
            return []
        return self.headers.get(canon) or ([self.columns[canon]] if canon in self.columns else [canon])

    def explicit(self, canon: str) -> bool:
        return canon in self.headers or canon in self.columns

    def files(self) -> list[Path]:
        """The files this table reads, sorted (a glob or a folder may hold several monthly files); none for
        a SQL table."""
        if self.sql:
            return []
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
class Database:
    """A database named in a sources file: the URL as written (no password), the environment variable that
    holds the password, bind parameters and the fetch size. See :mod:`clvlib.sources.sql`."""

    url: str
    password_env: str | None = None
    parameters: dict = field(default_factory=dict)
    chunk_rows: int = 50_000

    @property
    def safe_url(self) -> str:
        from clvlib.sources.sql import safe_url

        return safe_url(self.url)


@dataclass
class Sources:
    file: Path
    folder: Path
    tables: dict[str, TableSource]


def _database(d: DatabaseSpec | None, folder: Path) -> Database | None:
    """The runtime form of a ``database:`` block; a relative sqlite/duckdb file is relative to ``folder``."""
    if d is None:
        return None
    from clvlib.sources.sql import resolve_file_url

    return Database(url=resolve_file_url(d.url, folder), password_env=d.password_env,
                    parameters=dict(d.parameters), chunk_rows=d.chunk_rows)


def _table_source(name: str, t: TableSpec, spec: SourcesSpec, folder: Path) -> TableSource:
    """The validated declaration of one table as the readers use it."""
    cols, consts, headers, optional = {}, {}, {}, set()
    for canon, c in t.columns:
        if c is None:
            continue
        if "value" in c.model_fields_set:
            consts[canon] = c.value
            continue
        cols[canon], headers[canon] = c.header[0].strip(), [h.strip() for h in c.header]
        if c.optional:
            optional.add(canon)
    values = {canon: {("*" if k == "*" else norm(k)): v for k, v in m.items()} for canon, m in t.values if m}
    opts = {k: getattr(t, k) if getattr(t, k) is not None else getattr(spec, k)
            for k in ("date_order", "encoding", "delimiter", "decimal")}
    defaults = {"date_order": "auto", "encoding": "auto", "delimiter": "auto", "decimal": "."}
    return TableSource(
        table=name, pattern=t.file, folder=folder, format=t.format, sheet=t.sheet, query=t.query,
        query_name=t.query_name, version_query=t.version_query,
        database=_database(t.database or spec.database, folder) if t.query is not None else None,
        header_row=None if t.header_row == "auto" else t.header_row,
        columns=cols, constants=consts, values=values, headers=headers, optional=optional,
        by_name={norm(h) for h in t.by_name}, scale={k: float(f) for k, f in t.scale if f is not None},
        invert=set(t.invert), base=t.base, max_age_days=t.max_age_days,
        **{k: v if v is not None else defaults[k] for k, v in opts.items()})


def _value_keys_as_text(raw):
    """Keys of the ``values:`` maps that YAML read as numbers or null (``1: booked``, ``~: invoice``) are
    the file's text (``"1"``, ``""``); booleans stay, for the mechanism to ask for quotes (``yes`` is
    read as true, and is not the text of the file)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), dict):
        return raw
    tables = {}
    for name, t in raw["tables"].items():
        if isinstance(t, dict) and isinstance(t.get("values"), dict):
            t = {**t, "values": {c: {("" if k is None else str(k) if isinstance(k, (int, float)) and
                                      not isinstance(k, bool) else k): v for k, v in m.items()}
                                 if isinstance(m, dict) else m for c, m in t["values"].items()}}
        tables[name] = t
    return {**raw, "tables": tables}


def load_sources(path: str | Path) -> Sources:
    """Read and check a sources file; every problem at once as one ``ParamsError`` (module docstring)."""
    path = Path(path)
    try:
        raw = settings.read_yaml(path)
    except ParamsError as e:
        if str(e) == f"{path}: file not found":
            raise ParamsError("sources file not found (set `sources:` in company.yaml)", file=path) from None
        raise
    spec = settings.validate(_value_keys_as_text(raw if raw is not None else {}), SourcesSpec, file=path,
                             checks=_checks)
    folder = Path(spec.folder).expanduser()
    if not folder.is_absolute():
        folder = (path.parent / folder).resolve()
    tables = {name: _table_source(name, t, spec, folder) for name, t in spec.tables if t is not None}
    return Sources(file=path.resolve(), folder=folder, tables=tables)
