"""Rep statements and the payroll export on the demo company: only the person's own data, lines that
add up to the totals shown, both languages, names as text, payroll equal to the payouts to the cent."""
from __future__ import annotations

import csv
import html as h
import re
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from clvlib.errors import DataError
from clvlib.kpis import DEFINITIONS
from clvlib.plans.payroll import GROUPS, MONEY_COLUMNS, pay_group, payroll_table, write_payroll
from clvlib.plans.rules import RULES
from clvlib.report import statements as st
from clvlib.report.i18n import Fmt, Translator, catalog

PERIOD = "2026-10"
BUNDLE = re.compile(r'<script data-clv="vega-bundle">.*?</script>', re.S)
EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe|source|embed|object)\b[^>]*\b(?:src|href|data)\s*=\s*["']?(?:https?:)?//"""
    r"""|url\(\s*["']?(?:https?:)?//|@import\s+["']?(?:https?:)?//|https?://""", re.I)
SCRIPT = "<script>alert(1)</script>"
HOSTILE = [SCRIPT, "Acme\u202eLTD", "Zero\u200bWidth", '=HYPERLINK("http://evil.example/","Click")', "+cmd|' /C calc'!A0",
           "@SUM(A1:A9)", "-2+3"]


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def demo(staged):
    """The demo's stages up to the payouts, in the lab folder (reused when fresh), as publish reads them."""
    wb = staged
    wb.stage("payouts")
    return wb, st.load_stages(wb.data_dir)


@pytest.fixture(scope="module")
def published_statements(demo, tmp_path_factory):
    """``publish`` on a copy of the period's folder whose data/ is the lab's."""
    wb, _ = demo
    out = tmp_path_factory.mktemp("period")
    (out / "data").symlink_to(wb.data_dir.resolve(), target_is_directory=True)
    (out / "statements").mkdir()
    (out / "statements" / "R999.html").write_text("a statement from an earlier run", encoding="utf-8")
    return out, st.publish(out, wb.params)


def inputs(s: dict, **over) -> dict:
    intake = s["intake"].tables
    kw = dict(pay=s["payouts"], kpis=s["kpis"], customer_value=s["customer_value"], reps=intake["reps"],
              owners=s["history"].owners, customers=intake["customers"],
              orders=intake["orders"][["order_id", "customer_id"]])
    kw.update(over)
    return kw


def page(s: dict, rep_id: str, lang: str = "en", **over) -> str:
    return st.statement_html(rep_id, t=Translator(lang), fmt=Fmt(lang, "USD"), company="Demo Export Co.",
                             period_label="Oct 2026", **inputs(s, **over))


@pytest.fixture(scope="module")
def chosen(demo) -> list[str]:
    """A few reps with different kinds of pay: the most lines, a team pool, a guarantee top-up, split credit."""
    _, s = demo
    now = s["payouts"].lines[s["payouts"].lines["month"] == PERIOD]
    picks = [now["rep_id"].value_counts().index[0],
             sorted(now.loc[now["rule"].str.startswith("team_pool"), "rep_id"])[0],
             sorted(now.loc[now["rule"] == "guarantee.top_up", "rep_id"])[-1],
             sorted(now.loc[(now["source_type"] == "order") & (now["share"] < 1), "rep_id"])[0]]
    return list(dict.fromkeys(picks))


# ------------------------------------------------------------------------------------------ helpers
def visible_text(page_html: str) -> str:
    """The page without the Vega bundle's code, entities decoded (chart specs and tooltips kept)."""
    return h.unescape(BUNDLE.sub("", page_html))


def own_figures(view: st.RepView, f: st._Formats) -> set[str]:
    """Every amount the person's own data can show, as the page formats it."""
    lines = view.lines
    cents = set(lines["amount_cents"]) | set((lines["basis"].dropna() * 100).round().astype(np.int64))
    cents |= set(lines.groupby(["plan", "month"])["amount_cents"].sum())
    cents |= set(lines.groupby(["plan", "month", "group"])["amount_cents"].sum())
    cents |= set(lines.groupby("plan")["amount_cents"].sum()) | {0}
    out = {f.cents(c) for c in cents} | {f.money(b) for b in lines["basis"].dropna()}
    if view.scorecard:
        out |= {f.whole(v) for v in view.scorecard.values() if isinstance(v, (int, float)) and pd.notna(v)}
    out |= {f.whole(v) for v in pd.concat([view.book["clv"], view.book["your_clv"], view.trend["value"]]).dropna()}
    return out


