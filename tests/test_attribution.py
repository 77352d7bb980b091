"""Attribution: who gets credit for an order, who owns an account on a day — small tables, answers by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from clvlib.attribution import credit_lines, current_owners, owners_on, primary_owner

D = pd.Timestamp

# C1: R1 until 2025-12-31, then handed over to R2. C2: shared 60/40 by R3 and R1. C3: lapsed on 2025-06-30.
OWNERSHIP = pd.DataFrame({
    "customer_id": ["C1", "C1", "C2", "C2", "C3"],
    "rep_id": ["R1", "R2", "R3", "R1", "R4"],
    "share": [1.0, 1.0, 0.6, 0.4, 1.0],
    "valid_from": [D("2020-01-01"), D("2026-01-01"), D("2021-01-01"), D("2021-01-01"), D("2022-01-01")],
    "valid_to": [D("2025-12-31"), pd.NaT, pd.NaT, pd.NaT, D("2025-06-30")],
})


@pytest.mark.parametrize("customer,day,owners", [
    ("C1", "2025-12-31", [("R1", 1.0)]),                 # the last day before the handover (inclusive)
    ("C1", "2026-01-01", [("R2", 1.0)]),                 # the first day after it
    ("C2", "2026-03-01", [("R3", 0.6), ("R1", 0.4)]),    # a shared account
    ("C3", "2026-03-01", [(None, 1.0)]),                 # lapsed: no owner that day
    ("C9", "2026-03-01", [(None, 1.0)]),                 # unknown customer
])
def test_owners_on_a_day(customer, day, owners):
    got = owners_on(OWNERSHIP, pd.DataFrame({"customer_id": [customer], "date": [D(day)]}))
    assert [(None if pd.isna(r) else r, s) for r, s in zip(got["rep_id"], got["share"])] == owners


def test_current_owners_with_handover_shares_and_a_lapsed_account():
    own = current_owners(OWNERSHIP, "2026-03-31").sort_values(["customer_id", "rep_id"])
    assert own.values.tolist() == [["C1", "R2", 1.0], ["C2", "R1", 0.4], ["C2", "R3", 0.6]]
    orders = pd.DataFrame({"customer_id": ["C3", "C3", "C2"], "rep_id": ["R5", "R6", "R9"],
                           "order_date": [D("2025-01-10"), D("2025-05-01"), D("2026-01-01")]})
    with_orders = current_owners(OWNERSHIP, "2026-03-31", orders).sort_values(["customer_id", "rep_id"])
    # C3 lapsed: its last order's rep (R6 on 2025-05-01); C2 keeps its owners (R9 only booked an order)
    assert with_orders.values.tolist() == [["C1", "R2", 1.0], ["C2", "R1", 0.4], ["C2", "R3", 0.6],
                                           ["C3", "R6", 1.0]]


def test_current_owners_scale_shares_to_sum_to_one():
    own = OWNERSHIP.assign(share=[1.0, 1.0, 0.3, 0.3, 1.0])
    got = current_owners(own, "2026-03-31")
    assert got[got["customer_id"] == "C2"]["share"].tolist() == [0.5, 0.5]


def test_primary_owner_is_the_largest_share_ties_the_lowest_id():
    owners = pd.DataFrame({"customer_id": ["C1", "C1", "C2", "C2"], "rep_id": ["R9", "R2", "R7", "R3"],
                           "share": [0.5, 0.5, 0.4, 0.6]})
    assert primary_owner(owners).to_dict() == {"C1": "R2", "C2": "R3"}


ORDERS = pd.DataFrame({
    "order_id": ["I1", "I2", "K1", "K2", "K3"],
    "rep_id": ["R1", "R2", "R1", "R2", "R4"],
    "doc_type": ["invoice", "invoice", "credit_note", "credit_note", "credit_note"],
    "original_order_id": [None, None, "I1", "I2", "I0"],
})
SPLITS = pd.DataFrame({"order_id": ["I2", "I2", "K3"], "rep_id": ["R2", "R3", "R9"], "share": [0.7, 0.3, 1.0]})


def test_credit_lines_split_booking_and_credit_notes_follow_their_invoice():
    got = credit_lines(ORDERS, SPLITS).sort_values(["order_id", "rep_id"])
    assert got.values.tolist() == [
        ["I1", "R1", 1.0, "booking"],
        ["I2", "R2", 0.7, "split"], ["I2", "R3", 0.3, "split"],
        ["K1", "R1", 1.0, "booking"],
        ["K2", "R2", 0.7, "split"], ["K2", "R3", 0.3, "split"],      # follows I2's split, not its own rep
        ["K3", "R9", 1.0, "split"],                # its original I0 has no split credit: its own split lines
    ]
    assert got.groupby("order_id")["share"].sum().tolist() == [1.0] * 5


def test_a_credit_note_without_split_credit_anywhere_is_booked_to_its_rep():
    got = credit_lines(ORDERS, SPLITS.iloc[:2])
    assert got[got["order_id"] == "K3"].values.tolist() == [["K3", "R4", 1.0, "booking"]]


def test_credit_lines_keeps_accepting_ownership_for_old_callers():
    assert credit_lines(ORDERS, SPLITS, OWNERSHIP).equals(credit_lines(ORDERS, SPLITS))
