"""Turn raw export text into typed values, with a reason for every value that cannot be read.

Each parser takes a Series (text, or already typed from Excel/Parquet) and returns
``(values, bad)`` where ``bad`` is a boolean mask of non-empty values that could not be read (empty
values are not "bad": whether a column may be empty is the contract's rule, checked later). The fast
path handles the common form in one vectorised pyarrow step; only the leftovers go through slower
patterns, so clean files of millions of rows parse quickly.

Understood forms
----------------
money / numbers  ``1234.5``, ``1,234.50``, ``$1,234.50``, ``USD 1,234.50``, ``(1,234.50)`` (negative),
                 ``1234.50-``, ``−12`` (Unicode minus), ``1.234,50`` with ``decimal: ","``, ``12%``,
                 ``１２３`` (full-width digits); never ``inf`` or ``nan``
dates            ISO ``2024-03-05`` (time part ignored), ``2024/03/05``, ``20240305``, Excel serial
                 numbers (``45356``), ``05/03/2024`` day-first or month-first as the column shows (or
                 as ``date_order`` declares: ``dmy``, ``mdy``, or ``ymd`` where only ``24/03/05`` is
                 read and ``05/03/2024`` is not a date), ``2024年3月5日``, ``5 Mar 2024`` /
                 ``Mar 5, 2024``; years 1900-2199 (anything else is a typo)
"""
from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvlib.errors import DataError

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
FIRST_DAY, LAST_DAY = pd.Timestamp("1900-01-01"), pd.Timestamp("2199-12-31")
_SYMBOLS = r"[\$€£¥￥₩₹\s\u00a0\u202f]"
_PLAIN = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－（）％", "0123456789.,-()%")
STRING = pd.StringDtype("pyarrow")


class AmbiguousDates(DataError):
    """Day-first and month-first cannot be told apart (or both occur) in a date column.

    ``example`` is the index label of a row showing the problem; the caller names its file and row.
    """

    def __init__(self, message: str, example):
        self.example = example
        super().__init__(message)


def _text(s: pd.Series) -> pd.Series:
    """Values as stripped text ("" for empty), whatever the input dtype."""
    return s.astype(STRING).fillna("").str.strip()


def _blank(t: pd.Series) -> pd.Series:
    return t.eq("").astype(bool)


def _arrow(t: pd.Series) -> pa.ChunkedArray:
    arr = t.array
    return arr._pa_array if hasattr(arr, "_pa_array") else pa.chunked_array([pa.array(t.to_numpy(), pa.string())])