_AMOUNTS: dict = {}


def amounts_by_rep(s: dict) -> dict:
    """Each person's distinctive figures: pay per plan and month, this month's pay per plan and payroll
    column (cents), and their money KPIs (whole units) — computed once per module."""
    key = id(s["payouts"])
    if key not in _AMOUNTS:
        lines = s["payouts"].lines.assign(group=lambda d: pay_group(d))
        cents = pd.concat([lines.groupby(["plan", "month", "rep_id"])["amount_cents"].sum().reset_index(),
                           lines[lines["month"] == PERIOD].groupby(["plan", "rep_id", "group"])["amount_cents"]
                           .sum().reset_index()])
        sc = s["kpis"].rep_scorecard.melt(id_vars="rep_id", value_vars=["revenue_12m", "gross_margin_12m", "book_clv",
                                                                        "clv_built_12m"]).dropna()
        _AMOUNTS[key] = ({r: set(g["amount_cents"]) for r, g in cents.groupby("rep_id")},
                         {r: set(g["value"]) for r, g in sc.groupby("rep_id")})
    return _AMOUNTS[key]


def leaks(page_html: str, rep_id: str, s: dict, lang: str = "en") -> list[str]:
    """Every other person's name, id or distinctive amount found in the page."""
    f = st._Formats(Translator(lang), Fmt(lang, "USD"), lang)
    text = visible_text(page_html)
    mine = own_figures(st.rep_view(rep_id, **inputs(s)), f)
    reps = s["intake"].tables["reps"]
    own_name = str(reps.loc[reps["rep_id"] == rep_id, "name"].iloc[0])
    others = reps[reps["rep_id"] != rep_id]
    ids = re.compile(r"\b(" + "|".join(map(re.escape, others["rep_id"])) + r")\b")
    found = [f"id {x}" for x in sorted(set(ids.findall(text)))]
    found += [f"name {n}" for n in others["name"].dropna() if n not in own_name and n in text]
    pay_cents, kpi_values = amounts_by_rep(s)
    strings = {f.cents(c) for r, cs in pay_cents.items() if r != rep_id for c in cs}
    strings |= {f.whole(v) for r, vs in kpi_values.items() if r != rep_id for v in vs}
    found += [f"amount {a}" for a in sorted(strings - mine)      # whole amounts: "$37.21" is not in "-$37.21"
              if a in text and re.search(rf"(?<![-\d.,]){re.escape(a)}(?!\d)", text)]
    return found


MONEY = re.compile(r"^(-?)\$([\d,]+\.\d\d)$")


def cents_of(cell: str) -> int:
    m = MONEY.match(h.unescape(re.sub(r"<[^>]+>", "", cell)).strip())
    assert m, cell
    return (-1 if m.group(1) else 1) * int(Decimal(m.group(2).replace(",", "")) * 100)


def rows(table_html: str) -> list[tuple[str, list[str]]]:
    return [(cls, re.findall(r"<td[^>]*>(.*?)</td>", body, re.S))
            for cls, body in re.findall(r'<tr class="([^"]*)">(.*?)</tr>', table_html, re.S)]


# ------------------------------------------------------------------------------------------ only the person's data
def test_a_statement_holds_no_other_persons_name_id_or_amount(demo, chosen):
    _, s = demo
    assert len(chosen) >= 3
    for rep_id in chosen:
        got = leaks(page(s, rep_id), rep_id, s)
        assert got == [], f"{rep_id}: {got[:5]}"
    assert leaks(page(s, chosen[0], "zh"), chosen[0], s, "zh") == []


