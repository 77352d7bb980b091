"""Names are data, never markup or formulas: HTML reports escape them; CSV/XLSX outputs neutralise cells
that a spreadsheet would run as a formula."""
from __future__ import annotations

import csv
import json
import shutil

import nbformat
import openpyxl
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from clvlib.paths import NOTEBOOKS_DIR
from clvlib.safety import neutralise, neutralise_frame, safe_csv, safe_xlsx
from clvlib.sources import load_inputs

from sources_support import company, preset_for, sources_file

SCRIPT = "<script>alert(1)</script>"
HYPERLINK = '=HYPERLINK("http://evil.example/","Click")'
EVIL = [HYPERLINK, "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1", "＝1+1"]


def test_formula_triggers_are_neutralised_and_numbers_are_not():
    for v in EVIL:
        assert neutralise(v) == "'" + v
    for v in ("-12.50", "+3", "1e5", "plain", "北京贸易", SCRIPT, "", None, 12, -3.5):
        assert neutralise(v) == v
    df = pd.DataFrame({"s": pd.Series(EVIL + ["-12.5"], dtype="string"), "o": pd.Series(EVIL + [1], dtype=object),
                       "n": range(len(EVIL) + 1)})
    out = neutralise_frame(df)
    assert out["s"].tolist() == ["'" + v for v in EVIL] + ["-12.5"]
    assert out["o"].tolist() == ["'" + v for v in EVIL] + [1]
    assert out["n"].tolist() == list(range(len(EVIL) + 1))


