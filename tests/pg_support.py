"""A throwaway PostgreSQL server for the tests (no tests here), and the demo company loaded into it.

``postgres`` (session fixture, registered in conftest.py) starts Debian's PostgreSQL binaries on a
fresh cluster in a temporary folder: ``initdb`` and ``postgres`` refuse to run as root, so as root
they run as the ``postgres`` user (``runuser``) in a folder it owns; the server listens on a Unix
socket only (no TCP port is opened; the "port" only names the socket), with ``fsync`` off, and is
stopped and removed when the session ends. The role ``clv`` logs in with a password
(scram-sha-256), everyone else is trusted. Without the binaries the tests that need it are skipped
with the reason — except under CI (``CI`` set), where they fail: CI must install ``postgresql``.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

PASSWORD = "Tr0ub4dor&3-not-in-any-file"      # the clv role's password: the tests grep every output for it
ROLE = "clv"


def binaries() -> Path | None:
    """The folder of initdb/pg_ctl: the newest /usr/lib/postgresql/*/bin, else the one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running cluster: its folder (which also holds the socket) and port."""

    folder: Path
    port: int
    bin: Path

    def url(self, database: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        auth = user + (f":{password}" if password else "")
        return f"postgresql+psycopg://{auth}@/{database}?host={self.folder}&port={self.port}"

    def engine(self, database: str = "postgres"):
        import sqlalchemy as sa

        return sa.create_engine(self.url(database), poolclass=sa.pool.NullPool)

    def execute(self, sql: str, database: str = "postgres", autocommit: bool = False):
        import sqlalchemy as sa

        eng = self.engine(database)
        try:
            opts = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
            with eng.connect().execution_options(**opts) as c:
                c.execute(sa.text(sql))
                if not autocommit:
                    c.commit()
        finally:
            eng.dispose()

    def create_database(self, name: str):
        self.execute(f'CREATE DATABASE "{name}" OWNER {ROLE}', autocommit=True)


def _run(cmd: list[str], as_postgres: bool, **kw):
    if as_postgres:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def start() -> Server:
    """initdb + pg_ctl start in a new temporary folder; raises RuntimeError with the reason when it cannot."""
    bindir = binaries()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install -y postgresql)")
    root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="clv-pg-"))
    if root:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", _free_port()
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
              "--locale=C", "-N"], root)
        hba = f"local all {ROLE} scram-sha-256\nlocal all all trust\n"
        _run(["sh", "-c", f"printf '{hba}' > {data}/pg_hba.conf"], root)
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
              f"-p {port} -k {folder} -c listen_addresses='' -c fsync=off -c full_page_writes=off", "start"], root)
    except (subprocess.CalledProcessError, OSError) as e:
        shutil.rmtree(folder, ignore_errors=True)
        detail = getattr(e, "stderr", "") or str(e)
        raise RuntimeError(f"could not start PostgreSQL from {bindir}: {detail.strip().splitlines()[-1:]}") from None
    server = Server(folder, port, bindir)
    server.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
    return server


def stop(server: Server):
    root = os.geteuid() == 0
    try:
        _run([str(server.bin / "pg_ctl"), "-D", str(server.folder / "data"), "-m", "immediate", "-w", "stop"], root)
    finally:
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    """A running PostgreSQL :class:`Server` for the session (see the module docstring)."""
    try:
        server = start()
    except RuntimeError as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {e}")
        pytest.skip(f"PostgreSQL cannot be started here: {e}")
    try:
        yield server
    finally:
        stop(server)


# ------------------------------------------------------------------ the demo company in PostgreSQL
SQL_TYPES = {"date": "date", "money": "numeric(18,4)", "number": "double precision", "int": "integer"}


def _typed(col, values: pd.Series) -> tuple[str, pd.Series]:
    """The column's SQL type by its kind and its values; a value that type cannot hold (the demo's
    deliberate typos, such as an amount of 12,O00.00) is loaded as NULL, since a typed database column
    could not hold it either."""
    sql = SQL_TYPES.get(col.kind, "text")
    if sql == "text":
        return sql, values
    if sql == "date":
        ok = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce").notna()
    else:
        num = pd.to_numeric(values, errors="coerce")
        ok = num.notna() & ((num % 1 == 0) if sql == "integer" else True)
    return sql, values.where(ok | (values == ""), "")


def load_csv_folder(server: Server, database: str, folder: Path, tables) -> dict[str, dict[str, str]]:
    """Each ``<table>.csv`` of ``folder`` as a table of ``database`` (typed columns, plus ``line_no`` = the CSV
    row number), owned by the clv role; returns {(table, column): CSV rows loaded as NULL}."""
    import sqlalchemy as sa

    nulled = {}
    eng = server.engine(database)
    try:
        with eng.begin() as c:
            for t in tables:
                df = pd.read_csv(folder / f"{t.name}.csv", dtype=str, keep_default_na=False)
                out, ddl = pd.DataFrame({"line_no": range(2, len(df) + 2)}), []
                for col in [col for col in t.columns if col.name in df.columns]:
                    sql, out[col.name] = _typed(col, df[col.name])
                    ddl.append(f'"{col.name}" {sql}')
                    gone = out[col.name].ne(df[col.name]).to_numpy()
                    if gone.any():
                        nulled[(t.name, col.name)] = out["line_no"][gone].tolist()
                c.execute(sa.text(f'CREATE TABLE "{t.name}" (line_no integer primary key, {", ".join(ddl)})'))
                raw = c.connection.driver_connection
                with raw.cursor().copy(f'COPY "{t.name}" FROM STDIN WITH (FORMAT csv, NULL \'\')') as cp:
                    cp.write(out.to_csv(index=False, header=False))
                c.execute(sa.text(f'ALTER TABLE "{t.name}" OWNER TO {ROLE}'))
    finally:
        eng.dispose()
    return nulled