def test_the_leak_check_finds_a_leak(demo, chosen):
    """The check above can fail: a page rendered from a colleague's lines under the person's name, and one
    naming a colleague."""
    _, s = demo
    rep_id = chosen[0]
    view = st.rep_view(rep_id, **inputs(s))
    other = s["payouts"].lines
    colleague = sorted(set(other.loc[other["month"] == PERIOD, "rep_id"]) - {rep_id})[0]
    theirs = other[other["rep_id"] == colleague].assign(rep_id=rep_id)
    view.lines = theirs.assign(group=pay_group(theirs), customer_id=None, customer_name=None)
    leaky = st.render_statement(view, t=Translator("en"), fmt=Fmt("en", "USD"), company="x", period_label="x")
    assert any(x.startswith("amount") for x in leaks(leaky, rep_id, s))
    named = page(s, rep_id, footer=f"copy to {colleague}")
    assert f"id {colleague}" in leaks(named, rep_id, s)


def test_the_view_is_filtered_to_the_person(demo, chosen):
    _, s = demo
    for rep_id in chosen:
        v = st.rep_view(rep_id, **inputs(s))
        assert set(v.lines["rep_id"]) == {rep_id} and v.rep["rep_id"] == rep_id
        assert v.scorecard["rep_id"] == rep_id
        owners = s["history"].owners
        assert set(v.book["customer_id"]) == set(owners.loc[(owners["rep_id"] == rep_id)
                                                             & (owners["month"] == PERIOD), "customer_id"])
        assert abs(v.book["your_clv"].sum() - v.scorecard["book_clv"]) < 0.05


# ------------------------------------------------------------------------------------------ the figures add up
def test_lines_sum_to_the_subtotals_and_totals_shown(demo, chosen):
    _, s = demo
    pay = s["payouts"].payouts(PERIOD)
    for rep_id in chosen:
        html = page(s, rep_id)
        by_plan = {}
        for plan, body in re.findall(r'<details data-plan="([^"]+)"[^>]*>(.*?)</details>', html, re.S):
            lines, subtotals, total = [], [], None
            for cls, cells in rows(body):
                if cls == "line":
                    lines.append(cents_of(cells[-1]))
                elif cls == "subtotal":
                    subtotals.append(cents_of(cells[-1]))
                    assert sum(lines) == subtotals[-1], (rep_id, plan)
                    lines = []
                elif cls == "total":
                    total = cents_of(cells[-1])
            engine = int(pay.loc[(pay["plan"] == plan) & (pay["rep_id"] == rep_id), "amount_cents"].sum())
            assert lines == [] and (total is None and engine == 0 or sum(subtotals) == total == engine), (rep_id, plan)
            by_plan[plan] = engine
        assert set(by_plan) == set(s["payouts"].plans)
        summary = re.search(r"<h2>Pay for .*?</h2>(<table.*?</table>)", html, re.S).group(1)
        for cls, cells in rows(summary):
            comps = [cents_of(c) for c in cells[1:-1]]
            assert sum(comps) == cents_of(cells[-1])
        assert sorted(cents_of(c[-1]) for _, c in rows(summary)) == sorted(by_plan.values())


def test_the_month_by_month_table_is_the_engine_s(demo, chosen):
    _, s = demo
    rep_id = chosen[0]
    html = page(s, rep_id)
    table = re.search(r"<h2>Month by month.*?(<table.*?</table>)", html, re.S).group(1)
    body = rows(table)
    pay = s["payouts"]
    p = pay.payouts()
    p = p[p["rep_id"] == rep_id]
    order = [pay.current] + sorted(x for x in pay.plans if x != pay.current)
    for (cls, cells), month in zip(body, pay.months):
        for plan, cell in zip(order, cells[1:]):
            assert cents_of(cell) == int(p.loc[(p["plan"] == plan) & (p["month"] == month), "amount_cents"].sum())
    assert body[-1][0] == "total" and len(body) == len(pay.months) + 1


# ------------------------------------------------------------------------------------------ languages
def test_english_and_chinese_render_with_every_rule_and_kpi_explained(demo, chosen):
    _, s = demo
    en, zh = page(s, chosen[0], "en"), page(s, chosen[0], "zh")
    assert '<html lang="en">' in en and "Your pay for Oct 2026" in en
    assert '<html lang="zh">' in zh and "你的2026年10月薪酬" in zh and "美元" in zh
    for lang in ("en", "zh"):
        cat = catalog(lang)
        for rule in RULES:
            assert cat[f"statement.rule.{rule}.name"] and cat[f"statement.rule.{rule}.how"]
        for m in st.COMMISSION_ERA + st.CLV_ERA:
            assert cat[f"statement.kpi.{m}.name"] and cat[f"statement.kpi.{m}.definition"]
        for g in GROUPS:
            assert cat[f"statement.component.{g}"]
    en_cat = catalog("en")
    assert all(en_cat[f"statement.rule.{r}.how"] == RULES[r] for r in RULES)       # the engine's own words
    assert all(en_cat[f"statement.kpi.{m}.definition"] == DEFINITIONS[m] for m in st.COMMISSION_ERA + st.CLV_ERA)


