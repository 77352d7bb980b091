"""One period of the workbook: execute the notebooks with Papermill, render them, publish atomically.

``run_period("2026-10")``:

1. validates the params and the period, builds the demo data if params ask for it;
2. executes ``notebooks/NN_*.ipynb`` in order (``00_summary`` last, as it reads every stage) into a
   private staging folder, injecting ``period``, ``as_of``, ``params_path`` and ``out_dir``;
3. renders each executed notebook to HTML without code (``clvlib.report.render``) — the summary
   becomes the period's ``index.html`` — and writes ``run.json``;
4. swaps the staging folder into ``reports/<period>/`` and refreshes ``reports/index.html``.

A failing notebook stops the run with a ``RunError`` naming the notebook and the cell; the last good
report of the period stays in place and the failed attempt is kept in ``reports/.failed/<period>/``
for inspection. Re-running a period with the same inputs reproduces the same numbers.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from clvlib import __version__, params as params_mod
from clvlib.errors import ClvError, ParamsError, RunError
from clvlib.paths import DEFAULT_PARAMS, NOTEBOOKS_DIR, REPORTS_DIR
from clvlib.workbook import ensure_demo_data, parse_period, period_end

SUMMARY = "00_summary"
PACKAGES = ("pandas", "numpy", "scipy", "scikit-learn", "pyarrow", "pandera", "altair", "vl-convert-python",
            "papermill", "nbconvert", "nbformat", "ipykernel")


@dataclass
class RunResult:
    period: str
    as_of: str
    path: Path
    seconds: float
    run: dict


def notebooks(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The workbook's notebooks in execution order: 01, 02, ... then 00_summary."""
    nbs = sorted(p for p in notebooks_dir.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in nbs if p.stem != SUMMARY] + [p for p in nbs if p.stem == SUMMARY]


def section_of(nb: Path) -> str:
    return nb.stem.split("_", 1)[1] if "_" in nb.stem else nb.stem


def page_of(nb: Path) -> str:
    return "index.html" if nb.stem == SUMMARY else f"{nb.stem}.html"


def latest_data_month(params) -> pd.Period | None:
    """Month of the newest order date in the orders source (read cheaply: that column only)."""
    from clvlib.sources import newest_date
    from clvlib.sources.spec import load_sources

    newest = newest_date(load_sources(params.path("sources")).tables["orders"])
    return pd.Period(newest, freq="M") if newest is not None else None


def resolve_period(spec: str, params, today: dt.date | None = None) -> str:
    """``YYYY-MM`` as given; ``previous`` = last calendar month; ``latest`` = last calendar month, or
    the data's last month when the data ends earlier (the demo company ends in October 2026)."""
    today = pd.Timestamp(today or dt.date.today())
    previous = pd.Period(today, freq="M") - 1
    if spec == "previous":
        return str(previous)
    if spec == "latest":
        ensure_demo_data(params)
        data_month = latest_data_month(params)
        return str(min(previous, data_month) if data_month is not None else previous)
    parse_period(spec)
    return spec


def _versions() -> dict:
    out = {"python": platform.python_version(), "clvlib": __version__}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def _code_cell_number(nb_path: Path, cell_index: int) -> int | None:
    """1-based number of the failing cell among the notebook's own code cells (injected cell excluded)."""
    import nbformat

    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception:  # the executed notebook may be unreadable if the kernel died mid-write
        return None
    cells = [c for c in nb.cells if "papermill-error-cell-tag" not in c.metadata.get("tags", [])]
    n = 0
    for i, cell in enumerate(cells):
        if cell.cell_type == "code" and "injected-parameters" not in cell.metadata.get("tags", []):
            n += 1
        if i == cell_index:
            return n
    return None


