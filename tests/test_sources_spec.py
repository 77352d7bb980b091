"""The sources file is read by clvlib.settings: every problem at once, one line, each with its dotted key."""
from __future__ import annotations

import pytest

from clvlib.errors import ParamsError
from clvlib.sources.spec import load_sources

from sources_support import sources_file

BASE = {"orders": "o.csv", "customers": "c.csv", "reps": "r.csv", "ownership": "w.csv", "fx_rates": "f.csv"}


def problems(path) -> list[str]:
    """The problems of a sources file, one per item (the file name stripped from the first)."""
    with pytest.raises(ParamsError) as e:
        load_sources(path)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(path) + ": ")
    return msg[len(str(path)) + 2:].split("; ")


def orders(**spec) -> dict:
    return {**BASE, "orders": {"file": "o.csv", **spec}}


def test_every_problem_is_reported_once_with_its_key(tmp_path):
    path = sources_file(tmp_path, {**orders(columns={"amout": "Amount", "currency": {"value": "USD", "header": "C"}},
                                            encoding="latin-9", header_row=0, sheet=[1]),
                                   "ordrs": "x.csv"}, date_order="ydm")
    got = problems(path)
    keys = sorted(p.split(": ")[0] for p in got)
    assert keys == sorted(["date_order", "tables.orders.columns.amout", "tables.orders.columns.currency",
                           "tables.orders.encoding", "tables.orders.header_row", "tables.orders.sheet",
                           "tables.ordrs"]), got
    assert "date_order: must be one of auto, ymd, dmy, mdy, got 'ydm'" in got
    assert "tables.orders.header_row: must be auto or the row number of the header (1 = first), got 0" in got
    assert "tables.orders.columns.currency: a constant is written {value: ...} alone" in got


def test_misspelled_keys_name_the_closest_known_one(tmp_path):
    got = problems(sources_file(tmp_path, {**orders(colums={}, values={"stauts": {"Won": "booked"}}),
                                           "customers": {"file": "c.csv", "columns": {"nmae": "Name"}}}))
    text = "; ".join(got)
    assert "tables.orders.colums: unknown key (did you mean columns?" in text
    assert "tables.orders.values.stauts: not a column of orders (did you mean status?" in text
    assert "tables.customers.columns.nmae: not a column of customers (did you mean name?" in text


@pytest.mark.parametrize("spec,expect", [
    ({"scale": [1]}, "tables.orders.scale: must be a mapping of money or number columns to factors"),
    ({"columns": {"amount": 5}}, "tables.orders.columns.amount: must be a header name, a list of alternative "
                                 "header names"),
    ({"columns": {"amount": {"header": "Net", "optinal": True}}},
     "tables.orders.columns.amount.optinal: unknown key (did you mean optional?"),
    ({"columns": {"amount": {"header": "Net", "optional": True}}},
     "tables.orders.columns.amount: a required column cannot be optional"),
    ({"values": {"status": "booked"}}, "tables.orders.values.status: must be a mapping of file values to "
                                       "canonical values"),
    ({"invert": "amount"}, "tables.orders.invert: 'amount' is not a number column of orders (it has none)"),
    ({"max_age_days": 30}, "tables.orders.max_age_days: base and max_age_days apply to fx_rates only"),
    ({"decimal": ";"}, "tables.orders.decimal: must be '.' or ',', got ';'"),
])
def test_wrong_shapes_are_one_line_messages_never_tracebacks(tmp_path, spec, expect):
    got = problems(sources_file(tmp_path, orders(**spec)))
    assert any(p.startswith(expect) for p in got), got


def test_a_table_that_is_not_a_file_name_or_a_mapping(tmp_path):
    assert problems(sources_file(tmp_path, {**BASE, "orders": [1]})) == [
        "tables.orders: must be a file name or a mapping with `file`, got [1]"]
    assert problems(sources_file(tmp_path, {**BASE, "orders": None})) == ["tables.orders: required, cannot be null"]
    assert problems(sources_file(tmp_path, {"orders": "o.csv", "nps": None}))[0] == \
        "tables.customers: missing (the data contract requires it)"


def test_value_map_keys_that_yaml_reads_as_numbers_are_the_file_text(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("tables:\n  orders:\n    file: o.csv\n    values:\n      status: {1: booked, ~: open, 2.5: lost}\n"
                    + "".join(f"  {t}: {f}\n" for t, f in BASE.items() if t != "orders"))
    assert load_sources(path).tables["orders"].values == {"status": {"1": "booked", "": "open", "2.5": "lost"}}
    path.write_text(path.read_text().replace("{1: booked", "{yes: booked"))
    assert problems(path) == ["tables.orders.values.status: a key YAML reads as True, not as a name (unquoted on, "
                              "off, yes and no are true or false, digits a number): write it in quotes"]


def test_top_level_file_options_are_defaults_a_table_overrides(tmp_path):
    src = load_sources(sources_file(tmp_path, orders(decimal=".", delimiter=";"), decimal=",", encoding="gb18030"))
    o, c = src.tables["orders"], src.tables["customers"]
    assert (o.decimal, o.delimiter, o.encoding) == (".", ";", "gb18030")
    assert (c.decimal, c.delimiter, c.encoding, c.date_order) == (",", "auto", "gb18030", "auto")
