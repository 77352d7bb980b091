"""The Odoo preset (params/sources/odoo.yaml) on a PostgreSQL holding Odoo's own tables.

The tables are created with Odoo 16/17's names and column types (translated names as JSONB, monetary
amounts as NUMERIC, the rate's date in ``name``) and filled with a small company by hand; the expected
orders are worked out by hand below.
"""
from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from clvlib import params as params_mod
from clvlib.paths import PARAMS_DIR
from clvlib.sources import load_inputs, newest_date
from clvlib.sources.spec import load_sources
from clvlib.stages.intake import inputs_stamp

from pg_support import PASSWORD, ROLE
from sources_support import assert_accounted

SCHEMA = """
CREATE TABLE res_currency (id serial PRIMARY KEY, name varchar NOT NULL, symbol varchar, active boolean);
CREATE TABLE res_currency_rate (id serial PRIMARY KEY, name date NOT NULL, rate numeric, currency_id int4 NOT NULL,
    company_id int4, create_date timestamp, write_date timestamp);
CREATE TABLE res_country (id serial PRIMARY KEY, code varchar(2), name jsonb);
CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar, parent_id int4, commercial_partner_id int4,
    is_company boolean, country_id int4, user_id int4, customer_rank int4, active boolean,
    create_date timestamp, write_date timestamp);
CREATE TABLE crm_team (id serial PRIMARY KEY, name jsonb NOT NULL, company_id int4, active boolean);
CREATE TABLE res_users (id serial PRIMARY KEY, login varchar NOT NULL, partner_id int4 NOT NULL, active boolean,
    share boolean, sale_team_id int4, company_id int4, create_date timestamp, write_date timestamp);
CREATE TABLE account_payment_term (id serial PRIMARY KEY, name jsonb NOT NULL);
CREATE TABLE account_incoterms (id serial PRIMARY KEY, code varchar(3), name jsonb);
CREATE TABLE account_move (id serial PRIMARY KEY, name varchar, date date NOT NULL, state varchar NOT NULL,
    move_type varchar NOT NULL, company_id int4, partner_id int4, commercial_partner_id int4,
    invoice_user_id int4, team_id int4, currency_id int4 NOT NULL, invoice_date date, invoice_date_due date,
    invoice_payment_term_id int4, invoice_incoterm_id int4, amount_untaxed numeric, amount_total numeric,
    amount_untaxed_signed numeric, amount_residual numeric, payment_state varchar, reversed_entry_id int4,
    create_date timestamp, write_date timestamp);
CREATE TABLE account_move_line (id serial PRIMARY KEY, move_id int4 NOT NULL, company_id int4, date date,
    display_type varchar, account_id int4, balance numeric, amount_currency numeric, currency_id int4,
    full_reconcile_id int4, reconciled boolean, create_date timestamp, write_date timestamp);
"""