def _execute(nb: Path, out: Path, parameters: dict, cwd: Path):
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        pm.execute_notebook(str(nb), str(out), parameters=parameters, kernel_name="python3", cwd=str(cwd),
                            progress_bar=False, log_output=False, report_mode=False,
                            stdout_file=None, stderr_file=None,
                            # stop the kernel at once when done (a graceful shutdown waits ~3 s), and
                            # keep the kernel's start-up chatter out of a cron job's mail
                            shutdown_kernel="immediate", extra_arguments=["--IPKernelApp.log_level=ERROR"])
    except PapermillExecutionError as e:
        cell = _code_cell_number(out, e.cell_index)
        evalue = str(e.evalue).strip().splitlines()[0] if str(e.evalue).strip() else ""
        raise RunError(f"notebook {nb.name} failed in code cell {cell}: {e.ename}: {evalue}",
                       notebook=nb.name, cell=cell, log=out) from None


def _move_aside(path: Path, reports_dir: Path, tag: str) -> Path | None:
    if not path.exists():
        return None
    aside = reports_dir / f".{tag}-{path.name}-{os.getpid()}-{time.time_ns()}"
    path.rename(aside)
    return aside


def run_period(period: str = "latest", params_path: str | Path | None = None, *,
               reports_dir: Path = REPORTS_DIR, notebooks_dir: Path = NOTEBOOKS_DIR,
               log=print, today: dt.date | None = None) -> RunResult:
    """Run the whole workbook for one month and publish ``reports/<period>/``."""
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.timezone.utc)
    params_path = Path(params_path or DEFAULT_PARAMS).resolve()
    params = params_mod.load(params_path)
    if ensure_demo_data(params):
        log("built the demo company (clvlib demo-data) into the sources folder")
    period = resolve_period(period, params, today)
    as_of = period_end(period)
    nbs = notebooks(notebooks_dir)
    if not nbs:
        raise RunError(f"no notebooks found in {notebooks_dir}")
    reports_dir.mkdir(parents=True, exist_ok=True)
    staging = reports_dir / ".staging" / f"{period}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "notebooks").mkdir(parents=True)
    (staging / "data").mkdir()
    parameters = {"period": period, "as_of": str(as_of.date()), "params_path": str(params_path),
                  "out_dir": str(staging)}
    run = {"period": period, "as_of": str(as_of.date()), "status": "running", "started": started.isoformat(),
           "params_file": str(params_path), "params": params, "params_sha256": params.fingerprint(),
           "versions": _versions(), "timings": {}, "inputs": {}}
    from clvlib.report.i18n import Fmt, Translator

    t, fmt = Translator(params["language"]), Fmt(params["language"], params["reporting_currency"])
    try:
        for i, nb in enumerate(nbs, 1):
            s0 = time.perf_counter()
            log(f"[{i}/{len(nbs)}] {nb.stem} ...")
            _execute(nb, staging / "notebooks" / nb.name, parameters, notebooks_dir)
            run["timings"][nb.stem] = {"execute_s": round(time.perf_counter() - s0, 2)}
        intake = staging / "data" / "intake.json"
        if intake.exists():
            run["inputs"] = json.loads(intake.read_text())["counts"]
        _render_all(nbs, staging, params, t, fmt, period, as_of, run)
        run["status"] = "ok"
    except ClvError as e:
        run["status"] = "failed"
        run["error"] = str(e)
        _write_run(staging, run, t0)
        failed = reports_dir / ".failed" / period
        failed.parent.mkdir(parents=True, exist_ok=True)
        aside = _move_aside(failed, reports_dir, "trash")
        staging.rename(failed)
        if aside:
            shutil.rmtree(aside, ignore_errors=True)
        if isinstance(e, RunError) and e.log:
            e.log = str(failed / "notebooks" / Path(e.log).name)
            raise RunError(f"{e} — the executed notebook is kept in {e.log}; the last good report of "
                           f"{period} (if any) is unchanged", notebook=e.notebook, cell=e.cell, log=e.log) from None
        raise
    _write_run(staging, run, t0)
    final = reports_dir / period
    aside = _move_aside(final, reports_dir, "old")
    staging.rename(final)
    if aside:
        shutil.rmtree(aside, ignore_errors=True)
    write_periods_index(reports_dir, params)
    seconds = time.perf_counter() - t0
    log(f"published {final / 'index.html'} in {seconds:.1f} s")
    return RunResult(period, str(as_of.date()), final, seconds, run)


