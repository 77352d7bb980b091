"""A user's own export, end to end: point params at a preset, run the real workbook, get every page.

The shipped fixtures are tiny (a handful of customers), so this also proves that a company with too
little history for the CLV models still gets its report — with the customer-value page saying why
the models could not be used — instead of a failed run.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest

from clvlib.paths import PARAMS_DIR
from clvlib.run import run_period

FIXTURES = PARAMS_DIR.parent / "tests" / "fixtures"


@pytest.mark.parametrize("preset, language, fallback_text, repaired_text", [
    ("salesforce", "en", "The models could not be fitted to this data",
     ["Values repaired", "negative invoices counted as credit notes",
      "the amount -1,200.00 is negative, so the document is a credit note, not an invoice"]),
    ("erp", "zh", "模型无法在当前数据上拟合",
     ["被修复的值", "完全相同的行只采用一次", "2 行完全相同（销售发票/2026-02.csv 第 2 行, 销售发票/2026-02.csv 第 3 行），只采用一次",
      "其原发票 INV-2601-002 已被隔离"]),
])
def test_preset_export_runs_through_the_whole_workbook(tmp_path, preset, language, fallback_text, repaired_text):
    text = (PARAMS_DIR / "sources" / f"{preset}.yaml").read_text(encoding="utf-8")
    src = tmp_path / f"{preset}.yaml"
    src.write_text("\n".join(f"folder: {FIXTURES / preset}" if line.startswith("folder:") else line
                             for line in text.splitlines()), encoding="utf-8")
    company = tmp_path / "company.yaml"
    company.write_text(f"company: Own Data Co.\nreporting_currency: USD\nlanguage: {language}\nsources: {src}\n",
                       encoding="utf-8")
    res = run_period("latest", company, reports_dir=tmp_path / "reports", log=lambda *_: None)
    run = json.loads((res.path / "run.json").read_text())
    assert run["status"] == "ok"
    q = pd.read_csv(res.path / "data" / "quarantine.csv", dtype=str)
    for table, c in run["inputs"].items():
        assert c["rows_read"] == c["rows_accepted"] + c["rows_quarantined"], table
        assert c["rows_quarantined"] == int((q["table"] == table).sum()), table
    assert run["inputs"]["orders"]["rows_quarantined"] > 0           # the fixtures' nasty rows
    pages = {p.name: p.read_text(encoding="utf-8") for p in res.path.glob("*.html")}
    assert {"index.html", "01_data_quality.html", "02_sales_overview.html", "03_customer_value.html"} <= set(pages)
    assert fallback_text in pages["03_customer_value.html"] and fallback_text in pages["index.html"]
    for html in pages.values():
        assert "Traceback" not in html
    # nothing silently repaired: the repairs are in data/repairs.csv, intake.json's notes and on the page
    repairs = pd.read_csv(res.path / "data" / "repairs.csv", dtype=str, keep_default_na=False)
    assert len(repairs) and "duplicates_collapsed" in set(repairs["rule"])
    notes = json.loads((res.path / "data" / "intake.json").read_text())["notes"]
    assert any("identical rows used once — 1 row(s)" in n for n in notes)
    for text in repaired_text:
        assert text in pages["01_data_quality.html"], text
    cv = pd.read_parquet(res.path / "data" / "customer_value.parquet")
    assert cv["clv"].notna().all() and cv["clv_low"].isna().all()      # simple formula, no model interval