COMPANY = """
INSERT INTO res_currency (id, name, symbol, active) VALUES (1, 'USD', '$', true), (2, 'EUR', '€', true);
-- EUR per 1 USD (the company's currency); a rate of another company must not be read
INSERT INTO res_currency_rate (name, rate, currency_id, company_id) VALUES
  ('2020-01-01', 1.0, 1, 1), ('2026-01-01', 0.9, 2, 1), ('2026-02-01', 0.8, 2, 1), ('2026-01-01', 5.0, 2, 2);
INSERT INTO res_country (id, code, name) VALUES (1, 'US', '{"en_US": "United States"}'),
  (2, 'DE', '{"en_US": "Germany"}');
INSERT INTO crm_team (id, name, company_id, active) VALUES (1, '{"en_US": "Europe", "de_DE": "Europa"}', 1, true),
  (2, '{"en_US": "Americas"}', 1, true);
INSERT INTO res_partner (id, name, parent_id, commercial_partner_id, is_company, country_id, user_id, active,
                         create_date) VALUES
  (3, 'Ana Lima', NULL, 3, false, 1, NULL, true, '2019-05-01 09:00'),
  (4, 'Ben Okafor', NULL, 4, false, 2, NULL, true, '2019-06-01 09:00'),
  (10, 'Acme Inc.', NULL, 10, true, 1, 2, true, '2020-03-01 10:00'),
  (11, 'John Smith', 10, 10, false, 1, NULL, true, '2020-03-02 10:00'),   -- a contact at Acme
  (12, 'Berlin GmbH', NULL, 12, true, 2, 3, true, '2021-01-15 10:00'),
  (13, 'Steel Supplier', NULL, 13, true, 2, NULL, true, '2021-01-15 10:00');
INSERT INTO res_users (id, login, partner_id, active, share, sale_team_id, company_id, create_date, write_date) VALUES
  (2, 'ana', 3, true, false, 1, 1, '2019-05-01 09:00', '2026-01-01 09:00'),
  (3, 'ben', 4, false, false, 2, 1, '2019-06-01 09:00', '2026-03-15 17:00');            -- archived: left
INSERT INTO account_payment_term (id, name) VALUES (1, '{"en_US": "30 Days"}');
INSERT INTO account_incoterms (id, code, name) VALUES (1, 'FOB', '{"en_US": "FREE ON BOARD"}');
INSERT INTO account_move (id, name, date, state, move_type, company_id, partner_id, commercial_partner_id,
    invoice_user_id, team_id, currency_id, invoice_date, invoice_date_due, invoice_payment_term_id,
    invoice_incoterm_id, amount_untaxed, amount_untaxed_signed, payment_state, reversed_entry_id, write_date) VALUES
  (1, 'INV/2026/00001', '2026-01-10', 'posted', 'out_invoice', 1, 11, 10, 2, 1, 1, '2026-01-10', '2026-02-09',
      1, 1, 1000, 1000, 'paid', NULL, '2026-02-03'),
  (2, 'INV/2026/00002', '2026-01-20', 'posted', 'out_invoice', 1, 12, 12, 3, 2, 2, '2026-01-20', '2026-02-19',
      1, NULL, 500, 555.56, 'partial', NULL, '2026-02-01'),
  (3, 'INV/2026/00003', '2026-02-01', 'posted', 'out_invoice', 1, 10, 10, 2, 1, 1, '2026-02-01', '2026-03-03',
      NULL, NULL, 300, 300, 'reversed', NULL, '2026-02-05'),
  (4, 'RINV/2026/00001', '2026-02-05', 'posted', 'out_refund', 1, 10, 10, 2, 1, 1, '2026-02-05', '2026-02-05',
      NULL, NULL, 300, -300, 'paid', 3, '2026-02-05'),
  (5, 'INV/2026/00004', '2026-02-08', 'draft', 'out_invoice', 1, 10, 10, 2, 1, 1, '2026-02-08', NULL,
      NULL, NULL, 999, 999, 'not_paid', NULL, '2026-02-08'),
  (6, 'INV/2026/00005', '2026-02-08', 'cancel', 'out_invoice', 1, 10, 10, 2, 1, 1, '2026-02-08', NULL,
      NULL, NULL, 999, 999, 'not_paid', NULL, '2026-02-08'),
  (7, 'BILL/2026/00001', '2026-02-08', 'posted', 'in_invoice', 1, 13, 13, NULL, NULL, 2, '2026-02-08', NULL,
      NULL, NULL, 4000, -5000, 'not_paid', NULL, '2026-02-08'),
  (8, 'INV/2026/00001', '2026-02-08', 'posted', 'out_invoice', 2, 10, 10, 2, 1, 1, '2026-02-08', NULL,
      NULL, NULL, 777, 777, 'not_paid', NULL, '2026-02-08'),                               -- another company
  (9, 'INV/2026/00006', '2026-02-10', 'posted', 'out_invoice', 1, 12, 12, NULL, NULL, 2, '2026-02-10',
      '2026-03-12', NULL, NULL, 100, 125, 'not_paid', NULL, '2026-02-10'),                 -- no salesperson
  (20, 'BNK1/2026/00001', '2026-02-01', 'posted', 'entry', 1, 10, 10, NULL, NULL, 1, NULL, NULL,
      NULL, NULL, 0, 0, NULL, NULL, '2026-02-01'),
  (21, 'BNK1/2026/00002', '2026-02-03', 'posted', 'entry', 1, 10, 10, NULL, NULL, 1, NULL, NULL,
      NULL, NULL, 0, 0, NULL, NULL, '2026-02-03');
INSERT INTO account_move_line (move_id, company_id, date, display_type, balance, full_reconcile_id) VALUES
  (1, 1, '2026-01-10', 'product', -1000, NULL), (1, 1, '2026-01-10', 'payment_term', 1000, 1),
  (1, 1, '2026-01-10', 'cogs', 600, NULL), (1, 1, '2026-01-10', 'cogs', -600, NULL),
  (20, 1, '2026-02-01', 'payment_term', -400, 1), (21, 1, '2026-02-03', 'payment_term', -600, 1),  -- paid twice
  (2, 1, '2026-01-20', 'product', -555.56, NULL), (2, 1, '2026-01-20', 'payment_term', 555.56, NULL),
  (2, 1, '2026-01-20', 'cogs', 333.34, NULL), (2, 1, '2026-01-20', 'cogs', -333.34, NULL),
  (3, 1, '2026-02-01', 'payment_term', 300, 2), (4, 1, '2026-02-05', 'payment_term', -300, 2),
  (4, 1, '2026-02-05', 'cogs', -180, NULL), (4, 1, '2026-02-05', 'cogs', 180, NULL),
  (9, 1, '2026-02-10', 'payment_term', 125, NULL);
"""