def test_the_chinese_templates_take_the_english_fields():
    import string

    def fields(text):
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    en, zh = catalog("en"), catalog("zh")
    keys = [k for k in en if k.startswith(("statement.", "payroll."))]
    assert keys and all(k in zh for k in keys)
    assert [k for k in keys if fields(en[k]) != fields(zh[k])] == []


def test_statements_are_self_contained(demo, chosen):
    _, s = demo
    html = page(s, chosen[0])
    assert html.count('data-clv="vega-bundle"') == 1 and html.count('class="clv-chart"') == 2
    assert not EXTERNAL.findall(BUNDLE.sub("", html))
    assert "<nav" not in html and "href=" not in BUNDLE.sub("", html)           # links nowhere


# ------------------------------------------------------------------------------------------ names are data
def test_hostile_customer_and_rep_names_are_shown_as_text(demo, chosen):
    _, s = demo
    rep_id = chosen[0]
    customers = s["intake"].tables["customers"].copy()
    book = st.rep_view(rep_id, **inputs(s)).book["customer_id"].head(len(HOSTILE)).tolist()
    for cid, name in zip(book, HOSTILE):
        customers.loc[customers["customer_id"] == cid, "name"] = name
    reps = s["intake"].tables["reps"].copy()
    reps.loc[reps["rep_id"] == rep_id, "name"] = "<img src=x onerror=alert(1)>\u202eEve"
    html = page(s, rep_id, customers=customers, reps=reps)
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    for hidden in ("\u202e", "\u200b"):
        assert hidden not in html
    assert "Acme\u27e8U+202E\u27e9LTD" in html and "Zero\u27e8U+200B\u27e9Width" in html
    assert "=HYPERLINK(&quot;http://evil.example/&quot;,&quot;Click&quot;)" in html    # text, not a link
    assert '<a ' not in BUNDLE.sub("", html)


# ------------------------------------------------------------------------------------------ payroll
def test_payroll_equals_the_payouts_to_the_cent(demo):
    _, s = demo
    pay, reps = s["payouts"], s["intake"].tables["reps"]
    table = payroll_table(pay, reps)
    lines = pay.lines[pay.lines["month"] == PERIOD].assign(group=lambda d: pay_group(d))
    assert len(table) == lines[["plan", "rep_id"]].drop_duplicates().shape[0]
    cents = lines.groupby(["plan", "rep_id", "group"])["amount_cents"].sum()
    for row in table.itertuples(index=False):
        assert sum(getattr(row, g) for g in GROUPS) == row.total
        for g in GROUPS:
            assert getattr(row, g) * 100 == int(cents.get((row.plan, row.rep_id, g), 0))
        assert row.in_force == (row.plan == pay.current) and row.period == PERIOD
    engine = pay.payouts(PERIOD).groupby(["plan", "rep_id"])["amount_cents"].sum()
    assert {(r.plan, r.rep_id): int(r.total * 100) for r in table.itertuples()} == engine.to_dict()
    assert table["plan"].iloc[0] == pay.current
    assert all(isinstance(v, Decimal) and v.as_tuple().exponent == -2 for c in MONEY_COLUMNS for v in table[c])


def test_payroll_holdback_and_caps_columns():
    lines = pd.DataFrame({"component": ["commission", "commission", "commission", "total", "guarantee"],
                          "rule": ["commission.flat", "commission.holdback", "commission.release", "floor.top_up",
                                   "guarantee.top_up"]})
    assert pay_group(lines).tolist() == ["commission", "holdback", "holdback", "caps_floors", "guarantee"]
    with pytest.raises(DataError, match="bonus"):
        pay_group(pd.DataFrame({"component": ["bonus"], "rule": ["bonus.x"]}))


