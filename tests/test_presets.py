"""The shipped presets (params/sources/salesforce|hubspot|erp.yaml) on their sample exports.

Each preset is used as shipped with only its `folder:` line changed; every row of every fixture file
is either accepted or set aside for the one reason the fixture planted (tests/fixtures/build_fixtures.py
says which row is which).
"""
from __future__ import annotations

import pytest

from clvlib.paths import PARAMS_DIR
from clvlib.sources import load_inputs
from clvlib.sources.spec import load_sources

from sources_support import FIXTURES, assert_accounted, company, preset_for, reasons, set_aside

OPP = "Opportunities.csv"
SPLIT = "OpportunitySplit.csv"


@pytest.fixture(scope="module")
def sf(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sf")
    return load_inputs(company(tmp, preset_for(tmp, "salesforce")))


@pytest.fixture(scope="module")
def hs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hs")
    return load_inputs(company(tmp, preset_for(tmp, "hubspot")))


@pytest.fixture(scope="module")
def erp(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("erp")
    return load_inputs(company(tmp, preset_for(tmp, "erp")))


@pytest.mark.parametrize("preset", ["salesforce", "hubspot", "erp"])
def test_presets_load_and_name_existing_tables(tmp_path, preset):
    src = load_sources(preset_for(tmp_path, preset))
    assert {"orders", "customers", "reps", "ownership", "fx_rates"} <= set(src.tables)
    for ts in src.tables.values():
        assert ts.files() and all(f.exists() for f in ts.files()), ts.table


# ------------------------------------------------------------------------------------------- Salesforce
def test_salesforce_every_row_accepted_or_set_aside_for_its_reason(sf):
    assert_accounted(sf)
    assert set_aside(sf, "orders") == {
        (OPP, 6): "duplicate_row", (OPP, 7): "conflicting_duplicate", (OPP, 8): "conflicting_duplicate",
        (OPP, 9): "unknown_currency", (OPP, 10): "no_fx_rate", (OPP, 11): "not_a_date", (OPP, 14): "unknown_rep"}
    assert set_aside(sf, "order_splits") == {(SPLIT, 4): "split_not_one", (SPLIT, 5): "split_not_one",
                                             (SPLIT, 6): "unknown_order"}
    for t in ("customers", "reps", "ownership", "fx_rates"):
        assert set_aside(sf, t) == {}, t
    c = sf.counts
    assert (c["orders"]["rows_read"], c["orders"]["rows_accepted"]) == (14, 7)
    assert c["nps"]["provided"] is False and c["complaints"]["provided"] is False


def test_salesforce_reasons_say_what_to_fix(sf):
    r = reasons(sf, "orders")
    assert r[(OPP, 6)] == "exact duplicate of row 3 (collapsed to one)"
    assert "(rows 7, 8)" in r[(OPP, 7)] and "none is used" in r[(OPP, 7)]
    assert r[(OPP, 9)] == "unknown currency 'USS' (no FX rates for it)"
    assert r[(OPP, 10)] == "no FX rate for GBP on or before 2026-01-05"
    assert r[(OPP, 14)] == "no rep named 'Zed Unknown' in the reps table"
    s = reasons(sf, "order_splits")
    assert "sum to 0.9, not 1" in s[(SPLIT, 4)]
    assert s[(SPLIT, 6)] == "its order 0061x00006 was set aside (rows 7, 8 of the orders table)"
    q = sf.quarantine.set_index(["source_file", "source_row"])
    assert q.loc[(OPP, 11), "value"] == "31/31/2026" and q.loc[(OPP, 9), "value"] == "USS"


def test_salesforce_mapping_stages_names_rates_and_splits(sf):
    o = sf.tables["orders"].set_index("order_id")
    assert o.loc["0061x00001", "status"] == "booked" and o.loc["0061x00003", "status"] == "open"
    assert o.loc["0061x00004", "status"] == "lost"
    # month-first report dates, owner names resolved to user ids through the team list
    assert str(o.loc["0061x00002", "order_date"].date()) == "2026-02-03"
    assert o.loc["0061x00001", "rep_id"] == "0051x0000A" and o.loc["0061x00002", "rep_id"] == "0051x0000B"
    # "EUR 8,000.00" at the dated rate valid on Feb 3 (0.90 EUR per USD, inverted)
    assert o.loc["0061x00002", "amount_rc"] == pytest.approx(8888.89)
    assert o.loc["0061x00013", "amount"] == pytest.approx(1234567.89)
    # "(1,200.00)": a negative opportunity is a credit note
    assert o.loc["0061x00010", "amount"] == -1200 and o.loc["0061x00010", "doc_type"] == "credit_note"
    s = sf.tables["order_splits"]
    assert sorted(s["share"]) == [0.4, 0.6]                    # SplitPercentage 60.00 -> 0.6
    assert any('matched only "*"' in n and "Negotiation/Review" in n for n in sf.notes)
    assert any("Cost__c" in n for n in sf.notes)                # no cost column: said, not hidden


def test_salesforce_team_list_from_excel_with_title_rows_and_mixed_dates(sf):
    reps = sf.tables["reps"].set_index("rep_id")
    assert [str(d.date()) for d in reps["hire_date"]] == ["2019-03-01", "2021-07-15", "2022-01-10"]
    assert str(reps.loc["0051x0000C", "leave_date"].date()) == "2025-12-31"
    assert set(reps["role"]) == {"sales"}
    assert sf.counts["reps"]["files"][0]["rows"] == 3


def test_salesforce_names_are_data(sf):
    names = set(sf.tables["customers"]["name"])
    assert "<script>alert(1)</script>" in names and "北京贸易有限公司" in names
    assert any(n.startswith("=HYPERLINK(") for n in names)


def test_salesforce_in_another_reporting_currency_converts_through_the_corporate_one(tmp_path):
    inp = load_inputs(company(tmp_path, preset_for(tmp_path, "salesforce"), reporting_currency="EUR"))
    o = inp.tables["orders"].set_index("order_id")
    assert o.loc["0061x00002", "fx_rate"] == 1.0                       # EUR deal, EUR reporting
    assert o.loc["0061x00001", "fx_rate"] == pytest.approx(0.92)       # USD in Jan: 0.92 EUR per USD
    assert o.loc["0061x00001", "amount_rc"] == pytest.approx(11500.0)
    assert any("quoted in USD" in n for n in inp.notes)


# ------------------------------------------------------------------------------------------- HubSpot
def test_hubspot_every_row_accepted_or_set_aside_for_its_reason(hs):
    assert_accounted(hs)
    f = "all-deals.csv"
    assert set_aside(hs, "orders") == {
        (f, 6): "duplicate_row", (f, 7): "unknown_currency", (f, 8): "not_a_date", (f, 9): "unknown_customer",
        (f, 10): "unknown_customer", (f, 12): "no_fx_rate", (f, 14): "conflicting_duplicate",
        (f, 15): "conflicting_duplicate"}
    for t in ("customers", "reps", "ownership", "fx_rates"):
        assert set_aside(hs, t) == {}, t
    r = reasons(hs, "orders")
    assert r[(f, 9)] == "no customer named 'Ghost Corp' in the customers table"
    assert r[(f, 10)] == "the name 'Shared Name Ltd' matches several customers (104, 105); export the id instead"
    assert r[(f, 8)] == "order_date: not a date"                         # 2026-02-30 does not exist


def test_hubspot_mapping(hs):
    o = hs.tables["orders"].set_index("order_id")
    assert list(o.index) == ["9001", "9002", "9003", "9004", "9009", "9011"]
    assert dict(o["status"]) == {"9001": "booked", "9002": "booked", "9003": "open", "9004": "lost",
                                 "9009": "booked", "9011": "booked"}
    assert o.loc["9001", "customer_id"] == "101" and o.loc["9001", "rep_id"] == "maria.rossi@example.com"
    assert o.loc["9001", "amount_rc"] == pytest.approx(16350.0)          # EUR at 1.09, the day before
    assert o.loc["9002", "amount"] == 2500.0                               # "$2,500.00"
    assert o.loc["9009", "amount"] == -500.0 and o.loc["9009", "doc_type"] == "credit_note"
    # 9011 has no deal owner: credited to the company's owner on its close date, and on record as a repair
    assert o.loc["9011", "rep_id"] == "john.smith@example.com" and o["rep_id"].notna().all()
    r = hs.repairs.set_index(["source_file", "source_row", "column"])
    assert r.loc[("all-deals.csv", 13, "rep_id"), "rule"] == "rep_from_owner"
    assert r.loc[("all-deals.csv", 13, "rep_id"), "value_after"] == "john.smith@example.com"
    reps = hs.tables["reps"].set_index("name")
    assert str(reps.loc["John Smith", "hire_date"].date()) == "2021-02-03"  # declared dmy: 3 February
    own = hs.tables["ownership"]
    assert len(own) == 7 and own["rep_id"].str.contains("@").all()


# ------------------------------------------------------------------------------------------- ERP
JAN, FEB = "销售发票/2026-01.csv", "销售发票/2026-02.csv"


def test_erp_every_row_accepted_or_set_aside_for_its_reason(erp):
    assert_accounted(erp)
    assert set_aside(erp, "orders") == {
        (JAN, 3): "conflicting_duplicate", (JAN, 6): "not_a_date", (JAN, 7): "unknown_currency",
        (JAN, 8): "missing_value", (FEB, 3): "duplicate_row", (FEB, 4): "conflicting_duplicate",
        (FEB, 5): "unknown_order", (FEB, 6): "unknown_customer", (FEB, 7): "no_fx_rate"}
    assert set_aside(erp, "ownership") == {("客户归属.csv", 7): "dates_reversed"}
    for t in ("customers", "reps", "fx_rates"):
        assert set_aside(erp, t) == {}, t
    files = erp.counts["orders"]["files"]
    assert [f["rows"] for f in files] == [7, 9]                  # two monthly files, GB18030 and UTF-8-BOM


def test_erp_reasons(erp):
    r = reasons(erp, "orders")
    assert r[(JAN, 3)] == r[(FEB, 4)] == (
        "conflicting rows share the same order_id (销售发票/2026-01.csv row 3, 销售发票/2026-02.csv row 4); "
        "none is used until the source is corrected")
    assert r[(FEB, 5)].startswith("its original invoice INV-2601-002 was set aside")
    assert r[(JAN, 8)] == ("order_date is empty (required); customer_id is empty (required); "
                           "currency is empty (required)")           # the 合计 (totals) row is not an order
    assert r[(FEB, 3)] == f"exact duplicate of {FEB} row 2 (collapsed to one)"


def test_erp_mapping_chinese_headers_documents_and_cross_rates(erp):
    o = erp.tables["orders"].set_index("order_id")
    assert str(o.loc["INV-2601-001", "order_date"].date()) == "2026-01-05"          # 2026年1月5日
    assert str(o.loc["INV-2601-001", "paid_date"].date()) == "2026-02-01"
    assert o.loc["INV-2601-001", "rep_id"] == "R01"                                   # 王伟 -> R01
    assert o.loc["INV-2601-001", "gross_margin_rc"] == pytest.approx(12000 - 8000 - 300)
    assert o.loc["INV-2601-003", "status"] == "cancelled"                             # 作废
    assert o.loc["INV-2602-005", "status"] == "open"                                  # 草稿
    cn = o.loc["CN-2601-001"]
    assert cn["doc_type"] == "credit_note" and cn["amount"] == -2000 and cn["cost_of_goods"] == -1300
    assert cn["customer_id"] == "K001" and cn["rep_id"] == "R01"                     # the original's
    # RMB is CNY, the base of the rate table: 70,000 CNY at 7.00 CNY per USD
    assert o.loc["INV-2602-004", "currency"] == "CNY"
    assert o.loc["INV-2602-004", "amount_rc"] == pytest.approx(10000.0)
    # a credit note for an invoice older than the export is kept, and said so
    assert o.loc["CN-2602-002", "amount"] == -300
    assert any("not in the orders" in n for n in erp.notes)
    own = erp.tables["ownership"]
    assert own[own["customer_id"] == "K003"]["share"].tolist() == [0.5, 0.5]         # "50%"
    assert len(own[own["customer_id"] == "K001"]) == 2                                # the handover
    names = set(erp.tables["customers"]["name"])
    assert "深圳华强电子有限公司" in names and "<script>alert(1)</script>" in names


def test_erp_strict_fx_stops_with_one_line(tmp_path):
    from clvlib.errors import DataError

    with pytest.raises(DataError) as e:
        load_inputs(company(tmp_path, preset_for(tmp_path, "erp"), fx={"strict": True}))
    msg = str(e.value)
    assert "\n" not in msg and "2026-01.csv" in msg and "row 7" in msg and "unknown currency 'USDD'" in msg
    assert "fx.strict: false" in msg


@pytest.mark.parametrize("preset,newest", [("salesforce", "2026-03-20"), ("hubspot", "2026-04-30"),
                                           ("erp", "2026-02-26")])
def test_newest_order_date_reads_one_column_with_the_preset_mapping(tmp_path, preset, newest):
    from clvlib.sources import newest_date

    ts = load_sources(preset_for(tmp_path, preset)).tables["orders"]
    assert str(newest_date(ts).date()) == newest


# ------------------------------------------------------------------------------------------- implausible FX
def _salesforce_rates_already_in_usd(tmp_path):
    """The Salesforce fixture with a ¥1.5M deal and a rate table already in USD per unit, while the preset
    still says `invert: [rate]` (Salesforce quotes units per USD): 1 / 0.0067 = 149.25 USD per yen."""
    import shutil

    folder = tmp_path / "sf"
    shutil.copytree(FIXTURES / "salesforce", folder)
    opp = (folder / OPP).read_text(encoding="utf-8-sig").rstrip("\r\n")
    (folder / OPP).write_text(opp + '\r\n0061x00014,Tokyo - presses,0011x0000A,Acme Widgets,Ana Lima,Closed Won,1,'
                              '3/18/2026,JPY,"1,500,000",New Business\r\n', encoding="utf-8-sig")
    (folder / "DatedConversionRate.csv").write_text(
        "Id,IsoCode,StartDate,NextStartDate,ConversionRate\n04w1,EUR,2025-12-01,,1.087\n04w2,GBP,2025-12-01,,1.25\n"
        "04w3,JPY,2025-12-01,,0.0067\n04w4,USD,2025-01-01,,1\n")
    return preset_for(tmp_path, "salesforce", folder=folder)


def test_salesforce_table_inverted_wrongly_stops_naming_file_currency_rates_and_setting(tmp_path):
    from clvlib.errors import DataError

    with pytest.raises(DataError) as e:
        load_inputs(company(tmp_path, _salesforce_rates_already_in_usd(tmp_path)))
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(tmp_path / "sf" / "DatedConversionRate.csv"))
    assert ("the FX rates for GBP look inverted: 1 GBP converts to a median of 0.8 USD, but 1 GBP has been worth "
            "1.03–2.11 USD since 2000; a 2,000 GBP order counts as 1,600 USD") in msg
    assert "remove `invert: [rate]` from tables.fx_rates in salesforce.yaml" in msg
    assert "(also implausible: JPY)" in msg and "fx.plausibility: warn" in msg


def test_fx_plausibility_warn_goes_on_with_a_loud_note_and_off_is_silent(tmp_path):
    src = _salesforce_rates_already_in_usd(tmp_path)
    inp = load_inputs(company(tmp_path, src, fx={"plausibility": "warn"}))
    o = inp.tables["orders"].set_index("order_id")
    assert o.loc["0061x00014", "amount_rc"] == pytest.approx(223_880_597.01)        # the $223.9M deal
    warned = [n for n in inp.notes if n.startswith("WARNING (fx.plausibility: warn)")]
    assert [("GBP" in n, "JPY" in n) for n in warned] == [(True, False), (False, True)]
    assert ("the FX rates for JPY look inverted: 1 JPY converts to a median of 149.3 USD, but 1 JPY has been worth "
            "0.0062–0.0132 USD since 2000; a 1,500,000 JPY order counts as 223,880,597 USD — remove `invert: [rate]`"
            ) in warned[1]
    quiet = load_inputs(company(tmp_path, src, fx={"plausibility": "off"}))
    assert not any("fx.plausibility" in n for n in quiet.notes)


def test_erp_rates_in_cny_without_base_stop_as_mis_scaled(tmp_path):
    from clvlib.errors import DataError

    text = (PARAMS_DIR / "sources" / "erp.yaml").read_text(encoding="utf-8")
    src = preset_for(tmp_path, "erp")
    src.write_text(src.read_text(encoding="utf-8").replace("    base: CNY ", "    # base: CNY "), encoding="utf-8")
    assert "# base: CNY" in src.read_text(encoding="utf-8") and "base: CNY" in text
    with pytest.raises(DataError, match=r"汇率\.csv, column '汇率': the FX rates for EUR look mis-scaled: 1 EUR converts "
                                        r"to a median of 7\.\d+ USD.*check `base:` \(now USD"):
        load_inputs(company(tmp_path, src))


def test_erp_preset_maps_the_usual_document_types_and_payment_headers(tmp_path):
    import shutil

    folder = tmp_path / "erp"
    shutil.copytree(FIXTURES / "erp", folder)
    for f in (folder / "销售发票").iterdir():
        f.unlink()
    kinds = {"销售": "invoice", "销售发票": "invoice", "蓝字": "invoice", "增值税专用发票": "invoice",
             "红字": "credit_note", "红字发票": "credit_note", "退货": "credit_note", "销售退货单": "credit_note"}
    lines = ["单据编号,单据类型,开票日期,客户编码,业务员,币种,不含税金额,付款方式,原单号"]
    for i, k in enumerate(kinds):
        neg = kinds[k] == "credit_note"
        lines.append(f"D{i},{k},2026-02-0{i + 1},K002,李娜,USD,{'-' if neg else ''}100,T/T 30,{'D0' if neg else ''}")
    (folder / "销售发票" / "2026-02.csv").write_text("\n".join(lines) + "\n", encoding="gb18030")
    inp = load_inputs(company(tmp_path, preset_for(tmp_path, "erp", folder=folder)))
    o = inp.tables["orders"].set_index("order_id")
    assert set_aside(inp, "orders") == {}
    assert o["doc_type"].tolist() == list(kinds.values())
    assert (o["payment_terms"] == "T/T 30").all()                    # 付款方式 is a payment-terms header


def test_erp_preset_declares_a_date_order_that_is_honoured(tmp_path):
    src = preset_for(tmp_path, "erp")
    ts = load_sources(src).tables["orders"]
    assert ts.date_order in ("auto", "ymd", "dmy", "mdy")
    src.write_text(src.read_text(encoding="utf-8").replace("date_order: auto", "date_order: ymd", 1), encoding="utf-8")
    inp = load_inputs(company(tmp_path, src))
    assert load_sources(src).tables["orders"].date_order == "ymd"
    assert str(inp.tables["orders"].set_index("order_id").loc["INV-2601-001", "order_date"].date()) == "2026-01-05"
