"""Read one source file into a frame of raw text columns, whatever its format and encoding.

Values stay text here (``parse`` turns them into dates and amounts with a reason for each failure),
except in typed formats (Parquet, Excel cells) where numbers and dates arrive typed and are kept.
Fatal problems — missing file, unreadable sheet, undecodable text — raise ``DataError`` naming the
file (and the row and column where it can) and what to do.

Row numbers (``_row``) are the rows a spreadsheet shows: the header row is the number it has in the file
(row 1 unless title rows come first), each record one row, blank lines counted. A row in which every
column that is read is empty is not data: it is skipped and counted as ``blank_rows``. A CSV record with
more or fewer fields than the header is kept as a row with ``_problem`` set, to be quarantined.

Encodings (``encoding: auto``): a BOM decides (UTF-8, UTF-16); otherwise UTF-8, then GB18030 (which
includes GBK, the encoding of Chinese Excel's "CSV" export). A file that is UTF-8 but has a broken byte,
or that is neither encoding (e.g. Windows-1252), stops with the line and column of the first bad byte —
never decoded into mojibake.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from clvlib.errors import DataError

ROW = "_row"          # source row number (as a spreadsheet shows it) carried with every raw row
FILE = "_file"
PROBLEM = "_problem"  # non-empty: the record could not be split into the header's columns
FIELDS, HEADER = "_fields", "_header"   # for such a record: how many fields it has, how many the header has
FORMULA = "_formula:"  # + header: the formula of an Excel cell that holds no saved value (None elsewhere)
SCAN_ROWS = 50        # rows searched for the header
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class FileRead:
    frame: pd.DataFrame       # the file's columns (all, or those asked for) + _row (+ _problem)
    headers: list[str]        # every header of the file, in order
    header_row: int
    encoding: str | None
    blank_rows: int = 0


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _norm(text) -> str:
    from clvlib.sources.spec import norm

    return norm(text)


def _sniff_encoding(head: bytes) -> str | None:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


def _unique_names(raw: list, path: Path, row: int, wanted: set[str]) -> list[str]:
    """Header cells as column names: stripped, blanks named _colN, repeats of unmapped names suffixed."""
    names, seen = [], {}
    for i, h in enumerate(raw):
        n = ("" if h is None else str(h)).replace("\ufeff", "").strip()
        n = n or f"_col{i + 1}"
        key = _norm(n)
        if key in seen:
            if key in wanted:
                raise DataError(f"the header has two columns named '{n}' (columns {seen[key] + 1} and {i + 1}); "
                                "rename one so the mapping is unambiguous", file=path, row=row, column=n)
            n = f"{n}~{i + 1}"
        seen.setdefault(key, i)
        names.append(n)
    return names


def _match_header(records: list[list], expect: list[list[str]] | None) -> int | None:
    """0-based index of the first record holding every expected header group (any alternative of each)."""
    if not expect:
        return None
    groups = [{_norm(h) for h in g} for g in expect if g]
    for i, rec in enumerate(records):
        cells = {_norm(c) for c in rec if c is not None}
        if all(g & cells for g in groups):
            return i
    return None


def _find_header(records: list[list], expect: list[list[str]] | None, header_row: int | None) -> int | None:
    """0-based index of the header among ``records``: the given row, else the first row holding every
    expected header group, else the first non-blank row."""
    if header_row is not None:
        return header_row - 1 if header_row - 1 < len(records) else None
    i = _match_header(records, expect)
    if i is not None:
        return i
    for i, rec in enumerate(records):
        if any(c is not None and str(c).strip() for c in rec):
            return i
    return None


# ------------------------------------------------------------------------------------------- text decoding
def _first_bad_byte(path: Path, enc: str) -> int | None:
    """Offset of the first byte that ``enc`` cannot decode (None if the whole file decodes)."""
    dec = codecs.getincrementaldecoder(enc)("strict")
    offset = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 22)
            pending = len(dec.getstate()[0])
            try:
                dec.decode(block, final=not block)
            except UnicodeDecodeError as e:
                return offset - pending + e.start
            if not block:
                return None
            offset += len(block)


def _where(path: Path, offset: int, enc_for_text: str, delimiter: str | None, headers: list[str] | None):
    """(line, column name) of a byte offset: for the one-line error message."""
    with open(path, "rb") as f:
        data = f.read(offset + 4096)
    line = data[:offset].count(b"\n") + 1
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    text = data[start:end if end >= 0 else len(data)].decode(enc_for_text, errors="replace")
    column = None
    if headers and delimiter:
        try:
            fields = next(csv.reader([text], delimiter=delimiter))
            hit = [i for i, v in enumerate(fields) if "\ufffd" in v]
            if hit and hit[0] < len(headers):
                column = headers[hit[0]]
        except (csv.Error, StopIteration):
            pass
    return line, column


def _high_bytes(path: Path, end: int) -> int:
    """How many bytes >= 0x80 the file has before ``end``."""
    n, done = 0, 0
    with open(path, "rb") as f:
        while done < end:
            block = f.read(min(1 << 22, end - done))
            if not block:
                break
            n += int((np.frombuffer(block, dtype=np.uint8) >= 0x80).sum())
            done += len(block)
    return n


def _looks_chinese(sample: bytes) -> bool:
    """GB18030 decodes almost any bytes; accept it only if the text is mostly common (GB2312) Chinese."""
    text = sample.decode("gb18030", errors="ignore")
    other = [ch for ch in text if ord(ch) > 127]
    if not other:
        return True
    common = sum(1 for ch in other if ch.encode("gb2312", errors="ignore"))
    return common / len(other) >= 0.9


def _head_encoding(path: Path, head: bytes, encoding: str) -> str:
    """The encoding to read the file with, judged from its first 64 KB (the rest is checked on read)."""
    if encoding != "auto":
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DataError(f"unknown encoding '{encoding}' in the sources file; use auto, utf-8, gb18030 "
                            "or another Python codec name", file=path) from None
        return encoding
    bom = _sniff_encoding(head)
    if bom:
        return bom
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError as e:
        bad = e.start
    if _looks_chinese(head):
        try:
            codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
            return "gb18030"
        except UnicodeDecodeError:
            pass
    _undecodable(path, bad, "utf-8", None, None)


def _undecodable(path: Path, offset: int, enc: str, delimiter, headers):
    text_enc = "utf-8" if enc.startswith("utf") else enc
    if headers is None:                    # failed on the first 64 KB: judge the header line as it is
        with open(path, "rb") as f:
            first = f.readline().decode(text_enc, errors="replace").lstrip("\ufeff")
        counts = {d: first.count(d) for d in DELIMITERS}
        delimiter = max(counts, key=counts.get)
        headers = [h.strip() for h in next(csv.reader([first.strip()], delimiter=delimiter), [])]
    line, column = _where(path, offset, text_enc, delimiter, headers)
    with open(path, "rb") as f:
        f.seek(offset)
        byte = f.read(1)
    raise DataError(f"cannot decode the text at line {line} (byte 0x{byte.hex().upper()}): it is neither "
                    "UTF-8 nor GB18030/GBK throughout; save the file again as 'CSV UTF-8' or set "
                    "`encoding:` (e.g. cp1252 for Western European Excel) in the sources file",
                    file=path, column=column)


# ------------------------------------------------------------------------------------------- CSV
def _scan(path: Path, enc: str, delim: str, limit: int) -> list[tuple[list[str], int]]:
    """The first ``limit`` records with the physical line count after each (for pyarrow's skip_rows)."""
    out = []
    with open(path, encoding=enc, newline="", errors="replace") as f:
        r = csv.reader(f, delimiter=delim)
        try:
            for rec in r:
                out.append((rec, r.line_num))
                if len(out) >= limit:
                    break
        except csv.Error:
            pass
    return out


def read_csv(path: Path, *, encoding: str = "auto", delimiter: str = "auto", header_row: int | None = None,
             expect: list[list[str]] | None = None, usecols: set[str] | None = None) -> FileRead:
    """Read a CSV export as text columns (see the module docstring for encodings and row numbers).

    ``expect``: groups of alternative headers the header row must hold (finds it below title rows);
    ``usecols``: normalised headers to keep (None = all).
    """
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if not head.strip(b"\xef\xbb\xbf\xff\xfe \t\r\n,;"):
        raise DataError("the file is empty; export it again with a header row", file=path)
    enc = _head_encoding(path, head, encoding)
    limit = max(SCAN_ROWS, (header_row or 0) + 1)
    delim = _delimiter(path, enc, delimiter, header_row, expect, limit)
    recs = _scan(path, enc, delim, limit)
    i = _find_header([r for r, _ in recs], expect, header_row)
    if i is None:
        raise DataError(f"there is no row {header_row}; check header_row in the sources file", file=path)
    header_no = i + 1                                # the header's row number as a spreadsheet shows it
    wanted = {_norm(h) for g in (expect or []) for h in g}
    names = _unique_names(recs[i][0], path, header_no, wanted)
    skip = recs[i][1]                                # physical lines up to and including the header
    include = [n for n in names if usecols is None or _norm(n) in usecols]
    try:
        table, invalid = _arrow_csv(path, enc, delim, skip, names, include)
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        if _decode_problem(e) and encoding == "auto" and enc == "utf-8" and _gbk_after_all(path):
            return read_csv(path, encoding="gb18030", delimiter=delim, header_row=header_row, expect=expect,
                            usecols=usecols)
        if _decode_problem(e):
            bad = _first_bad_byte(path, enc if enc != "utf-8-sig" else "utf-8")
            if bad is not None:
                _undecodable(path, bad, enc, delim, names)
        msg = str(e)
        raise DataError(f"cannot parse the CSV ({msg.splitlines()[0] if msg else type(e).__name__}); "
                        "check the delimiter and quoting", file=path) from None
    df, n_blank = _csv_frame(table, invalid, include, names, header_no, skip)
    return FileRead(df, names, header_no, enc, n_blank)


def _delimiter(path: Path, enc: str, delimiter: str, header_row: int | None, expect, limit: int) -> str:
    """The delimiter given, else the one under which a row shows the mapped headers, else the most
    frequent candidate on the header line (``,`` if none occurs)."""
    if delimiter != "auto":
        return delimiter
    if expect:
        for d in DELIMITERS:
            recs = _scan(path, enc, d, limit)
            if header_row is not None:
                ok = len(recs) >= header_row and _match_header([recs[header_row - 1][0]], expect) == 0
            else:
                ok = _match_header([r for r, _ in recs], expect) is not None
            if ok:
                return d
    with open(path, encoding=enc, newline="", errors="replace") as f:
        lines = [ln for _, ln in zip(range(limit), f)]
    if header_row is not None:
        line = lines[header_row - 1] if len(lines) >= header_row else ""
    else:
        line = next((ln for ln in lines if ln.strip()), "")
    counts = {d: line.count(d) for d in DELIMITERS}
    return max(counts, key=counts.get) if max(counts.values()) else ","


def _arrow_csv(path: Path, enc: str, delim: str, skip: int, names: list[str], include: list[str]):
    """(pyarrow table of the records after the header, [(line, text, fields)] of records that do not
    split into the header's columns)."""
    pa_enc = {"utf-8-sig": "utf8", "utf-8": "utf8"}.get(enc, enc)
    invalid: list[tuple] = []

    def handler(row):
        invalid.append((row.number, row.text, row.actual_columns))
        return "skip"

    def read(threads: bool):
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=pa_enc, skip_rows=skip, column_names=names,
                                           block_size=1 << 24, use_threads=threads),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True, ignore_empty_lines=False,
                                             invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in include},
                                                 include_columns=include, strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False))

    table = read(True)
    if invalid and any(n is None for n, _, _ in invalid):
        invalid.clear()
        table = read(False)          # single-threaded: pyarrow then tells the row of each bad record
    return table, invalid