ENV = "CLV_ODOO_PASSWORD"


@pytest.fixture(scope="module")
def odoo(postgres, tmp_path_factory):
    """The preset pointed at the fixture database (only its url line changed) and a company.yaml naming it."""
    postgres.create_database("odoo")
    postgres.execute(SCHEMA + COMPANY, "odoo")
    postgres.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ROLE}", "odoo")
    text = (PARAMS_DIR / "sources" / "odoo.yaml").read_text(encoding="utf-8")
    url = postgres.url("odoo", ROLE)
    text, n = re.subn(r"(?m)^(  url: )\S+", lambda m: m.group(1) + url, text)
    assert n == 1
    d = tmp_path_factory.mktemp("odoo")
    (d / "odoo.yaml").write_text(text, encoding="utf-8")
    (d / "company.yaml").write_text(yaml.safe_dump({"company": "Odoo Co.", "reporting_currency": "USD",
                                                    "sources": str(d / "odoo.yaml"), "demo": False}))
    mp = pytest.MonkeyPatch()
    mp.setenv(ENV, PASSWORD)
    yield params_mod.load(d / "company.yaml")
    mp.undo()


@pytest.fixture(scope="module")
def inputs(odoo):
    return load_inputs(odoo)


def test_posted_customer_invoices_and_credit_notes_only(inputs):
    o = inputs.tables["orders"].set_index("order_id")
    assert list(o.index) == ["INV/2026/00001", "INV/2026/00002", "INV/2026/00003", "RINV/2026/00001",
                             "INV/2026/00006"]          # not drafts, cancelled, vendor bills, other companies
    assert o["customer_id"].tolist() == ["10", "12", "10", "10", "12"]     # the company, not its contact
    assert o["doc_type"].tolist() == ["invoice"] * 3 + ["credit_note", "invoice"]
    assert o.loc["RINV/2026/00001", "original_order_id"] == "INV/2026/00003"
    assert o["amount"].tolist() == [1000, 500, 300, -300, 100]
    assert o["currency"].tolist() == ["USD", "EUR", "USD", "USD", "EUR"]
    assert inputs.quarantine.empty
    assert_accounted(inputs)


