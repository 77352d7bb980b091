"""The per-customer RFM summary of :func:`clvlib.rfm.rfm_summary` as one SQL query, run where the data is.

:func:`rfm_query` writes the query: the same definitions as ``rfm_summary`` (Fader, Hardie & Lee 2005,
"Counting your customers the easy way", Marketing Science 24(2)) —

* a purchase occasion is a calendar day with an order (``CAST(date AS DATE)``: the time of day is
  ignored), its value the sum of that day's orders; orders after ``as_of`` are ignored;
* ``frequency`` = occasions in the model period (up to ``as_of``, or ``calibration_end``) - 1;
* ``recency`` = last occasion - first occasion, ``T`` = end of the model period - first occasion, in
  days or weeks (days / 7, continuous);
* ``monetary_value`` = mean value of the occasions after the first (0 without repeat occasions),
  ``total_value`` = value of every order in the model period;
* with ``calibration_end``: ``frequency_holdout`` (occasions after it, up to ``as_of``) and
  ``duration_holdout``; customers whose first occasion is after the calibration end are left out.

It is plain SQL (CTEs, ``GROUP BY``, ``FILTER``, date subtraction in days) that DuckDB and PostgreSQL
run as written. :func:`rfm_summary_sql` runs it and returns the frame ``rfm_summary`` returns (same
index, columns and dtypes): on a DataFrame or a Parquet/CSV file (or glob) with an in-process DuckDB,
or on a database (a SQLAlchemy URL, or the ``orders`` table of a SQL sources file with its password
from the environment) where the orders live, so only one row per customer leaves the database.

The values must be in one currency and >= 0 (credit notes netted into their orders, as for
``rfm_summary``): on a database that means a table or view that already holds them so; the
workbook's own pipeline converts and nets in :mod:`clvlib.sources` and keeps using ``rfm_summary``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from clvlib.errors import DataError
from clvlib.rfm import DAYS_PER_UNIT, TIME_UNITS

__all__ = ["rfm_query", "rfm_summary_sql"]

def _ident(name: str) -> str:
    """A column name quoted for SQL (double quotes; embedded quotes doubled)."""
    return '"' + str(name).replace('"', '""') + '"'


def _date_literal(value, what: str) -> str:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{what} must be a date; got {value!r} ({exc})") from None
    if ts is pd.NaT:
        raise DataError(f"{what} must be a date; got {value!r}")
    return f"DATE '{ts.date().isoformat()}'"


def rfm_query(source: str, customer_col: str, date_col: str, value_col: str | None = None, *, as_of=None,
              calibration_end=None, time_unit: str = "W") -> str:
    """The SQL of the RFM summary over ``source`` (a table name or ``(SELECT ...)``; module docstring).

    Parameters
    ----------
    source : str
        What the orders are read from, as it stands after ``FROM``.
    customer_col, date_col, value_col : str
        Column names in ``source`` (quoted in the query, so any name works).
    as_of, calibration_end : date-like, optional
        As in :func:`clvlib.rfm.rfm_summary`; ``as_of`` defaults to the last order day.
    time_unit : {"W", "D"}

    Returns
    -------
    str
        One ``SELECT`` returning ``customer_id, frequency, recency, T, monetary_value, total_value,
        first_purchase`` (+ ``frequency_holdout, duration_holdout``) ordered by customer.
    """
    if time_unit not in DAYS_PER_UNIT:
        raise DataError(f"time_unit must be one of {', '.join(repr(u) for u in TIME_UNITS)}; got {time_unit!r}")
    unit = f"{DAYS_PER_UNIT[time_unit]:.1f}"
    value = f"CAST({_ident(value_col)} AS DOUBLE PRECISION)" if value_col else "0.0"
    as_of_sql = _date_literal(as_of, "as_of") if as_of is not None else "(SELECT max(day) FROM raw)"
    end_sql = _date_literal(calibration_end, "calibration_end") if calibration_end is not None else as_of_sql
    model = "d.day <= p.end_day"
    holdout = (f",\n       count(*) FILTER (WHERE d.day > p.end_day) AS frequency_holdout,"
               f"\n       (p.as_of - p.end_day) / {unit} AS duration_holdout") if calibration_end is not None else ""
    return f"""WITH raw AS (
  SELECT {_ident(customer_col)} AS customer_id, CAST({_ident(date_col)} AS DATE) AS day, {value} AS value
  FROM {source}
), p AS (                          -- the end of the data and of the model period
  SELECT {as_of_sql} AS as_of, {end_sql} AS end_day
), days AS (                       -- purchase occasions: one row per customer and calendar day
  SELECT r.customer_id, r.day, sum(r.value) AS value
  FROM raw r, p WHERE r.day <= p.as_of
  GROUP BY r.customer_id, r.day
), firsts AS (
  SELECT customer_id, min(day) AS first_day FROM days GROUP BY customer_id
)
SELECT d.customer_id,
       count(*) FILTER (WHERE {model}) - 1 AS frequency,
       (max(d.day) FILTER (WHERE {model}) - f.first_day) / {unit} AS recency,
       (p.end_day - f.first_day) / {unit} AS "T",
       coalesce(sum(d.value) FILTER (WHERE {model} AND d.day <> f.first_day), 0)
         / greatest(count(*) FILTER (WHERE {model}) - 1, 1) AS monetary_value,
       coalesce(sum(d.value) FILTER (WHERE {model}), 0) AS total_value,
       f.first_day AS first_purchase{holdout}
