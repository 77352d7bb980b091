"""Shared fixtures: the demo data, and published runs of the real workbook (English and Chinese)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from clvlib import params as params_mod
from clvlib.paths import DEFAULT_PARAMS, PARAMS_DIR
from clvlib.workbook import ensure_demo_data

PERIOD = "2026-10"


@pytest.fixture(scope="session")
def demo_params():
    p = params_mod.load(DEFAULT_PARAMS)
    ensure_demo_data(p)
    return p


def write_params(path: Path, **changes) -> Path:
    """A params file like the shipped one (sources resolved absolutely) with ``changes`` applied."""
    raw = yaml.safe_load(DEFAULT_PARAMS.read_text(encoding="utf-8"))
    raw["sources"] = str((PARAMS_DIR / raw["sources"]).resolve())
    for key, value in changes.items():
        node = raw
        *parents, last = key.split(".")
        for k in parents:
            node = node.setdefault(k, {})
        node[last] = value
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def published(tmp_path_factory, demo_params):
    """The whole workbook run once for the demo company (English)."""
    from clvlib.run import run_period

    reports = tmp_path_factory.mktemp("reports")
    return run_period(PERIOD, DEFAULT_PARAMS, reports_dir=reports, log=lambda *_: None)


@pytest.fixture(scope="session")
def published_zh(tmp_path_factory, demo_params):
    """The whole workbook run once with ``language: zh``."""
    from clvlib.run import run_period

    d = tmp_path_factory.mktemp("zh")
    p = write_params(d / "company.yaml", language="zh")
    return run_period(PERIOD, p, reports_dir=d / "reports", log=lambda *_: None)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="session")
def browser():
    exe = chromium()
    if exe is None:
        if os.environ.get("CLV_REQUIRE_BROWSER"):
            pytest.fail("headless Chromium is required (CLV_REQUIRE_BROWSER is set) but not installed: "
                        "apt-get install -y chromium fonts-noto-cjk")
        pytest.skip("headless Chromium not installed (apt-get install -y chromium fonts-noto-cjk)")
    return exe
