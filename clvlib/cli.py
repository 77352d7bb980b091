"""The ``clvlib`` command: run | backfill | demo-data | check-data | contract | params | plans.

Errors a user can cause print one line (``clvlib: ...``) and exit non-zero, never a traceback:
exit 1 for a failed run (a notebook raised, the kernel died, rendering failed), 2 for bad settings,
data or usage, 75 when another run of the same period holds its lock, 130 / 143 when stopped by
SIGINT (Ctrl-C) / SIGTERM. Output cut short by a closed pipe (``clvlib check-data | head``) ends
quietly (exit 141, as for a program killed by SIGPIPE).

Every line printed is one line: values from the data (names, ids, file names) show newlines, escape
sequences and invisible characters as markers (``clvlib.safety.terminal_text``).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from clvlib import __version__
from clvlib.errors import ClvError, Interrupted, RunError, RunLockedError
from clvlib.paths import DEFAULT_PARAMS
from clvlib.safety import terminal_text

EXIT_LOCKED = 75          # EX_TEMPFAIL (sysexits.h): try again later
EXIT_BROKEN_PIPE = 141    # 128 + SIGPIPE


def _one_line(msg) -> str:
    """Leading line feeds are blank lines the caller asked for; anything else becomes one line."""
    text = str(msg)
    body = text.lstrip("\n")
    return "\n" * (len(text) - len(body)) + terminal_text(body)


def _quiet_stdout():
    """stdout's reader has gone (``| head``): send the rest to /dev/null so that Python's own flush at
    exit cannot fail again with a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _log(msg: str):
    """Progress and results on stdout; a reader that went away (``| head``) does not stop the work."""
    try:
        print(_one_line(msg), flush=True)
    except BrokenPipeError:
        _quiet_stdout()


def _fail(msg: str):
    print(f"clvlib: {_one_line(msg)}", file=sys.stderr, flush=True)


def cmd_run(a) -> int:
    from clvlib.run import run_period

    run_period(a.period, a.params, log=_log, wait=a.wait)
    return 0


def cmd_backfill(a) -> int:
    from clvlib.run import backfill

    backfill(a.start, a.end, a.params, log=_log, wait=a.wait)
    return 0


def cmd_demo(a) -> int:
    from clvlib import demo
    from clvlib.params import load
    from clvlib.sources.spec import load_sources

    out = Path(a.out) if a.out else load_sources(load(a.params).path("sources")).folder
    if a.if_missing and (out / "orders.csv").exists():
        return 0
    given = {"team": a.pilot_team, "switch": a.pilot_switch, "effect": a.pilot_effect}
    if a.no_pilot and any(v is not None for v in given.values()):
        raise ClvError("demo-data: --no-pilot cannot go with --pilot-team, --pilot-switch or --pilot-effect")
    pilot = None if a.no_pilot else {k: demo.DEMO_PILOT[k] if v is None else v for k, v in given.items()}
    _log(f"building the demo company ({a.customers:,} customers, seed {a.seed}) in {out} ...")
    demo.write(out, seed=a.seed, n_customers=a.customers, end=a.end, defects=not a.no_defects, pilot=pilot)
    _log(f"wrote {out}")
    return 0


def cmd_check(a) -> int:
    """Validate the inputs without running the workbook: counts per table, notes, repairs, top reasons.

    Exit 0 when the data can be used, 2 when it cannot (a required table with no accepted row, no order
    that counts as booked, or a fatal problem such as a missing file or column, or implausible FX rates
    — one line, no traceback). Every value intake changed is counted and named (rule, rows, an example);
    with ``--quarantine FILE`` the repairs are written beside it (``FILE`` stem + ``-repairs.csv``).
    """
    from clvlib import contract, quality
    from clvlib.params import load
    from clvlib.sources import load_inputs
    from clvlib.workbook import ensure_demo_data

    params = load(a.params)
    ensure_demo_data(params)
    inp = load_inputs(params)
    counts = quality.counts_frame(inp.counts)
    w = max(len(x) for x in counts["table"])
    _log(f"{'table':<{w}}  {'read':>10}  {'accepted':>10}  {'set aside':>10}  {'repaired':>10}  files")
    for r in counts.itertuples():
        note = r.files if r.provided else "(not provided)"
        if r.rows_added:
            note += f" (+{r.rows_added:,} added on load)"
        _log(f"{r.table:<{w}}  {r.rows_read:>10,}  {r.rows_accepted:>10,}  {r.rows_quarantined:>10,}  "
             f"{r.rows_repaired:>10,}  {note}")
    for n in inp.notes:
        if getattr(n, "key", None) != "repaired":          # listed below, with the other repairs
            _log(f"note: {n}")
    fixed = quality.repair_summary(inp.repairs)
    if len(fixed):
        _log(f"\nvalues repaired — used, but not as given ({len(inp.repairs):,} values in all):")
        for r in fixed.itertuples():
            _log(f"  {r.rows:>9,}  {r.table}.{r.column}: {r.example}  (e.g. {r.source_file} row {r.source_row})")
    q = inp.quarantine
    reasons = quality.top_reasons(q, getattr(a, "top", 10))
    if len(reasons):
        _log(f"\ntop reasons rows were set aside ({len(q):,} rows in all):")
        for r in reasons.itertuples():
            first = q[(q["table"] == r.table) & (q["rule"] == r.rule)].iloc[0]
            where = f"{first['source_file']} row {first['source_row']}"
            _log(f"  {r.rows:>9,}  {r.table}: {r.example}  (e.g. {where})")
    if a.quarantine:
        from clvlib.safety import safe_csv

        safe_csv(q, a.quarantine)
        repairs_file = getattr(a, "repairs", None) or Path(a.quarantine).with_name(Path(a.quarantine).stem
                                                                                   + "-repairs.csv")
        safe_csv(inp.repairs, repairs_file)
        _log(f"\nquarantine written to {a.quarantine}, repairs to {repairs_file}")
    problems = [f"no accepted rows in {t}" for t, c in inp.counts.items()
                if contract.TABLES[t].required and c["rows_accepted"] == 0]
    orders = inp.tables["orders"]
    if len(orders) and not (orders["status"] == "booked").any():
        problems.append("no order counts as booked (check `values.status` in the sources file: which stages "
                        "or document states are won/closed)")
    if problems:
        _log(f"\nthe data cannot be used: {'; '.join(problems)}")
        return 2
    _log(f"\nthe data can be used ({inp.seconds:.1f} s)")
    return 0


