"""One period of the workbook: execute the notebooks with Papermill, render them, publish atomically.

``run_period("2026-10")``:

1. validates the params and the period, builds the demo data if params ask for it;
2. builds every stage the notebooks read (``clvlib.stages``) once, in this process, in dependency
   order, in a thread, into a private staging folder — checking the intake first;
3. meanwhile executes ``notebooks/NN_*.ipynb`` (``00_summary`` last) with Papermill, each as soon as the
   stages it reads (``stages_needed``) are built, ``report.parallel_notebooks`` at a time, each worker
   keeping one kernel for its notebooks (``clvlib.kernels``), injecting ``period``, ``as_of``,
   ``params_path`` and ``out_dir``;
4. renders each executed notebook to HTML without code (``clvlib.report.render``) — the summary
   becomes the period's ``index.html`` —, writes the private rep statements and the payroll export
   (``clvlib.report.statements.publish``) and ``run.json``;
5. swaps the staging folder into ``reports/<period>/`` and refreshes ``reports/index.html``.

A failing notebook stops the run with a ``RunError`` naming the notebook and the cell; the last good
report of the period stays in place and the failed attempt is kept in ``reports/.failed/<period>/``
for inspection. Re-running a period with the same inputs reproduces the same numbers.

Nothing fails silently or messily, whatever fails (each is one line on the command line):

* a ``DataError`` or ``ParamsError`` raised inside a notebook (a missing file, say) is raised again as
  that class with its own message; right after the intake stage the runner checks that the intake can
  be reported on (``check_intake``: accepted rows in every required table, booked orders on or before
  the as-of date) before any notebook runs; a stage's own error is raised as it is;
* a kernel that dies (killed, out of memory, ``os._exit``), a template that cannot be rendered or any
  other failure becomes a ``RunError`` (the traceback, if any, goes to ``run.json`` of the failed attempt);
* SIGINT (Ctrl-C) or SIGTERM stops the notebook's kernel, removes the staging folder and raises
  ``Interrupted`` (exit 130 / 143); signals wait while the finished period is being swapped in;
  staging folders left by runs that were killed outright (their process is gone) are removed by the
  next run;
* one run per period at a time: ``reports/.locks/<period>.lock`` (``fcntl.flock``, released by the
  operating system however the process ends); a second run waits up to ``wait`` seconds, then raises
  ``RunLockedError`` naming the other run's pid.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import platform
import re
import shutil
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from clvlib import __version__, contract, params as params_mod
from clvlib.errors import ClvError, DataError, Interrupted, ParamsError, RunError, RunLockedError
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


#: exceptions raised inside a notebook that mean "bad settings or unusable data" (exit 2), not a bug
_USER_ERRORS = {"DataError": DataError, "ParamsError": ParamsError}


def _first_line(e) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ""


def _dead_cell(nb_path: Path) -> int | None:
    """1-based number of the code cell that was running when the kernel died: the last one papermill
    started (it marks even that one "completed")."""
    import nbformat

    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception:  # noqa: BLE001 - a half-written notebook: the cell is then unknown
        return None
    n, last = 0, None
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code" or "papermill-error-cell-tag" in tags:
            continue
        n += "injected-parameters" not in tags
        if cell.metadata.get("papermill", {}).get("start_time"):
            last = n
    return last


class _Stop:
    """SIGINT and SIGTERM during a run raise ``Interrupted`` in the main thread, except inside
    ``deferred()`` (publishing, cleaning up), where the signal waits until the block is done.

    Papermill runs in a worker thread (``_execute``), so nbclient cannot install its own handlers
    (asyncio allows them only in the main thread) and ours stay in force for the whole run.
    """

    def __init__(self):
        self.old: dict = {}
        self.defer = 0
        self.pending: int | None = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.old.items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame):
        if self.defer:
            self.pending = signum
            return
        raise Interrupted(signal.Signals(signum).name, signum=signum)

    @contextlib.contextmanager
    def deferred(self):
        self.defer += 1
        try:
            yield
        finally:
            self.defer -= 1
        if not self.defer and self.pending is not None:
            signum, self.pending = self.pending, None
            raise Interrupted(signal.Signals(signum).name, signum=signum)


def _kill_kernels():
    """Kill this process's kernels: the child processes that lead their own process group (jupyter_client
    starts each kernel in a new session), with everything the kernel started."""
    me = os.getpid()
    for task in Path(f"/proc/{me}/task").glob("*/children"):
        for pid in map(int, task.read_text().split()):
            with contextlib.suppress(OSError):
                if os.getpgid(pid) == pid:
                    os.killpg(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)          # reap it: not every init reaps orphans (containers)


class _KeptLog(logging.Handler):
    """Papermill's and nbclient's log lines during a run (e.g. "Kernel died while waiting for execute
    reply."), kept for ``run.json`` instead of being printed next to the one-line error."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"{record.levelname.lower()}: {record.getMessage()}")


