r"""Output safety: text from the inputs is data, never code, and it cannot lie about itself.

* HTML: every value is escaped where it is placed (``clvlib.report.tables``) and chart specs escape
  ``</`` (``clvlib.report.charts``).
* CSV/XLSX: a cell that begins with ``=``, ``+``, ``-``, ``@``, tab or carriage return would be run as
  a formula by Excel or LibreOffice (CSV/formula injection). Such text cells are prefixed with an
  apostrophe; plain numbers such as ``-12.50`` are left alone.
* Invisible characters: a name can carry characters that are not seen but change what is seen — the
  bidirectional controls U+202A–U+202E and U+2066–U+2069 (``"Acme\u202eLTD"`` shows as "AcmeDTL"; an
  amount or an id after one reads backwards), the marks U+200E, U+200F and U+061C, zero-width
  characters (U+200B–U+200D, U+2060–U+2064, U+FEFF: "Acme" and "Ac\u200bme" look the same and are two
  customers), and every other format character (Unicode category Cf) or control character (Cc).
  Wherever such text is shown — HTML reports (``clvlib.report.tables.escape``), CSV and XLSX files
  (``safe_csv``, ``safe_xlsx``) and the terminal (``terminal_text``) — each of them is **replaced by a
  visible marker** naming its code point: ``"Acme\u202eLTD"`` becomes ``"Acme⟨U+202E⟩LTD"``. Nothing is
  silently removed, so two names that differ only by an invisible character still differ on the page.
  Tab, line feed and carriage return stay in HTML, CSV and XLSX cells (they are whitespace there and
  visible as such); on the terminal they, the line and paragraph separators U+2028/U+2029 and U+0085
  are markers too, so one record is always one line. The input files themselves are never changed.
  Names in scripts that need U+200C/U+200D (ZWNJ/ZWJ, e.g. Persian) show the marker as well: the cost
  of never showing two different names the same way.
"""
from __future__ import annotations

import functools
import re
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where tables are written: the text functions serve the CLI too
    import pandas as pd

#: first characters that make Excel / LibreOffice / Google Sheets read a cell as a formula (full-width
#: forms too: some East-Asian spreadsheet set-ups turn them into formulas)
_TRIGGER = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
#: characters an .xlsx cell cannot hold (openpyxl refuses them)
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


#: how a hidden character is shown: ``⟨U+202E⟩``
MARKER = "\u27e8U+{:04X}\u27e9"
#: characters kept as they are in HTML, CSV and XLSX cells (whitespace there); shown as markers on a terminal
_CELL_WHITESPACE = "\t\n\r"


@functools.cache
def _hidden(categories: tuple[str, ...] = ("Cc", "Cf"), keep: str = "") -> re.Pattern:
    """A character class of every code point in ``categories`` except ``keep`` (built once, ~0.2 s)."""
    ranges: list[list[int]] = []
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)) in categories and chr(cp) not in keep:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return re.compile("[" + "".join(f"\\U{a:08X}-\\U{b:08X}" for a, b in ranges) + "]")


def _marker(m: re.Match) -> str:
    return MARKER.format(ord(m.group()))


def visible_text(value):
    r"""A text with every invisible format or control character (Unicode Cf, Cc) replaced by a visible
    marker such as ``⟨U+202E⟩``; tab, line feed and carriage return are kept. Non-text values unchanged.

    >>> visible_text("Acme\u202eLTD")
    'Acme⟨U+202E⟩LTD'
    """
    if not isinstance(value, str):
        return value
    return _hidden(keep=_CELL_WHITESPACE).sub(_marker, value)


def terminal_text(value) -> str:
    r"""``str(value)`` for one line of terminal output: every control, format, line or paragraph
    separator character (Unicode Cc, Cf, Zl, Zp — newline, tab, escape, U+202E ...) shown as a marker,
    so a name can neither split a line, move the cursor, colour the screen nor display reversed.

    >>> terminal_text("two\nlines \x1b[31mred\u202e")
    'two⟨U+000A⟩lines ⟨U+001B⟩[31mred⟨U+202E⟩'
    """
    return _hidden(("Cc", "Cf", "Zl", "Zp")).sub(_marker, str(value))


def neutralise(value):
    """A text safe for a spreadsheet cell: hidden characters as markers (``visible_text``), and if it
    would run as a formula, prefixed with an apostrophe; anything else unchanged."""
    value = visible_text(value)
    if isinstance(value, str) and value.startswith(_TRIGGER) and not _NUMBER.match(value):
        return "'" + value
    return value


def _neutralise_series(s: pd.Series) -> pd.Series:
    if s.dtype == object:                      # mixed cells: judge each text one by one
        return s.map(neutralise)
    t = s.astype("string")
    hidden = t.str.contains(_hidden(keep=_CELL_WHITESPACE), regex=True).fillna(False).astype(bool)
    if hidden.any():                           # a callable replacement runs Python's re on each text
        t = t.where(~hidden, t.str.replace(_hidden(keep=_CELL_WHITESPACE), _marker, regex=True))
        s = t
    risky = (t.str.startswith(_TRIGGER) & ~t.str.match(_NUMBER_PATTERN)).fillna(False).astype(bool)
    if not risky.any():
        return s
    return t.where(~risky, "'" + t)


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Every text cell neutralised (and text column names); numbers, dates and booleans untouched."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = _neutralise_series(out[col])
    out.columns = [neutralise(c) for c in out.columns]
    return out


def safe_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV with formula-like cells neutralised, hidden characters shown as markers
    (``visible_text``), and carriage returns inside cells written as line feeds, so every record stays
    one record."""
    import pandas as pd

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
    import pandas as pd

    if s.dtype == object:
        return s.map(lambda v: _ILLEGAL_XLSX.sub("\ufffd", v) if isinstance(v, str) else v)
    if pd.api.types.is_string_dtype(s.dtype):
        return s.astype("string").str.replace(_ILLEGAL_XLSX.pattern, "\ufffd", regex=True)
    return s


def safe_xlsx(sheets: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """Write sheets to .xlsx with formula-like cells neutralised (kept as text, never formulas) and
    hidden characters shown as markers (``visible_text``; that includes the control characters an .xlsx
    cannot hold)."""
    import pandas as pd

    path = Path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in sheets.items():
            safe = neutralise_frame(df)
            for col in safe.columns:
                safe[col] = _xlsx_text(safe[col])
            sheet = re.sub(r"[\[\]:*?/\\]", "_", str(name))[:31] or "Sheet1"
            safe.to_excel(xw, sheet_name=sheet, index=False)
    return path