def cmd_contract(a) -> int:
    from clvlib import contract

    print(contract.markdown())
    return 0


def cmd_params(a) -> int:
    from clvlib.params import describe, load

    if a.check:
        load(a.params)
        _log(f"{a.params}: ok")
        return 0
    for key, default, help_ in describe():
        print(f"{key:<28} {default:<22} {help_}")
    return 0


def cmd_plans(a) -> int:
    """The plan language (every key, type, default, meaning), or ``--check`` the plan files."""
    from clvlib.params import load
    from clvlib.plans import describe_plans, load_plan, plans_from_params

    if a.check:
        params = load(a.params)
        if a.file:
            plans = {p.name: p for p in (load_plan(f, params["tiers"]["labels"]) for f in a.file)}
        else:
            plans = plans_from_params(params)
        for name, plan in plans.items():
            base = " (today's plan: the baseline)" if name == params["pay"]["current_plan"] else ""
            _log(f"{plan.file}: ok — {getattr(plan.title, params['language'])}{base}")
        return 0
    for key, typ, default, meaning in describe_plans():
        if key.startswith("components[") and "]." not in key:
            _log(f"\n{key} ({typ}): {meaning}")
            continue
        short = key.split("].", 1)[1] if key.startswith("components[") else key
        _log(f"  {short:<34} {typ:<52} {default:<12} {meaning}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clvlib", description="CLV workbook for export sales teams")
    p.add_argument("--version", action="version", version=f"clvlib {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def with_params(sp):
        sp.add_argument("--params", default=str(DEFAULT_PARAMS), help="settings file (default: params/company.yaml)")
        return sp

    r = with_params(sub.add_parser("run", help="run the workbook for one month and publish reports/<period>/"))
    r.add_argument("--period", default="latest",
                   help="YYYY-MM, 'previous' (last calendar month) or 'latest' (default: last complete month with data)")
    r.set_defaults(func=cmd_run)
    b = with_params(sub.add_parser("backfill", help="run every month in a range"))
    b.add_argument("--from", dest="start", required=True, help="first month, YYYY-MM")
    b.add_argument("--to", dest="end", required=True, help="last month, YYYY-MM")
    b.set_defaults(func=cmd_backfill)
    for sp in (r, b):
        sp.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                        help="when another run of the same month is in progress, wait up to this long for it "
                             "(default 0: exit 75 at once, naming its pid)")
    d = with_params(sub.add_parser("demo-data", help="generate the demo export company"))
    d.add_argument("--out", help="folder (default: the folder of the params' sources file)")
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--customers", type=int, default=3000, help="size; 1000000 for benchmarks")
    d.add_argument("--end", default="2026-10-31", help="last day of the history")
    d.add_argument("--no-defects", action="store_true", help="leave out the planted bad rows")
    d.add_argument("--if-missing", action="store_true", help="do nothing when the data exists")
    d.add_argument("--pilot-team", help="the team whose customers retain better from the switch on "
                                        "(default: Europe)")
    d.add_argument("--pilot-switch", metavar="YYYY-MM",
                   help="first month of the pilot (default: 10 months before the end, 2026-01 for the default end)")
    d.add_argument("--pilot-effect", type=float, metavar="SHARE",
                   help="share of the drop-out probability the pilot removes, in [0, 1) (default: 0.5)")
    d.add_argument("--no-pilot", action="store_true", help="a company without a pilot")
    d.set_defaults(func=cmd_demo)
    c = with_params(sub.add_parser("check-data", help="validate the inputs without running the workbook"))
    c.add_argument("--quarantine", help="also write the quarantined rows to this CSV")
    c.set_defaults(func=cmd_check)
    k = sub.add_parser("contract", help="print the data contract as Markdown")
    k.add_argument("--markdown", action="store_true", help="(default) Markdown output")
    k.set_defaults(func=cmd_contract)
    pr = with_params(sub.add_parser("params", help="list every setting with its default, or --check a file"))
    pr.add_argument("--check", action="store_true")
    pr.set_defaults(func=cmd_params)
    pl = with_params(sub.add_parser("plans", help="list the pay-plan language, or --check the plans in pay.plans"))
    pl.add_argument("--check", action="store_true", help="validate the plan files (all of pay.plans, or --file)")
    pl.add_argument("--file", action="append", help="a plan file to check (repeatable)")
    pl.set_defaults(func=cmd_plans)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except RunLockedError as e:
        _fail(e)
        return EXIT_LOCKED
    except RunError as e:
        _fail(e)
        return 1
    except ClvError as e:
        _fail(e)
        return 2
    except Interrupted as e:
        _fail(f"interrupted by {e}")
        return e.exit_code
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
