"""Read a table of the data contract from a database query (PostgreSQL, SQLite, DuckDB, any SQLAlchemy URL).

A sources file names the database once (``database: {url, password_env, parameters}``) and gives a
table ``query:`` instead of ``file:`` (see :mod:`clvlib.sources.spec`). The query's result is read in
chunks of ``chunk_rows`` rows (a server-side cursor where the driver has one, so a large result is never
held twice) into the same raw frame the file readers give (:class:`clvlib.sources.readers.FileRead`: the
query's columns, ``_row``), so the mapping, parsing, quarantine, repairs and counts are the same code as
for a CSV. Values arrive typed (dates, numbers); ``NUMERIC`` values become floats, text stays text.

Where a row came from: ``source_file`` is :func:`safe_url` (the URL without user name, password or
any option naming a password) plus ``#`` and the query's name (``query_name``, default the table's
name), ``source_row`` the row's number in the query's result (1 = first). End each query with an
``ORDER BY`` so the numbers are the same from one run to the next.

The password is read from the environment variable named by ``password_env`` when connecting, and
only then: it is never in the sources file, the params, ``source_file``, the notes, the errors or any
file the run writes. An error a driver raises is cut to its first line and any occurrence of the
password is masked before it is shown.

Connections are read-only where the database allows it (PostgreSQL: a READ ONLY transaction; DuckDB:
``read_only``; SQLite: ``mode=ro``). Whatever goes wrong — no driver, no password, server unreachable,
authentication refused, a missing table, a query error — is ONE line (:class:`clvlib.errors.DataError`)
naming the table, the source and what to check, never a traceback.

Whether a query's data changed since the last run (the intake's fingerprint, :func:`version`): the
table's ``version_query`` when it has one (a query returning one row that changes whenever the data
does, e.g. ``select count(*), max(write_date) from account_move``), else the query's row count and the
calendar day — so rows added or removed are seen at once, and an edit that keeps the count at the
latest the next day. Both are cheap next to reading the rows.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from clvlib.errors import DataError

FILE_DIALECTS = ("sqlite", "duckdb")
SECRET_OPTIONS = ("password", "passwd", "pwd", "sslpassword", "user", "username")


# ------------------------------------------------------------------------------------------- URLs
def safe_url(url: str) -> str:
    """The URL as it may be shown: no user name, no password, no option that carries either.

    >>> safe_url("postgresql+psycopg://clv:secret@db.example.com:5432/odoo?sslmode=require")
    'postgresql+psycopg://db.example.com:5432/odoo?sslmode=require'
    """
    from sqlalchemy.engine import URL, make_url

    u = make_url(url)
    query = {k: v for k, v in u.query.items() if k.lower() not in SECRET_OPTIONS}
    return URL.create(u.drivername, host=u.host, port=u.port, database=u.database,
                      query=query).render_as_string(hide_password=False)


def resolve_file_url(url: str, folder: Path) -> str:
    """A sqlite/duckdb URL whose database file is relative made absolute, relative to ``folder``."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    name = u.database or ""
    if u.get_backend_name() not in FILE_DIALECTS or not name or name == ":memory:" or name.startswith("file:") \
            or Path(name).is_absolute():
        return url
    return u.set(database=str((Path(folder) / name).resolve())).render_as_string(hide_password=False)


def _password(ts) -> str | None:
    env = ts.database.password_env
    if env is None:
        return None
    value = os.environ.get(env)
    if value is None:
        raise DataError(f"table {ts.table}: the environment variable {env} (password_env) is not set; set it to "
                        "the database password before the run", file=ts.label)
    return value


def _connect_url(ts, password: str | None):
    """The URL to connect with: the password added, file databases opened read-only."""
    from sqlalchemy.engine import make_url

    u = make_url(ts.database.url)
    if password is not None:
        u = u.set(password=password)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" \
            and not u.database.startswith("file:"):
        u = u.set(database=f"file:{u.database}?mode=ro", query={**u.query, "uri": "true"})
    return u


def _engine(ts, password: str | None):
    import sqlalchemy as sa

    u = _connect_url(ts, password)
    backend = u.get_backend_name()
    args = {"read_only": True} if backend == "duckdb" else {"connect_timeout": 15} if backend == "postgresql" else {}
    try:
        return sa.create_engine(u, connect_args=args, poolclass=sa.pool.NullPool)
    except (ImportError, sa.exc.NoSuchModuleError, sa.exc.ArgumentError) as e:
        raise DataError(f"table {ts.table}: no SQLAlchemy driver for '{u.drivername}' is installed "
                        f"({_first_line(e, password)}); install it, or use postgresql+psycopg, sqlite or duckdb",
                        file=ts.label) from None


