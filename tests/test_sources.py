"""Intake: readers (encodings, Excel, row numbers), parsing (dates, numbers), the mapping format, the
validation rules and their reasons, and the fatal errors (one line naming file, column, what to do)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest

from clvlib.errors import DataError, ParamsError
from clvlib.sources import load_inputs, read_any
from clvlib.sources.parse import parse_date, parse_number
from clvlib.sources.spec import load_sources

from sources_support import assert_accounted, reasons, set_aside, small_company, sources_file

ORDERS_HEAD = "order_id,order_date,customer_id,rep_id,currency,amount"


# ------------------------------------------------------------------------------------------- encodings
@pytest.mark.parametrize("encoding,bom", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b""),
                                          ("gbk", b"")])
def test_chinese_exports_in_every_common_encoding(tmp_path, encoding, bom):
    text = "单据编号,开票日期,客户编码,金额,币种,客户名称\nA1,2026年1月5日,C2,\"1,000.00\",USD,北京贸易有限公司\n"
    (tmp_path / "o.csv").write_bytes(bom + text.encode(encoding))
    df = read_any(tmp_path / "o.csv", "csv")
    assert list(df.columns[:6]) == ["单据编号", "开票日期", "客户编码", "金额", "币种", "客户名称"]
    assert df.loc[0, "客户名称"] == "北京贸易有限公司" and df.loc[0, "_row"] == 2


def test_utf16_tab_separated_excel_unicode_text(tmp_path):
    (tmp_path / "o.txt").write_text("order_id\tname\nA1\tMüller 北京\n", encoding="utf-16")
    df = read_any(tmp_path / "o.txt", "csv")
    assert df.loc[0, "name"] == "Müller 北京"


def test_broken_utf8_stops_with_line_and_column(tmp_path):
    rows = "".join(f"A{i},José {i},10\n" for i in range(200))
    data = ("order_id,name,amount\n" + rows).encode() + b"A999,Jos\xe9 bad,10\n"
    (tmp_path / "o.csv").write_bytes(data)
    with pytest.raises(DataError) as e:
        read_any(tmp_path / "o.csv", "csv")
    msg = str(e.value)
    assert "o.csv" in msg and "line 202" in msg and "column 'name'" in msg and "\n" not in msg
    assert "0xE9" in msg and "UTF-8" in msg


def test_western_european_file_is_not_read_as_chinese(tmp_path):
    (tmp_path / "o.csv").write_bytes("order_id,name\nA1,Müller\nA2,Señor Café\n".encode("cp1252"))
    with pytest.raises(DataError, match="cp1252"):
        read_any(tmp_path / "o.csv", "csv")
    df = read_any(tmp_path / "o.csv", "csv", encoding="cp1252")
    assert df["name"].tolist() == ["Müller", "Señor Café"]


def test_semicolon_csv_with_decimal_comma(tmp_path):
    p = small_company(tmp_path, "order_id;order_date;customer_id;currency;amount\nA1;05.02.2026;C1;EUR;1.234,50\n",
                      orders_spec={"file": "orders.csv", "decimal": ",", "date_order": "dmy"})
    o = load_inputs(p).tables["orders"]
    assert o.loc[0, "amount"] == 1234.5 and str(o.loc[0, "order_date"].date()) == "2026-02-05"


# ------------------------------------------------------------------------------------------- numbers
def test_numbers_in_export_forms():
    s = pd.Series(["1,234.50", "(1,234.50)", "$1,234.50", "USD 1,234.50", "1234.50-", "−12", "-$5", "¥70,000",
                   "１２３", "0012", "", "12,O00.00", "inf", "nan", "1e400", "12%", "1,23"], dtype="string")
    v, bad = parse_number(s)
    assert v[:10].tolist() == [1234.5, -1234.5, 1234.5, 1234.5, -1234.5, -12, -5, 70000, 123, 12]
    assert bad.tolist() == [False] * 11 + [True] * 6


def test_excel_number_cells_mixed_with_text():
    s = pd.Series([1, 2.5, None, float("nan"), "3,000.00", True], dtype=object)
    v, bad = parse_number(s)
    assert v[:5].tolist()[:2] == [1.0, 2.5] and v[4] == 3000.0 and bool(bad[5])
    assert not bad[:5].any()


# ------------------------------------------------------------------------------------------- dates
def test_date_forms():
    s = pd.Series(["2026-03-05", "2026/3/5", "2026-03-05T10:00:00", "20260305", "46086", "2026年3月5日",
                   "5 Mar 2026", "Mar 5, 2026", "2026-02-30", "1899-01-01", "soon", ""], dtype="string")
    v, bad = parse_date(s)
    assert all(str(d.date()) == "2026-03-05" for d in v[:8])
    assert bad.tolist() == [False] * 8 + [True, True, True, False]


def test_day_first_or_month_first_as_the_column_shows():
    dmy, _ = parse_date(pd.Series(["25/03/2026", "04/03/2026"]))
    mdy, _ = parse_date(pd.Series(["03/25/2026", "04/03/2026"]))
    assert str(dmy[1].date()) == "2026-03-04" and str(mdy[1].date()) == "2026-04-03"
    declared, _ = parse_date(pd.Series(["04/03/2026"]), "mdy")
    assert str(declared[0].date()) == "2026-04-03"


def test_undecidable_date_column_stops_naming_file_row_and_header(tmp_path):
    p = small_company(tmp_path, "id,date,customer_id,currency,amount\nA1,04/03/2026,C1,USD,1\nA2,05/06/2026,C1,USD,1\n",
                      orders_spec={"file": "orders.csv", "columns": {"order_id": "id", "order_date": "date"}})
    with pytest.raises(DataError) as e:
        load_inputs(p)
    msg = str(e.value)
    assert "orders.csv" in msg and "row 2" in msg and "column 'date'" in msg and "date_order" in msg


def test_a_few_ambiguous_dates_among_iso_ones_are_set_aside_not_fatal(tmp_path):
    rows = "".join(f"A{i},2026-01-{i + 10},C1,,USD,10\n" for i in range(5)) + "B1,05/03/2026,C1,,USD,10\n"
    inp = load_inputs(small_company(tmp_path, ORDERS_HEAD + "\n" + rows))
    assert set_aside(inp, "orders") == {("orders.csv", 7): "not_a_date"}
    assert "could be 5 March or 3 May" in reasons(inp, "orders")[("orders.csv", 7)]


def test_excel_date_cells_mixed_with_serials_text_and_blanks():
    s = pd.Series([dt.datetime(2026, 3, 5, 10), dt.date(2026, 3, 6), 46088, 46089.0, "2026-03-09", None,
                   float("nan"), dt.time(10, 30)], dtype=object)
    v, bad = parse_date(s)
    assert [str(d.date()) for d in v[:5]] == ["2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09"]
    assert bad.tolist() == [False] * 7 + [True]


# ------------------------------------------------------------------------------------------- Excel
def test_xlsx_header_below_a_merged_title_blank_rows_kept_in_numbering(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws["A1"] = "Sales 2026"
    ws.merge_cells("A1:F1")
    ws.append([])
    ws.append(["order_id", "order_date", "customer_id", "currency", "amount", None])
    ws.append(["A1", dt.datetime(2026, 1, 5), "C1", "USD", 100])
    ws.append([None, None, None, None, None])                     # a blank separator row
    ws.append(["A2", 46030, "C2", "USD", "1,000.00"])
    ws.append(["A3", "2026-01-07", "C9", "USD", 5])
    ws.append([])
    wb.save(tmp_path / "orders.xlsx")
    p = small_company(tmp_path, None, orders_spec={"file": "orders.xlsx", "sheet": "orders"})
    inp = load_inputs(p)
    o = inp.tables["orders"]
    assert o["source_row"].tolist() == [4, 6] and o["amount"].tolist() == [100.0, 1000.0]
    assert set_aside(inp, "orders") == {("orders.xlsx", 7): "unknown_customer"}
    assert inp.counts["orders"]["files"][0]["blank_rows"] == 1
    assert_accounted(inp)


def test_unreadable_sheets_stop_with_one_line(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Data"
    wb.active.append(["order_id"])
    wb.save(tmp_path / "o.xlsx")
    with pytest.raises(DataError, match=r"sheet 'Orders' not found; the workbook has: Data"):
        read_any(tmp_path / "o.xlsx", "xlsx", sheet="Orders")
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="cannot open the Excel workbook"):
        read_any(tmp_path / "bad.xlsx", "xlsx")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    src = load_sources(sources_file(tmp_path, {"orders": "old.xls", "customers": "c.csv", "reps": "r.csv",
                                               "ownership": "w.csv", "fx_rates": "f.csv"}))
    from clvlib.sources import read_table
    with pytest.raises(DataError, match=r"\.xls format cannot be read; save it as \.xlsx or CSV"):
        read_table(src.tables["orders"])


# ------------------------------------------------------------------------------------------- row numbers
def test_blank_lines_and_broken_records_keep_row_numbers(tmp_path):
    text = (ORDERS_HEAD + "\nA1,2026-01-05,C1,R1,USD,10\n\nA2,2026-01-06,C1,R1,USD,\"1,000\"\n"
            "A3,2026-01-07,C1,R1,USD,5,surplus\n\"A4\nwrapped\",2026-01-08,C1,R1,USD,7\nA5,2026-01-09,C1,R1,USD,9\n"
            ",,,,,\n")
    inp = load_inputs(small_company(tmp_path, text))
    o = inp.tables["orders"]
    assert o["source_row"].tolist() == [2, 4, 6, 7]
    assert o["order_id"].tolist() == ["A1", "A2", "A4\nwrapped", "A5"]
    q = inp.quarantine.set_index("source_row")
    assert q.loc[5, "rule"] == "invalid" and "7 fields but the header has 6" in q.loc[5, "reason"]
    assert q.loc[5, "value"].startswith("A3,2026-01-07")
    assert inp.counts["orders"]["files"][0]["blank_rows"] == 2
    assert_accounted(inp)


def test_csv_title_rows_above_the_header(tmp_path):
    text = "Invoice list,,,\nprinted 2026-04-01,,,\n\nNo.,Date,Customer,Amount\nA1,2026-01-05,C1,10\n"
    p = small_company(tmp_path, text, orders_spec={"file": "orders.csv", "columns": {
        "order_id": "No.", "order_date": "Date", "customer_id": "Customer", "amount": "Amount",
        "currency": {"value": "USD"}}})
    o = load_inputs(p).tables["orders"]
    assert o.loc[0, "source_row"] == 5 and o.loc[0, "amount"] == 10


# ------------------------------------------------------------------------------------------- mapping
def test_monthly_files_with_other_column_orders_and_a_missing_optional_column(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "2026-01.csv").write_text("No,Date,Cust,Ccy,Net,Cost\nA1,2026-01-05,C1,USD,100,60\n")
    (tmp_path / "m" / "2026-02.csv").write_text("Cust,Net,No,Ccy,Date\nC2,200,A2,EUR,2026-02-03\n")
    spec = {"file": "m/*.csv", "columns": {"order_id": "No", "order_date": "Date", "customer_id": "Cust",
                                           "currency": "Ccy", "amount": "Net",
                                           "cost_of_goods": {"header": "Cost", "optional": True}}}
    inp = load_inputs(small_company(tmp_path, None, orders_spec=spec))
    o = inp.tables["orders"].set_index("order_id")
    assert o.loc["A1", "cost_of_goods"] == 60 and o.loc["A2", "cost_of_goods"] == 0
    assert o.loc["A2", "amount_rc"] == pytest.approx(240.0)
    assert o.loc["A2", "source_file"] == "m/2026-02.csv"
    assert any("2026-02.csv has no column 'Cost'" in n for n in inp.notes)


def test_a_mapped_column_missing_from_the_file_is_fatal_unless_optional(tmp_path):
    spec = {"file": "orders.csv", "columns": {"cost_of_goods": "Cost"}}
    p = small_company(tmp_path, ORDERS_HEAD + "\nA1,2026-01-05,C1,R1,USD,10\n", orders_spec=spec)
    with pytest.raises(DataError) as e:
        load_inputs(p)
    msg = str(e.value)
    assert "orders.csv" in msg and "column 'Cost'" in msg and "optional: true" in msg


def test_value_maps_ignore_case_and_star_catches_the_rest(tmp_path):
    text = "id,date,cust,ccy,amt,stage\n" + "".join(
        f"D{i},2026-01-0{i + 1},C1,USD,10,{s}\n" for i, s in enumerate(["closed WON", "Closed Lost", "Prospecting", ""]))
    spec = {"file": "orders.csv", "columns": {"order_id": "id", "order_date": "date", "customer_id": "cust",
                                              "currency": "ccy", "amount": "amt", "status": "stage"},
            "values": {"status": {"Closed Won": "booked", "Closed Lost": "lost", "*": "open"}}}
    inp = load_inputs(small_company(tmp_path, text, orders_spec=spec))
    assert inp.tables["orders"]["status"].tolist() == ["booked", "lost", "open", "open"]
    assert any("'Prospecting' (1 row)" in n for n in inp.notes)


def test_an_unmapped_code_is_set_aside_with_a_hint(tmp_path):
    text = ORDERS_HEAD + ",doc_type\nA1,2026-01-05,C1,R1,USD,10,Proforma\n"
    inp = load_inputs(small_company(tmp_path, text))
    r = reasons(inp, "orders")[("orders.csv", 2)]
    assert r == ("doc_type 'Proforma' is not one of invoice, credit_note — map it with values.doc_type in the "
                 "sources file")


def test_sources_file_problems_are_reported_together(tmp_path):
    path = sources_file(tmp_path, {
        "orders": {"file": "o.csv", "columns": {"amout": "Amount", "status": "Stage"},
                   "values": {"status": {"Won": "bookd"}}, "scale": {"order_id": 2}, "by_name": ["Owner"],
                   "base": "USD"},
        "customers": "c.csv", "reps": "r.csv", "ownership": "w.csv", "fx_rates": {"file": "f.csv", "base": "usd"},
        "sales": "x.csv"}, colour="red")
    with pytest.raises(ParamsError) as e:
        load_sources(path)
    msg = str(e.value)
    for part in ("colour: unknown key", "tables.orders.columns.amout: not a column of orders",
                 "maps to 'bookd'", "scale.order_id", "by_name: 'Owner'", "base and max_age_days apply to fx_rates",
                 "tables.fx_rates.base: must be a 3-letter", "tables.sales: not a table"):
        assert part in msg, part
    assert "\n" not in msg


# ------------------------------------------------------------------------------------------- rules
def test_a_row_with_several_problems_is_one_quarantine_line(tmp_path):
    text = ORDERS_HEAD + "\nA1,not a date,C9,R9,XXX,abc\nA2,2026-01-05,C1,R1,USD,10\n"
    inp = load_inputs(small_company(tmp_path, text))
    q = inp.quarantine
    assert len(q) == 1 and q.loc[0, "source_row"] == 2
    for part in ("not a date", "not a number", "unknown customer", "unknown rep", "unknown currency 'XXX'"):
        assert part in q.loc[0, "reason"]
    assert_accounted(inp)


def test_credit_notes_follow_their_original_or_wait_for_it(tmp_path):
    text = (ORDERS_HEAD + ",doc_type,original_order_id\n"
            "I1,2026-01-05,C1,R1,USD,100,invoice,\n"
            "I2,2026-01-06,C2,R2,USD,50,invoice,\n"
            "I2,2026-01-06,C2,R2,USD,55,invoice,\n"                      # conflicting: I2 is set aside
            "K1,2026-01-20,C3,,USD,-10,credit_note,I1\n"                 # follows I1: C1 / R1
            "K2,2026-01-21,C2,R2,USD,(5),credit_note,I2\n"                # waits for I2
            "K3,2026-01-22,C3,R2,USD,-7,credit_note,I0\n")                # I0 predates the export: kept
    inp = load_inputs(small_company(tmp_path, text))
    o = inp.tables["orders"].set_index("order_id")
    assert (o.loc["K1", "customer_id"], o.loc["K1", "rep_id"]) == ("C1", "R1")
    assert o.loc["K3", "customer_id"] == "C3" and o.loc["K3", "amount"] == -7
    assert set_aside(inp, "orders")[("orders.csv", 6)] == "unknown_order"
    assert reasons(inp, "orders")[("orders.csv", 6)] == (
        "its original invoice I2 was set aside (rows 3, 4); the credit note waits for it")
    assert any("1 credit note(s) name an original invoice that is not in the orders" in n for n in inp.notes)


def test_split_with_a_line_set_aside_is_set_aside_whole(tmp_path):
    (tmp_path / "splits.csv").write_text("order_id,rep_id,share\nA1,R1,60%\nA1,R9,40%\nA2,R1,0.5\nA2,R2,0.5\n")
    text = ORDERS_HEAD + "\nA1,2026-01-05,C1,R1,USD,10\nA2,2026-01-05,C1,R1,USD,10\n"
    inp = load_inputs(small_company(tmp_path, text, extra_tables={"order_splits": "splits.csv"}))
    assert set_aside(inp, "order_splits") == {("splits.csv", 2): "split_not_one", ("splits.csv", 3): "unknown_rep"}
    assert "another line of the split of order A1 (row 3) was set aside" in reasons(inp, "order_splits")[
        ("splits.csv", 2)]
    assert len(inp.tables["order_splits"]) == 2


def test_names_instead_of_ids(tmp_path):
    text = "id,date,account,owner,ccy,amt\nA1,2026-01-05,acme ,ana,USD,10\nA2,2026-01-05,Nobody,Ben,USD,10\n"
    spec = {"file": "orders.csv", "by_name": ["account", "owner"],
            "columns": {"order_id": "id", "order_date": "date", "customer_id": "account", "rep_id": "owner",
                        "currency": "ccy", "amount": "amt"}}
    inp = load_inputs(small_company(tmp_path, text, orders_spec=spec))
    o = inp.tables["orders"]
    assert o[["customer_id", "rep_id"]].values.tolist() == [["C1", "R1"]]
    assert reasons(inp, "orders")[("orders.csv", 3)] == "no customer named 'Nobody' in the customers table"


def test_fx_rate_rules(tmp_path):
    (tmp_path / "fx2.csv").write_text("date,currency,rate\n2026-01-01,EUR,0\n2026-01-01,GBP,0.8\n")
    text = ORDERS_HEAD + "\nA1,2026-01-05,C1,R1,GBP,100\nA2,2026-01-05,C1,R1,EUR,100\n"
    p = small_company(tmp_path, text, extra_tables={"fx_rates": {"file": "fx2.csv", "invert": ["rate"]}})
    inp = load_inputs(p)
    assert set_aside(inp, "fx_rates") == {("fx2.csv", 2): "out_of_range"}
    assert inp.tables["orders"]["amount_rc"].tolist() == [125.0]        # 1 / 0.8
    assert set_aside(inp, "orders") == {("orders.csv", 3): "unknown_currency"}


def test_parquet_source(tmp_path):
    pd.DataFrame({"order_id": ["A1", "A2"], "order_date": pd.to_datetime(["2026-01-05", "2026-01-06"]),
                  "customer_id": ["C1", "C2"], "currency": ["USD", "EUR"], "amount": [10.0, np.inf]}
                 ).to_parquet(tmp_path / "orders.parquet")
    inp = load_inputs(small_company(tmp_path, None, orders_file="orders.parquet"))
    assert inp.tables["orders"]["order_id"].tolist() == ["A1"]
    assert set_aside(inp, "orders") == {("orders.parquet", 2): "not_a_number"}


# ------------------------------------------------------------------------------------------- fatal errors
@pytest.mark.parametrize("case,expect", [
    ("missing_file", ["orders.csv", "file not found", "check `folder` and `file`"]),
    ("no_match", ["no file matches 'exports/*.csv'"]),
    ("missing_column", ["orders.csv", "column 'amount'", "required column 'amount' not found",
                        "the file's columns are: order_id, order_date"]),
    ("empty", ["orders.csv", "the file is empty"]),
    ("repeated_header", ["orders.csv", "two columns named 'amount'"]),
])
def test_fatal_problems_are_one_line(tmp_path, case, expect):
    spec = None
    if case == "missing_file":
        p = small_company(tmp_path, None)
    elif case == "no_match":
        p = small_company(tmp_path, None, orders_spec="exports/*.csv")
    elif case == "missing_column":
        p = small_company(tmp_path, "order_id,order_date,customer_id,currency\nA1,2026-01-05,C1,USD\n")
    elif case == "empty":
        p = small_company(tmp_path, "")
    else:
        p = small_company(tmp_path, ORDERS_HEAD + ",amount\nA1,2026-01-05,C1,R1,USD,1,2\n", orders_spec=spec)
    with pytest.raises(DataError) as e:
        load_inputs(p)
    msg = str(e.value)
    assert "\n" not in msg
    for part in expect:
        assert part in msg, (part, msg)


# ------------------------------------------------------------------------------------------- formulas in Excel
def test_xlsx_formula_without_a_saved_value_is_reported_as_such(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["order_id", "order_date", "customer_id", "currency", "amount", "cost_of_goods"])
    ws.append(["A1", "2026-01-05", "C1", "USD", 100, 60])
    ws.append(["A2", "2026-01-06", "C1", "USD", "=B3*0+5*20", 60])          # openpyxl saves no value
    ws.append(["A3", "2026-01-07", "C1", "USD", 100, "=E4*0.6"])
    ws.append(["A4", "2026-01-08", "C1", "USD", None, 60])                  # truly empty: a missing value
    ws["G1"] = "=HYPERLINK(\"x\")"                                          # an unmapped formula: ignored
    wb.save(tmp_path / "orders.xlsx")
    inp = load_inputs(small_company(tmp_path, None, orders_spec={"file": "orders.xlsx"}))
    assert set_aside(inp, "orders") == {("orders.xlsx", 3): "formula_without_value",
                                        ("orders.xlsx", 4): "formula_without_value",
                                        ("orders.xlsx", 5): "missing_value"}
    r = reasons(inp, "orders")
    assert r[("orders.xlsx", 3)] == ("amount: the cell holds a formula (=B3*0+5*20), not a value — open and save the "
                                     "file in Excel, or export values")
    assert r[("orders.xlsx", 4)].startswith("cost_of_goods: the cell holds a formula (=E4*0.6), not a value")
    assert r[("orders.xlsx", 5)] == "amount is empty (required)"
    q = inp.quarantine.set_index("source_row")
    assert q.loc[3, "value"] == "=B3*0+5*20"
    assert_accounted(inp)


def test_xlsx_text_that_starts_with_equals_is_text_not_a_formula(tmp_path):
    from clvlib.sources.readers import read_xlsx

    wb = openpyxl.Workbook()
    wb.active.append(["name"])
    wb.active.append(["=HYPERLINK(x)"])
    wb.active["A2"].data_type = "s"
    wb.save(tmp_path / "c.xlsx")
    fr = read_xlsx(tmp_path / "c.xlsx")
    assert fr.frame["name"].tolist() == ["=HYPERLINK(x)"] and not any(c.startswith("_formula:") for c in fr.frame)


# ------------------------------------------------------------------------------------------- date orders
def test_declared_ymd_is_honoured_not_guessed():
    why: dict = {}
    v, bad = parse_date(pd.Series(["2026-03-05", "05/03/2026", "26/03/05", "2026年3月5日"]), "ymd", why=why)
    assert [None if pd.isna(d) else str(d.date()) for d in v] == ["2026-03-05", None, "2026-03-05", "2026-03-05"]
    assert bad.tolist() == [False, True, False, False]
    assert why == {1: ("date_not_ymd", {"text": "05/03/2026"})}
    auto, _ = parse_date(pd.Series(["2026-03-05", "05/03/2026", "26/03/2005"]), "auto")
    assert str(auto[2].date()) == "2005-03-26"                # auto still tells 26/03/2005 is day-first


@pytest.mark.parametrize("order,expect", [("dmy", "2026-03-04"), ("mdy", "2026-04-03")])
def test_declared_day_and_month_orders_are_honoured_even_against_the_column(order, expect):
    v, bad = parse_date(pd.Series(["04/03/2026", "25/03/2026", "03/25/2026"]), order)
    assert str(v[0].date()) == expect
    assert bad.tolist() == ([False, False, True] if order == "dmy" else [False, True, False])


def test_one_date_against_a_clear_column_is_set_aside_not_fatal(tmp_path):
    rows = "".join(f"A{i},1/{i + 13}/2026,C1,R1,USD,10\n" for i in range(12)) + "B1,25/01/2026,C1,R1,USD,10\n"
    inp = load_inputs(small_company(tmp_path, ORDERS_HEAD + "\n" + rows))
    assert set_aside(inp, "orders") == {("orders.csv", 14): "not_a_date"}
    assert reasons(inp, "orders")[("orders.csv", 14)] == (
        "order_date: '25/01/2026' is day-first but the column's other dates are month-first (e.g. '1/13/2026'); "
        "write it as YYYY-MM-DD")
    assert str(inp.tables["orders"].loc[0, "order_date"].date()) == "2026-01-13"


def test_a_column_truly_split_between_day_and_month_first_still_stops(tmp_path):
    rows = "A1,1/13/2026,C1,R1,USD,10\nA2,1/14/2026,C1,R1,USD,10\nB1,25/01/2026,C1,R1,USD,10\n"
    with pytest.raises(DataError, match="dates mix day-first and month-first forms"):
        load_inputs(small_company(tmp_path, ORDERS_HEAD + "\n" + rows))


# ------------------------------------------------------------------------------------------- structure
def test_table_links_are_declared_in_the_contract_and_checked_in_their_order():
    from clvlib import contract

    order = contract.load_order()
    assert sorted(order) == sorted(contract.TABLES)
    for name, t in contract.TABLES.items():
        for fk in t.refs:
            assert fk.table in contract.TABLES and fk.column in t.column_names, (name, fk)
            assert order.index(fk.table) < order.index(name), (name, fk)
        for used in t.uses:
            assert order.index(used) < order.index(name)
    assert ("customer_id", "customers") in {(fk.column, fk.table) for fk in contract.ORDERS.refs}
    assert "References: order_id → orders.order_id, rep_id → reps.rep_id" in contract.markdown()


@pytest.mark.parametrize("func", ["clvlib.sources:load_inputs", "clvlib.sources.readers:read_csv",
                                  "clvlib.sources.parse:parse_date"])
def test_intake_functions_read_in_one_sitting(func):
    import importlib
    import inspect

    module, name = func.split(":")
    f = getattr(importlib.import_module(module), name)
    assert len(inspect.getsource(f).splitlines()) <= 60, func
    if name == "parse_date":
        assert list(inspect.signature(f).parameters) == ["s", "order", "why"]      # no unused arguments


def test_months_are_read_in_the_usual_spellings_and_bad_ones_are_named():
    from clvlib.sources.parse import parse_month

    s = pd.Series(["2026-01", "2026/3", "2026年11月", "202612", "2026-02-17", "", "2026-13", "soon"])
    months, bad = parse_month(s, "ymd")
    assert list(months[:5]) == ["2026-01", "2026-03", "2026-11", "2026-12", "2026-02"]
    assert months[5] is None and not bad[5]                     # empty: missing, not bad
    assert bad.tolist() == [False] * 6 + [True, True]