def test_payroll_files_are_safe_and_money_is_numeric(demo, tmp_path):
    _, s = demo
    pay = s["payouts"]
    reps = s["intake"].tables["reps"].copy()
    paid = sorted(set(pay.lines.loc[pay.lines["month"] == PERIOD, "rep_id"]))
    for rep_id, name in zip(paid, HOSTILE):
        reps.loc[reps["rep_id"] == rep_id, "name"] = name
    table = payroll_table(pay, reps)
    write_payroll(table, tmp_path, column_notes={"rep_id": "=1+1"})
    with open(tmp_path / "payroll.csv", newline="", encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    assert list(got[0]) == list(table.columns)
    for row, want in zip(got, table.itertuples(index=False)):
        assert not row["name"].startswith(("=", "+", "-", "@")), row["name"]
        assert [Decimal(row[c]) for c in MONEY_COLUMNS] == [getattr(want, c) for c in MONEY_COLUMNS]
    assert {r["name"] for r in got} >= {"'" + HOSTILE[3], "'" + HOSTILE[4], "'" + HOSTILE[5], "'-2+3"}
    assert "\u202e" not in (tmp_path / "payroll.csv").read_text(encoding="utf-8")
    book = openpyxl.load_workbook(tmp_path / "payroll.xlsx")
    ws = book["payroll"]
    header = [c.value for c in ws[1]]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)                  # no formula anywhere
    for row, want in zip(ws.iter_rows(min_row=2), table.itertuples(index=False)):
        by = dict(zip(header, row))
        assert not str(by["name"].value).startswith(("=", "+", "-", "@"))
        for c in MONEY_COLUMNS:
            assert by[c].data_type == "n" and by[c].number_format == "#,##0.00"
            assert round(Decimal(str(by[c].value)), 2) == getattr(want, c)
    assert book["columns"]["B2"].value == "'=1+1"


# ------------------------------------------------------------------------------------------ publish
def test_publish_writes_a_statement_for_everyone_paid_and_the_payroll(demo, published_statements):
    _, s = demo
    out, done = published_statements
    paid = st.paid_reps(s["payouts"])
    assert done["statements"] == len(paid) and sorted(p.stem for p in (out / "statements").iterdir()) == paid
    assert "R999" not in paid                                      # the earlier run's file is gone
    assert done["payroll_files"] == ["payroll.csv", "payroll.xlsx"] and (out / "payroll.xlsx").exists()
    assert done["statement_files"] == [f"statements/{r}.html" for r in paid]
    assert not list((out / "statements").glob("*.tmp")) and not list((out / "statements").glob("index*"))
    one = (out / "statements" / f"{paid[0]}.html").read_text(encoding="utf-8")
    assert leaks(one, paid[0], s) == []


def test_publish_names_a_missing_stage(tmp_path, demo_params):
    (tmp_path / "data").mkdir()
    with pytest.raises(DataError, match="payouts"):
        st.publish(tmp_path, demo_params)


def test_a_rep_id_that_is_no_file_name_is_refused():
    for bad in ("../R001", "R/1", ".hidden", ""):
        with pytest.raises(DataError):
            st._file_name(bad)
    assert st._file_name("R001") == "R001"


def test_manager_pages_do_not_link_the_statements(published):
    for page_path in list(published.path.glob("*.html")) + [published.path.parent / "index.html"]:
        assert "statements/" not in page_path.read_text(encoding="utf-8"), page_path.name


# ------------------------------------------------------------------------------------------ in a browser
@pytest.mark.browser
def test_a_statement_opens_offline_with_its_charts_drawn(browser, published_statements, tmp_path):
    from test_browser import FLAGS, drawn

    out, done = published_statements
    statement = out / done["statement_files"][0]
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", statement.as_uri()],
                             capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-500:]
    charts, marks = drawn(dom.stdout)
    assert charts == 2 and marks > 20
    seen = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", dom.stdout)
    assert "could not be drawn" not in seen and "Error" not in re.sub(r"<[^>]+>", " ", seen)
    shot = Path(tempfile.gettempdir()) / "clv-statement.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}", statement.as_uri()],
                       capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000
