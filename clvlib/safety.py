"""Output safety: text from the inputs is data, never code.

* HTML: every value is escaped where it is placed (``clvlib.report.tables``) and chart specs escape
  ``</`` (``clvlib.report.charts``).
* CSV/XLSX: a cell that begins with ``=``, ``+``, ``-``, ``@``, tab or carriage return would be run as
  a formula by Excel or LibreOffice (CSV/formula injection). Such text cells are prefixed with an
  apostrophe; plain numbers such as ``-12.50`` are left alone.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

#: first characters that make Excel / LibreOffice / Google Sheets read a cell as a formula (full-width
#: forms too: some East-Asian spreadsheet set-ups turn them into formulas)
_TRIGGER = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
#: characters an .xlsx cell cannot hold (openpyxl refuses them)
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value):
    """A text that would run as a formula, prefixed with an apostrophe; anything else unchanged."""
    if isinstance(value, str) and value.startswith(_TRIGGER) and not _NUMBER.match(value):
        return "'" + value
    return value


def _neutralise_series(s: pd.Series) -> pd.Series:
    if s.dtype == object:                      # mixed cells: judge each text one by one
        return s.map(neutralise)
    t = s.astype("string")
    risky = (t.str.startswith(_TRIGGER) & ~t.str.match(_NUMBER_PATTERN)).fillna(False).astype(bool)
    if not risky.any():
        return s
    return t.where(~risky, "'" + t)


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Every text cell neutralised (and text column names); numbers, dates and booleans untouched."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = _neutralise_series(out[col])
    out.columns = [neutralise(c) for c in out.columns]
    return out


def safe_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV with formula-like cells neutralised (and carriage returns inside cells
    written as line feeds, so every record stays one record)."""
    path = Path(path)
    out = neutralise_frame(df)
    for col in out.columns:          # a bare CR is not quoted by the csv writer and would split the row
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: v.replace("\r\n", "\n").replace("\r", "\n") if isinstance(v, str) else v)
        elif pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].astype("string").str.replace("\r\n?", "\n", regex=True)
    out.to_csv(path, index=False, lineterminator="\n")
    return path


def _xlsx_text(s: pd.Series) -> pd.Series:
    if s.dtype == object:
        return s.map(lambda v: _ILLEGAL_XLSX.sub("\ufffd", v) if isinstance(v, str) else v)
    if pd.api.types.is_string_dtype(s.dtype):
        return s.astype("string").str.replace(_ILLEGAL_XLSX.pattern, "\ufffd", regex=True)
    return s


def safe_xlsx(sheets: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """Write sheets to .xlsx with formula-like cells neutralised (kept as text, never formulas) and the
    control characters an .xlsx cannot hold replaced by U+FFFD."""
    path = Path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in sheets.items():
            safe = neutralise_frame(df)
            for col in safe.columns:
                safe[col] = _xlsx_text(safe[col])
            sheet = re.sub(r"[\[\]:*?/\\]", "_", str(name))[:31] or "Sheet1"
            safe.to_excel(xw, sheet_name=sheet, index=False)
    return path
