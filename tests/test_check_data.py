"""`clvlib check-data --params FILE`: counts per table and top reasons; exit 0 usable, 2 not."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from clvlib.cli import main
from clvlib.paths import DEFAULT_PARAMS

from sources_support import company, preset_for, sources_file


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def small(tmp, orders: str, **tables):
    (tmp / "customers.csv").write_text("customer_id,name,country\nC1,Acme,US\n")
    (tmp / "reps.csv").write_text("rep_id,name,team,hire_date\nR1,Ana,EU,2020-01-01\n")
    (tmp / "ownership.csv").write_text("customer_id,rep_id,valid_from\nC1,R1,2020-01-01\n")
    (tmp / "fx.csv").write_text("date,currency,rate\n2026-01-01,EUR,1.1\n")
    (tmp / "orders.csv").write_text(orders)
    spec = {"orders": "orders.csv", "customers": "customers.csv", "reps": "reps.csv", "ownership": "ownership.csv",
            "fx_rates": "fx.csv", **tables}
    return company(tmp, sources_file(tmp, spec)).file


def test_demo_data_is_usable(demo_params, capsys):
    from clvlib.demo import load_truth
    from clvlib.sources.spec import load_sources

    code, out, err = run(["check-data", "--params", str(DEFAULT_PARAMS)], capsys)
    assert code == 0 and err == ""
    assert "orders" in out and "the data can be used" in out
    truth = load_truth(load_sources(demo_params.path("sources")).folder)
    typo = next(d["value"] for d in truth["defects"] if d["kind"] == "unknown currency")
    assert "top reasons rows were set aside" in out and f"unknown currency '{typo}'" in out


@pytest.mark.parametrize("preset", ["salesforce", "hubspot", "erp"])
def test_presets_are_usable_and_reasons_listed(tmp_path, capsys, preset):
    params = company(tmp_path, preset_for(tmp_path, preset)).file
    code, out, err = run(["check-data", "--params", str(params), "--quarantine", str(tmp_path / "q.csv")], capsys)
    assert code == 0, out + err
    assert "set aside" in out and "(e.g. " in out and "the data can be used" in out
    q = pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False)
    assert len(q) and set(q.columns) >= {"table", "source_file", "source_row", "column", "value", "rule", "reason"}


def test_all_orders_set_aside_exits_2(tmp_path, capsys):
    params = small(tmp_path, "order_id,order_date,customer_id,currency,amount\nA1,2026-01-05,C9,USD,10\n")
    code, out, _ = run(["check-data", "--params", str(params)], capsys)
    assert code == 2 and "the data cannot be used: no accepted rows in orders" in out
    assert "unknown customer" in out


def test_no_booked_order_exits_2(tmp_path, capsys):
    params = small(tmp_path, "order_id,order_date,customer_id,currency,amount,status\nA1,2026-01-05,C1,USD,10,open\n")
    code, out, _ = run(["check-data", "--params", str(params)], capsys)
    assert code == 2 and "no order counts as booked" in out and "values.status" in out


@pytest.mark.parametrize("orders,expect", [
    (None, ["orders.csv", "file not found"]),
    ("order_id,order_date,customer_id,currency\nA1,2026-01-05,C1,USD\n", ["orders.csv", "column 'amount'"]),
])
def test_fatal_problems_are_one_line_on_stderr(tmp_path, capsys, orders, expect):
    params = small(tmp_path, orders or "")
    if orders is None:
        (tmp_path / "orders.csv").unlink()
    code, out, err = run(["check-data", "--params", str(params)], capsys)
    assert code == 2 and out == ""
    assert err.startswith("clvlib: ") and err.count("\n") == 1
    for part in expect:
        assert part in err


def test_real_command_never_shows_a_traceback(tmp_path):
    params = small(tmp_path, "order_id,order_date,customer_id,currency,amount\n")
    (tmp_path / "orders.csv").write_bytes(b"order_id,name\nA1,Caf\xe9 M\xfcller\n")
    r = subprocess.run([sys.executable, "-m", "clvlib.cli", "check-data", "--params", str(params)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and "cannot decode the text at line 2" in r.stderr and "orders.csv" in r.stderr


def test_every_repaired_value_is_counted_and_named(tmp_path, capsys):
    params = small(tmp_path, "order_id,order_date,customer_id,rep_id,currency,amount,cost_of_goods\n"
                             "A1,2026-01-05,C1,,USD,10,4\nA2,2026-01-06,C1,R1,USD,20,\nA3,2026-01-07,C1,,USD,30,5\n")
    code, out, _ = run(["check-data", "--params", str(params), "--quarantine", str(tmp_path / "q.csv")], capsys)
    assert code == 0
    assert "values repaired — used, but not as given (3 values in all):" in out
    assert ("        2  orders.rep_id: no rep on the order and no split credit: credited to R1, the account's owner "
            "on 2026-01-05  (e.g. orders.csv row 2)") in out
    assert "        1  orders.cost_of_goods: cost_of_goods was empty; the data contract's default 0 is used" in out
    head = next(line for line in out.splitlines() if line.startswith("orders "))
    assert head.split()[1:5] == ["3", "3", "0", "3"]                 # read, accepted, set aside, repaired
    r = pd.read_csv(tmp_path / "q-repairs.csv", dtype=str, keep_default_na=False)
    assert r["rule"].tolist() == ["rep_from_owner", "default_filled", "rep_from_owner"]


def test_implausible_fx_rates_stop_check_data_with_one_line(tmp_path, capsys):
    params = small(tmp_path, "order_id,order_date,customer_id,currency,amount\nA1,2026-01-05,C1,EUR,10\n")
    (tmp_path / "fx.csv").write_text("date,currency,rate\n2026-01-01,EUR,110\n")      # per 100 units?
    code, out, err = run(["check-data", "--params", str(params)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "fx.csv" in err and "the FX rates for EUR look mis-scaled: 1 EUR converts to a median of 110 USD" in err
    assert "`scale:`" in err and "fx.plausibility: warn" in err
