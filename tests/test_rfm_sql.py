"""The RFM summary as SQL (clvlib.rfm_sql) equals rfm_summary: in DuckDB and pushed to PostgreSQL."""
from __future__ import annotations

import os

import pandas as pd
import pytest

from clvlib import contract
from clvlib.errors import DataError
from clvlib.rfm import rfm_summary
from clvlib.rfm_sql import rfm_query, rfm_summary_sql
from clvlib.sources.spec import Database, TableSource, load_sources

from pg_support import PASSWORD, ROLE, load_csv_folder

CASES = [dict(calibration_end="1997-09-30", as_of="1998-06-30"), dict(), dict(as_of="1997-12-31", time_unit="D")]


def same(a: pd.DataFrame, b: pd.DataFrame):
    assert list(a.columns) == list(b.columns) and a.attrs == b.attrs
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("kw", CASES)
def test_cdnow_in_duckdb_equals_rfm_summary(cdnow_log, kw):
    same(rfm_summary_sql(cdnow_log, "customer_id", "date", "value", **kw),
         rfm_summary(cdnow_log, "customer_id", "date", "value", **kw))


def test_cdnow_from_a_parquet_file_and_without_values(cdnow_log, tmp_path):
    cdnow_log.to_parquet(tmp_path / "log.parquet")
    same(rfm_summary_sql(tmp_path / "log.parquet", "customer_id", "date", "value", **CASES[0]),
         rfm_summary(cdnow_log, "customer_id", "date", "value", **CASES[0]))
    same(rfm_summary_sql(cdnow_log, "customer_id", "date"), rfm_summary(cdnow_log, "customer_id", "date"))


@pytest.fixture(scope="module")
def demo_log(demo_params):
    """The demo's booked invoices (ids as text, same-day orders, several currencies' amounts)."""
    o = pd.read_csv(load_sources(demo_params.path("sources")).folder / "orders.csv", dtype={"customer_id": str})
    o["order_date"] = pd.to_datetime(o["order_date"], errors="coerce")
    o["amount"] = pd.to_numeric(o["amount"], errors="coerce")
    keep = (o["doc_type"] == "invoice") & (o["status"] == "booked") & o["amount"].ge(0) & o["order_date"].notna()
    return o[keep & o["customer_id"].notna()].reset_index(drop=True)


def test_demo_in_duckdb_equals_rfm_summary(demo_log):
    kw = dict(as_of="2026-10-31", calibration_end="2026-04-30")
    same(rfm_summary_sql(demo_log, "customer_id", "order_date", "amount", **kw),
         rfm_summary(demo_log, "customer_id", "order_date", "amount", **kw))


SOURCE = ("(SELECT customer_id, order_date, amount FROM orders WHERE doc_type = 'invoice' AND status = 'booked' "
          "AND amount >= 0 AND order_date IS NOT NULL AND customer_id IS NOT NULL) AS o")


def test_pushed_to_postgres_equals_rfm_summary(postgres, demo_params, demo_log):
    postgres.create_database("rfm")
    load_csv_folder(postgres, "rfm", load_sources(demo_params.path("sources")).folder, [contract.ORDERS])
    ts = TableSource(table="orders", pattern="", folder=demo_params.file.parent, query="-",
                     database=Database(url=postgres.url("rfm", ROLE), password_env="CLV_RFM_TEST_PASSWORD"))
    os.environ["CLV_RFM_TEST_PASSWORD"] = PASSWORD
    try:
        for kw in (dict(as_of="2026-10-31", calibration_end="2026-04-30"), dict(time_unit="D")):
            same(rfm_summary_sql(SOURCE, "customer_id", "order_date", "amount", database=ts, **kw),
                 rfm_summary(demo_log, "customer_id", "order_date", "amount", **kw))
    finally:
        os.environ.pop("CLV_RFM_TEST_PASSWORD", None)
    same(rfm_summary_sql(SOURCE, "customer_id", "order_date", database=postgres.url("rfm")),
         rfm_summary(demo_log, "customer_id", "order_date"))


def test_the_same_refusals_as_rfm_summary(cdnow_log):
    bad = cdnow_log.assign(value=cdnow_log["value"] - 100)
    with pytest.raises(DataError, match="negative values; net credit notes"):
        rfm_summary_sql(bad, "customer_id", "date", "value")
    with pytest.raises(DataError, match="the transaction table is empty"):
        rfm_summary_sql(cdnow_log.iloc[:0], "customer_id", "date", "value")
    with pytest.raises(DataError, match="time_unit must be one of"):
        rfm_query("t", "c", "d", time_unit="M")
    with pytest.raises(DataError, match="as_of must be a date"):
        rfm_query("t", "c", "d", as_of="someday")
