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
DATA = Path(__file__).parent / "data"


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
def staged(demo_params):
    """One workbook of the demo for the whole session, in the lab folder (``reports/_lab/2026-10``).

    Its stages are built at most once per session (and reused from an earlier session when their
    fingerprints still match, as in JupyterLab); the notebooks run by nbval use the same folder.
    ``make test`` starts from an empty lab folder.  Tests must not change the tables it returns.
    """
    from clvlib.workbook import Workbook

    return Workbook(PERIOD, charts=False)


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


# ------------------------------------------------------------------ CDNOW (Fader, Hardie & Lee 2005)
@pytest.fixture(scope="session")
def cdnow_log():
    """The raw CDNOW sample log (2,357 customers of the 1997 Q1 cohort; see tests/data/README.md)."""
    import pandas as pd

    log = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["customer_master_id", "customer_id", "date", "n_cds", "value"])
    log["date"] = pd.to_datetime(log["date"].astype(str), format="%Y%m%d")
    return log


@pytest.fixture(scope="session")
def cdnow(cdnow_log):
    """CDNOW calibration summary (39 weeks to 1997-09-30), derived from the raw log by rfm_summary."""
    from clvlib.rfm import rfm_summary

    return rfm_summary(cdnow_log, "customer_id", "date", "value", calibration_end="1997-09-30", as_of="1998-06-30")


@pytest.fixture(scope="session")
def lifetimes_reference():
    """lifetimes 0.11.3's predictions on the CDNOW summary (made by tests/data/make_lifetimes_reference.py)."""
    import pandas as pd

    return pd.read_csv(DATA / "cdnow_lifetimes_reference.csv").set_index("customer_id")


# ------------------------------------------------------------------ PostgreSQL (tests/pg_support.py)
from pg_support import postgres  # noqa: E402,F401  (the session's throwaway PostgreSQL server)