def _decode_problem(e: Exception) -> bool:
    msg = str(e).lower()
    return isinstance(e, UnicodeDecodeError) or "utf8" in msg or "decode" in msg


def _gbk_after_all(path: Path) -> bool:
    """A file judged UTF-8 from its head that is GB18030 further down (ASCII so far, Chinese after)."""
    bad = _first_bad_byte(path, "utf-8")
    if bad is None or _high_bytes(path, bad) >= 8:  # ASCII (or a stray GBK-valid-UTF-8 pair) so far
        return False
    with open(path, "rb") as f:
        f.seek(max(0, bad - 16))
        sample = f.read(1 << 16)
    return _looks_chinese(sample) and _first_bad_byte(path, "gb18030") is None


def _csv_frame(table: pa.Table, invalid: list, include: list[str], names: list[str], header_no: int,
               skip: int) -> tuple[pd.DataFrame, int]:
    """The records as a frame with spreadsheet row numbers, blank records dropped (counted), records
    that do not split into the header's columns kept as ``_problem`` rows."""
    n = table.num_rows
    rows = np.arange(header_no + 1, header_no + 1 + n + len(invalid), dtype=np.int64)
    problems = None
    if invalid:
        bad_rows = np.array([num - skip + header_no for num, _, _ in invalid], dtype=np.int64)
        rows = np.setdiff1d(rows, bad_rows)[:n]
        problems = pd.DataFrame({c: pd.Series([""] * len(invalid), dtype=pd.StringDtype("pyarrow"))
                                 for c in include})
        problems[ROW] = bad_rows
        problems[PROBLEM] = [f"the row has {k} fields but the header has {len(names)}" for _, _, k in invalid]
        problems[FIELDS] = [str(k) for _, _, k in invalid]
        problems[HEADER] = str(len(names))
        problems["_text"] = [t[:200] for _, t, _ in invalid]
    blank = None
    if n and include:
        filled = None
        for col in table.columns:
            f = pc.greater(pc.binary_length(col), 0)
            filled = f if filled is None else pc.or_(filled, f)
        blank = ~np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)
    df = pd.DataFrame({c: pd.Series(pd.arrays.ArrowStringArray(table.column(c)), copy=False) for c in include},
                      copy=False) if include else pd.DataFrame(index=pd.RangeIndex(n))
    df[ROW] = rows
    n_blank = 0
    if blank is not None and blank.any():
        n_blank = int(blank.sum())
        df = df.loc[~blank]
    if problems is not None:
        df[PROBLEM] = ""
        df = pd.concat([df, problems], ignore_index=True).sort_values(ROW, kind="stable")
    return df.reset_index(drop=True), n_blank


