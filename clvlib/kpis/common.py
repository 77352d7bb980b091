"""What every KPI shares: months and month ends, sums over 12-month windows, books by level, long rows.

* A month is a string ``"YYYY-MM"``; internally an integer index ``year * 12 + month - 1`` so that
  "the 12 months ending at m" is ``m - 11 ... m``.
* ``month_end(m)`` is the month's last calendar day, except the as-of month, whose end is the as-of
  date (the WAVE convention).
* Long rows: ``month, level, id, measure, value`` with level ∈ customer | rep | team | company (id =
  customer_id / rep_id / team / ``"all"``).
* Books: sales KPIs credit the reps of each order (``credit_lines``); relationship KPIs weight each
  customer by its owners' shares at a month end (``owners``). A **service or supply-chain colleague's
  book is their team's book** (they look after all of the team's accounts): rep rows of those colleagues
  carry the team's figures, and team rows are computed from the sales reps' books (never by adding rep
  rows). The company level counts every customer once, owned or not.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from clvlib.errors import DataError, ParamsError

LONG_COLUMNS = ["month", "level", "id", "measure", "value"]
LEVELS = ("customer", "rep", "team", "company")
COMPANY = "all"
DAYS_PER_MONTH = 365.25 / 12
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# ------------------------------------------------------------------ months
def month_index(month: str) -> int:
    """``"2026-10"`` -> 2026 * 12 + 9."""
    if not isinstance(month, str) or not MONTH_RE.match(month):
        raise ParamsError(f"a month must look like 2026-10 (year-month), got {month!r}")
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def month_label(index) -> str:
    index = int(index)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _per_distinct(values: pd.Series, fn, dtype) -> pd.Series:
    """``values.map(fn)`` with ``fn`` called once per distinct value (a history of 24 months has
    millions of rows but 24 labels)."""
    if values.empty:
        return values.map(fn)
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    out = np.array([fn(v) for v in uniques], dtype=dtype)
    return pd.Series(out[codes], index=values.index, name=values.name)


def month_indexes(months: pd.Series) -> pd.Series:
    """:func:`month_index` of every value of ``months`` (each distinct label parsed once)."""
    return _per_distinct(months, month_index, np.int64)


def month_labels(indexes: pd.Series) -> pd.Series:
    """:func:`month_label` of every value of ``indexes`` (each distinct index formatted once)."""
    return _per_distinct(indexes, month_label, object)


def shared_codes(column: str, tables: list) -> list:
    """``tables`` with ``column`` as one categorical of every value it takes in any of them (categories
    in the order a sort of the values gives, so sorting and grouping see the same order as on the text).

    The KPI stage joins tables of millions of rows on customer and rep ids; on one shared categorical
    pandas joins, groups and maps on integer codes instead of hashing text, row by row. Tables without
    the column (or ``None``) come back unchanged, and all of them when the ids are not all text;
    :func:`to_long` and :func:`as_text` turn ids back into text.
    """
    have = [t for t in tables if t is not None and column in t.columns]
    distinct = [pd.Series(t[column].dropna().unique()) for t in have]
    if not have or not all(pd.api.types.is_string_dtype(d) for d in distinct):   # object: every value a str
        return list(tables)               # ids that are not all text (numbers, mixed) are left as they are
    values = pd.concat(distinct, ignore_index=True).astype(str)
    dtype = pd.CategoricalDtype(values.drop_duplicates().sort_values(ignore_index=True))
    return [t if t is None or column not in t.columns else t.assign(**{column: t[column].astype(dtype)})
            for t in tables]


def as_text(df: pd.DataFrame, columns) -> pd.DataFrame:
    """``df`` with its categorical ``columns`` as text again (pandas' default ``str``, missing as missing),
    so a table's id columns have one dtype whatever the inputs' text dtypes were."""
    cat = [c for c in columns if c in df.columns and isinstance(df[c].dtype, pd.CategoricalDtype)]
    return df.assign(**{c: df[c].astype(str) for c in cat}) if cat else df


def months_of(dates: pd.Series) -> np.ndarray:
    """Month index of each date (NaT -> -1)."""
    d = pd.to_datetime(dates)
    out = (d.dt.year * 12 + d.dt.month - 1).to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(out), -1, out).astype(np.int64)


def check_months(months) -> list[str]:
    """The months asked for, validated, sorted and without repeats."""
    if isinstance(months, str):
        months = [months]
    out = sorted({str(m) for m in months})
    if not out:
        raise ParamsError("no months given to compute KPIs for")
    for m in out:
        month_index(m)
    return out


def calendar_end(index) -> pd.Timestamp:
    return pd.Period(month_label(index), freq="M").to_timestamp(how="end").normalize()


def month_ends(months, as_of=None) -> pd.Series:
    """month -> its end date: the last calendar day, or ``as_of`` in the as-of month."""
    months = check_months(months)
    ends = pd.Series([calendar_end(month_index(m)) for m in months], index=months, name="month_end")
    if as_of is not None:
        as_of = pd.Timestamp(as_of).normalize()
        ends[ends.index == month_label(as_of.year * 12 + as_of.month - 1)] = as_of
    return ends.astype("datetime64[ns]")


def as_ns(dates) -> pd.Series:
    """Dates as datetime64[ns] (hand-made tables parse to microseconds in pandas 3; joins need one unit)."""
    return pd.to_datetime(dates).astype("datetime64[ns]")


def require(df: pd.DataFrame | None, table: str, columns) -> pd.DataFrame:
    """``df`` unchanged when it has ``columns``; else a one-line DataError naming the table and columns."""
    if df is None:
        raise DataError(f"the {table} table is needed for this KPI but was not given")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"the {table} table lacks column(s) {', '.join(missing)}")
    return df


# ------------------------------------------------------------------ windows over months
def over_windows(rows: pd.DataFrame, keys: list[str], cols: list[str], targets, span: int = 12,
                 lag: int = 0) -> pd.DataFrame:
    """Sums of ``cols`` per ``keys`` over the ``span`` months ending at each target month (minus ``lag``).

    ``rows`` has an integer month index ``mi``. A row of month i counts for target t when
    ``t - lag - span < i <= t - lag``. Each row is repeated once per target window it falls in (found by
    binary search on the sorted targets), then one group-by gives every window at once. Returns
    ``keys + ["mi"] + cols`` with ``mi`` the target month.
    """
    t = np.sort(np.asarray(list(targets), dtype=np.int64))
    agg = rows.groupby(keys + ["mi"], sort=False, dropna=False)[cols].sum().reset_index()
    mi = agg["mi"].to_numpy() + lag
    lo = np.searchsorted(t, mi, side="left")
    hi = np.searchsorted(t, mi + span - 1, side="right")
    n = np.maximum(hi - lo, 0)
    rep = np.repeat(np.arange(len(agg)), n)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
    out = agg.iloc[rep].reset_index(drop=True)
    out["mi"] = t[np.repeat(lo, n) + offset]
    return out.groupby(keys + ["mi"], sort=True, dropna=False)[cols].sum().reset_index()


# ------------------------------------------------------------------ books
def employed(reps: pd.DataFrame, ends: pd.Series, role: str | None = "sales") -> pd.DataFrame:
    """(month, rep_id) of the reps employed at each month end (hired on or before it, not left before it)."""
    r = reps if role is None else reps[reps["role"].fillna("sales") == role]
    rows = []
    for m, e in ends.items():
        ok = (r["hire_date"].isna() | (r["hire_date"] <= e)) & (r["leave_date"].isna() | (r["leave_date"] >= e))
        rows.append(pd.DataFrame({"month": m, "rep_id": r.loc[ok, "rep_id"].to_numpy()}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["month", "rep_id"])


def book_pairs(owners: pd.DataFrame, reps: pd.DataFrame, months, shift: int = 0, as_of=None) -> pd.DataFrame:
    """Weights of each customer in each book: ``month, customer_id, level (rep|team), id, weight``.

    ``owners`` (month, customer_id, rep_id, share) is the book at each month end. With ``shift`` the
    book of ``month - shift`` is used for ``month`` (retention uses the book of a year before). Rep rows
    of the service and supply-chain colleagues employed at the month end are their team's book.
    """
    require(owners, "owners", ["month", "customer_id", "rep_id", "share"])
    months = check_months(months)
    want = {month_label(month_index(m) - shift): m for m in months}
    o = owners[owners["month"].isin(list(want))][["month", "customer_id", "rep_id", "share"]].copy()
    o["month"] = o["month"].map(want)
    team_of = reps.set_index("rep_id")["team"]
    rep = o.groupby(["month", "customer_id", "rep_id"], sort=False)["share"].sum().reset_index()
    rep = rep.rename(columns={"rep_id": "id", "share": "weight"}).assign(level="rep")
    o["team"] = o["rep_id"].map(team_of)
    team = (o.dropna(subset=["team"]).groupby(["month", "customer_id", "team"], sort=False)["share"].sum()
            .reset_index().rename(columns={"team": "id", "share": "weight"}).assign(level="team"))
    helpers = employed(reps, month_ends(months, as_of), role=None)
    roles = reps.set_index("rep_id")["role"].fillna("sales")
    helpers = helpers[helpers["rep_id"].map(roles).isin(["service", "supply_chain"])]
    helpers = helpers.assign(team=helpers["rep_id"].map(team_of))
    colleague = team.merge(helpers, left_on=["month", "id"], right_on=["month", "team"])
    colleague = colleague[["month", "customer_id", "rep_id", "weight"]].rename(columns={"rep_id": "id"})
    parts = [rep, team, colleague.assign(level="rep")]
    cols = ["month", "customer_id", "level", "id", "weight"]
    return pd.concat([p[cols] for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else pd.DataFrame(columns=cols)


def joint_codes(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """One integer per row of ``left`` and of ``right``, equal exactly where every one of ``keys`` is
    equal (missing equal to missing, as in a pandas merge): joining on it is joining on ``keys``, without
    hashing text columns again in every merge."""
    a = np.zeros(len(left), dtype=np.int64)
    b = np.zeros(len(right), dtype=np.int64)
    for k in keys:
        (ca, cb), n = _codes_of(left[k], right[k])
        a, b = a * n + ca, b * n + cb
    return a, b


def _codes_of(x: pd.Series, y: pd.Series) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    """Codes of ``x`` and ``y`` in one numbering (missing is a value of its own), and how many there are.
    Each column is factorised on its own and only the distinct values are matched (for text, so no
    column of millions of strings is copied); a shared categorical gives its codes directly."""
    if isinstance(x.dtype, pd.CategoricalDtype) and x.dtype == y.dtype:
        n = len(x.dtype.categories)
        codes = (np.where(c < 0, n, c).astype(np.int64) for c in (x.cat.codes.to_numpy(), y.cat.codes.to_numpy()))
        return tuple(codes), n + 1
    cx, ux = pd.factorize(x, use_na_sentinel=False)
    cy, uy = pd.factorize(y, use_na_sentinel=False)
    distinct = pd.concat([pd.Series(ux), pd.Series(uy)], ignore_index=True)
    both, uniques = pd.factorize(distinct, use_na_sentinel=False)
    return (both[:len(ux)][cx].astype(np.int64), both[len(ux):][cy].astype(np.int64)), len(uniques)


def books(owners, reps, months, as_of=None, pairs=None) -> pd.DataFrame | None:
    """The book pairs for ``months``: ``pairs`` when the caller already has them (``compute_kpis`` builds
    the book once for every KPI that weights by it), else :func:`book_pairs` (None without ``owners``)."""
    if pairs is not None:
        return pairs
    return book_pairs(owners, reps, months, as_of=as_of) if owners is not None else None


def rollup(values: pd.DataFrame, pairs: pd.DataFrame | None, cols: list[str]) -> pd.DataFrame:
    """Per (month, level, id): the book-weighted sums of ``cols`` (rep, team) and their plain sums over
    every customer (company). ``values`` has ``month, customer_id`` and ``cols``."""
    parts = []
    if pairs is not None and len(pairs) and len(values):
        left, right = joint_codes(values, pairs, ["month", "customer_id"])
        x = (values[cols].assign(_key=left)
             .merge(pairs[["month", "level", "id", "weight"]].assign(_key=right), on="_key"))
        w = x["weight"].to_numpy()
        for c in cols:
            x[c] = x[c].to_numpy(dtype=float) * w
        parts.append(x.groupby(["month", "level", "id"], sort=True)[cols].sum(min_count=1).reset_index())
    comp = values.groupby("month", sort=True)[cols].sum(min_count=1).reset_index()
    parts.append(comp.assign(level="company", id=COMPANY))
    return pd.concat(parts, ignore_index=True)[["month", "level", "id"] + cols]


def team_rows(rep_values: pd.DataFrame, reps: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Team sums of rep-level values (for measures credited to reps, e.g. sales)."""
    x = rep_values.assign(id=rep_values["id"].map(reps.set_index("rep_id")["team"])).dropna(subset=["id"])
    return x.groupby(["month", "id"], sort=True)[cols].sum(min_count=1).reset_index().assign(level="team")


def ratio(num, den) -> np.ndarray:
    """num / den, NaN where den is 0 or missing."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(den) & (den != 0), num / np.where(den == 0, np.nan, den), np.nan)


def to_long(wide: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    """Wide rows (month, level, id, measures...) as long rows (month, level, id, measure, value)."""
    if wide.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "value" else object) for c in LONG_COLUMNS})
    long = wide.melt(id_vars=["month", "level", "id"], value_vars=measures, var_name="measure", value_name="value")
    long["value"] = long["value"].astype(float)
    long["id"] = long["id"].astype(str)
    return long[LONG_COLUMNS].reset_index(drop=True)