@contextlib.contextmanager
def _papermill_log(kept: _KeptLog):
    logger = logging.getLogger("papermill")
    propagate = logger.propagate
    logger.addHandler(kept)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(kept)
        logger.propagate = propagate


def _papermill(nb: Path, out: Path, parameters: dict, cwd: Path, outcome: dict, engine: str | None = None):
    import papermill as pm

    try:
        pm.execute_notebook(str(nb), str(out), parameters=parameters, kernel_name="python3", cwd=str(cwd),
                            progress_bar=False, log_output=False, report_mode=False,
                            stdout_file=None, stderr_file=None, engine_name=engine,
                            # stop the kernel at once when done (a graceful shutdown waits ~3 s), and
                            # keep the kernel's start-up chatter out of a cron job's mail
                            shutdown_kernel="immediate", extra_arguments=["--IPKernelApp.log_level=ERROR"])
    except BaseException as e:  # noqa: BLE001 - handed to the main thread, which decides
        outcome["error"] = e


def _raise_for(nb: Path, out: Path, outcome: dict):
    """Whatever went wrong running ``nb`` (``outcome["error"]``), as one clvlib error."""
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    e = outcome.get("error")
    if e is None:
        return
    if isinstance(e, PapermillExecutionError):
        evalue = _first_line(e.evalue)
        if e.ename in _USER_ERRORS:
            raise _USER_ERRORS[e.ename](evalue) from None
        cell = _code_cell_number(out, e.cell_index)
        raise RunError(f"notebook {nb.name} failed in code cell {cell}: {e.ename}: {evalue}",
                       notebook=nb.name, cell=cell, log=out) from None
    if isinstance(e, DeadKernelError):
        cell = _dead_cell(out)
        where = f" while running code cell {cell}" if cell else ""
        raise RunError(f"notebook {nb.name}: the kernel died{where} (it was killed — out of memory? — or "
                       "exited)", notebook=nb.name, cell=cell, log=out if out.exists() else None) from None
    if isinstance(e, Exception):
        raise RunError(f"notebook {nb.name} could not be run: {type(e).__name__}: {_first_line(e)}",
                       notebook=nb.name, log=out if out.exists() else None) from e
    raise e


def _move_aside(path: Path, reports_dir: Path, tag: str) -> Path | None:
    if not path.exists():
        return None
    aside = reports_dir / f".{tag}-{path.name}-{os.getpid()}-{time.time_ns()}"
    path.rename(aside)
    return aside


# ------------------------------------------------------------------ one run per period; leftovers of dead runs
def _lock_holder(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def period_lock(reports_dir: Path, period: str, wait: float = 0, log=print):
    """Hold ``reports/.locks/<period>.lock`` (``fcntl.flock``) for the duration of a run.

    When another run holds it, wait up to ``wait`` seconds (0: not at all), then raise
    ``RunLockedError`` naming that run's pid. The lock file holds the pid of the run that has it; the
    operating system releases the lock however the process ends, so a killed run never blocks the next.
    """
    locks = reports_dir / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    path = locks / f"{period}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)       # not inherited by the kernels (O_CLOEXEC)
    try:
        deadline, told = time.monotonic() + max(float(wait or 0), 0.0), False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pid = _lock_holder(path)
                who = f"pid {pid}" if pid else "pid unknown"
                if time.monotonic() >= deadline:
                    waited = f" after waiting {wait:g} s" if wait else ""
                    hint = "" if wait else "; wait for it to finish, or pass --wait SECONDS"
                    raise RunLockedError(f"another run of {period} is in progress ({who}, lock {path}){waited}{hint}",
                                         period=period, pid=pid) from None
                if not told:
                    log(f"waiting up to {wait:g} s for the run of {period} by {who} ...")
                    told = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)                                         # releases the lock


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:                                  # someone else's process
        return True
    return True