# ------------------------------------------------------------------------------------------- Excel
def read_xlsx(path: Path, *, sheet=None, header_row: int | None = None, expect: list[list[str]] | None = None,
              usecols: set[str] | None = None) -> FileRead:
    """Read one sheet; the header may sit below title or blank rows (found via ``expect``).

    A cell that holds a formula whose value was never saved (a workbook written by a program, not by
    Excel) reads as empty; its formula is kept in the column ``_formula:<header>`` so the row can be set
    aside with that reason rather than as an empty value.
    """
    key, data = _sheet_values(path, sheet, data_only=True)
    i = _find_header([list(r) for r in data[:max(SCAN_ROWS, header_row or 0)]], expect, header_row)
    if i is None:
        raise DataError(f"sheet '{key}' is empty" + (f" (no row {header_row})" if header_row else "")
                        + "; export it again with a header row", file=path)
    header_no = i + 1
    wanted = {_norm(h) for g in (expect or []) for h in g}
    headers = _unique_names(list(data[i]), path, header_no, wanted)
    width = len(headers)
    body = [r[:width] + (None,) * (width - len(r)) for r in data[i + 1:]]
    df = pd.DataFrame(body, columns=headers, dtype=object) if body else pd.DataFrame(
        {h: pd.Series(dtype=object) for h in headers})
    keep = [h for h in headers if usecols is None or _norm(h) in usecols]
    df = df[keep]
    formulas = _formulas_without_value(path, key, data, header_no, headers, keep) if _has_formulas(path) else {}
    for h, col in formulas.items():
        df[FORMULA + h] = col
    df[ROW] = np.arange(header_no + 1, header_no + 1 + len(df), dtype=np.int64)
    cells = df.drop(columns=[ROW])
    filled = cells.map(lambda v: v is not None and not (isinstance(v, str) and not v.strip())
                       and not (isinstance(v, float) and v != v)).any(axis=1) if len(df) else pd.Series(
        dtype=bool)
    n_blank = int((~filled).sum()) if len(cells.columns) else 0
    if n_blank:
        df = df.loc[filled]
    return FileRead(df.reset_index(drop=True), headers, header_no, None, n_blank)


