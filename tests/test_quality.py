"""Data quality: row accounting, reasons and repairs grouped for the page, and both in the report's language."""
from __future__ import annotations

import pandas as pd
import pytest

from clvlib import quality
from clvlib.report.i18n import Translator, catalog
from clvlib.sources import load_inputs, reasons
from clvlib.sources.repairs import RULES

from sources_support import small_company

COUNTS = {
    "orders": {"files": [{"file": "/x/orders-1.csv"}, {"file": "/x/orders-2.csv"}], "rows_read": 200,
               "rows_accepted": 190, "rows_quarantined": 10, "rows_repaired": 4, "rows_added": 0, "provided": True},
    "order_splits": {"files": [], "rows_read": 0, "rows_accepted": 0, "rows_quarantined": 0, "rows_repaired": 0,
                     "rows_added": 6, "provided": False},
    "reps": {"files": [{"file": "/x/reps.csv"}], "rows_read": 8, "rows_accepted": 8, "rows_quarantined": 0},
}


def test_counts_frame_one_line_per_table():
    f = quality.counts_frame(COUNTS).set_index("table")
    assert f.loc["orders", "files"] == "orders-1.csv, orders-2.csv" and f.loc["order_splits", "files"] == "–"
    assert f.loc["orders", "quarantined_pct"] == pytest.approx(0.05)           # 10 / 200
    assert f.loc["order_splits", "quarantined_pct"] == 0.0                     # nothing read: 0, not NaN
    assert f.loc["reps", "rows_repaired"] == 0 and f.loc["order_splits", "rows_added"] == 6   # older counts: 0
    assert f["provided"].tolist() == [True, False, True]


def test_totals_add_up_the_tables():
    assert quality.totals(COUNTS) == {"rows_read": 208, "rows_accepted": 198, "rows_quarantined": 10,
                                      "rows_repaired": 4, "rows_added": 6, "tables": 2}


def test_top_reasons_most_frequent_first_with_the_first_example():
    q = pd.DataFrame({"table": ["orders", "orders", "nps", "orders", "nps"],
                      "rule": ["not_a_date", "unknown_rep", "out_of_range", "unknown_rep", "out_of_range"],
                      "reason": ["d1", "r1", "n1", "r2", "n2"], "reason_args": ["", "", "", "", ""]})
    top = quality.top_reasons(q)
    assert top[["table", "rule", "rows", "example"]].values.tolist() == [
        ["nps", "out_of_range", 2, "n1"], ["orders", "unknown_rep", 2, "r1"], ["orders", "not_a_date", 1, "d1"]]
    assert len(quality.top_reasons(q, n=1)) == 1
    assert quality.top_reasons(q.iloc[:0]).empty


def test_document_status_counts_and_sums_by_status_and_type():
    o = pd.DataFrame({"status": ["booked", "booked", "cancelled", "booked"], "order_id": ["a", "b", "c", "d"],
                      "doc_type": ["invoice", "credit_note", "invoice", "invoice"], "amount_rc": [100, -20, 50, 30]})
    d = quality.document_status(o)
    assert d.values.tolist() == [["booked", "credit_note", 1, -20], ["booked", "invoice", 2, 130],
                                 ["cancelled", "invoice", 1, 50]]


def test_repair_summary_groups_by_table_rule_and_column():
    r = pd.DataFrame({"table": ["orders"] * 3 + ["reps"], "source_file": ["o.csv"] * 3 + ["r.csv"],
                      "source_row": [2, 3, 4, 2], "column": ["cost_of_goods", "status", "cost_of_goods", "role"],
                      "value_before": "", "value_after": ["0", "booked", "0", "sales"],
                      "rule": ["default_filled"] * 4, "reason": ["c2", "s3", "c4", "r2"], "reason_args": ""})
    s = quality.repair_summary(r)
    assert s[["table", "column", "rows", "example", "source_row"]].values.tolist() == [
        ["orders", "cost_of_goods", 2, "c2", 2], ["orders", "status", 1, "s3", 3], ["reps", "role", 1, "r2", 2]]
    assert quality.repair_summary(r.iloc[:0]).empty


# ------------------------------------------------------------------------------------------- languages
@pytest.fixture(scope="module")
def inp(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("q")
    text = ("order_id,order_date,customer_id,rep_id,currency,amount\n"
            "A1,2026-01-05,C1,,USD,10\nA2,2026-01-05,C9,R1,XYZ,10\nA3,2026-01-06,C1,R1,USD,5\n"
            "A3,2026-01-06,C1,R1,USD,6\n")
    return load_inputs(small_company(tmp, text))


def test_reasons_are_translated_where_they_are_shown(inp):
    zh = quality.for_display(inp.quarantine, Translator("zh")).set_index("source_row")
    assert zh.loc[3, "reason"] == "未知客户（客户表中没有）；未知币种 'XYZ'（汇率表中没有）"
    assert zh.loc[4, "reason"] == "多行的 order_id 相同但内容冲突（第 4、5 行）；在源头更正之前一行都不采用"
    assert zh.loc[3, "table"] == "订单" and zh.loc[3, "rule"] == "未知客户"
    en = quality.for_display(inp.quarantine, Translator("en")).set_index("source_row")
    assert en.loc[3, "reason"] == "unknown customer (not in the customers table); unknown currency 'XYZ' (no FX rates for it)"
    assert inp.quarantine.set_index("source_row").loc[3, "reason"] == en.loc[3, "reason"]   # the CSV keeps English


def test_repairs_and_notes_are_translated(inp):
    fixed = quality.for_display(quality.repair_summary(inp.repairs), Translator("zh"), reason="example",
                                args="example_args", block="repair")
    assert fixed.loc[0, "example"] == "订单上没有业务员，也没有业绩分成：记给 R1，即该客户在 2026-01-05 的归属人"
    assert fixed.loc[0, "rule"] == "没有业务员的订单记给订单日期当天的客户归属人"
    note = next(n for n in inp.notes if n.key == "columns_defaulted" and n.args["table"] == "orders")
    assert quality.note_text(note, Translator("zh")).startswith("订单：文件中没有 cost_of_goods, freight_cost")
    assert quality.note_text(note, Translator("en")) == str(note)
    assert quality.note_text("a plain note", Translator("zh")) == "a plain note"


def test_an_untranslatable_reason_falls_back_to_the_english_text():
    t = Translator("zh")
    assert quality.reason_text('[{"key": "no_such_reason"}]', "as written", t) == "as written"
    assert quality.reason_text("not json", "as written", t) == "as written"
    assert quality.reason_text("", "as written", t) == "as written"


def test_the_english_catalogue_is_the_code_s_templates():
    en = catalog("en")
    for block, templates in (("reason", reasons.QUARANTINE), ("repair", reasons.REPAIR), ("note", reasons.NOTE),
                             ("repair_rule", RULES)):
        got = {k.split(".", 2)[2]: v for k, v in en.items() if k.startswith(f"intake.{block}.")}
        assert got == templates, block
    zh = catalog("zh")
    for key in en:
        if key.startswith(("intake.reason.", "intake.repair.", "intake.note.")):
            assert reasons.fields(zh[key]) <= reasons.fields(en[key]) | {"m1", "m2", "listed_n"}, key
