"""Declared stages: looked up by name, reused only while their fingerprint holds, results unchanged."""
from __future__ import annotations

import pandas as pd
import pytest

from clvlib import stages
from clvlib.errors import ParamsError
from clvlib.stages import base
from clvlib.workbook import Workbook


@pytest.fixture(scope="module")
def lab(tmp_path_factory, demo_params):
    return tmp_path_factory.mktemp("stages")


def _wb(out_dir, **kw):
    return Workbook("2026-10", out_dir=out_dir, charts=False, **kw)


def test_registry_declares_every_stage_once_in_dependency_order():
    names = stages.order()
    assert names[0] == "intake"
    for name in names:
        st = stages.get(name)
        assert all(names.index(u) < names.index(name) for u in st.needs)
        assert st.doc and st.files
    with pytest.raises(ParamsError, match="unknown stage 'tierz'"):
        stages.get("tierz")


def test_workbook_holds_no_per_stage_code_and_no_display_helpers():
    for name in ("inputs", "customer_value", "say", "show_table", "cards", "bullets", "show", "label"):
        assert not hasattr(Workbook, name), name
    from clvlib.report.display import Page

    for name in ("say", "show_table", "cards", "bullets", "show", "display", "label"):
        assert callable(getattr(Page, name))


def test_stage_results_equal_the_functions_they_declare(lab):
    """The stage machinery changes nothing: the intake equals load_inputs, the CLV stage equals
    customer_value.build, and what is read back from data/ equals what was built."""
    from clvlib import customer_value as cv
    from clvlib.sources import load_inputs

    wb = _wb(lab)
    built = wb.stage("customer_value", refresh=True)
    direct = cv.build(wb.orders(), wb.table("ownership"), wb.as_of, wb.params["clv"])
    pd.testing.assert_frame_equal(built.table, direct.table)
    pd.testing.assert_frame_equal(built.books, direct.books)
    inputs = load_inputs(wb.params)
    fresh = _wb(lab)                       # a second notebook: reads data/ instead of recomputing
    assert fresh.is_fresh("intake") and fresh.is_fresh("customer_value")
    for name, df in inputs.tables.items():
        pd.testing.assert_frame_equal(fresh.stage("intake")[name], df, check_dtype=False)
    loaded = fresh.stage("customer_value")
    pd.testing.assert_frame_equal(loaded.table, built.table)
    pd.testing.assert_frame_equal(loaded.books, built.books)
    assert loaded.settings == built.settings


def test_fingerprint_covers_params_subtree_upstream_and_source(lab, tmp_path):
    wb = _wb(lab)
    st = stages.get("customer_value")
    up = {"intake": wb.fingerprint("intake")}
    fp = stages.fingerprint(st, wb.params, wb.as_of.date(), up)
    assert fp == wb.fingerprint("customer_value")
    changed = dict(wb.params, clv=dict(wb.params["clv"], horizon_months=24))
    assert stages.fingerprint(st, changed, wb.as_of.date(), up) != fp                    # its params
    other = dict(wb.params, report=dict(wb.params["report"], top_n=5))
    assert stages.fingerprint(st, other, wb.as_of.date(), up) == fp                       # not its params
    assert stages.fingerprint(st, wb.params, wb.as_of.date(), {"intake": "x"}) != fp      # upstream
    assert stages.fingerprint(st, wb.params, wb.as_of.date(), up, source="edited") != fp  # clvlib source
    assert stages.fingerprint(st, wb.params, "2026-09-30", up) != fp                      # as-of date


def test_source_hash_follows_the_package_files(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    h1 = base.source_hash(pkg)
    (pkg / "a.py").write_text("x = 2\n")
    assert base.source_hash(pkg) != h1


def test_an_edited_clvlib_never_reuses_stale_files(lab, monkeypatch):
    wb = _wb(lab)
    wb.stage("customer_value")
    assert wb.is_fresh("customer_value")
    monkeypatch.setattr(base, "_SOURCE_HASH", "clvlib edited since")
    later = _wb(lab)
    assert not later.is_fresh("intake") and not later.is_fresh("customer_value")
    calls = []
    real = stages.get("intake").build
    monkeypatch.setitem(base.REGISTRY, "intake", base.Stage(
        "intake", lambda w: calls.append(1) or real(w), stages.get("intake").save, stages.get("intake").load,
        params=stages.get("intake").params, stamp=stages.get("intake").stamp, files=("orders.parquet",),
        doc="x"))
    later.stage("intake")
    assert calls == [1]                    # rebuilt, not loaded
    assert later.is_fresh("intake")


def test_a_settings_change_rebuilds_only_the_stages_that_read_it(lab, tmp_path):
    from conftest import write_params

    before = _wb(lab)
    for name in ("intake", "customer_value"):
        before.stage(name)
    p = write_params(tmp_path / "company.yaml", **{"clv.horizon_months": 6})
    wb = Workbook("2026-10", params_path=p, out_dir=lab, charts=False)
    assert wb.is_fresh("intake")                   # same inputs, sources, FX settings
    assert not wb.is_fresh("customer_value")       # its clv settings changed


def test_a_refresh_rebuilds_the_later_stages_that_add_to_its_file(tmp_path, monkeypatch, demo_params):
    """``tiers`` adds the tier to ``customer_value.parquet``: refreshing the earlier stage must not leave
    the later one looking fresh beside a file without its column (two toy stages stand for them)."""
    import json

    def save_a(result, d):
        (d / "a.json").write_text(json.dumps(result))

    def save_b(result, d):                         # like tiers: writes its own file and adds to a's
        a = json.loads((d / "a.json").read_text())
        (d / "a.json").write_text(json.dumps({**a, "b": result}))

    def load_a(d):
        return json.loads((d / "a.json").read_text())

    monkeypatch.setattr(base, "REGISTRY", dict(base.REGISTRY))
    base.register(base.Stage("toy_a", lambda wb: {"a": 1}, save_a, load_a, files=("a.json",)))
    base.register(base.Stage("toy_b", lambda wb: wb.stage("toy_a")["a"] + 1, save_b, lambda d: load_a(d)["b"],
                             needs=("toy_a",), files=("a.json",)))
    wb = _wb(tmp_path)
    assert wb.stage("toy_b") == 2 and load_a(wb.data_dir) == {"a": 1, "b": 2}
    wb.stage("toy_a", refresh=True)
    assert load_a(wb.data_dir) == {"a": 1}
    assert not wb.is_fresh("toy_b") and not _wb(tmp_path).is_fresh("toy_b")    # also for another notebook
    assert wb.stage("toy_b") == 2 and load_a(wb.data_dir) == {"a": 1, "b": 2}


def test_the_intake_is_the_same_in_memory_and_read_back(demo_params, tmp_path):
    """Every canonical table has its columns' dtypes whichever way it was made: built in this process or
    read back from its Parquet file (split lines added on load and the quotas' months included)."""
    from clvlib.sources import load_inputs
    from clvlib.stages import intake

    built = load_inputs(demo_params)
    intake.save(built, tmp_path)
    back = intake.load(tmp_path)
    for name, df in built.tables.items():
        pd.testing.assert_frame_equal(df, back.tables[name], check_exact=True, obj=name)
    assert str(built.tables["order_splits"]["share"].dtype) == "float64"