def test_rates_are_inverted_and_amounts_converted(inputs):
    o = inputs.tables["orders"].set_index("order_id")
    assert o.loc["INV/2026/00002", "amount_rc"] == pytest.approx(round(500 / 0.9, 2))   # 2026-01-01 rate, in cents
    assert o.loc["INV/2026/00006", "amount_rc"] == pytest.approx(100 / 0.8)          # 2026-02-01 rate
    fx = inputs.tables["fx_rates"]
    assert sorted(fx["rate"].round(6)) == [1.0, 1.111111, 1.25]                     # company 2's 5.0 is not read


def test_cost_of_goods_from_the_cogs_lines_at_the_invoices_rate(inputs):
    o = inputs.tables["orders"].set_index("order_id")
    assert o.loc["INV/2026/00001", "cost_of_goods"] == pytest.approx(600)
    assert o.loc["INV/2026/00002", "cost_of_goods"] == pytest.approx(333.34 * 500 / 555.56)   # EUR, ~300
    assert o.loc["RINV/2026/00001", "cost_of_goods"] == pytest.approx(-180)
    assert o.loc["INV/2026/00003", "cost_of_goods"] == 0            # no COGS lines: the contract's 0, repaired
    r = inputs.repairs
    assert set(r.loc[r["column"] == "cost_of_goods", "source_row"].astype(int)) == {3, 5}


def test_salesperson_team_payment_state_and_dates(inputs):
    o = inputs.tables["orders"].set_index("order_id")
    assert o["rep_id"].tolist() == ["2", "3", "2", "2", "3"]    # no salesperson: the account's owner (repaired)
    paid = o["paid_date"].dt.strftime("%Y-%m-%d").fillna("")
    assert paid.tolist() == ["2026-02-03", "", "2026-02-05", "2026-02-01", ""]   # partial / not_paid: empty
    assert o.loc["INV/2026/00001", ["payment_terms", "incoterm"]].tolist() == ["30 Days", "FOB"]
    assert str(o.loc["INV/2026/00006", "due_date"].date()) == "2026-03-12"
    reps = inputs.tables["reps"].set_index("rep_id")
    assert reps.loc["2", ["name", "team"]].tolist() == ["Ana Lima", "Europe"]
    assert str(reps.loc["3", "leave_date"].date()) == "2026-03-15" and pd.isna(reps.loc["2", "leave_date"])
    c = inputs.tables["customers"].set_index("customer_id")
    assert c.loc[["10", "12"], "country"].tolist() == ["US", "DE"] and list(c.index) == ["10", "12"]
    own = inputs.tables["ownership"]
    assert list(zip(own["customer_id"], own["rep_id"])) == [("10", "2"), ("12", "3")]


def test_source_rows_name_the_query_and_never_the_password(inputs, odoo):
    files = inputs.counts["orders"]["files"]
    assert files[0]["file"].endswith("#account_move") and ROLE + "@" not in files[0]["file"]
    assert PASSWORD not in repr(inputs.counts) + inputs.quarantine.to_csv() + inputs.repairs.to_csv()


def test_latest_month_and_the_fingerprint_read_the_database(odoo, postgres):
    ts = load_sources(odoo.path("sources")).tables["orders"]
    assert str(newest_date(ts).date()) == "2026-02-10"
    key = "orders: " + ts.label
    before = inputs_stamp(odoo)[key]
    assert before["version"][0][0] == "7" and "day" not in before  # the version query: 7 customer moves
    postgres.execute("UPDATE account_move SET payment_state = 'paid', write_date = '2026-03-01' WHERE id = 2", "odoo")
    try:
        assert inputs_stamp(odoo)[key] != before                             # a payment: read again
    finally:
        postgres.execute("UPDATE account_move SET payment_state = 'partial', write_date = '2026-02-01' "
                         "WHERE id = 2", "odoo")
