"""The published HTML: self-contained, no code, one language, names shown as text."""
from __future__ import annotations

import json
import re

import nbformat
import pytest

from clvlib.paths import NOTEBOOKS_DIR
from clvlib.report import charts, i18n
from clvlib.report.render import prepare
from clvlib.report.tables import sentence, table_html

EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe|source|embed|object)\b[^>]*\b(?:src|href|data)\s*=\s*["']?(?:https?:)?//"""
    r"""|url\(\s*["']?(?:https?:)?//|@import\s+["']?(?:https?:)?//"""
    r"""|cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|fonts\.googleapis\.com|require\.min\.js|MathJax|mermaid""",
    re.I)


def pages(run):
    return sorted(run.path.glob("*.html")) + [run.path.parent / "index.html"]


def test_no_external_resources(published):
    for page in pages(published):
        html = page.read_text(encoding="utf-8")
        found = EXTERNAL.findall(html)
        assert not found, f"{page.name} references {found[:3]}"
        # no http(s) address outside the embedded Vega bundle's code
        stripped = re.sub(r'<script data-clv="vega-bundle">.*?</script>', "", html, flags=re.S)
        assert not re.findall(r"https?://(?!www\.w3\.org/)", stripped), page.name


def test_charts_are_embedded_offline(published):
    html = (published.path / "02_sales_overview.html").read_text(encoding="utf-8")
    assert html.count('data-clv="vega-bundle"') == 1          # the bundle once per page
    assert html.count('class="clv-chart"') >= 4
    specs = re.sub(r'<script data-clv="vega-bundle">.*?</script>', "", html, flags=re.S)
    assert "$schema" not in specs and "vega.github.io" not in specs


def test_reports_hide_code_and_parameters(published):
    for page in published.path.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        body = html.split("</head>", 1)[1]
        assert "hl-ipython3" not in body and "jp-InputPrompt" not in body, page.name
        assert "from clvlib" not in html and "params_path" not in html, page.name
        assert "Traceback" not in html


def test_summary_first_with_links_to_sections(published):
    index = (published.path / "index.html").read_text(encoding="utf-8")
    for href in ("01_data_quality.html", "02_sales_overview.html", "../index.html"):
        assert f'href="{href}"' in index
    assert index.index("clv-cards") < index.index("01_data_quality.html", index.index("</nav>"))\
        if "01_data_quality.html" in index[index.index("</nav>"):] else True


def test_language_switches_everything(published, published_zh):
    en = (published.path / "02_sales_overview.html").read_text(encoding="utf-8")
    zh = (published_zh.path / "02_sales_overview.html").read_text(encoding="utf-8")
    assert '<html lang="zh"' in zh and '<html lang="en"' in en
    assert "销售概览" in zh and "Sales overview" not in zh
    assert "The familiar view first" in en and "先看熟悉的视角" not in en
    assert "万美元" in zh                                         # Chinese number format, in text and charts
    # chart titles and axis labels are translated inside the specs too
    assert "每月销售额与毛利" in zh and "Revenue and gross margin by month" not in zh


def test_lab_template_loaders_removed(published):
    html = (published.path / "index.html").read_text(encoding="utf-8")
    assert "require.js" not in html and "mathjax" not in html.lower()


def test_names_are_text_not_markup():
    t, fmt = i18n.Translator("en"), i18n.Fmt("en", "USD")
    import pandas as pd

    evil = "<script>alert(1)</script>"
    html = table_html(pd.DataFrame({"team": [evil], "revenue": [1.0]}), {"team": "text", "revenue": "money"},
                      t=t, fmt=fmt)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in sentence("Top: {name}", name=evil)
    spec = charts.render({"data": {"values": [{"name": "</script><script>alert(1)</script>"}]}})["text/html"]
    assert "</script><script>alert(1)" not in spec and "<\\/script>" in spec


def test_prepare_keeps_only_the_reports_language():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("English", metadata={"tags": ["lang-en"]}),
        nbformat.v4.new_markdown_cell("中文", metadata={"tags": ["lang-zh"]}),
        nbformat.v4.new_code_cell("x", metadata={"tags": ["parameters"]}),
    ])
    assert [c.source for c in prepare(nb, "zh").cells] == ["中文"]
    assert [c.source for c in prepare(nb, "en").cells] == ["English"]


def test_formats():
    en, zh = i18n.Fmt("en", "USD"), i18n.Fmt("zh", "USD")
    assert en.money(7_870_000) == "$7.87M" and en.money(-4_480_000) == "-$4.48M" and en.money(950) == "$950"
    assert zh.money(7_870_000) == "787万美元" and zh.money(320_000_000) == "3.2亿美元" and zh.money(45_600) == "4.6万美元"
    assert en.pct(0.2334) == "23.3%" and en.pct(0.05, signed=True) == "+5.0%"
    assert en.date("2026-10-31") == "31 Oct 2026" and zh.date("2026-10-31") == "2026年10月31日"
    assert zh.month("2026-10-01") == "2026年10月" and i18n.Fmt("en", "CHF").money(1500) == "CHF 1.50k"