def _pid_in(name: str, field: int) -> int | None:
    try:
        return int(name.split("-")[field])
    except (ValueError, IndexError):
        return None


def remove_stale(reports_dir: Path, log=print) -> list[Path]:
    """Remove what runs that were killed outright left behind: staging folders
    (``.staging/<period>-<pid>``) and folders moved aside while publishing (``.old-…-<pid>-<ns>``,
    ``.trash-…``) whose process is no longer alive on this machine."""
    found = [(d, _pid_in(d.name, -1)) for d in (reports_dir / ".staging").glob("*-*")]
    found += [(d, _pid_in(d.name, -2)) for pat in (".old-*", ".trash-*") for d in reports_dir.glob(pat)]
    removed = []
    for d, pid in found:
        if d.is_dir() and pid and pid != os.getpid() and not _alive(pid):
            shutil.rmtree(d, ignore_errors=True)
            log(f"removed {d}: left by run {pid}, which did not finish")
            removed.append(d)
    return removed


# ------------------------------------------------------------------ can the intake be reported on?
def _files(counts: dict, table: str) -> str:
    names = [str(f["file"]) for f in counts.get(table, {}).get("files", [])]
    if not names:
        return f"the {table} table"
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def intake_problem(counts: dict, orders: pd.DataFrame, as_of) -> str | None:
    """Why the intake cannot be reported on, or None: a required table without accepted rows, no order
    that counts as booked, or none on or before ``as_of``. ``orders`` needs ``status`` and ``order_date``."""
    for name, table in contract.TABLES.items():
        c = counts.get(name)
        if table.required and c is not None and c["rows_accepted"] == 0:
            what = "booked orders" if name == "orders" else f"rows of {name}"
            return (f"no {what} accepted in {_files(counts, name)}: see quarantine ({c['rows_read']:,} rows read, "
                    f"{c['rows_quarantined']:,} set aside)")
    booked = orders[orders["status"] == "booked"]
    if booked.empty:
        states = ", ".join(f"{k} {v:,}" for k, v in orders["status"].value_counts().items())
        return (f"no booked orders accepted in {_files(counts, 'orders')}: none of the {len(orders):,} accepted orders "
                f"counts as booked ({states}); check `values.status` in the sources file (which stages or "
                "document states are won/closed)")
    as_of = pd.Timestamp(as_of)
    if not (booked["order_date"] <= as_of).any():
        return (f"no booked orders on or before {as_of:%Y-%m-%d} in {_files(counts, 'orders')} (the first is dated "
                f"{booked['order_date'].min():%Y-%m-%d}): choose a later period")
    return None


def check_intake(data_dir: Path, as_of) -> None:
    """Raise ``DataError`` when the intake written to ``data_dir`` (``intake.json``, ``orders.parquet``)
    cannot be reported on (see ``intake_problem``)."""
    counts = json.loads((data_dir / "intake.json").read_text())["counts"]
    orders_file = data_dir / "orders.parquet"
    orders = (pd.read_parquet(orders_file, columns=["status", "order_date"]) if orders_file.exists()
              else pd.DataFrame({"status": pd.Series(dtype=object), "order_date": pd.Series(dtype="datetime64[ns]")}))
    problem = intake_problem(counts, orders, as_of)
    if problem:
        raise DataError(problem)


