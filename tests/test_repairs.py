"""No silent repair: every value intake fills in or changes is on record (repairs), with its rule.

Each test plants one kind of repair in a tiny export and states, by hand, which rows are repaired, from
what to what, and that the row accounting still holds (a repaired row is an accepted row).
"""
from __future__ import annotations

import pandas as pd
import pytest

from clvlib.attribution import credit_lines
from clvlib.sources import load_inputs

from sources_support import assert_accounted, reasons, repaired, set_aside, small_company

HEAD = "order_id,order_date,customer_id,rep_id,currency,amount"
SHARED = ("customer_id,rep_id,share,valid_from,valid_to\nC1,R1,1,2020-01-01,2025-12-31\nC1,R3,1,2026-01-01,\n"
          "C2,R2,0.6,2020-01-01,\nC2,R1,0.4,2020-01-01,\nC3,R3,0.5,2026-02-01,\nC3,R2,0.5,2026-02-01,\n")


def test_an_order_without_rep_is_credited_to_the_owner_on_its_date_and_said_so(tmp_path):
    text = HEAD + "\nA1,2026-01-05,C1,,USD,100\nA2,2025-06-30,C1,,USD,50\nA3,2026-01-06,C1,R2,USD,10\n"
    inp = load_inputs(small_company(tmp_path, text, ownership=SHARED))
    o = inp.tables["orders"].set_index("order_id")
    # the handover on 2026-01-01: R1 owned C1 until 2025-12-31, R3 from then on
    assert o.loc["A1", "rep_id"] == "R3" and o.loc["A2", "rep_id"] == "R1" and o.loc["A3", "rep_id"] == "R2"
    assert repaired(inp, "orders") == {("orders.csv", 2, "rep_id"): ("rep_from_owner", "", "R3"),
                                       ("orders.csv", 3, "rep_id"): ("rep_from_owner", "", "R1")}
    r = inp.repairs.set_index("source_row")
    assert r.loc[2, "reason"] == ("no rep on the order and no split credit: credited to R3, the account's owner on "
                                  "2026-01-05")
    assert inp.counts["orders"]["rows_repaired"] == 2 and inp.counts["orders"]["rows_accepted"] == 3
    assert any(n.startswith("orders.rep_id: orders without a rep credited to the account's owner") and "2 row(s)" in n
               for n in inp.notes)
    assert_accounted(inp)


def test_a_shared_account_gives_the_largest_share_and_split_credit(tmp_path):
    text = HEAD + "\nB1,2026-01-05,C2,,USD,100\nB2,2026-02-10,C3,,USD,80\n"
    inp = load_inputs(small_company(tmp_path, text, ownership=SHARED))
    o = inp.tables["orders"].set_index("order_id")
    assert o.loc["B1", "rep_id"] == "R2"                          # 0.6 beats 0.4
    assert o.loc["B2", "rep_id"] == "R2"                          # 0.5 / 0.5: the lowest id
    s = inp.tables["order_splits"]
    assert s[["order_id", "rep_id", "share", "origin"]].values.tolist() == [
        ["B1", "R2", 0.6, "owners"], ["B1", "R1", 0.4, "owners"], ["B2", "R2", 0.5, "owners"],
        ["B2", "R3", 0.5, "owners"]]
    c = inp.counts["order_splits"]
    assert (c["provided"], c["rows_read"], c["rows_accepted"], c["rows_added"]) == (False, 0, 0, 4)
    got = repaired(inp, "orders")
    assert got[("orders.csv", 2, "rep_id")] == ("rep_from_shared_owners", "", "R2")
    lines = inp.repairs[inp.repairs["table"] == "order_splits"]
    assert lines["rule"].eq("owner_split_added").all() and lines["value_after"].tolist() == [
        "R2 0.6", "R1 0.4", "R2 0.5", "R3 0.5"]
    assert "(R2 60%, R1 40%)" in inp.repairs.loc[inp.repairs["rule"] == "rep_from_shared_owners", "reason"].iloc[0]
    credit = credit_lines(inp.tables["orders"], s)
    assert credit[credit["order_id"] == "B1"][["rep_id", "share", "basis"]].values.tolist() == [
        ["R2", 0.6, "split"], ["R1", 0.4, "split"]]
    assert_accounted(inp)


