"""The command line: a closed pipe ends quietly; a value from the data never splits or reverses a line."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from clvlib.cli import main
from clvlib.paths import DEFAULT_PARAMS

from sources_support import company, sources_file

HOSTILE = "ord\u202eers\nx\u200b"          # a right-to-left override, a line feed, a zero-width space


def closed_pipe_run(*args: str) -> subprocess.CompletedProcess:
    """``clvlib ARGS`` with stdout a pipe whose reader is already gone (as in ``clvlib ... | head``)."""
    r, w = os.pipe()
    os.close(r)
    try:
        return subprocess.run([sys.executable, "-m", "clvlib.cli", *args], stdout=w, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    finally:
        os.close(w)


@pytest.mark.parametrize("args", [["contract"], ["params"], ["check-data", "--params", str(DEFAULT_PARAMS)]])
def test_a_closed_pipe_ends_quietly(demo_params, args):
    proc = closed_pipe_run(*args)
    assert proc.stderr == ""                                        # no BrokenPipeError traceback
    assert proc.returncode in (0, 141)


def small(tmp, orders_file: str):
    (tmp / "customers.csv").write_text("customer_id,name,country\nC1,Acme,US\n")
    (tmp / "reps.csv").write_text("rep_id,name,team,hire_date\nR1,Ana,EU,2020-01-01\n")
    (tmp / "ownership.csv").write_text("customer_id,rep_id,valid_from\nC1,R1,2020-01-01\n")
    (tmp / "fx.csv").write_text("date,currency,rate\n2026-01-01,EUR,1.1\n")
    spec = {"orders": orders_file, "customers": "customers.csv", "reps": "reps.csv", "ownership": "ownership.csv",
            "fx_rates": "fx.csv"}
    return company(tmp, sources_file(tmp, spec)).file


def test_check_data_shows_hidden_characters_and_never_splits_a_line(tmp_path, capsys):
    name = HOSTILE + ".csv"
    (tmp_path / name).write_text("order_id,order_date,customer_id,currency,amount\n"
                                 "A1,2026-01-05,C1,USD,10\nA2,2026-01-06,C9,USD,20\n")
    assert main(["check-data", "--params", str(small(tmp_path, name))]) == 0
    out = capsys.readouterr().out
    assert "\u202e" not in out and "\u200b" not in out
    shown = "ord⟨U+202E⟩ers⟨U+000A⟩x⟨U+200B⟩.csv"
    lines = out.splitlines()
    assert lines[1].startswith("orders ") and lines[1].endswith(shown)          # the files column, one line
    assert any(line.endswith(f"(e.g. {shown} row 3)") for line in lines)        # the example row, one line
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "orders.csv").write_text((tmp_path / name).read_text())
    assert main(["check-data", "--params", str(small(plain, "orders.csv"))]) == 0
    assert len(lines) == len(capsys.readouterr().out.splitlines())               # as many lines as a plain name


def test_an_error_naming_a_hostile_file_is_one_line(tmp_path, capsys):
    assert main(["check-data", "--params", str(small(tmp_path, HOSTILE + ".csv"))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ord⟨U+202E⟩ers⟨U+000A⟩x⟨U+200B⟩.csv: file not found" in err
    assert "\u202e" not in err