# ------------------------------------------------------------------ the run
def run_period(period: str = "latest", params_path: str | Path | None = None, *,
               reports_dir: Path = REPORTS_DIR, notebooks_dir: Path = NOTEBOOKS_DIR,
               log=print, today: dt.date | None = None, wait: float = 0) -> RunResult:
    """Run the whole workbook for one month and publish ``reports/<period>/``.

    ``wait``: seconds to wait for another run of the same period to finish (0: fail at once with
    ``RunLockedError``). Raises ``ParamsError`` / ``DataError`` (bad settings, unusable data),
    ``RunError`` (a notebook, the kernel, rendering or publishing failed) or ``Interrupted``.
    """
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
    with _Stop() as stop, period_lock(reports_dir, period, wait, log):
        remove_stale(reports_dir, log)
        staging = reports_dir / ".staging" / f"{period}-{os.getpid()}"
        try:
            run = _build(nbs, staging, params, params_path, period, as_of, started, notebooks_dir, log, stop)
        except Interrupted as e:
            with stop.deferred():
                shutil.rmtree(staging, ignore_errors=True)
            raise Interrupted(f"{e} — the run of {period} was stopped and its staging folder removed; nothing "
                              f"was published (the last good report of {period}, if any, is unchanged)",
                              signum=e.signum) from None
        except ClvError as e:
            with stop.deferred():
                _keep_failed(e, staging, reports_dir, period, t0)
        with stop.deferred():                # a signal now waits until the new report is in place
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


def _build(nbs, staging: Path, params, params_path: Path, period: str, as_of, started, notebooks_dir: Path, log,
           stop: _Stop) -> dict:
    """Execute and render every notebook into ``staging``; returns ``run`` (for run.json). Any failure
    is raised as a clvlib error (a traceback, if there is one, is kept in the run record)."""
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "notebooks").mkdir(parents=True)
    (staging / "data").mkdir()
    parameters = {"period": period, "as_of": str(as_of.date()), "params_path": str(params_path),
                  "out_dir": str(staging)}
    run = {"period": period, "as_of": str(as_of.date()), "status": "running", "started": started.isoformat(),
           "params_file": str(params_path), "params": params, "params_sha256": params.fingerprint(),
           "versions": _versions(), "stages": {}, "timings": {}, "inputs": {}}
    from clvlib.report.i18n import Fmt, Translator

    t, fmt = Translator(params["language"]), Fmt(params["language"], params["reporting_currency"])
    kept = _KeptLog()
    try:
        wanted = sorted({n for nb in nbs for n in stages_needed(nb)} | set(STATEMENT_STAGES))
        builder = _StageBuilder(staging, params_path, period, as_of, run, log, wanted if _has_pay(nbs) else
                                sorted({n for nb in nbs for n in stages_needed(nb)}))
        builder.start()
        with _papermill_log(kept):
            _execute_all(nbs, staging, parameters, notebooks_dir, stop, params["report"]["parallel_notebooks"],
                         run, log, builder)
        _render_all(nbs, staging, params, t, fmt, period, as_of, run)
        if _has_pay(nbs):
            s0 = time.perf_counter()
            from clvlib.report.statements import publish

            run["statements"] = publish(staging, params, as_of=as_of)      # private pages and payroll, not linked
            run["timings"]["statements"] = {"render_s": round(time.perf_counter() - s0, 2)}
        run["status"] = "ok"
        return run
    except ClvError as e:
        e.run = run
        raise
    except Exception as e:  # noqa: BLE001 - whatever else fails is one line, never a traceback
        err = RunError(f"the run of {period} failed: {type(e).__name__}: {_first_line(e)}")
        err.run = run
        raise err from e
    finally:
        run["log"] = kept.lines


#: the stages the rep statements and the payroll export read
STATEMENT_STAGES = ("payouts", "kpis", "customer_value", "history")


def _has_pay(nbs) -> bool:
    """True when the workbook reports pay (a notebook reads the payouts stage): then the run also writes
    the rep statements and the payroll export."""
    return any("payouts" in stages_needed(nb) for nb in nbs)


STAGE_CALL = re.compile(r"""\.stage\(\s*["'](\w+)["']""")
VIEW_STAGES = {"orders(": "intake", "table(": "intake", "with_names(": "intake", "credit(": "credit"}