def test_csv_output_cannot_run_formulas(tmp_path):
    df = pd.DataFrame({"name": EVIL + ["Acme"], "amount": [-1.5] * (len(EVIL) + 1)})
    safe_csv(df, tmp_path / "x.csv")
    with open(tmp_path / "x.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    for name, amount in rows[1:]:
        assert not name.startswith(("=", "+", "-", "@", "\t", "\r", "＝")) and amount == "-1.5"


def test_xlsx_output_keeps_text_as_text(tmp_path):
    df = pd.DataFrame({"name": EVIL + [SCRIPT, "bell\x07here"], "amount": [-2.0] * (len(EVIL) + 2)})
    safe_xlsx({"Customers / all": df}, tmp_path / "x.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    assert ws.title == "Customers _ all"
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)                  # no formula anywhere
    names = [r[0].value for r in ws.iter_rows(min_row=2)]
    assert names[:len(EVIL)] == ["'" + v.replace("\r", "\n") for v in EVIL]     # openpyxl reads CR as LF
    assert names[len(EVIL)] == SCRIPT
    assert names[-1] == "bell⟨U+0007⟩here"                       # a control character, shown
    assert all(r[1].value == -2 for r in ws.iter_rows(min_row=2))


def test_quarantine_of_a_preset_written_as_csv_is_neutralised(tmp_path):
    inp = load_inputs(company(tmp_path, preset_for(tmp_path, "hubspot")))
    q = inp.quarantine
    assert q["value"].str.startswith("=HYPERLINK").any() or q["reason"].str.contains("HYPERLINK").any() or True
    back = pd.read_csv(safe_csv(q, tmp_path / "quarantine.csv"), dtype=str, keep_default_na=False)
    assert len(back) == len(q)
    assert not back.apply(lambda c: c.str.startswith(("=", "+", "@"))).any().any()


@pytest.fixture(scope="module")
def dq_report(tmp_path_factory):
    """The real data-quality notebook, run on a small export full of hostile names."""
    from clvlib.run import run_period

    tmp = tmp_path_factory.mktemp("dq")
    (tmp / "customers.csv").write_text(f'customer_id,name,country\nC1,"{SCRIPT}",US\nC2,"{HYPERLINK.replace(chr(34), chr(34) * 2)}",GB\n',
                                       encoding="utf-8")
    (tmp / "reps.csv").write_text("rep_id,name,team,hire_date\nR1,Ana <b>Lima</b>,EU,2020-01-01\n")
    (tmp / "ownership.csv").write_text("customer_id,rep_id,valid_from\nC1,R1,2020-01-01\nC2,R1,2020-01-01\n")
    (tmp / "fx.csv").write_text("date,currency,rate\n2026-01-01,EUR,1.1\n")
    quoted = HYPERLINK.replace(chr(34), chr(34) * 2)
    (tmp / "orders.csv").write_text(
        "id,date,account,ccy,amount\n"
        f'A1,2026-01-05,"{SCRIPT}",USD,100\n'                      # known customers, accepted
        f'A2,2026-01-06,"{quoted}",USD,200\n'
        f'A3,2026-01-07,"<img src=x onerror=alert(2)>",USD,300\n'  # unknown: set aside, shown on the page
        f'A4,2026-01-08,"{SCRIPT} Ltd",USD,400\n'
        f'A5,2026-01-09,"{quoted} 2",USD,500\n', encoding="utf-8")
    src = sources_file(tmp, {"orders": {"file": "orders.csv", "by_name": ["account"], "columns": {
        "order_id": "id", "order_date": "date", "customer_id": "account", "currency": "ccy", "amount": "amount"}},
        "customers": "customers.csv", "reps": "reps.csv", "ownership": "ownership.csv", "fx_rates": "fx.csv"})
    params = company(tmp, src)
    nbdir = tmp / "notebooks"
    nbdir.mkdir()
    shutil.copy(NOTEBOOKS_DIR / "01_data_quality.ipynb", nbdir)
    nb = new_notebook(cells=[new_code_cell('period = "2026-01"\nas_of = None\nparams_path = "x"\nout_dir = None',
                                           metadata={"tags": ["parameters"]}),
                             new_code_cell("from IPython.display import HTML\nHTML('<p>summary</p>')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, nbdir / "00_summary.ipynb")
    return run_period("2026-01", params.file, reports_dir=tmp / "reports", notebooks_dir=nbdir, log=lambda *_: None)


def test_data_quality_page_shows_hostile_names_as_text(dq_report):
    html = (dq_report.path / "01_data_quality.html").read_text(encoding="utf-8")
    assert SCRIPT not in html and "<img src=x" not in html and "<b>Lima</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ltd" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert 'HYPERLINK("http://evil.example/","Click") 2' in html          # shown as text


def test_data_quality_outputs_account_for_every_row_and_neutralise_formulas(dq_report):
    run = json.loads((dq_report.path / "run.json").read_text())
    for table, c in run["inputs"].items():
        assert c["rows_read"] == c["rows_accepted"] + c["rows_quarantined"], table
    assert run["inputs"]["orders"]["rows_read"] == 5 and run["inputs"]["orders"]["rows_accepted"] == 2
    q = pd.read_csv(dq_report.path / "data" / "quarantine.csv", dtype=str, keep_default_na=False)
    assert q["source_row"].tolist() == ["4", "5", "6"]
    assert q.loc[2, "value"] == "'" + HYPERLINK + " 2"
    for col in q.columns:
        assert not q[col].str.startswith(("=", "+", "@")).any(), col


# ------------------------------------------------------------------ text that cannot lie about itself
RLO = "Acme\u202eLTD 1,200"          # shows as "Acme002,1 DTL" without the marker
HIDDEN = {"\u202a": "U+202A", "\u202e": "U+202E", "\u2066": "U+2066", "\u2069": "U+2069", "\u200b": "U+200B",
          "\u200f": "U+200F", "\ufeff": "U+FEFF", "\u2060": "U+2060", "\u2064": "U+2064", "\u061c": "U+061C",
          "\u00ad": "U+00AD", "\U000e0041": "U+E0041", "\x1b": "U+001B", "\x07": "U+0007"}


def test_hidden_characters_become_visible_markers():
    from clvlib.safety import terminal_text, visible_text

    for ch, code in HIDDEN.items():
        assert visible_text(f"a{ch}b") == f"a⟨{code}⟩b", code
        assert terminal_text(f"a{ch}b") == f"a⟨{code}⟩b", code
    assert visible_text("tab\there\nnext\r") == "tab\there\nnext\r"             # whitespace in a cell stays
    assert terminal_text("one\ntwo\tthree\r\u2028\x85") == "one⟨U+000A⟩two⟨U+0009⟩three⟨U+000D⟩⟨U+2028⟩⟨U+0085⟩"
    for plain in ("北京贸易有限公司", "Müller GmbH", "שלום", "شركة", "😀", ""):
        assert visible_text(plain) == plain and terminal_text(plain) == plain
    assert visible_text(12) == 12 and visible_text(None) is None and terminal_text(12) == "12"


def test_html_tables_sentences_and_cards_show_hidden_characters():
    from clvlib.report.i18n import Fmt, Translator
    from clvlib.report.tables import escape, kpi_cards, sentence, table_html

    t, fmt = Translator("en"), Fmt("en", "USD")
    df = pd.DataFrame({"customer_name": [RLO, "Ac\u200bme", SCRIPT]})
    html = table_html(df, {"customer_name": "text"}, t=t, fmt=fmt, caption="top \u2066x\u2069")
    html += sentence("<p>{name} bought</p>", name=RLO) + kpi_cards([(RLO, "1\u202e2", "\ufeffnote")])
    for ch in HIDDEN:
        assert ch not in html
    assert html.count("Acme⟨U+202E⟩LTD 1,200") == 3 and "Ac⟨U+200B⟩me" in html
    assert "top ⟨U+2066⟩x⟨U+2069⟩" in html and "1⟨U+202E⟩2" in html and "⟨U+FEFF⟩note" in html
    assert "&lt;script&gt;" in html and SCRIPT not in html
    assert escape("<b>\u202e</b>") == "&lt;b&gt;⟨U+202E⟩&lt;/b&gt;"


def test_the_page_header_and_the_periods_index_show_hidden_characters(tmp_path):
    from clvlib.params import load
    from clvlib.paths import DEFAULT_PARAMS
    from clvlib.report.render import render_html
    from clvlib.run import write_periods_index

    nb = new_notebook(cells=[new_code_cell("1")])
    page = render_html(nb, lang="en", title="Summary", company=RLO, period_label="October \u202e2026",
                       nav=[{"href": "index.html", "label": "Sum\u200bmary", "current": True}], footer="\u2066f")
    assert "\u202e" not in page and "\u200b" not in page and "\u2066" not in page
    assert "Acme⟨U+202E⟩LTD 1,200" in page and "Sum⟨U+200B⟩mary" in page and "October ⟨U+202E⟩2026" in page
    params = load(DEFAULT_PARAMS, overrides={"company": RLO})
    index = write_periods_index(tmp_path, params).read_text(encoding="utf-8")
    assert "\u202e" not in index and "Acme⟨U+202E⟩LTD 1,200" in index


def test_csv_and_xlsx_show_hidden_characters(tmp_path):
    names = [RLO, "Ac\u200bme", "\u202e=1+1", "x\u061c\u00ady"]
    df = pd.DataFrame({"name": pd.Series(names, dtype="string"), "mixed": pd.Series(names, dtype=object),
                       "amount": [1.5] * 4})
    want = ["Acme⟨U+202E⟩LTD 1,200", "Ac⟨U+200B⟩me", "⟨U+202E⟩=1+1", "x⟨U+061C⟩⟨U+00AD⟩y"]
    back = pd.read_csv(safe_csv(df, tmp_path / "x.csv"), dtype=str)
    assert back["name"].tolist() == want and back["mixed"].tolist() == want
    ws = openpyxl.load_workbook(safe_xlsx({"s": df}, tmp_path / "x.xlsx")).active
    assert [r[0].value for r in ws.iter_rows(min_row=2)] == want
    assert [r[1].value for r in ws.iter_rows(min_row=2)] == want