def _sheet_values(path: Path, sheet, data_only: bool) -> tuple[str, list]:
    """(sheet name, rows of cells) — values (``data_only``) or cell objects with their data types."""
    try:
        import openpyxl
        wb = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as e:  # openpyxl raises many types for a corrupt or wrong file
        raise DataError(f"cannot open the Excel workbook ({type(e).__name__}: {e}); open it in Excel and save "
                        "it again as .xlsx, or export CSV", file=path) from None
    try:
        key = _sheet_name(path, wb.sheetnames, sheet)
        ws = wb[key]
        if not hasattr(ws, "iter_rows"):
            raise DataError(f"sheet '{key}' is a chart, not a table; set `sheet:` to the sheet with the data",
                            file=path)
        try:
            ws.reset_dimensions()          # some exporters write a wrong size; read what is there
            if data_only:
                return key, [tuple(r) for r in ws.iter_rows(values_only=True)]
            return key, [[(c.row, c.column, c.value) for c in r if getattr(c, "data_type", None) == "f"]
                         for r in ws.iter_rows()]
        except DataError:
            raise
        except Exception as e:
            raise DataError(f"cannot read sheet '{key}' ({type(e).__name__}: {e}); open it in Excel and save it "
                            "again as .xlsx, or export CSV", file=path) from None
    finally:
        wb.close()


