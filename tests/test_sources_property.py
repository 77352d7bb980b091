"""Property: for any mix of good and bad rows, every input row is accepted or set aside — exactly once.

Hypothesis writes an orders export of random good rows and every kind of bad one (unreadable dates and
amounts, unknown customers, reps and currencies, dates without a rate, empty ids, exact and conflicting
duplicates, records with the wrong number of fields, blank lines, credit notes for any earlier id) and
checks the accounting: ``rows_read = rows_accepted + rows_quarantined`` for every table, the accepted and
quarantined row numbers are disjoint and together are every non-blank row of the file, each planted
problem is set aside, and each untouched good row is used.
"""
from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clvlib.sources import load_inputs

from sources_support import assert_accounted, company, sources_file

KINDS = ["good", "good", "good", "bad_date", "bad_amount", "unknown_customer", "unknown_rep", "unknown_currency",
         "no_rate", "no_id", "duplicate", "conflict", "wrong_fields", "blank", "credit_note", "fancy_amount"]
MUST_SET_ASIDE = {"bad_date", "bad_amount", "unknown_customer", "unknown_rep", "unknown_currency", "no_rate",
                  "no_id", "duplicate", "conflict", "wrong_fields"}


def build(kinds: list[str], amounts: list[int]) -> tuple[str, dict[int, str], set[int], set[int]]:
    """The CSV text, {row number: kind} of data rows, the row numbers of blank lines, and the rows that a
    later duplicate or conflicting row copies."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["order_id", "order_date", "customer_id", "rep_id", "currency", "amount", "doc_type",
                "original_order_id"])
    rows: dict[int, str] = {}
    blank: set[int] = set()
    written: list[list[str]] = []
    origin: list[int] = []
    copied: set[int] = set()
    line = 1
    for i, (kind, amount) in enumerate(zip(kinds, amounts)):
        line += 1
        rec = [f"O{i}", f"2026-01-{1 + i % 28:02d}", "C1" if i % 2 else "C2", "R1", "USD" if i % 3 else "EUR",
               str(amount), "invoice", ""]
        if kind == "blank":
            buf.write("\n")
            blank.add(line)
            continue
        if kind == "bad_date":
            rec[1] = "2026-13-40"
        elif kind == "bad_amount":
            rec[5] = "12,O00"
        elif kind == "fancy_amount":
            rec[5] = f"({amount:,}.00)"
        elif kind == "unknown_customer":
            rec[2] = "C404"
        elif kind == "unknown_rep":
            rec[3] = "R404"
        elif kind == "unknown_currency":
            rec[4] = "XXX"
        elif kind == "no_rate":
            rec[4], rec[1] = "EUR", "2025-06-01"
        elif kind == "no_id":
            rec[0] = ""
        elif kind == "duplicate" and written:
            rec = list(written[-1])
            copied.add(origin[-1])
        elif kind == "conflict" and written:
            rec = list(written[-1])
            copied.add(origin[-1])
            rec[5] = "777777" if rec[5] != "777777" else "888888"
        elif kind in ("duplicate", "conflict"):
            kind = "good"
        elif kind == "credit_note":
            rec[5], rec[6] = f"-{amount}", "credit_note"
            rec[7] = written[0][0] if written else "O-none"
        if kind == "wrong_fields":
            buf.write(",".join(rec + ["surplus"]) + "\n")
        else:
            w.writerow(rec)
            written.append(rec)
            origin.append(line)
        rows[line] = kind
    return buf.getvalue(), rows, blank, copied


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(min_value=0, max_value=10**7)), min_size=1,
                max_size=40))
def test_every_row_is_accounted_for_exactly_once(plan):
    kinds = [k for k, _ in plan]
    amounts = [a for _, a in plan]
    text, rows, blank, copied = build(kinds, amounts)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "orders.csv").write_text(text)
        (tmp / "customers.csv").write_text("customer_id,name,country\nC1,Acme,US\nC2,北京贸易,CN\n")
        (tmp / "reps.csv").write_text("rep_id,name,team,hire_date\nR1,Ana,EU,2020-01-01\n")
        (tmp / "ownership.csv").write_text("customer_id,rep_id,valid_from\nC1,R1,2020-01-01\n")
        (tmp / "fx.csv").write_text("date,currency,rate\n" + "".join(
            f"2026-01-{d:02d},EUR,1.1\n" for d in range(1, 29)))
        p = company(tmp, sources_file(tmp, {"orders": "orders.csv", "customers": "customers.csv", "reps": "reps.csv",
                                            "ownership": "ownership.csv", "fx_rates": "fx.csv"}))
        inp = load_inputs(p)
    assert_accounted(inp)
    c = inp.counts["orders"]
    assert c["rows_read"] == len(rows)
    assert c["files"][0]["blank_rows"] == len(blank)
    q = inp.quarantine[inp.quarantine["table"] == "orders"]
    accepted = set(inp.tables["orders"]["source_row"].astype(int))
    quarantined = list(q["source_row"].astype(int))
    assert len(quarantined) == len(set(quarantined)), "a row appears twice in the quarantine"
    assert not accepted & set(quarantined), "a row is both used and set aside"
    assert accepted | set(quarantined) == set(rows), "a row went missing"
    assert not (accepted | set(quarantined)) & blank
    for row, kind in rows.items():
        if kind in MUST_SET_ASIDE:
            assert row in quarantined, (row, kind)
    # a good row is used unless a later row copies it with other values (then both are set aside)
    for row, kind in rows.items():
        if kind == "good" and row not in copied:
            assert row in accepted, row
        if kind == "good" and row in copied:
            conflicted = any(rows[r] == "conflict" for r in rows if r > row)
            assert (row in accepted) or conflicted, row
