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
    assert set(run["timings"]) == {nb.stem for nb in run_mod.notebooks(NOTEBOOKS_DIR)}
    for table, c in run["inputs"].items():
        assert c["rows_read"] == c["rows_accepted"] + c["rows_quarantined"], table
        for f in c["files"]:
            assert len(f["sha256"]) == 64
    assert run["inputs"]["orders"]["rows_quarantined"] > 0                # the planted defects
    q = pd.read_csv(published.path / "data" / "quarantine.csv")
    assert set(q.columns) >= {"table", "source_file", "source_row", "column", "value", "reason"}
    assert (published.path.parent / "index.html").exists()


def test_rerun_reproduces_the_same_numbers(published, tmp_path):
    again = run_mod.run_period(PERIOD, DEFAULT_PARAMS, reports_dir=tmp_path / "again", log=lambda *_: None)
    for f in sorted((published.path / "data").glob("*.parquet")):
        a, b = pd.read_parquet(f), pd.read_parquet(again.path / "data" / f.name)
        pd.testing.assert_frame_equal(a, b, obj=f.name)
    assert (published.path / "data" / "quarantine.csv").read_bytes() == \
        (again.path / "data" / "quarantine.csv").read_bytes()
