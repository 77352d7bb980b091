"""A generated report opened in real headless Chromium with the network cut: every chart is drawn."""
from __future__ import annotations

import re
import subprocess
import tempfile

import pytest

pytestmark = pytest.mark.browser

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--virtual-time-budget=10000", "--window-size=1280,2000"]


def dump_dom(browser: str, page) -> str:
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-500:]
    return proc.stdout


def drawn(dom: str) -> tuple[int, int]:
    seen = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", dom)
    return len(re.findall(r'<div class="clv-chart[^"]*"[^>]*>\s*<svg', seen)), len(re.findall(r'class="[^"]*\bmark-', seen))


def test_charts_drawn_offline(browser, published):
    page = published.path / "02_sales_overview.html"
    expected = page.read_text(encoding="utf-8").count('class="clv-chart"')
    dom = dump_dom(browser, page)
    charts, marks = drawn(dom)
    assert expected >= 4
    assert charts == expected, f"{charts} of {expected} charts drawn"
    assert marks > 50
    seen = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", dom)
    assert "could not be drawn" not in seen and "clv-chart-failed" not in seen and "Error loading script" not in seen


def test_chinese_report_draws_with_chinese_labels(browser, published_zh):
    page = published_zh.path / "02_sales_overview.html"
    expected = page.read_text(encoding="utf-8").count('class="clv-chart"')
    dom = dump_dom(browser, page)
    charts, _ = drawn(dom)
    assert charts == expected
    svg_text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", dom))
    assert "万美元" in svg_text and "月" in svg_text                 # axis titles/labels rendered in Chinese


def test_pages_without_charts_open_cleanly(browser, published):
    for name in ("index.html", "01_data_quality.html"):
        dom = dump_dom(browser, published.path / name)
        assert "clv-header" in dom and "Traceback" not in dom