def test_no_rep_and_nobody_owning_the_account_that_day_is_set_aside(tmp_path):
    text = HEAD + ",status\nA1,2019-05-01,C1,,USD,100,booked\nA2,2026-01-05,C3,,USD,10,booked\n" \
                  "A3,2019-05-01,C1,,USD,100,open\n"
    inp = load_inputs(small_company(tmp_path, text))
    assert set_aside(inp, "orders") == {("orders.csv", 2): "no_owner", ("orders.csv", 3): "no_owner"}
    assert reasons(inp, "orders")[("orders.csv", 2)] == (
        "no rep on the order and nobody owned the account C1 on 2019-05-01 (no ownership row covers that day); add "
        "the rep to the order or the owner to the ownership table")
    o = inp.tables["orders"]
    assert o["order_id"].tolist() == ["A3"] and o["rep_id"].isna().all()     # an open deal gets no credit
    assert_accounted(inp)


def test_credit_notes_take_their_invoice_customer_and_rep_as_repairs(tmp_path):
    text = (HEAD + ",doc_type,original_order_id\n"
            "I1,2026-01-05,C1,,USD,100,invoice,\n"                     # rep from the owner: R1
            "K1,2026-01-20,C3,R2,USD,-10,credit_note,I1\n"             # takes C1 / R1
            "K2,2026-01-21,C1,,USD,-5,credit_note,I1\n"                # takes R1 (customer already C1)
            "K3,2026-01-22,C2,R2,USD,-7,credit_note,I1\n")
    inp = load_inputs(small_company(tmp_path, text))
    o = inp.tables["orders"].set_index("order_id")
    assert o.loc[["K1", "K2", "K3"], ["customer_id", "rep_id"]].values.tolist() == [["C1", "R1"]] * 3
    assert repaired(inp, "orders") == {
        ("orders.csv", 2, "rep_id"): ("rep_from_owner", "", "R1"),
        ("orders.csv", 3, "customer_id"): ("credit_note_follows_invoice", "C3", "C1"),
        ("orders.csv", 3, "rep_id"): ("credit_note_follows_invoice", "R2", "R1"),
        ("orders.csv", 4, "rep_id"): ("credit_note_follows_invoice", "", "R1"),
        ("orders.csv", 5, "customer_id"): ("credit_note_follows_invoice", "C2", "C1"),
        ("orders.csv", 5, "rep_id"): ("credit_note_follows_invoice", "R2", "R1")}
    assert inp.counts["orders"]["rows_repaired"] == 4
    assert_accounted(inp)


def test_empty_optional_cells_get_the_default_on_record(tmp_path):
    text = (HEAD + ",cost_of_goods,status,doc_type\n"
            "A1,2026-01-05,C1,R1,USD,100,60,booked,invoice\n"
            "A2,2026-01-06,C1,R1,USD,100,,,\n"
            "A3,2026-01-07,C1,R1,USD,abc,,,\n")                       # set aside: not repaired
    inp = load_inputs(small_company(tmp_path, text))
    assert repaired(inp, "orders") == {("orders.csv", 3, "cost_of_goods"): ("default_filled", "", "0"),
                                       ("orders.csv", 3, "status"): ("default_filled", "", "booked"),
                                       ("orders.csv", 3, "doc_type"): ("default_filled", "", "invoice")}
    assert inp.repairs.loc[0, "reason"] == "cost_of_goods was empty; the data contract's default 0 is used"
    # columns the files do not have at all: one note naming them (not a repair per row)
    assert any(n.startswith("orders: no column for freight_cost, other_cost") and "freight_cost 0" in n
               for n in inp.notes)
    assert any(n.startswith("ownership: no column for share") for n in inp.notes)
    assert_accounted(inp)


def test_empty_cells_mapped_by_the_sources_file_are_repairs(tmp_path):
    text = "id,date,cust,ccy,amt,stage\nD1,2026-01-02,C1,USD,10,Won\nD2,2026-01-03,C1,USD,10,\n"
    spec = {"file": "orders.csv", "columns": {"order_id": "id", "order_date": "date", "customer_id": "cust",
                                              "currency": "ccy", "amount": "amt", "status": "stage"},
            "values": {"status": {"Won": "booked", "*": "open"}}}
    inp = load_inputs(small_company(tmp_path, text, orders_spec=spec))
    assert repaired(inp, "orders")[("orders.csv", 3, "status")] == ("empty_mapped", "", "open")


