"""Read one source file into a frame of raw text columns, whatever its format and encoding.

Values stay text here (``parse`` turns them into dates and amounts with a reason for each failure),
except in typed formats (Parquet, Excel cells) where numbers and dates arrive typed and are kept.
Fatal problems — missing file, unreadable sheet, undecodable text — raise ``DataError`` naming the
file and what to do.
"""
from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from clvlib.errors import DataError

ROW = "_row"          # source row number (header = row 1) carried with every raw row
FILE = "_file"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sniff_encoding(head: bytes) -> str | None:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


def _header_line(path: Path, encoding: str, skip: int) -> str:
    with open(path, encoding=encoding, errors="strict", newline="") as f:
        for _ in range(skip):
            f.readline()
        return f.readline()


def read_csv(path: Path, *, encoding: str = "auto", delimiter: str = "auto", header_row: int = 1) -> pd.DataFrame:
    """Read a CSV export as text columns. Tries UTF-8 (with or without BOM), then GB18030 (GBK)."""
    with open(path, "rb") as f:
        head = f.read(65536)
    if not head.strip():
        raise DataError("the file is empty; export it again with a header row", file=path)
    if encoding == "auto":
        candidates = [_sniff_encoding(head)] if _sniff_encoding(head) else ["utf-8", "gb18030"]
    else:
        candidates = [encoding]
    last_err = None
    for enc in candidates:
        try:
            header = _header_line(path, enc, header_row - 1)
        except UnicodeDecodeError as e:
            last_err = e
            continue
        except LookupError:
            raise DataError(f"unknown encoding '{enc}' in the sources file; use auto, utf-8 or gb18030",
                            file=path) from None
        header = header.lstrip("\ufeff")
        delim = delimiter
        if delim == "auto":
            counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
            delim = max(counts, key=counts.get) if max(counts.values()) else ","
        names = next(csv.reader(io.StringIO(header), delimiter=delim))
        names = [n.strip() for n in names]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise DataError(f"the header repeats the column name(s) {', '.join(map(repr, dupes))}; "
                            "rename them so each is unique", file=path, row=header_row)
        pa_enc = {"utf-8-sig": "utf8", "utf-8": "utf8"}.get(enc, enc)
        try:
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(encoding=pa_enc, skip_rows=header_row, column_names=names,
                                               block_size=1 << 24),
                parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False),
            )
        except pa.ArrowInvalid as e:
            msg = str(e)
            if "UTF8" in msg or "utf8" in msg or "decode" in msg.lower():
                last_err = e
                continue
            if "Expected" in msg and "columns" in msg:
                raise DataError(f"a row has a different number of fields than the header ({msg.splitlines()[0]}); "
                                "check the delimiter and quoting", file=path) from None
            raise DataError(f"cannot parse the CSV ({msg.splitlines()[0]})", file=path) from None
        except UnicodeDecodeError as e:
            last_err = e
            continue
        df = table.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow") if t == pa.string() else None)
        if enc == "utf-8-sig" and len(df.columns):
            df.columns = [c.lstrip("\ufeff") for c in df.columns]
        df[ROW] = pd.RangeIndex(header_row + 1, header_row + 1 + len(df))
        return df
    raise DataError(f"cannot decode the text ({type(last_err).__name__}); it is neither UTF-8 nor "
                    "GB18030/GBK — save it as UTF-8 CSV or set `encoding:` in the sources file", file=path)


def read_xlsx(path: Path, *, sheet=None, header_row: int = 1) -> pd.DataFrame:
    try:
        import openpyxl
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a corrupt or wrong file
        raise DataError(f"cannot open the Excel workbook ({type(e).__name__}: {e}); save it again as .xlsx",
                        file=path) from None
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb[names[0]]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise DataError(f"sheet number {sheet} does not exist; the workbook has {len(names)} sheet(s)",
                                file=path)
            ws = wb[names[sheet]]
        elif sheet in names:
            ws = wb[sheet]
        else:
            raise DataError(f"sheet '{sheet}' not found; the workbook has: {', '.join(names)}", file=path)
        rows = ws.iter_rows(values_only=True)
        for _ in range(header_row - 1):
            next(rows, None)
        header = next(rows, None)
        if header is None:
            raise DataError("the sheet is empty; export it again with a header row", file=path)
        names_ = [("" if h is None else str(h)).strip() for h in header]
        data = [r for r in rows]
    finally:
        wb.close()
    width = len(names_)
    data = [tuple(r[:width]) + (None,) * (width - len(r)) for r in data]
    df = pd.DataFrame(data, columns=names_, dtype=object)
    df[ROW] = pd.RangeIndex(header_row + 1, header_row + 1 + len(df))
    # trailing rows that are entirely empty are not data (Excel keeps formatted empty rows)
    filled = df.drop(columns=[ROW]).notna().any(axis=1)
    if len(df) and not filled.all():
        last = filled[::-1].idxmax() if filled.any() else -1
        df = df.loc[:last]
    return df


def read_parquet(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several types for a bad file
        raise DataError(f"cannot read the Parquet file ({type(e).__name__}: {e})", file=path) from None
    df[ROW] = pd.RangeIndex(1, len(df) + 1)
    return df


def read_any(path: Path, fmt: str, *, sheet=None, encoding="auto", delimiter="auto", header_row=1) -> pd.DataFrame:
    if not path.exists():
        raise DataError("file not found; check `folder` and `file` in the sources file", file=path)
    if fmt == "xlsx":
        df = read_xlsx(path, sheet=sheet, header_row=header_row)
    elif fmt == "parquet":
        df = read_parquet(path)
    else:
        df = read_csv(path, encoding=encoding, delimiter=delimiter, header_row=header_row)
    df[FILE] = path.name
    return df