def stages_needed(nb: Path) -> list[str]:
    """The stages a notebook reads (``wb.stage("...")`` calls and the table views), with what they need:
    the runner starts the notebook once these are built."""
    from clvlib import stages

    code = "\n".join(c.get("source", "") if isinstance(c.get("source"), str) else "".join(c.get("source", []))
                     for c in json.loads(nb.read_text(encoding="utf-8"))["cells"] if c.get("cell_type") == "code")
    names = set(STAGE_CALL.findall(code)) | {st for view, st in VIEW_STAGES.items() if f"wb.{view}" in code}
    return stages.order(sorted(n for n in names if n in stages.REGISTRY)) if names else []


class _StageBuilder(threading.Thread):
    """Builds every stage once, in dependency order, in the runner's process (the notebooks then only
    read ``data/``); a notebook waits for the stages it needs. The intake is checked first."""

    def __init__(self, staging: Path, params_path: Path, period: str, as_of, run: dict, log, names=None):
        super().__init__(name="stages", daemon=True)
        self.args = staging, params_path, period, as_of, run, log
        from clvlib import stages

        self.built = {name: threading.Event() for name in stages.order(names)}
        self.error: BaseException | None = None

    def run(self):
        from clvlib import stages
        from clvlib.workbook import Workbook

        staging, params_path, period, as_of, run, log = self.args
        try:
            wb = Workbook(period, str(as_of.date()), params_path, staging, charts=False)
            if self.built:
                log(f"stages: {', '.join(self.built)} ...")
            for name in self.built:
                s0 = time.perf_counter()
                wb.stage(name)
                run["stages"][name] = {"seconds": round(time.perf_counter() - s0, 2),
                                       "files": list(stages.get(name).files)}
                if name == "intake":
                    run["inputs"] = json.loads((staging / "data" / "intake.json").read_text())["counts"]
                    check_intake(staging / "data", as_of)
                self.built[name].set()
        except BaseException as e:  # noqa: BLE001 - handed to whoever waits for a stage
            self.error = e
        finally:
            for ev in self.built.values():
                ev.set()

    def wait_for(self, names):
        for n in names:
            self.built[n].wait()
            if self.error is not None:
                raise self.error


def _execute_all(nbs, staging: Path, parameters: dict, cwd: Path, stop: _Stop, workers: int, run: dict, log,
                 builder: _StageBuilder):
    """Execute the notebooks, ``workers`` at a time, each as soon as the stages it reads are built. Each
    worker keeps one kernel for all its notebooks (``clvlib.kernels``). The first failure, in the
    notebooks' order, is raised once every started notebook has finished (a stage's failure first)."""
    import queue

    from clvlib import kernels

    engine = kernels.register()
    needs = {nb: stages_needed(nb) for nb in nbs}
    todo: queue.Queue = queue.Queue()
    for item in enumerate(nbs, 1):
        todo.put(item)
    outcomes = {nb: {} for nb in nbs}
    done = {nb: threading.Event() for nb in nbs}

    def worker():
        try:
            while True:
                try:
                    i, nb = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    builder.wait_for(needs[nb])
                    s0 = time.perf_counter()
                    log(f"[{i}/{len(nbs)}] {nb.stem} ...")
                    _papermill(nb, staging / "notebooks" / nb.name, parameters, cwd, outcomes[nb], engine)
                    run["timings"][nb.stem] = {"execute_s": round(time.perf_counter() - s0, 2)}
                except BaseException as e:  # noqa: BLE001 - a stage's failure, handed to the main thread
                    outcomes[nb]["stage_error"] = e
                finally:
                    done[nb].set()
        finally:
            kernels.shutdown_here()

    threads = [threading.Thread(target=worker, name=f"notebooks-{k}", daemon=True) for k in range(max(1, workers))]
    for th in threads:
        th.start()
    try:
        # a signal while waiting is only noted (stop.pending) and raised when the wait ends, within 0.1 s:
        # never inside threading's own code (Thread.is_alive, Event), where an exception can break it
        with stop.deferred():
            while (not all(ev.is_set() for ev in done.values()) or builder.is_alive()) and stop.pending is None:
                time.sleep(0.1)
    except Interrupted:
        with stop.deferred():
            deadline = time.monotonic() + 10
            while not all(ev.is_set() for ev in done.values()) and time.monotonic() < deadline:
                _kill_kernels()               # the workers then see a dead kernel and return
                time.sleep(0.2)
        raise
    if builder.error is not None:
        raise builder.error
    for nb in nbs:
        if "stage_error" in outcomes[nb]:
            raise outcomes[nb]["stage_error"]
        _raise_for(nb, staging / "notebooks" / nb.name, outcomes[nb])


