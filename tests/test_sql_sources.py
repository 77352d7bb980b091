"""SQL sources: a table read from a database query goes through the same intake as a file.

The demo company is loaded into a real PostgreSQL (tests/pg_support.py), into SQLite and into DuckDB,
and must give the same canonical tables as the CSV exports; a whole run from PostgreSQL publishes the
same numbers as the CSV run, and the database password appears in none of its files or logs.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
import yaml

from clvlib import contract, params as params_mod
from clvlib.errors import DataError, ParamsError
from clvlib.sources import load_inputs
from clvlib.sources.spec import load_sources
from clvlib.sources.sql import safe_url
from clvlib.stages.intake import inputs_stamp

from pg_support import PASSWORD, ROLE, load_csv_folder

ENV = "CLV_TEST_DB_PASSWORD"
DEMO_COLUMNS = {t.name: [c.name for c in t.columns] for t in contract.TABLES.values()}


def sources_yaml(path: Path, url: str, *, password_env: str | None = ENV, tables=None, **top) -> Path:
    """A sources file reading every demo table with ``select <contract columns> from <table> order by line_no``."""
    tables = tables or {t: {"query": f"select {', '.join(cols)} from {t} order by line_no"}
                        for t, cols in DEMO_COLUMNS.items()}
    db = {"url": url, **({"password_env": password_env} if password_env else {})}
    path.write_text(yaml.safe_dump({"date_order": "ymd", "folder": str(path.parent), "database": db,
                                    "tables": tables, **top}, sort_keys=False), encoding="utf-8")
    return path


def company_yaml(folder: Path, sources: Path, **extra) -> Path:
    raw = yaml.safe_load((Path(__file__).parents[1] / "params" / "company.yaml").read_text(encoding="utf-8"))
    raw.update({"sources": str(sources), "demo": False, **extra})
    path = folder / "company.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def password_env():
    old = os.environ.get(ENV)
    os.environ[ENV] = PASSWORD
    yield ENV
    if old is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = old


@pytest.fixture(scope="module")
def pg_demo(postgres, demo_params, tmp_path_factory, password_env):
    """The demo company in a PostgreSQL database ``demo`` read as user clv: (params, url, rows loaded as NULL)."""
    postgres.create_database("demo")
    folder = load_sources(demo_params.path("sources")).folder
    nulled = load_csv_folder(postgres, "demo", folder, contract.TABLES.values())
    d = tmp_path_factory.mktemp("pg")
    url = postgres.url("demo", ROLE)
    return params_mod.load(company_yaml(d, sources_yaml(d / "pg.yaml", url))), url, nulled


@pytest.fixture(scope="module")
def csv_inputs(demo_params):
    return load_inputs(demo_params)


def assert_same_tables(a, b):
    """The accepted canonical tables are equal, but for where each row came from."""
    for t in contract.TABLES:
        x, y = a.tables[t].reset_index(drop=True), b.tables[t].reset_index(drop=True)
        cols = [c for c in y.columns if c not in ("source_file", "source_row")]
        pd.testing.assert_frame_equal(x[cols], y[cols], check_dtype=False, obj=t)
    for t, c in b.counts.items():
        assert a.counts[t]["rows_read"] == c["rows_read"] and a.counts[t]["rows_accepted"] == c["rows_accepted"], t


# ------------------------------------------------------------------ PostgreSQL = CSV
def planted_amount_line(demo_params) -> int:
    """The CSV line of the demo's planted unreadable amount (``12,O00.00``), from the demo's truth file."""
    from clvlib.demo import load_truth

    folder = load_sources(demo_params.path("sources")).folder
    bad = next(d for d in load_truth(folder)["defects"] if d["column"] == "amount")
    ids = pd.read_csv(folder / "orders.csv", dtype=str, usecols=["order_id"])["order_id"]
    return int(ids.index[ids == bad["order_id"]][0]) + 2            # header = line 1


def test_the_demo_in_postgres_gives_the_csv_tables(pg_demo, csv_inputs, demo_params):
    params, url, nulled = pg_demo
    assert nulled == {("orders", "amount"): [planted_amount_line(demo_params)]}   # 12,O00.00 is no numeric: NULL
    pg = load_inputs(params)
    assert_same_tables(pg, csv_inputs)
    o = pg.tables["orders"]
    assert set(o["source_file"]) == {safe_url(url) + "#orders"} and ROLE + "@" not in o["source_file"].iloc[0]
    csv_o = csv_inputs.tables["orders"]
    assert (o["source_row"] == csv_o["source_row"] - 1).all()       # the result's row = the CSV line - 1 (header)
    q, cq = pg.quarantine.set_index(["table", "source_row"]), csv_inputs.quarantine.copy()
    cq["source_row"] = cq["source_row"].astype(int) - 1
    cq = cq.set_index(["table", "source_row"])
    assert q.index.equals(cq.index)
    diff = q["rule"].ne(cq["rule"])
    assert q.loc[diff, "rule"].tolist() == ["missing_value"] and cq.loc[diff, "rule"].tolist() == ["not_a_number"]
    assert pg.counts["orders"]["files"][0]["file"] == safe_url(url) + "#orders"


def test_sqlite_and_duckdb_through_the_same_path(demo_params, csv_inputs, tmp_path):
    import sqlite3

    import duckdb

    folder = load_sources(demo_params.path("sources")).folder
    lite, duck = sqlite3.connect(tmp_path / "demo.db"), duckdb.connect(str(tmp_path / "demo.duckdb"))
    for t in contract.TABLES:
        df = pd.read_csv(folder / f"{t}.csv", dtype=str, keep_default_na=False)   # text, as exported
        df.insert(0, "line_no", range(2, len(df) + 2))
        df.to_sql(t, lite, index=False)
        duck.execute(f"CREATE TABLE {t} AS SELECT row_number() OVER () + 1 AS line_no, * "   # typed by DuckDB
                     f"FROM read_csv('{folder / f'{t}.csv'}', header = true)")
    lite.close()
    duck.close()
    for url in ("sqlite:///demo.db", "duckdb:///demo.duckdb"):                  # relative to `folder`
        d = tmp_path / url.split(":")[0]
        d.mkdir()
        src = sources_yaml(d / "s.yaml", url, password_env=None, folder=str(tmp_path))
        got = load_inputs(params_mod.load(company_yaml(d, src)))
        assert_same_tables(got, csv_inputs)
        assert got.tables["orders"]["source_file"].iloc[0] == f"{url.split(':')[0]}:///{tmp_path}/demo.{url[-6:].split('.')[-1]}#orders"


# ------------------------------------------------------------------ a whole run, and the password
@pytest.mark.slow
def test_a_run_from_postgres_publishes_the_csv_numbers_and_never_the_password(pg_demo, published, tmp_path):
    """A run of the pages that show the sources and the value (the data-quality page names every source
    and its rows; the stages after the customer value read only what it read), from PostgreSQL."""
    import shutil

    from clvlib.paths import NOTEBOOKS_DIR
    from clvlib.run import run_period

    params, _, _ = pg_demo
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    for name in ("01_data_quality.ipynb", "03_customer_value.ipynb"):
        shutil.copy(NOTEBOOKS_DIR / name, nbdir / name)
    lines = []
    run = run_period("2026-10", params.file, reports_dir=tmp_path / "reports", notebooks_dir=nbdir,
                     log=lines.append)
    assert sorted(p.name for p in run.path.glob("0*.html")) == ["01_data_quality.html", "03_customer_value.html"]
    a, b = run.path / "data", published.path / "data"
    for f in ("customer_value.parquet", "rep_books.parquet"):
        x, y = pd.read_parquet(a / f), pd.read_parquet(b / f)
        assert len(x.columns) >= 5 and set(x.columns) <= set(y.columns)   # (the full run adds the tiers)
        pd.testing.assert_frame_equal(x, y[x.columns], obj=f)
    assert pd.read_parquet(a / "orders.parquet")["amount_rc"].sum() == pytest.approx(
        pd.read_parquet(b / "orders.parquet")["amount_rc"].sum(), rel=0, abs=1e-6)
    assert_password_nowhere(tmp_path, lines)


def assert_password_nowhere(folder: Path, log_lines: list[str]):
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert any(p.name == "run.json" for p in files) and any(p.suffix == ".html" for p in files)
    for p in files:
        assert PASSWORD.encode() not in p.read_bytes(), p
    assert not any(PASSWORD in str(line) for line in log_lines)


def test_a_wrong_password_stops_the_run_with_one_line_and_no_password(pg_demo, tmp_path, monkeypatch):
    from clvlib.errors import ClvError
    from clvlib.run import run_period

    params, url, _ = pg_demo
    wrong = "wr0ng-" + PASSWORD
    monkeypatch.setenv(ENV, wrong)
    lines = []
    with pytest.raises(ClvError) as e:
        run_period("2026-10", params.file, reports_dir=tmp_path / "reports", log=lines.append)
    msg = str(e.value)
    assert "\n" not in msg and "password authentication failed" in msg and safe_url(url) in msg
    for secret in (wrong, PASSWORD):
        assert secret not in msg
        for p in (tmp_path / "reports").rglob("*"):
            assert not p.is_file() or secret.encode() not in p.read_bytes(), p


# ------------------------------------------------------------------ one line per failure
@pytest.mark.parametrize("case,expect", [
    ("refused", "cannot connect to the database"),
    ("password", "password authentication failed for user"),
    ("no_table", 'the query failed (relation "invoices" does not exist'),
    ("syntax", "the query failed (syntax error at or near"),
    ("no_column", "required column 'amount' not found among the query's columns: order_id, order_date"),
    ("no_env", f"the environment variable {ENV}_UNSET (password_env) is not set"),
])
def test_database_failures_are_one_line_naming_the_source(pg_demo, postgres, tmp_path, monkeypatch, case, expect):
    _, url, _ = pg_demo
    orders = {"query": "select * from orders order by line_no"}
    env = ENV
    if case == "refused":
        url = url.replace(f"port={postgres.port}", f"port={postgres.port + 1}")
    elif case == "password":
        monkeypatch.setenv(ENV, "not-the-password")
    elif case == "no_table":
        orders = {"query": "select * from invoices"}
    elif case == "syntax":
        orders = {"query": "selec * from orders"}
    elif case == "no_column":
        orders = {"query": "select order_id, order_date, customer_id, currency from orders"}
    elif case == "no_env":
        env = ENV + "_UNSET"
    tables = {t: {"query": f"select * from {t}"} for t in DEMO_COLUMNS}
    tables["orders"] = orders
    p = params_mod.load(company_yaml(tmp_path, sources_yaml(tmp_path / "s.yaml", url, tables=tables, password_env=env)))
    with pytest.raises(DataError) as e:
        load_inputs(p)
    msg = str(e.value)
    assert "\n" not in msg and expect in msg, msg
    assert msg.startswith(safe_url(url) + "#orders") and "table orders" in msg
    assert PASSWORD not in msg and "not-the-password" not in msg


def test_sources_file_rules_for_queries(tmp_path):
    base = {t: "x.csv" for t in ("customers", "reps", "ownership", "fx_rates")}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump({"database": {"url": "postgresql+psycopg://clv:secret@db/erp", "password_env": "1X"},
                                 "tables": {**base, "orders": {"query": "select 1", "file": "o.csv", "sheet": 0}}}))
    with pytest.raises(ParamsError) as e:
        load_sources(p)
    msg = str(e.value)
    assert "secret" not in msg or "must not hold a password" in msg
    for part in ("database.url: must not hold a password", "database.password_env: must be the name of an "
                 "environment variable", "tables.orders: `file` and `query` exclude each other"):
        assert part in msg, msg
    p.write_text(yaml.safe_dump({"tables": {**base, "orders": {"query": "select 1", "encoding": "utf-8"}}}))
    with pytest.raises(ParamsError) as e:
        load_sources(p)
    assert "tables.orders.encoding: applies to files only" in str(e.value)
    assert "tables.orders.query: needs a database" in str(e.value)


# ------------------------------------------------------------------ the intake's fingerprint
def test_the_stamp_sees_new_rows_and_the_version_query(pg_demo, postgres, tmp_path, demo_params):
    params, url, _ = pg_demo
    before = inputs_stamp(params)
    assert inputs_stamp(params) == before                      # nothing changed: the intake is reused
    key = next(k for k in before if k.startswith("orders: "))
    rows = len(pd.read_csv(load_sources(demo_params.path("sources")).folder / "orders.csv", usecols=["order_id"]))
    assert before[key]["version"] == [[str(rows)]] and "day" in before[key]
    postgres.execute("INSERT INTO orders (line_no, order_id) VALUES (999999, 'X-1')", "demo")
    try:
        assert inputs_stamp(params)[key]["version"] == [[str(rows + 1)]]
        tables = {t: {"query": f"select * from {t}"} for t in DEMO_COLUMNS}
        tables["orders"]["version_query"] = "select max(line_no) from orders"
        p = params_mod.load(company_yaml(tmp_path, sources_yaml(tmp_path / "s.yaml", url, tables=tables)))
        stamp = inputs_stamp(p)[key]
        assert stamp["version"] == [["999999"]] and "day" not in stamp
    finally:
        postgres.execute("DELETE FROM orders WHERE line_no = 999999", "demo")
