"""Turn raw export text into typed values, with a reason for every value that cannot be read.

Each parser takes a Series (text, or already typed from Excel/Parquet) and returns
``(values, bad)`` where ``bad`` is a boolean mask of non-empty values that could not be read (empty
values are not "bad": whether a column may be empty is the contract's rule, checked later). The fast
path handles the common form in one vectorised step; only the leftovers go through slower patterns, so
clean files of millions of rows parse quickly.

Understood forms
----------------
money / numbers  ``1234.5``, ``1,234.50``, ``$1,234.50``, ``USD 1,234.50``, ``(1,234.50)`` (negative),
                 ``1234.50-``, ``−12`` (Unicode minus), ``1.234,50`` with ``decimal: ","``, ``12%``
dates            ISO ``2024-03-05`` (time part ignored), ``2024/03/05``, ``20240305``, Excel serial
                 numbers (``45356``), ``05/03/2024`` day-first or month-first as the column shows (or
                 as ``date_order`` declares), ``2024年3月5日``, ``5 Mar 2024`` / ``Mar 5, 2024``
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.errors import DataError

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_SYMBOLS = r"[\$€£¥￥₩₹\s\u00a0\u202f]"


def _text(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.StringDtype) or s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        t = s.astype("string[pyarrow]")
    else:
        t = s.astype("string[pyarrow]")
    return t.fillna("").str.strip()


def is_empty(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.isna()
    return _text(s).eq("") | s.isna()


def parse_number(s: pd.Series, decimal: str = ".", percent: bool = False) -> tuple[pd.Series, pd.Series]:
    """Amounts and plain numbers; see the module docstring for the forms understood."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype(float), pd.Series(False, index=s.index)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype(float), pd.Series(False, index=s.index)
    if s.dtype == object:  # Excel cells: a mix of numbers and text
        num = pd.to_numeric(s.where(s.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))),
                            errors="coerce")
        if num.notna().sum() == s.notna().sum():
            return num.astype(float), pd.Series(False, index=s.index)
    text = _text(s)
    empty = text.eq("")
    if decimal == ".":
        values = pd.to_numeric(text.where(~empty), errors="coerce")
    else:
        values = pd.Series(np.nan, index=s.index)
    left = values.isna() & ~empty
    if left.any():
        t = text[left]
        neg = t.str.match(r"^\(.*\)$") | t.str.endswith("-")
        pct = t.str.endswith("%")
        t = (t.str.replace("−", "-", regex=False)
              .str.replace(r"^\((.*)\)$", r"\1", regex=True)
              .str.replace(r"-$", "", regex=True)
              .str.replace(r"%$", "", regex=True)
              .str.replace(r"^[A-Z]{3}(?=[\s\d\-\+\.\$€£¥])", "", regex=True)
              .str.replace(r"(?<=[\d\s])[A-Z]{3}$", "", regex=True)
              .str.replace(_SYMBOLS, "", regex=True))
        if decimal == ",":
            t = t.str.replace(r"[.']", "", regex=True).str.replace(",", ".", regex=False)
        else:
            t = t.str.replace(r"(?<=\d)[,'](?=\d{3}(?:\D|$))", "", regex=True)
        v = pd.to_numeric(t.where(t.str.match(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"), None), errors="coerce")
        v = v.where(~neg, -v)
        if percent:
            v = v.where(~pct, v / 100)
        else:
            v = v.where(~pct)
        values.loc[left] = v
    bad = values.isna() & ~empty
    return values.astype(float), bad


def parse_int(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    values, bad = parse_number(s)
    frac = values.notna() & (values != np.round(values))
    values = values.where(~frac)
    return values.astype("Int64"), bad | frac


def parse_id(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Identifiers as clean text. Whole numbers typed by Excel (1001.0) become '1001'."""
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.notna() & (s == np.round(s))
        out = s.astype("string[pyarrow]")
        out = out.where(~whole, s.where(whole).astype("Int64").astype("string[pyarrow]"))
        return out.fillna("").str.strip(), pd.Series(False, index=s.index)
    if s.dtype == object:
        s = s.map(lambda v: str(int(v)) if isinstance(v, float) and v == v and v == int(v) else v)
    return _text(s), pd.Series(False, index=s.index)


def parse_text(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    return _text(s), pd.Series(False, index=s.index)


def parse_code(s: pd.Series, upper: bool = False) -> tuple[pd.Series, pd.Series]:
    t = _text(s)
    return (t.str.upper() if upper else t.str.lower()), pd.Series(False, index=s.index)


# ------------------------------------------------------------------------------------------- dates
_DMY = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})$"


def _ymd(y, m, d) -> pd.Series:
    frame = pd.DataFrame({"year": y, "month": m, "day": d}).apply(pd.to_numeric, errors="coerce")
    ok = frame.notna().all(axis=1)
    out = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    if ok.any():
        out.loc[ok] = pd.to_datetime(frame[ok], errors="coerce")
    return out


def parse_date(s: pd.Series, order: str = "auto", *, file=None, column: str | None = None
               ) -> tuple[pd.Series, pd.Series]:
    """Dates; a day/month column must be unambiguous or declared with ``order`` (dmy / mdy)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        v = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        return v.dt.normalize().astype("datetime64[ns]"), pd.Series(False, index=s.index)
    if s.dtype == object:  # Excel: datetime cells mixed with text or serial numbers
        is_dt = s.map(lambda v: hasattr(v, "year") and hasattr(v, "month"))
        if is_dt.any():
            conv = s.copy()
            conv[is_dt] = s[is_dt].map(lambda v: f"{v.year:04d}-{v.month:02d}-{v.day:02d}")
            s = conv.map(lambda v: v if isinstance(v, str) or v is None else
                         (str(int(v)) if isinstance(v, float) and v == int(v) else str(v)))
    text = _text(s)
    empty = text.eq("")
    out = pd.to_datetime(text.where(~empty), format="%Y-%m-%d", errors="coerce")
    left = out.isna() & ~empty
    if left.any():
        t = text[left]
        res = pd.Series(pd.NaT, index=t.index, dtype="datetime64[ns]")
        # ISO with a time part, or with / or . separators, or compact
        m = t.str.extract(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T\s].*)?$")
        hit = m[0].notna()
        if hit.any():
            res[hit] = _ymd(m.loc[hit, 0], m.loc[hit, 1], m.loc[hit, 2])
        m = t.str.extract(r"^(\d{4})年\s*(\d{1,2})月\s*(\d{1,2})日?$")
        hit2 = m[0].notna()
        if hit2.any():
            res[hit2] = _ymd(m.loc[hit2, 0], m.loc[hit2, 1], m.loc[hit2, 2])
        m = t.str.extract(r"^(\d{4})(\d{2})(\d{2})$")
        hit3 = m[0].notna()
        if hit3.any():
            res[hit3] = _ymd(m.loc[hit3, 0], m.loc[hit3, 1], m.loc[hit3, 2])
        # Excel serial day numbers (1954..2119)
        serial = pd.to_numeric(t.where(t.str.match(r"^\d{5}(\.\d+)?$")), errors="coerce")
        hit4 = serial.between(20000, 80000)
        if hit4.any():
            res[hit4] = EXCEL_EPOCH + pd.to_timedelta(np.floor(serial[hit4]), unit="D")
        # day-first / month-first
        m = t.str.extract(_DMY)
        hit5 = m[0].notna()
        if hit5.any():
            a = pd.to_numeric(m.loc[hit5, 0]); b = pd.to_numeric(m.loc[hit5, 1])
            y = pd.to_numeric(m.loc[hit5, 2]); y = y.where(y >= 100, y + 2000)
            use = order
            if use in ("auto", "ymd"):
                day_first = (a > 12).any()
                month_first = (b > 12).any()
                if day_first and month_first:
                    raise DataError("dates mix day-first and month-first forms (e.g. 25/03 and 03/25); "
                                    "fix the export or set `date_order` and correct the other rows",
                                    file=file, column=column)
                if day_first:
                    use = "dmy"
                elif month_first:
                    use = "mdy"
                elif (a != b).any():
                    ex = t[hit5][(a != b)].iloc[0]
                    raise DataError(f"dates like '{ex}' could be day-first or month-first and no value in "
                                    "the column tells which; set `date_order: dmy` or `mdy` for this table "
                                    "in the sources file", file=file, column=column)
                else:
                    use = "dmy"
            d, mth = (a, b) if use == "dmy" else (b, a)
            res[hit5] = _ymd(y, mth, d)
        # textual months: 5 Mar 2024, Mar 5, 2024, 05-Mar-2024
        rest = res.isna() & t.str.contains(r"[A-Za-z]{3}", regex=True) & t.str.contains(r"\d{4}", regex=True)
        if rest.any():
            res[rest] = pd.to_datetime(t[rest], format="mixed", errors="coerce", dayfirst=order == "dmy")
        out.loc[left] = res
    out = pd.to_datetime(out).dt.normalize()
    bad = out.isna() & ~empty
    return out.astype("datetime64[ns]"), bad