def _write_run(staging: Path, run: dict, t0: float):
    run["finished"] = dt.datetime.now(dt.timezone.utc).isoformat()
    run["seconds"] = round(time.perf_counter() - t0, 2)
    (staging / "run.json").write_text(json.dumps(run, indent=2, default=str, ensure_ascii=False) + "\n")


def _render_all(nbs, staging: Path, params, t, fmt, period: str, as_of, run: dict):
    import nbformat

    from clvlib.report.render import render_html

    generated = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    period_label = t("report.period", month=fmt.month(as_of), date=fmt.date(as_of))
    footer = t("report.footer", version=__version__, generated=generated, period=period,
               currency=params["reporting_currency"])
    for nb in nbs:
        s0 = time.perf_counter()
        nav = [{"href": page_of(x), "label": t(f"section.{section_of(x)}") if t.has(f"section.{section_of(x)}")
                else section_of(x), "current": x == nb}
               for x in [n for n in nbs if n.stem == SUMMARY] + [n for n in nbs if n.stem != SUMMARY]]
        nav.append({"href": "../index.html", "label": t("report.all_periods"), "current": False})
        executed = nbformat.read(staging / "notebooks" / nb.name, as_version=4)
        title = f"{t('section.' + section_of(nb))} — {fmt.month(as_of)}"
        html = render_html(executed, lang=params["language"], title=title, company=params["company"],
                           period_label=period_label, nav=nav, footer=footer)
        (staging / page_of(nb)).write_text(html, encoding="utf-8")
        run["timings"].setdefault(nb.stem, {})["render_s"] = round(time.perf_counter() - s0, 2)


def write_periods_index(reports_dir: Path, params) -> Path:
    """``reports/index.html``: every published period, newest first."""
    import html as h

    from clvlib.report.i18n import Fmt, Translator
    from clvlib.report.render import CSS

    t, fmt = Translator(params["language"]), Fmt(params["language"], params["reporting_currency"])
    rows = []
    for d in sorted(reports_dir.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]"), reverse=True):
        rj = d / "run.json"
        if not (d / "index.html").exists() or not rj.exists():
            continue
        run = json.loads(rj.read_text())
        month = fmt.month(pd.Period(d.name, freq="M").to_timestamp())
        rows.append(f'<tr><td class="txt"><a href="{h.escape(d.name)}/index.html">{h.escape(month)}</a></td>'
                    f'<td class="txt">{h.escape(fmt.date(run["as_of"]))}</td>'
                    f'<td class="txt">{h.escape(str(run.get("finished", ""))[:16].replace("T", " "))}</td></tr>')
    body = (f'<table class="clv-table"><thead><tr><th class="txt">{h.escape(t("col.period"))}</th>'
            f'<th class="txt">{h.escape(t("col.as_of"))}</th>'
            f'<th class="txt">{h.escape(t("col.generated"))}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            if rows else f"<p>{h.escape(t('report.no_periods'))}</p>")
    lang = params["language"]
    page = (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f'<title>{h.escape(params["company"])} — {h.escape(t("report.periods_title"))}</title>'
            f'<style>{CSS}</style></head><body class="jp-Notebook"><header class="clv-header">'
            f'<div class="clv-brand">{h.escape(params["company"])}</div>'
            f'<div class="clv-period">{h.escape(t("report.periods_title"))}</div></header>'
            f'<p>{h.escape(t("report.periods_intro"))}</p>{body}</body></html>\n')
    out = reports_dir / "index.html"
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out


def backfill(start: str, end: str, params_path=None, *, log=print, **kw) -> list[RunResult]:
    """Run every month from ``start`` to ``end`` (inclusive), with progress and an ETA."""
    p0, p1 = parse_period(start), parse_period(end)
    if p1 < p0:
        raise ParamsError(f"backfill: --to {end} is before --from {start}")
    months = [str(p) for p in pd.period_range(p0, p1, freq="M")]
    results, t0 = [], time.perf_counter()
    for i, m in enumerate(months, 1):
        log(f"== {m} ({i}/{len(months)})")
        results.append(run_period(m, params_path, log=lambda s: log("   " + s), **kw))
        done = time.perf_counter() - t0
        left = done / i * (len(months) - i)
        log(f"   {i}/{len(months)} done, {done:.0f} s elapsed, about {left:.0f} s left")
    return results
