"""The per-customer RFM summary at 1M and 10M customers: where it can run, how long, how much memory.

For each size, the synthetic world of ``world.py`` (BG/NBD purchasing, about 6.2 orders per customer)
is written once to ``bench/data/rfm-<N>.parquet`` (customer_id int64, date, value), then each way of
summarising it runs in its own subprocess (wall time inside the child; peak RSS from ``os.wait4``):

* ``pandas``: read the Parquet file into pandas, then :func:`clvlib.rfm.rfm_summary` (numpy);
* ``duckdb``: :func:`clvlib.rfm_sql.rfm_summary_sql` on the file — DuckDB scans it and aggregates, only
  one row per customer comes back to Python;
* ``postgres`` (1M only, ``--postgres``): the same SQL pushed to a PostgreSQL holding the orders (started
  from tests/pg_support.py; loading the rows by COPY is timed apart, it is not part of the summary).

The summaries are compared (largest difference of any column) so the figures are for equal results.
Writes ``bench/results/rfm_sql.json`` and prints a table. Run: ``make -C bench rfm-sql``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA, RESULTS = HERE / "data", HERE / "results"
AS_OF, CAL = "2024-12-30", "2024-06-30"


def ensure_parquet(n: int, seed: int = 2024) -> Path:
    """The world of ``n`` customers as a Parquet file (generated once, in a subprocess)."""
    out = DATA / f"rfm-{n}.parquet"
    if not out.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        code = ("import sys, pandas as pd, pyarrow as pa, pyarrow.parquet as pq; sys.path.insert(0, %r); "
                "from world import make_world; c, d, v = make_world(%d, %d); "
                "pq.write_table(pa.table({'customer_id': c, 'date': d.astype('datetime64[ms]'), 'value': v}), "
                "%r, row_group_size=1 << 20)" % (str(HERE), n, seed, str(out) + ".tmp"))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        os.replace(str(out) + ".tmp", out)
        print(f"generated {out.name} in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def child(way: str, path: Path, extra: str | None) -> dict:
    """One summary in this (child) process; returns its timings and a fingerprint of the result."""
    import pandas as pd

    t0 = time.perf_counter()
    if way == "pandas":
        from clvlib.rfm import rfm_summary

        df = pd.read_parquet(path)
        t_read = time.perf_counter() - t0
        s = rfm_summary(df, "customer_id", "date", "value", as_of=AS_OF, calibration_end=CAL)
    elif way == "duckdb":
        from clvlib.rfm_sql import rfm_summary_sql

        t_read = 0.0
        s = rfm_summary_sql(path, "customer_id", "date", "value", as_of=AS_OF, calibration_end=CAL)
    else:
        from clvlib.rfm_sql import rfm_summary_sql

        t_read = 0.0
        s = rfm_summary_sql("orders", "customer_id", "date", "value", as_of=AS_OF, calibration_end=CAL,
                            database=extra)
    seconds = time.perf_counter() - t0
    s.to_parquet(RESULTS / f"rfm-{way}-{path.stem}.parquet")
    return {"seconds": round(seconds, 2), "read_s": round(t_read, 2), "customers": len(s)}


def spawn(way: str, path: Path, extra: str | None = None) -> dict:
    proc = subprocess.Popen([sys.executable, __file__, "--child", way, "--data", str(path)] +
                            (["--extra", extra] if extra else []), stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise SystemExit(f"{way} failed on {path.name}")
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_rss_mb"] = round(usage.ru_maxrss / 1024)
    return res


def largest_difference(path: Path, ways: list[str]) -> float:
    import numpy as np
    import pandas as pd

    base = pd.read_parquet(RESULTS / f"rfm-pandas-{path.stem}.parquet")
    worst = 0.0
    for way in ways:
        other = pd.read_parquet(RESULTS / f"rfm-{way}-{path.stem}.parquet")
        assert base.index.equals(other.index), way
        for c in base.columns:
            a, b = base[c].to_numpy(), other[c].to_numpy()
            if a.dtype.kind == "M":
                assert (a == b).all(), (way, c)
                continue
            worst = max(worst, float(np.max(np.abs(a.astype(float) - b.astype(float)) / np.maximum(1, np.abs(a)))))
    return worst


def postgres_with(path: Path):
    """A PostgreSQL server (tests/pg_support.py) with the orders of ``path`` loaded; (server, url, load s)."""
    import pyarrow.parquet as pq

    sys.path.insert(0, str(HERE.parent / "tests"))
    import pg_support

    server = pg_support.start()
    server.execute("CREATE DATABASE bench", autocommit=True)
    t0 = time.perf_counter()
    eng = server.engine("bench")
    with eng.begin() as c:
        import sqlalchemy as sa

        c.execute(sa.text("CREATE TABLE orders (customer_id bigint, date timestamp, value double precision)"))
        raw = c.connection.driver_connection
        with raw.cursor().copy("COPY orders FROM STDIN WITH (FORMAT csv)") as cp:
            for batch in pq.ParquetFile(path).iter_batches(1 << 20):
                cp.write(batch.to_pandas().to_csv(index=False, header=False))
    with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE orders"))
    eng.dispose()
    return server, server.url("bench"), time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--postgres", action="store_true", help="also push the query to PostgreSQL (1M only)")
    ap.add_argument("--child"), ap.add_argument("--data"), ap.add_argument("--extra")
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, Path(args.data), args.extra)))
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {}
    for n in [int(x) for x in args.sizes.split(",")]:
        path = ensure_parquet(n)
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(path).metadata.num_rows
        row = {"customers": n, "orders": rows, "parquet_mb": round(path.stat().st_size / 2**20)}
        ways = ["pandas", "duckdb"]
        for way in ways:
            row[way] = spawn(way, path)
            print(n, way, row[way], flush=True)
        if args.postgres and n <= 1_000_000:
            server, url, load_s = postgres_with(path)
            try:
                row["postgres"] = spawn("postgres", path, url)
                row["postgres"]["load_s"] = round(load_s, 1)
                ways.append("postgres")
                print(n, "postgres", row["postgres"], flush=True)
            finally:
                sys.path.insert(0, str(HERE.parent / "tests"))
                import pg_support

                pg_support.stop(server)
        row["largest_relative_difference"] = largest_difference(path, ways[1:])
        report[str(n)] = row
    (RESULTS / "rfm_sql.json").write_text(json.dumps(report, indent=1))
    print(f"\n{'customers':>10} {'orders':>11} {'way':>9} {'seconds':>8} {'peak MB':>8}")
    for row in report.values():
        for way in ("pandas", "duckdb", "postgres"):
            if way in row:
                print(f"{row['customers']:>10,} {row['orders']:>11,} {way:>9} {row[way]['seconds']:>8} "
                      f"{row[way]['peak_rss_mb']:>8}")
        print(f"  largest relative difference to pandas: {row['largest_relative_difference']:.1e}")


if __name__ == "__main__":
    main()