# ------------------------------------------------------------------------------------------- errors
def _first_line(e: BaseException, password: str | None) -> str:
    """A driver's error as one line: SQLAlchemy's wrapper and background links dropped, the password masked."""
    orig = getattr(e, "orig", None)
    text = str(orig if orig is not None else e).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("(Background")]
    line = next((ln for ln in lines if not ln.startswith("[SQL:")), type(e).__name__)
    if password:
        line = line.replace(password, "***")
    return line.rstrip(".")


@contextmanager
def _connection(ts):
    """A read-only connection for table ``ts``; every failure becomes one DataError naming the source."""
    import sqlalchemy as sa

    password = _password(ts)
    engine = _engine(ts, password)
    try:
        try:
            conn = engine.connect()
        except sa.exc.SQLAlchemyError as e:
            raise DataError(f"table {ts.table}: cannot connect to the database ({_first_line(e, password)}); check "
                            "`database.url`" + (f", the password in {ts.database.password_env}"
                                                if ts.database.password_env else "")
                            + " and that the server accepts connections", file=ts.label) from None
        with conn:
            if engine.dialect.name == "postgresql":
                conn = conn.execution_options(postgresql_readonly=True)
            try:
                yield conn
            except sa.exc.SQLAlchemyError as e:
                raise DataError(f"table {ts.table}: the query failed ({_first_line(e, password)}); check `query` "
                                "for this table in the sources file", file=ts.label) from None
    finally:
        engine.dispose()


def _statement(sql: str, parameters: dict):
    """(text clause, the parameters it uses): values of ``parameters`` bound to the ``:name`` it contains."""
    import sqlalchemy as sa

    stmt = sa.text(sql.strip().rstrip(";"))
    return stmt, {k: v for k, v in parameters.items() if k in stmt._bindparams}


# ------------------------------------------------------------------------------------------- reading
def read_query(ts, usecols: set[str] | None = None):
    """The query's rows as a raw frame (:class:`FileRead`): its columns (those whose normalised name is in
    ``usecols``, or all), typed as the database gives them, and ``_row`` (1 = the first row of the result).
    """
    from clvlib.sources.readers import ROW, FileRead, _unique_names
    from clvlib.sources.spec import norm

    stmt, params = _statement(ts.query, ts.database.parameters)
    with _connection(ts) as conn:
        result = conn.execution_options(stream_results=True, yield_per=ts.database.chunk_rows).execute(stmt, params)
        names = _unique_names(list(result.keys()), ts.label, 0, usecols or set())
        keep = [i for i, n in enumerate(names) if usecols is None or norm(n) in usecols]
        parts = [_frame(rows, names, keep) for rows in result.partitions(ts.database.chunk_rows)]
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else (
        parts[0] if parts else pd.DataFrame({names[i]: pd.Series(dtype=object) for i in keep}))
    frame[ROW] = np.arange(1, len(frame) + 1, dtype=np.int64)
    return FileRead(frame, names, 0, None, 0)


def _frame(rows, names: list[str], keep: list[int]) -> pd.DataFrame:
    """One chunk of rows as columns: decimals and floats as floats, whole numbers as nullable integers (an
    id 2 stays "2", not "2.0"), text as Arrow strings, anything else (dates, mixed) as the driver gave it."""
    typed = {"decimal": float, "floating": float, "mixed-integer-float": float, "integer": "Int64",
             "boolean": "boolean", "string": pd.StringDtype("pyarrow"), "empty": pd.StringDtype("pyarrow")}
    cols = {}
    for i in keep:
        values = [r[i] for r in rows]
        s = pd.Series(values, dtype=object)
        dtype = typed.get(pd.api.types.infer_dtype(s, skipna=True))
        if dtype is float:
            s = pd.Series([np.nan if v is None else float(v) for v in values], dtype=float)
        elif dtype is not None:
            s = s.astype(dtype)
        cols[names[i]] = s
    return pd.DataFrame(cols)


def digest(frame: pd.DataFrame) -> str:
    """sha256 of the rows as read (values of every column, in order): what run.json records for a query."""
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, frame.columns)).encode())
    for c in frame.columns:
        col = frame[c]
        if col.dtype == object:
            col = col.map(lambda v: None if v is None else repr(v)).astype(object)
        h.update(pd.util.hash_pandas_object(col, index=False).to_numpy().tobytes())
    return h.hexdigest()


def version(ts) -> dict:
    """What says whether table ``ts``'s data changed (for the intake's fingerprint; module docstring)."""
    query = ts.query.strip().rstrip(";")
    probe = ts.version_query or f"SELECT count(*) FROM ({query}) AS clv_count"
    stmt, params = _statement(probe, ts.database.parameters)
    with _connection(ts) as conn:
        rows = conn.execute(stmt, params).fetchmany(5)
    out = {"source": ts.label, "query_sha256": hashlib.sha256(query.encode()).hexdigest(),
           "parameters": ts.database.parameters, "version": [[str(v) for v in r] for r in rows]}
    if not ts.version_query:
        out["day"] = _dt.date.today().isoformat()
    return out