def is_empty(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.isna()
    return _blank(_text(s)) | s.isna()


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def parse_number(s: pd.Series, decimal: str = ".", percent: bool = False) -> tuple[pd.Series, pd.Series]:
    """Amounts and plain numbers; see the module docstring for the forms understood."""
    no = pd.Series(False, index=s.index)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype(float), no
    if pd.api.types.is_numeric_dtype(s.dtype):
        v = s.astype(float)
        bad = ~np.isfinite(v) & v.notna()
        return v.where(~bad), bad
    if s.dtype == object:  # Excel cells: a mix of numbers and text
        isnum = s.map(_is_number).astype(bool)
        if isnum.any() and (isnum | s.isna()).all():
            v = pd.to_numeric(s.where(isnum), errors="coerce").astype(float)
            bad = ~np.isfinite(v) & v.notna()
            return v.where(~bad), bad
    text = _text(s)
    empty = _blank(text)
    values = pd.Series(np.nan, index=s.index)
    if decimal == ".":
        arr = _arrow(text)
        plain = pc.fill_null(pc.match_substring_regex(arr, _PLAIN), False)
        fast = pc.cast(pc.if_else(plain, arr, pa.scalar(None, pa.string())), pa.float64())
        values = pd.Series(fast.to_numpy(zero_copy_only=False), index=s.index, dtype=float)
    left = values.isna() & ~empty
    if left.any():
        t = text[left].str.translate(_FULLWIDTH)
        neg = t.str.match(r"^\(.*\)$") | t.str.endswith("-") | t.str.match(r"^[^\d]*[-−]")
        pct = t.str.endswith("%")
        t = (t.str.replace("−", "-", regex=False)
              .str.replace(r"^\((.*)\)$", r"\1", regex=True)
              .str.replace(r"-$", "", regex=True)
              .str.replace(r"%$", "", regex=True)
              .str.replace(r"^[A-Za-z]{3}(?=[\s\d\-\+\.\$€£¥])", "", regex=True)
              .str.replace(r"(?<=[\d\s])[A-Za-z]{3}$", "", regex=True)
              .str.replace(_SYMBOLS, "", regex=True)
              .str.replace(r"^[-+]", "", regex=True))
        if decimal == ",":
            t = t.str.replace(r"[.'](?=\d{3}(?:\D|$))", "", regex=True)
            t = t.where(~t.str.contains(".", regex=False).fillna(False).astype(bool), "x").str.replace(",", ".", regex=False)
        else:
            t = t.str.replace(r"(?<=\d)[,'](?=\d{3}(?:\D|$))", "", regex=True)
        ok = t.str.match(r"^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$").fillna(False).astype(bool)
        v = pd.to_numeric(t.where(ok), errors="coerce").astype(float)
        v = v.where(~neg, -v)
        if percent:
            v = v.where(~pct, v / 100)
        else:
            v = v.where(~pct)
        values.loc[left] = v.to_numpy()
    values = values.where(np.isfinite(values))
    bad = values.isna() & ~empty
    return values.astype(float), bad


def parse_int(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    values, bad = parse_number(s)
    frac = values.notna() & (values != np.round(values))
    values = values.where(~frac)
    return values.astype("Int64"), bad | frac


def parse_id(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Identifiers as clean text. Whole numbers typed by Excel (1001.0) become '1001'."""
    no = pd.Series(False, index=s.index)
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.notna() & np.isfinite(s) & (s == np.round(s))
        out = s.astype(STRING)
        out = out.where(~whole, s.where(whole).astype("Int64").astype(STRING))
        return out.fillna("").str.strip(), no
    if s.dtype == object:
        s = s.map(lambda v: str(int(v)) if isinstance(v, float) and np.isfinite(v) and v == int(v) else v)
    return _text(s), no


def parse_text(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    return _text(s), pd.Series(False, index=s.index)


def parse_code(s: pd.Series, upper: bool = False) -> tuple[pd.Series, pd.Series]:
    t = _text(s)
    return (t.str.upper() if upper else t.str.lower()), pd.Series(False, index=s.index)


# ------------------------------------------------------------------------------------------- dates
def _extract(t: pd.Series, pattern: str) -> pd.DataFrame:
    """Named groups of ``pattern`` for the values of ``t`` that match it (index kept), via pyarrow."""
    if not len(t):
        return pd.DataFrame()
    st = pc.extract_regex(_arrow(t), pattern)
    ok = pc.is_valid(st).to_numpy(zero_copy_only=False)
    if not ok.any():
        return pd.DataFrame()
    names = [st.type.field(i).name for i in range(st.type.num_fields)]
    cols = {n: pc.struct_field(st, n).to_numpy(zero_copy_only=False)[ok] for n in names}
    return pd.DataFrame(cols, index=t.index[ok])


def _ymd(y, m, d) -> pd.Series:
    frame = pd.DataFrame({"year": y, "month": m, "day": d}).apply(pd.to_numeric, errors="coerce")
    ok = frame.notna().all(axis=1) & frame["year"].between(FIRST_DAY.year, LAST_DAY.year)
    out = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    if ok.any():
        out.loc[ok] = pd.to_datetime(frame[ok], errors="coerce")
    return out


def _cell_text(v):
    """An Excel/Parquet cell as text a date parser understands."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return None
    if isinstance(v, (_dt.datetime, _dt.date, pd.Timestamp)):
        return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
    if isinstance(v, (float, np.floating)) and v == int(v):
        return str(int(v))
    if isinstance(v, _dt.time):
        return f"time {v}"               # a time without a date is not a date
    return str(v)


def parse_date(s: pd.Series, order: str = "auto", *, why: dict | None = None) -> tuple[pd.Series, pd.Series]:
    """Dates; a day/month column must be unambiguous or declared with ``order`` (ymd / dmy / mdy).

    Parameters
    ----------
    s : Series
        Text, or cells already typed by Excel/Parquet (datetimes, serial numbers).
    order : {"auto", "ymd", "dmy", "mdy"}
        ``auto`` tells day-first from month-first by the values of the column; an explicit order is
        used as declared (``ymd``: a day/month form such as 05/03/2026 is not a date of this column).
    why : dict, optional
        Filled with ``index -> (reason key, values)`` (``clvlib.sources.reasons.QUARANTINE``) for values
        that cannot be read for a reason worth saying (ambiguous, against the column's form).

    Returns
    -------
    (dates, bad) : the dates (NaT where empty or unreadable) and the mask of unreadable non-empty values.

    Raises
    ------
    AmbiguousDates
        ``auto`` only: the column is mostly in a day/month form that no value decides, or shows both
        forms in similar numbers. A few values against a clear majority are "bad" instead (with ``why``).
    """
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        v = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        v = v.dt.normalize().astype("datetime64[ns]")
        bad = v.notna() & ~v.between(FIRST_DAY, LAST_DAY)
        return v.where(~bad), bad
    if s.dtype == object:  # Excel: datetime cells mixed with text or serial numbers
        s = s.map(_cell_text).astype(object)
    text = _text(s)
    empty = _blank(text)
    out = _iso_dates(text)
    left = out.isna() & ~empty
    if left.any():
        out.loc[left] = _other_dates(text[left], order, int((~empty).sum()), why).to_numpy()
    bad = out.isna() & ~empty
    return out.astype("datetime64[ns]"), bad


def _iso_dates(text: pd.Series) -> pd.Series:
    """The plain ISO dates (2024-03-05) in one vectorised pyarrow step; NaT for everything else."""
    arr = _arrow(text)
    iso = pc.fill_null(pc.match_substring_regex(arr, r"^\d{4}-\d{2}-\d{2}$"), False)
    ts = pc.strptime(pc.if_else(iso, arr, pa.scalar(None, arr.type)), format="%Y-%m-%d", unit="s",
                     error_is_null=True)
    # strptime rolls 2024-02-30 over to 1 March: the day must be the one written
    day = pc.cast(pc.if_else(iso, pc.utf8_slice_codeunits(arr, 8, 10), pa.scalar("0", arr.type)), pa.int64())
    ts = pc.if_else(pc.fill_null(pc.equal(pc.day(ts), day), False), ts, pa.scalar(None, ts.type))
    first, last = FIRST_DAY.value // 10**9, LAST_DAY.value // 10**9
    secs = pc.cast(ts, pa.int64())
    ts = pc.if_else(pc.fill_null(pc.and_(pc.greater_equal(secs, first), pc.less_equal(secs, last)), False),
                    ts, pa.scalar(None, ts.type))
    return pd.Series(pc.cast(ts, pa.timestamp("ns")).to_numpy(zero_copy_only=False), index=text.index,
                     dtype="datetime64[ns]")


_YEAR_FIRST = (r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?:[T\s].*)?$",   # ISO with a time, / or .
               r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日?$",     # 2024年3月5日
               r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")                              # 20240305
_DAY_MONTH = r"^(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{4}|\d{2})$"


def _other_dates(t: pd.Series, order: str, n_filled: int, why: dict | None) -> pd.Series:
    """Dates of the values that are not plain ISO: year-first forms, Excel serials, day/month forms, months
    in words — each form tried on what the previous ones left."""
    res = pd.Series(pd.NaT, index=t.index, dtype="datetime64[ns]")

    def todo():
        return res.isna().to_numpy()

    for pattern in _YEAR_FIRST:
        m = _extract(t[todo()], pattern)
        if len(m):
            res[m.index] = _ymd(m["y"], m["m"], m["d"])
    rest = t[todo()]                                    # Excel serial day numbers (1954..2119)
    serial = pd.to_numeric(rest.where(rest.str.match(r"^\d{5}(\.\d+)?$").fillna(False).astype(bool)),
                           errors="coerce")
    hit = serial.between(20000, 80000)
    if hit.any():
        res[serial.index[hit]] = EXCEL_EPOCH + pd.to_timedelta(np.floor(serial[hit]), unit="D")
    m = _extract(t[todo()], _DAY_MONTH)
    if len(m):
        found = _day_month(t, m, order, n_filled, why)
        res[found.index] = found
    rest = t[todo()]                                    # textual months: 5 Mar 2024, Mar 5, 2024, 05-Mar-2024
    rest = rest[rest.str.contains(r"[A-Za-z]{3}", regex=True).fillna(False).astype(bool)
                & rest.str.contains(r"\d{4}", regex=True).fillna(False).astype(bool)]
    if len(rest):
        res[rest.index] = pd.to_datetime(rest.astype(object), format="mixed", errors="coerce",
                                         dayfirst=order == "dmy").astype("datetime64[ns]")
    return res.where(res.between(FIRST_DAY, LAST_DAY)).dt.normalize()


def _day_month(t: pd.Series, m: pd.DataFrame, order: str, n_filled: int, why: dict | None) -> pd.Series:
    """Dates of the a/b/year values ``m`` (05/03/2024, 3.5.24) in the declared or the column's order."""
    a, b, y = (pd.to_numeric(m[k]) for k in ("a", "b", "y"))
    if order == "ymd":                                  # only 24/03/05 (two-digit year first) is year-first
        short = m["y"].str.len().eq(2)
        if why is not None:
            for i in m.index[~short.to_numpy()]:
                why[i] = ("date_not_ymd", {"text": t[i]})
        return _ymd(a[short] + 2000, b[short], y[short])
    y = y.where(y >= 100, y + 2000)
    keep = pd.Series(True, index=m.index)
    use = order
    if order == "auto":
        use, keep = _column_order(t, a, b, n_filled, why)
    d, mth = (a, b) if use == "dmy" else (b, a)
    return _ymd(y[keep], mth[keep], d[keep])


def _column_order(t: pd.Series, a: pd.Series, b: pd.Series, n_filled: int, why: dict | None):
    """("dmy" | "mdy", rows to read) for a column whose order is not declared.

    Values with a part above 12 decide. A few values against a clear majority (at most one in ten — or a
    single one against at least three) are left unread with a reason; so are a few undecidable values (05/03/2024)
    in a column of other forms. Otherwise the column cannot be read safely: ``AmbiguousDates``.
    """
    possible = (a <= 31) & (b <= 31) & ~((a > 12) & (b > 12))     # 13/13/2024 is no date at all
    day_first, month_first = possible & (a > 12), possible & (b > 12)
    keep = pd.Series(True, index=a.index)
    if day_first.any() and month_first.any():
        major, minor = (day_first, month_first) if day_first.sum() >= month_first.sum() else (month_first, day_first)
        n_major, n_minor = int(major.sum()), int(minor.sum())
        if not (n_major >= 3 * n_minor and n_minor <= max(1, n_major // 10)):
            ex = day_first.idxmax() if day_first.sum() <= month_first.sum() else month_first.idxmax()
            raise AmbiguousDates(
                f"dates mix day-first and month-first forms (e.g. '{t[day_first.idxmax()]}' and "
                f"'{t[month_first.idxmax()]}'); set `date_order: dmy` or `mdy` for this table in the "
                "sources file and correct the other rows at the source", ex)
        key = "date_is_day_first" if minor is day_first else "date_is_month_first"
        if why is not None:
            for i in minor[minor].index:
                why[i] = (key, {"text": t[i], "example": t[major.idxmax()]})
        return ("dmy" if major is day_first else "mdy"), ~minor
    if day_first.any():
        return "dmy", keep
    if month_first.any():
        return "mdy", keep
    amb = possible & (a != b)
    if amb.any() and amb.sum() * 2 < n_filled:
        # a few hand-typed 05/03/2024 in a column of other forms: those rows cannot be read
        if why is not None:
            for i in amb[amb].index:
                why[i] = ("ambiguous_date", {"text": t[i], "d1": int(a[i]), "m1": int(b[i]),
                                             "month1": _MONTHS[int(b[i]) - 1], "d2": int(b[i]),
                                             "m2": int(a[i]), "month2": _MONTHS[int(a[i]) - 1]})
        return "dmy", ~amb
    if amb.any():
        ex = amb.idxmax()
        raise AmbiguousDates(
            f"dates like '{t[ex]}' could be day-first or month-first and no value in the column "
            "tells which; set `date_order: dmy` or `mdy` for this table in the sources file", ex)
    return "dmy", keep


_MONTH_FORMS = (r"^\s*(\d{4})\s*[-/.]\s*(\d{1,2})\s*$", r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*$",
                r"^\s*(\d{4})(\d{2})\s*$")


def parse_month(s: pd.Series, order: str = "auto") -> tuple[pd.Series, pd.Series]:
    """Calendar months as ``"YYYY-MM"`` text: ``2026-01``, ``2026/1``, ``2026年1月``, ``202601``, or any date
    of the month (read as :func:`parse_date` reads dates, then its month). Returns ``(months, bad)``."""
    t = _text(s)
    out = pd.Series(pd.NA, index=s.index, dtype="string")
    for pattern in _MONTH_FORMS:
        m = t.str.extract(pattern).dropna()
        if len(m):
            y, mo = m[0].astype(int), m[1].astype(int)
            ok = mo.between(1, 12) & out.loc[m.index].isna()
            idx = ok[ok].index
            out.loc[idx] = [f"{a:04d}-{b:02d}" for a, b in zip(y[idx], mo[idx])]
    rest = out.isna() & ~_blank(t)
    if rest.any():
        dates, _ = parse_date(s[rest], order)
        got = dates.notna()
        out.loc[dates.index[got]] = dates[got].dt.strftime("%Y-%m").to_numpy()
    bad = out.isna() & ~_blank(t)
    return out.astype(object).where(out.notna(), None), bad