def _sheet_name(path: Path, names: list[str], sheet) -> str:
    if sheet is None:
        return names[0]
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if not 0 <= sheet < len(names):
            raise DataError(f"sheet number {sheet} does not exist (0 is the first); the workbook has "
                            f"{len(names)} sheet(s): {', '.join(names)}", file=path)
        return names[sheet]
    if str(sheet) in names:
        return str(sheet)
    lower = {_norm(n): n for n in names}
    if _norm(sheet) not in lower:
        raise DataError(f"sheet '{sheet}' not found; the workbook has: {', '.join(names)} — set `sheet:` "
                        "in the sources file", file=path)
    return lower[_norm(sheet)]


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the .xlsx holds a formula (a quick look at the XML, no parsing)."""
    try:
        with zipfile.ZipFile(path) as z:
            return any(_FORMULA_TAG.search(z.read(n)) for n in z.namelist()
                       if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    except (zipfile.BadZipFile, OSError, KeyError):
        return False


def _formulas_without_value(path: Path, sheet: str, values: list, header_no: int, headers: list[str],
                            keep: list[str]) -> dict[str, list]:
    """header -> per body row, the formula of each cell that has no saved value (None elsewhere)."""
    _, cells = _sheet_values(path, sheet, data_only=False)
    n_body = max(len(values) - header_no, 0)
    kept = set(keep)
    out: dict[str, list] = {}
    for row in cells:
        for r, c, formula in row:
            if r <= header_no or c > len(headers) or headers[c - 1] not in kept:
                continue
            saved = values[r - 1][c - 1] if r - 1 < len(values) and c - 1 < len(values[r - 1]) else None
            if saved is None:
                out.setdefault(headers[c - 1], [None] * n_body)[r - header_no - 1] = str(formula)
    return out


def read_parquet(path: Path, usecols: set[str] | None = None) -> FileRead:
    try:
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
        cols = None if usecols is None else [c for c in schema.names if _norm(c) in usecols]
        df = pd.read_parquet(path, columns=cols)
    except Exception as e:  # pyarrow raises several types for a bad file
        raise DataError(f"cannot read the Parquet file ({type(e).__name__}: {e})", file=path) from None
    df[ROW] = np.arange(1, len(df) + 1, dtype=np.int64)
    return FileRead(df, list(schema.names), 0, None, 0)


def read_file(path: Path, fmt: str, *, sheet=None, encoding="auto", delimiter="auto", header_row=None,
              expect=None, usecols=None) -> FileRead:
    if not path.exists():
        raise DataError("file not found; check `folder` and `file` in the sources file", file=path)
    if path.is_dir():
        raise DataError("is a folder; name a file, a glob such as 'invoices-*.csv', or the folder itself as "
                        "`file:`", file=path)
    if fmt in ("xls", "xlsb", "numbers", "ods"):
        raise DataError(f"the .{fmt} format cannot be read; save it as .xlsx or CSV UTF-8", file=path)
    if fmt == "xlsx":
        res = read_xlsx(path, sheet=sheet, header_row=header_row, expect=expect, usecols=usecols)
    elif fmt == "parquet":
        res = read_parquet(path, usecols)
    else:
        res = read_csv(path, encoding=encoding, delimiter=delimiter, header_row=header_row, expect=expect,
                       usecols=usecols)
    res.frame[FILE] = path.name
    return res


def read_any(path: Path, fmt: str, *, sheet=None, encoding="auto", delimiter="auto", header_row=None,
             expect=None) -> pd.DataFrame:
    """The file's rows as a frame (all columns, ``_row`` and ``_file``); see ``read_file``."""
    return read_file(path, fmt, sheet=sheet, encoding=encoding, delimiter=delimiter, header_row=header_row,
                     expect=expect).frame