FROM days d JOIN firsts f ON f.customer_id = d.customer_id CROSS JOIN p
GROUP BY d.customer_id, f.first_day, p.end_day, p.as_of
HAVING count(*) FILTER (WHERE {model}) > 0
ORDER BY d.customer_id"""


def _checks_query(source: str, customer_col: str, date_col: str, value_col: str | None) -> str:
    value = _ident(value_col) if value_col else "0"
    return (f"SELECT count(*), count(*) FILTER (WHERE {_ident(customer_col)} IS NULL), "
            f"count(*) FILTER (WHERE {_ident(date_col)} IS NULL), "
            f"count(*) FILTER (WHERE {value} IS NULL OR CAST({value} AS DOUBLE PRECISION) < 0) FROM {source}")


def _check(counts, customer_col, date_col, value_col):
    """The same refusals as rfm_summary: an empty log, missing ids or dates, missing or negative values."""
    n, no_id, no_date, bad_value = (int(v) for v in counts)
    if n == 0:
        raise DataError("the transaction table is empty: there are no orders to summarise")
    if no_id:
        raise DataError(f"{no_id} missing customer ids", column=customer_col)
    if no_date:
        raise DataError(f"{no_date} missing dates", column=date_col)
    if bad_value:
        raise DataError(f"{bad_value} missing or negative values; net credit notes into their orders first",
                        column=value_col)


def _frame(df: pd.DataFrame, customer_col: str, value_col, time_unit: str, holdout: bool) -> pd.DataFrame:
    """The query's result in rfm_summary's form (index, dtypes, attrs)."""
    out = pd.DataFrame(index=pd.Index(df["customer_id"].to_numpy(), name=customer_col))
    out["frequency"] = df["frequency"].to_numpy(dtype=np.int64)
    out["recency"] = df["recency"].to_numpy(dtype=np.float64)
    out["T"] = df["T"].to_numpy(dtype=np.float64)
    if value_col is not None:
        out["monetary_value"] = df["monetary_value"].to_numpy(dtype=np.float64)
        out["total_value"] = df["total_value"].to_numpy(dtype=np.float64)
    out["first_purchase"] = pd.to_datetime(df["first_purchase"]).to_numpy().astype("datetime64[s]")
    if holdout:
        out["frequency_holdout"] = df["frequency_holdout"].to_numpy(dtype=np.int64)
        out["duration_holdout"] = df["duration_holdout"].to_numpy(dtype=np.float64)
    out.attrs["time_unit"] = time_unit
    return out if out.index.is_monotonic_increasing else out.sort_index()   # whatever the database's collation


def rfm_summary_sql(data, customer_col: str, date_col: str, value_col: str | None = None, *, as_of=None,
                    calibration_end=None, time_unit: str = "W", database=None) -> pd.DataFrame:
    """:func:`clvlib.rfm.rfm_summary` computed by SQL where the orders are (module docstring).

    Parameters
    ----------
    data : DataFrame, path or str
        Without ``database``: a DataFrame, or a Parquet (``.parquet``/``.pq``) or CSV file or glob, read
        by an in-process DuckDB. With ``database``: a table name or ``(SELECT ...)`` in that database.
    database : str or TableSource, optional
        A SQLAlchemy URL, or a SQL table of a sources file (``load_sources(...).tables["orders"]``:
        its database, password from the environment and read-only connection are used).

    Returns
    -------
    pandas.DataFrame
        The frame ``rfm_summary`` returns for the same log (the customer ids as the database gives them).
    """
    if database is None:
        return _in_duckdb(data, customer_col, date_col, value_col, as_of, calibration_end, time_unit)
    if not isinstance(data, str):
        raise DataError("with a database, data must be a table name or a (SELECT ...) in it")
    query = rfm_query(data, customer_col, date_col, value_col, as_of=as_of, calibration_end=calibration_end,
                      time_unit=time_unit)
    counts, df = _on_database(database, [_checks_query(data, customer_col, date_col, value_col), query])
    _check(counts, customer_col, date_col, value_col)
    return _frame(df, customer_col, value_col, time_unit, calibration_end is not None)


def _in_duckdb(data, customer_col, date_col, value_col, as_of, calibration_end, time_unit) -> pd.DataFrame:
    import duckdb

    con = duckdb.connect()
    try:
        if isinstance(data, pd.DataFrame):
            con.register("clv_orders", data)
            source = "clv_orders"
        else:
            path = str(Path(data))
            reader = "read_parquet" if path.lower().endswith((".parquet", ".pq")) else "read_csv"
            source = f"{reader}('{path.replace(chr(39), chr(39) * 2)}')"
        _check(con.execute(_checks_query(source, customer_col, date_col, value_col)).fetchone(),
               customer_col, date_col, value_col)
        df = con.execute(rfm_query(source, customer_col, date_col, value_col, as_of=as_of,
                                   calibration_end=calibration_end, time_unit=time_unit)).df()
    except duckdb.Error as e:
        raise DataError(f"the RFM query failed in DuckDB ({str(e).splitlines()[0]})") from None
    finally:
        con.close()
    return _frame(df, customer_col, value_col, time_unit, calibration_end is not None)


def _on_database(database, queries: list[str]):
    """(first row of the first query, the second's rows as a frame), run on ``database``."""
    import sqlalchemy as sa

    if isinstance(database, str):
        from clvlib.sources.spec import Database, TableSource

        database = TableSource(table="orders", pattern="", folder=Path("."), query="-",
                               database=Database(url=database))
    from clvlib.sources.sql import _connection

    with _connection(database) as conn:
        if conn.dialect.name == "postgresql":       # sort and hash the customers in memory, this query only
            conn.execute(sa.text("SET LOCAL work_mem = '256MB'"))
        counts = conn.execute(sa.text(queries[0])).fetchone()
        result = conn.execution_options(stream_results=True, yield_per=100_000).execute(sa.text(queries[1]))
        names = list(result.keys())
        parts = [pd.DataFrame(rows, columns=names) for rows in result.partitions(100_000)]
    return counts, pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=names)