def test_sign_conventions_are_repairs(tmp_path):
    text = (HEAD + ",cost_of_goods,doc_type,original_order_id\n"
            "I1,2026-01-05,C1,R1,USD,100,60,invoice,\n"
            "I2,2026-01-06,C1,R1,USD,-40,-20,invoice,\n"                  # negative invoice: a credit note
            "K1,2026-01-07,C1,R1,USD,30,18,credit_note,I1\n")             # positive credit note: negative
    inp = load_inputs(small_company(tmp_path, text))
    o = inp.tables["orders"].set_index("order_id")
    assert o.loc["I2", "doc_type"] == "credit_note"
    assert (o.loc["K1", "amount"], o.loc["K1", "cost_of_goods"]) == (-30, -18)
    assert repaired(inp, "orders") == {("orders.csv", 3, "doc_type"): ("negative_invoice", "invoice", "credit_note"),
                                       ("orders.csv", 4, "amount"): ("credit_note_sign", "30.0", "-30.0"),
                                       ("orders.csv", 4, "cost_of_goods"): ("credit_note_sign", "18.0", "-18.0")}


def test_collapsed_duplicates_are_on_record_on_the_row_kept(tmp_path):
    text = HEAD + "\nA1,2026-01-05,C1,R1,USD,10\nA1,2026-01-05,C1,R1,USD,10\nA1,2026-01-05,C1,R1,USD,10\n"
    inp = load_inputs(small_company(tmp_path, text))
    assert set_aside(inp, "orders") == {("orders.csv", 3): "duplicate_row", ("orders.csv", 4): "duplicate_row"}
    assert repaired(inp, "orders") == {("orders.csv", 2, "order_id"): ("duplicates_collapsed", "3 identical rows",
                                                                       "used once")}
    assert inp.repairs.loc[0, "reason"] == "3 identical rows (rows 2, 3, 4) are used once"
    assert_accounted(inp)


def test_ownership_shares_over_one_on_a_day_are_set_aside(tmp_path):
    own = ("customer_id,rep_id,share,valid_from,valid_to\n"
           "C1,R1,1,2020-01-01,2026-01-31\n"                 # 2 overlaps the handover by a month ...
           "C1,R3,1,2026-01-01,\n"                           # 3 ... so both are set aside
           "C2,R2,0.5,2020-01-01,\n"                         # 4 a shared account at 50/50: fine
           "C2,R1,0.5,2020-01-01,\n"
           "C3,R2,1,2026-01-01,2026-01-31\n"                 # 6 a clean handover ...
           "C3,R3,1,2026-02-01,\n")                          # 7 ... the next day: fine
    inp = load_inputs(small_company(tmp_path, HEAD + "\nA1,2026-03-01,C2,,USD,10\n", ownership=own))
    assert set_aside(inp, "ownership") == {("ownership.csv", 2): "ownership_over_one",
                                           ("ownership.csv", 3): "ownership_over_one"}
    assert reasons(inp, "ownership")[("ownership.csv", 3)] == (
        "the shares of customer C1's owners on 2026-01-01 sum to 2, more than 1 (rows 2, 3); none of these rows is "
        "used until the source is corrected")
    assert inp.tables["order_splits"]["share"].tolist() == [0.5, 0.5]
    assert_accounted(inp)


def test_repairs_file_is_safe_and_complete(tmp_path):
    from clvlib.sources import write_repairs

    text = HEAD + "\nA1,2026-01-05,C1,,USD,100\n"
    inp = load_inputs(small_company(tmp_path, text))
    path = write_repairs(inp, tmp_path)
    r = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(r.columns) == ["table", "source_file", "source_row", "column", "value_before", "value_after", "rule",
                               "reason", "reason_args"]
    assert r.loc[0, "rule"] == "rep_from_owner" and '"key": "rep_from_owner"' in r.loc[0, "reason_args"]


@pytest.mark.parametrize("orders", [
    pd.DataFrame({"order_id": ["A"], "rep_id": [None], "doc_type": ["invoice"], "original_order_id": [None]}),
])
def test_credit_lines_has_no_owner_fallback_left(orders):
    from clvlib.errors import DataError

    with pytest.raises(DataError, match="order A has neither a rep_id nor split credit"):
        credit_lines(orders, pd.DataFrame(columns=["order_id", "rep_id", "share"]), pd.DataFrame())
