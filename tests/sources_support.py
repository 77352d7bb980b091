"""Helpers for the intake tests (no tests here): a params file pointing at a sources file, summaries."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from clvlib import params as params_mod
from clvlib.paths import PARAMS_DIR

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def preset_for(tmp: Path, preset: str, folder: Path | None = None) -> Path:
    """The shipped preset with only its `folder:` line changed (to the fixture folder by default)."""
    text = (PARAMS_DIR / "sources" / f"{preset}.yaml").read_text(encoding="utf-8")
    folder = folder or FIXTURES / preset
    new, n = re.subn(r"(?m)^folder:.*$", f"folder: {yaml.safe_dump(str(folder)).splitlines()[0]}", text)
    assert n == 1, "the preset must have exactly one top-level folder: line"
    out = tmp / f"{preset}.yaml"
    out.write_text(new, encoding="utf-8")
    return out


def company(tmp: Path, sources: Path, **settings) -> params_mod.Params:
    """A company.yaml in ``tmp`` naming ``sources``; ``settings`` such as reporting_currency="EUR" or
    fx={"strict": True}."""
    raw = {"company": "Fixture Co.", "reporting_currency": "USD", "sources": str(sources), "demo": False}
    raw.update(settings)
    path = tmp / "company.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return params_mod.load(path)


def sources_file(tmp: Path, tables: dict, **top) -> Path:
    """A sources YAML written from a dict (folder defaults to ``tmp``)."""
    raw = {"folder": str(tmp), **top, "tables": tables}
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def set_aside(inputs, table: str) -> dict:
    """{(file, row): rule} of one table's quarantine."""
    q = inputs.quarantine
    q = q[q["table"] == table]
    return {(f, int(r)): rule for f, r, rule in zip(q["source_file"], q["source_row"], q["rule"])}


def reasons(inputs, table: str) -> dict:
    q = inputs.quarantine
    q = q[q["table"] == table]
    return {(f, int(r)): why for f, r, why in zip(q["source_file"], q["source_row"], q["reason"])}


def assert_accounted(inputs):
    for name, c in inputs.counts.items():
        assert c["rows_read"] == c["rows_accepted"] + c["rows_quarantined"], name
        assert c["rows_accepted"] + c.get("rows_added", 0) == len(inputs.tables[name]), name
    q = set(zip(inputs.quarantine["table"], inputs.quarantine["source_file"], inputs.quarantine["source_row"]))
    r = inputs.repairs[inputs.repairs["rule"] != "owner_split_added"]
    assert not q & set(zip(r["table"], r["source_file"], r["source_row"])), "a repaired row must be an accepted row"


def repaired(inputs, table: str) -> dict:
    """{(file, row, column): (rule, before, after)} of one table's repairs."""
    r = inputs.repairs
    r = r[r["table"] == table]
    return {(f, int(n), c): (rule, b, a) for f, n, c, rule, b, a in
            zip(r["source_file"], r["source_row"], r["column"], r["rule"], r["value_before"], r["value_after"])}


def small_company(tmp: Path, orders: str | None = None, *, orders_file="orders.csv", orders_spec=None,
                  encoding="utf-8", extra_tables=None, ownership: str | None = None, **settings):
    """Customers C1-C3, reps R1-R3, ownership (C1: R1, C2: R2 from 2020), USD/EUR rates, and the given
    orders CSV text (or bytes)."""
    (tmp / "customers.csv").write_text("customer_id,name,country\nC1,Acme,US\nC2,北京贸易,CN\nC3,Nordic AB,SE\n")
    (tmp / "reps.csv").write_text("rep_id,name,team,hire_date\nR1,Ana,EU,2020-01-01\nR2,Ben,AS,2020-01-01\n"
                                  "R3,Cem,EU,2020-01-01\n")
    (tmp / "ownership.csv").write_text(ownership or "customer_id,rep_id,valid_from\nC1,R1,2020-01-01\n"
                                                   "C2,R2,2020-01-01\n")
    (tmp / "fx.csv").write_text("date,currency,rate\n2026-01-01,EUR,1.1\n2026-02-01,EUR,1.2\n")
    if orders is not None:
        data = orders.encode(encoding) if isinstance(orders, str) else orders
        (tmp / orders_file).write_bytes(data)
    tables = {"orders": orders_spec or orders_file, "customers": "customers.csv", "reps": "reps.csv",
              "ownership": "ownership.csv", "fx_rates": "fx.csv"}
    tables.update(extra_tables or {})
    return company(tmp, sources_file(tmp, tables), **settings)
