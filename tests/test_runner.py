"""The runner: parameters injected, exit codes, atomic publish, idempotent re-runs, run.json."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from clvlib import run as run_mod
from clvlib.errors import ParamsError, RunError
from clvlib.paths import DEFAULT_PARAMS, NOTEBOOKS_DIR

from conftest import PERIOD, write_params


def make_nb(path: Path, body: str):
    nb = new_notebook(cells=[
        new_code_cell('period = "2026-10"\nas_of = None\nparams_path = "x"\nout_dir = None',
                      metadata={"tags": ["parameters"]}),
        new_code_cell(body),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture()
def tiny(tmp_path, demo_params):
    """A two-notebook workbook that writes what it was given, fast to run."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    make_nb(nbdir / "01_data_quality.ipynb",
            "import json, pathlib\n"
            "pathlib.Path(out_dir, 'data', 'seen.json').write_text(json.dumps(dict(period=period, as_of=as_of, "
            "params_path=params_path, out_dir=out_dir)))\nprint('ok')")
    make_nb(nbdir / "00_summary.ipynb", "from IPython.display import HTML\nHTML('<p>summary</p>')")
    return nbdir


def test_parameters_are_injected(tmp_path, tiny):
    res = run_mod.run_period("2025-06", DEFAULT_PARAMS, reports_dir=tmp_path / "r", notebooks_dir=tiny,
                             log=lambda *_: None)
    seen = json.loads((res.path / "data" / "seen.json").read_text())
    assert seen["period"] == "2025-06" and seen["as_of"] == "2025-06-30"
    assert seen["params_path"] == str(DEFAULT_PARAMS.resolve())
    assert Path(seen["out_dir"]).name.startswith("2025-06")          # the staging folder, later swapped in
    assert (res.path / "index.html").exists() and (res.path / "01_data_quality.html").exists()
    executed = nbformat.read(res.path / "notebooks" / "01_data_quality.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)


def test_failure_names_notebook_and_cell_and_keeps_last_good_report(tmp_path, tiny):
    reports = tmp_path / "r"
    good = run_mod.run_period("2025-06", DEFAULT_PARAMS, reports_dir=reports, notebooks_dir=tiny,
                              log=lambda *_: None)
    before = (good.path / "run.json").read_text()
    make_nb(tiny / "01_data_quality.ipynb", "x = 1\nraise ValueError('the export is broken')")
    with pytest.raises(RunError) as e:
        run_mod.run_period("2025-06", DEFAULT_PARAMS, reports_dir=reports, notebooks_dir=tiny, log=lambda *_: None)
    msg = str(e.value)
    assert "01_data_quality.ipynb" in msg and "code cell 2" in msg and "ValueError: the export is broken" in msg
    assert "\n" not in msg
    assert e.value.notebook == "01_data_quality.ipynb" and e.value.cell == 2
    # the published report is untouched; the failed attempt is kept for inspection
    assert (reports / "2025-06" / "run.json").read_text() == before
    failed = reports / ".failed" / "2025-06"
    assert json.loads((failed / "run.json").read_text())["status"] == "failed"
    assert (failed / "notebooks" / "01_data_quality.ipynb").exists()
    assert not any((reports / ".staging").iterdir())


def test_cli_bad_period_exits_2_with_one_line():
    proc = subprocess.run([sys.executable, "-m", "clvlib.cli", "run", "--period", "2025-13"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("clvlib: period must look like 2026-10")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_cli_failed_run_exits_1_with_one_line(tmp_path, tiny, monkeypatch, capsys):
    from clvlib import cli

    make_nb(tiny / "01_data_quality.ipynb", "raise RuntimeError('boom')")
    monkeypatch.setattr(run_mod, "NOTEBOOKS_DIR", tiny)
    monkeypatch.setattr(run_mod, "REPORTS_DIR", tmp_path / "r")
    real = run_mod.run_period

    def patched(period, params_path=None, **kw):
        return real(period, params_path, reports_dir=tmp_path / "r", notebooks_dir=tiny, **kw)

    monkeypatch.setattr(run_mod, "run_period", patched)
    assert cli.main(["run", "--period", "2025-06"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "01_data_quality.ipynb failed in code cell 2: RuntimeError: boom" in err


def test_bad_params_exit_2(tmp_path, capsys):
    from clvlib import cli

    bad = tmp_path / "company.yaml"
    bad.write_text("sources: s.yaml\nlanguage: fr\n")
    assert cli.main(["run", "--period", "2026-10", "--params", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "language: must be one of en, zh" in err and err.count("\n") == 1


def test_period_resolution(demo_params):
    import datetime as dt

    assert run_mod.resolve_period("previous", demo_params, today=dt.date(2027, 3, 5)) == "2027-02"
    # the demo company's data ends in October 2026: "latest" never points past the data
    assert run_mod.resolve_period("latest", demo_params, today=dt.date(2027, 3, 5)) == "2026-10"
    assert run_mod.resolve_period("latest", demo_params, today=dt.date(2026, 6, 15)) == "2026-05"
    with pytest.raises(ParamsError):
        run_mod.resolve_period("2026-1", demo_params)


def test_backfill_runs_each_month_with_progress(tmp_path, tiny):
    lines = []
    res = run_mod.backfill("2025-11", "2026-01", DEFAULT_PARAMS, reports_dir=tmp_path / "r", notebooks_dir=tiny,
                           log=lines.append)
    assert [r.period for r in res] == ["2025-11", "2025-12", "2026-01"]
    assert any("3/3 done" in l for l in lines) and any("left" in l for l in lines)
    index = (tmp_path / "r" / "index.html").read_text()
    assert index.index("2026-01/index.html") < index.index("2025-11/index.html")    # newest first


# ------------------------------------------------------------------ the real workbook
def test_real_run_publishes_every_section(published):
    names = {p.name for p in published.path.glob("*.html")}
    expected = {run_mod.page_of(nb) for nb in run_mod.notebooks(NOTEBOOKS_DIR)}
    assert names == expected and "index.html" in names
    run = json.loads((published.path / "run.json").read_text())
    assert run["status"] == "ok" and run["period"] == PERIOD and run["as_of"] == "2026-10-31"
    assert run["versions"]["pandas"] and run["params"]["reporting_currency"] == "USD"
    assert set(run["timings"]) == {nb.stem for nb in run_mod.notebooks(NOTEBOOKS_DIR)} | {"statements"}
    from clvlib import stages

    assert list(run["stages"]) == stages.order()          # every stage computed once, before the notebooks
    for table, c in run["inputs"].items():
        assert c["rows_read"] == c["rows_accepted"] + c["rows_quarantined"], table
        for f in c["files"]:
            assert len(f["sha256"]) == 64
    assert run["inputs"]["orders"]["rows_quarantined"] > 0                # the planted defects
    q = pd.read_csv(published.path / "data" / "quarantine.csv")
    assert set(q.columns) >= {"table", "source_file", "source_row", "column", "value", "reason"}
    assert (published.path.parent / "index.html").exists()


def test_rerun_reproduces_the_same_numbers(published, staged):
    """Every stage computed again, apart from the published run (the session's lab workbook, in another
    folder, on its own): every table the run published is the same, to the last bit."""
    from clvlib import stages

    for name in stages.order():
        staged.stage(name)
    published_files = sorted((published.path / "data").glob("*.parquet"))
    again = {f.name for f in staged.data_dir.glob("*.parquet")}
    assert len(published_files) >= 15 and {f.name for f in published_files} <= again
    for f in published_files:
        a, b = pd.read_parquet(f), pd.read_parquet(staged.data_dir / f.name)
        pd.testing.assert_frame_equal(a, b, obj=f.name)
    assert (published.path / "data" / "quarantine.csv").read_bytes() == \
        (staged.data_dir / "quarantine.csv").read_bytes()


# ------------------------------------------------------------------ whatever fails: one line, nothing left behind
REAL_RUN_PERIOD = run_mod.run_period


def cli_run(monkeypatch, capsys, reports: Path, nbdir: Path, *args: str) -> tuple[int, str, str]:
    """``clvlib run ARGS`` in this process, on the notebooks of ``nbdir``, publishing into ``reports``."""
    from clvlib import cli

    monkeypatch.setattr(run_mod, "run_period",
                        lambda period, params_path=None, **kw: REAL_RUN_PERIOD(period, params_path, reports_dir=reports,
                                                                               notebooks_dir=nbdir, **kw))
    code = cli.main(["run", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def small_company(tmp: Path, orders: str | None) -> Path:
    """A one-customer company; ``orders`` is the orders CSV (None: the file is missing)."""
    from sources_support import company, sources_file

    (tmp / "customers.csv").write_text("customer_id,name,country\nC1,Acme,US\n")
    (tmp / "reps.csv").write_text("rep_id,name,team,hire_date\nR1,Ana,EU,2020-01-01\n")
    (tmp / "ownership.csv").write_text("customer_id,rep_id,valid_from\nC1,R1,2020-01-01\n")
    (tmp / "fx.csv").write_text("date,currency,rate\n2026-01-01,EUR,1.1\n")
    if orders is not None:
        (tmp / "orders.csv").write_text(orders)
    spec = {"orders": "orders.csv", "customers": "customers.csv", "reps": "reps.csv", "ownership": "ownership.csv",
            "fx_rates": "fx.csv"}
    return company(tmp, sources_file(tmp, spec)).file


@pytest.fixture()
def real_workbook(tmp_path):
    """The real data-quality and sales-overview notebooks, and a trivial summary."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    for name in ("01_data_quality.ipynb", "02_sales_overview.ipynb"):
        shutil.copy(NOTEBOOKS_DIR / name, nbdir)
    make_nb(nbdir / "00_summary.ipynb", "1")
    return nbdir


@pytest.mark.parametrize("orders, period, message", [
    (None, "2026-01", "orders.csv: file not found; check `folder` and `file` in the sources file"),
    ("order_id,order_date,customer_id,currency,amount\n", "2026-01",
     "orders.csv: see quarantine (0 rows read, 0 set aside)"),
    ("order_id,order_date,customer_id,currency,amount\nA1,2026-01-05,C9,USD,10\n", "2026-01",
     "orders.csv: see quarantine (1 rows read, 1 set aside)"),
    ("order_id,order_date,customer_id,currency,amount,status\nA1,2026-01-05,C1,USD,10,open\n", "2026-01",
     "none of the 1 accepted orders counts as booked (open 1); check `values.status`"),
    ("order_id,order_date,customer_id,currency,amount\nA1,2026-01-05,C1,USD,10\n", "2025-06",
     "no booked orders on or before 2025-06-30 in "),
])
def test_unusable_data_found_inside_a_notebook_exits_2_with_the_data_error(tmp_path, real_workbook, monkeypatch,
                                                                            capsys, orders, period, message):
    params = small_company(tmp_path, orders)
    code, out, err = cli_run(monkeypatch, capsys, tmp_path / "r", real_workbook, "--period", period,
                             "--params", str(params))
    assert code == 2, err
    assert err.startswith("clvlib: ") and err.count("\n") == 1 and message in err
    assert "Traceback" not in err and "TypeError" not in err and "notebook" not in err
    assert "02_sales_overview" not in out                          # stopped before the notebooks that need orders
    if orders is not None:
        assert "no booked orders" in err
    assert not any((tmp_path / "r" / ".staging").iterdir())
    assert not (tmp_path / "r" / period).exists()


@pytest.mark.parametrize("body", ["import os\nos._exit(1)", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"])
def test_a_dead_kernel_is_a_one_line_run_error(tmp_path, tiny, monkeypatch, capsys, body):
    make_nb(tiny / "01_data_quality.ipynb", body)
    code, _, err = cli_run(monkeypatch, capsys, tmp_path / "r", tiny, "--period", "2025-06")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "notebook 01_data_quality.ipynb: the kernel died while running code cell 2" in err
    failed = tmp_path / "r" / ".failed" / "2025-06"
    run = json.loads((failed / "run.json").read_text())
    assert run["status"] == "failed" and "the kernel died" in run["error"]
    assert any("Kernel died" in line for line in run["log"])        # papermill's own log line, kept, not printed
    assert not any((tmp_path / "r" / ".staging").iterdir())


def test_a_broken_template_is_a_one_line_run_error(tmp_path, tiny, monkeypatch, capsys):
    from clvlib.paths import TEMPLATES_DIR
    from clvlib.report import render

    broken = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, broken)
    page = broken / "clv" / "index.html.j2"
    page.write_text(page.read_text() + "\n{% block oops %}{{ resources.clv.company | e }\n")
    monkeypatch.setattr(render, "TEMPLATES_DIR", broken)
    code, _, err = cli_run(monkeypatch, capsys, tmp_path / "r", tiny, "--period", "2025-06")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "rendering 01_data_quality.ipynb as HTML failed: TemplateSyntaxError" in err
    run = json.loads((tmp_path / "r" / ".failed" / "2025-06" / "run.json").read_text())
    assert "Traceback" in run["traceback"] and "TemplateSyntaxError" in run["traceback"]
    assert not (tmp_path / "r" / "2025-06").exists()


SLOW_NB = ("import os, pathlib, time\n"
           "pathlib.Path(out_dir, 'kernel.pid').write_text(str(os.getpid()))\n"
           "time.sleep(120)")


@pytest.mark.parametrize("signame, code", [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_stops_the_run_in_one_line_and_removes_its_staging(tmp_path, tiny, signame, code):
    import os
    import signal
    import time

    make_nb(tiny / "01_data_quality.ipynb", SLOW_NB)
    reports = tmp_path / "r"
    script = ("import functools, sys\nfrom pathlib import Path\nfrom clvlib import cli, run\n"
              f"run.run_period = functools.partial(run.run_period, reports_dir=Path({str(reports)!r}), "
              f"notebooks_dir=Path({str(tiny)!r}))\n"
              "sys.exit(cli.main(['run', '--period', '2025-06']))\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    def kernel_pid():            # the notebook writes it: wait until it is there *and* written
        text = "".join(p.read_text() for p in reports.glob(".staging/*/kernel.pid"))
        return int(text) if text.strip().isdigit() else None

    deadline = time.monotonic() + 60
    while kernel_pid() is None and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    kernel = kernel_pid()
    if kernel is None:
        proc.kill()
        pytest.fail(f"the notebook did not start within 60 s: {proc.communicate()}")
    proc.send_signal(getattr(signal, signame))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert err.count("\n") == 1 and err.startswith(f"clvlib: interrupted by {signame} — the run of 2025-06 was "
                                                    "stopped and its staging folder removed")
    assert list((reports / ".staging").iterdir()) == [] and not (reports / "2025-06").exists()
    assert not Path(f"/proc/{kernel}").exists()                   # the kernel was stopped (and reaped)
    with pytest.raises(ProcessLookupError):
        os.kill(kernel, 0)


def test_staging_left_by_a_dead_run_is_removed_by_the_next(tmp_path, tiny):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    reports = tmp_path / "r"
    try:
        left = [reports / ".staging" / f"2025-06-{dead.pid}", reports / ".staging" / f"2024-01-{dead.pid}",
                reports / f".old-2025-05-{dead.pid}-123"]
        kept = reports / ".staging" / f"2025-07-{alive.pid}"
        for d in left + [kept]:
            (d / "data").mkdir(parents=True)
        lines = []
        run_mod.run_period("2025-06", DEFAULT_PARAMS, reports_dir=reports, notebooks_dir=tiny, log=lines.append)
        assert not any(d.exists() for d in left) and kept.exists()
        assert sum(f"left by run {dead.pid}, which did not finish" in line for line in lines) == 3
    finally:
        alive.kill()
        alive.wait()


def test_a_second_run_of_the_same_period_exits_75_naming_the_first(tmp_path, tiny, monkeypatch, capsys):
    import os

    reports = tmp_path / "r"
    with run_mod.period_lock(reports, "2025-06") as lock:
        assert lock == reports / ".locks" / "2025-06.lock" and lock.read_text().strip() == str(os.getpid())
        code, _, err = cli_run(monkeypatch, capsys, reports, tiny, "--period", "2025-06")
        assert code == 75 and err.count("\n") == 1
        assert f"another run of 2025-06 is in progress (pid {os.getpid()}, lock {lock}); wait for it" in err
        code, _, err = cli_run(monkeypatch, capsys, reports, tiny, "--period", "2025-06", "--wait", "0.5")
        assert code == 75 and "after waiting 0.5 s" in err
        # another month is not blocked
        REAL_RUN_PERIOD("2025-07", DEFAULT_PARAMS, reports_dir=reports, notebooks_dir=tiny, log=lambda *_: None)
    assert not (reports / "2025-06").exists() and (reports / "2025-07" / "index.html").exists()


def test_a_second_run_can_wait_for_the_first(tmp_path, tiny):
    import threading

    reports = tmp_path / "r"
    held, release = threading.Event(), threading.Event()

    def first():
        with run_mod.period_lock(reports, "2025-06"):
            held.set()
            release.wait(30)

    t = threading.Thread(target=first)
    t.start()
    held.wait(10)
    lines = []
    threading.Timer(1.0, release.set).start()
    res = run_mod.run_period("2025-06", DEFAULT_PARAMS, reports_dir=reports, notebooks_dir=tiny, log=lines.append,
                             wait=60)
    t.join()
    assert (res.path / "index.html").exists()
    assert any(line.startswith("waiting up to 60 s for the run of 2025-06 by pid") for line in lines)
