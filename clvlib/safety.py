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

_TRIGGER = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise(value):
    if isinstance(value, str) and value.startswith(_TRIGGER) and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(neutralise)
    return out


def safe_csv(df: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    neutralise_frame(df).to_csv(path, index=False, lineterminator="\n")
    return path


def safe_xlsx(sheets: dict[str, pd.DataFrame], path: str | Path) -> Path:
    path = Path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in sheets.items():
            neutralise_frame(df).to_excel(xw, sheet_name=name[:31], index=False)
    return path