def _keep_failed(e: ClvError, staging: Path, reports_dir: Path, period: str, t0: float):
    """Keep the failed attempt in ``reports/.failed/<period>/`` (run.json with the error and, for an
    unexpected failure, its traceback) and raise the error again as one line."""
    run = getattr(e, "run", None) or {"period": period, "status": "failed"}
    run["status"] = "failed"
    run["error"] = str(e)
    if e.__cause__ is not None:
        run["traceback"] = "".join(traceback.format_exception(e.__cause__))
    staging.mkdir(parents=True, exist_ok=True)
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
    if isinstance(e, RunError):
        raise RunError(f"{e} — the failed attempt is kept in {failed}; the last good report of {period} "
                       f"(if any) is unchanged", notebook=e.notebook, cell=e.cell) from None
    raise e.with_traceback(None) from None


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
        try:
            html = render_html(executed, lang=params["language"], title=title, company=params["company"],
                               period_label=period_label, nav=nav, footer=footer)
        except Exception as e:  # noqa: BLE001 - a broken template, a bad output: one line, details in run.json
            raise RunError(f"rendering {nb.name} as HTML failed: {type(e).__name__}: {_first_line(e)}",
                           notebook=nb.name) from e
        (staging / page_of(nb)).write_text(html, encoding="utf-8")
        run["timings"].setdefault(nb.stem, {})["render_s"] = round(time.perf_counter() - s0, 2)


def write_periods_index(reports_dir: Path, params) -> Path:
    """``reports/index.html``: every published period, newest first."""
    from clvlib.report.i18n import Fmt, Translator
    from clvlib.report.render import CSS
    from clvlib.report.tables import escape

    t, fmt = Translator(params["language"]), Fmt(params["language"], params["reporting_currency"])
    rows = []
    for d in sorted(reports_dir.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]"), reverse=True):
        rj = d / "run.json"
        if not (d / "index.html").exists() or not rj.exists():
            continue
        run = json.loads(rj.read_text())
        month = fmt.month(pd.Period(d.name, freq="M").to_timestamp())
        rows.append(f'<tr><td class="txt"><a href="{escape(d.name)}/index.html">{escape(month)}</a></td>'
                    f'<td class="txt">{escape(fmt.date(run["as_of"]))}</td>'
                    f'<td class="txt">{escape(str(run.get("finished", ""))[:16].replace("T", " "))}</td></tr>')
    body = (f'<table class="clv-table"><thead><tr><th class="txt">{escape(t("col.period"))}</th>'
            f'<th class="txt">{escape(t("col.as_of"))}</th>'
            f'<th class="txt">{escape(t("col.generated"))}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            if rows else f"<p>{escape(t('report.no_periods'))}</p>")
    lang = params["language"]
    page = (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f'<title>{escape(params["company"])} — {escape(t("report.periods_title"))}</title>'
            f'<style>{CSS}</style></head><body class="jp-Notebook"><header class="clv-header">'
            f'<div class="clv-brand">{escape(params["company"])}</div>'
            f'<div class="clv-period">{escape(t("report.periods_title"))}</div></header>'
            f'<p>{escape(t("report.periods_intro"))}</p>{body}</body></html>\n')
    out = reports_dir / "index.html"
    tmp = out.with_suffix(f".html.{os.getpid()}.tmp")          # runs of other periods may write it too
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
