"""What each SQL driver, and SQLAlchemy with or without its compiled extensions, costs a Lambda.

For ``storage=rds`` the function runs SQLAlchemy Core on a driver: psycopg
(binary: libpq and OpenSSL inside the wheel) or pure-Python pg8000 for
PostgreSQL, PyMySQL for MySQL. Each driver, with SQLAlchemy as its wheel
ships it (compiled extensions) and as Python (the extensions removed: it then
imports the modules they were built from), is measured as Lambda would run it:
precompiled bytecode only, in a fresh ``python -I -S -B``:

* cold start: start to exit of a process that connects and reads one keyset
  page (20 rows, newest first) of a 25,000-row table, and the same from inside
  it; peak resident set size;
* warm: 1,000 keyset pages read one after the other in one process;
* size: each part zipped (for this machine's architecture; the build tier
  asserts the artifacts' sizes for both).

Runs are interleaved, each variant first in turn; figures are medians. The
servers are the local PostgreSQL and MySQL or MariaDB (``make dev``'s), each
given a scratch database, dropped at the end. Usage::

    uv run python -m bench.sql_drivers [--runs 9] [--python-version 3.13]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.lambda_perf import interpreter, run, zipped_size

# At the versions the generated projects lock (pg8000 is the candidate they do not use).
PACKAGES = {
    "sqlalchemy": ["sqlalchemy==2.1.9", "typing-extensions==4.16.0"],
    "psycopg": ["psycopg[binary]==3.3.9"],
    "pg8000": ["pg8000==1.31.6"],
    "pymysql": ["pymysql==1.2.4"],
}
SERVERS = {
    "psycopg": "postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
    "pg8000": "postgresql+pg8000://postgres@127.0.0.1:5432/{database}",
    "pymysql": "mysql+pymysql://root@127.0.0.1:3306/{database}",
}
ROWS = 25_000
WARM_PAGES = 1_000

# The keyset page the store reads: newest first, after the last row of the page before.
READ = """
import json, sys, time
started = time.perf_counter()
sys.path[:0] = sys.argv[1].split(":")
import sqlalchemy as sa
url, pages = sys.argv[2], int(sys.argv[3])
questions = sa.Table(
    "questions", sa.MetaData(),
    sa.Column("id", sa.String(36)), sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("text", sa.String(2000)),
)
order = (questions.c.created_at.desc(), questions.c.id.desc())

def page(connection, after):
    query = sa.select(questions).order_by(*order).limit(20)
    if after is not None:
        query = query.where(sa.tuple_(questions.c.created_at, questions.c.id) < sa.tuple_(*after))
    rows = connection.execute(query).all()
    return (rows[-1].created_at, rows[-1].id) if rows else None

engine = sa.create_engine(url)
with engine.connect() as connection:
    after = page(connection, None)
    first = time.perf_counter() - started
    walked = time.perf_counter()
    for _ in range(pages):
        after = page(connection, after)
    walked = time.perf_counter() - walked
engine.dispose()
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps([first, walked, int(peak.split()[1]) * 1024]))
"""

# Make (or drop) the scratch database and fill its table, through the candidates themselves.
SETUP = """
import sys, datetime, uuid
sys.path[:0] = sys.argv[1].split(":")
import sqlalchemy as sa
server, database, rows = sys.argv[2], sys.argv[3], int(sys.argv[4])
admin = sa.create_engine(server.format(database=sys.argv[5]), isolation_level="AUTOCOMMIT")
with admin.connect() as connection:
    connection.execute(sa.text(f"DROP DATABASE IF EXISTS {database}"))
    if rows:
        connection.execute(sa.text(f"CREATE DATABASE {database}"))
admin.dispose()
if rows:
    metadata = sa.MetaData()
    questions = sa.Table(
        "questions", metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Index("by_created_at", "created_at", "id"),
    )
    engine = sa.create_engine(server.format(database=database))
    metadata.create_all(engine)
    now = datetime.datetime(2026, 1, 1)  # naive: the column types of both servers take it
    with engine.begin() as connection:
        connection.execute(questions.insert(), [
            {"id": str(uuid.uuid4()), "created_at": now - datetime.timedelta(seconds=n), "text": f"q {n}"}
            for n in range(rows)
        ])
    engine.dispose()
"""


def install(python: str, target: Path, requirements: list[str]) -> Path:
    """``requirements`` as an artifact holds them: bytecode in the sources' place, unchecked."""
    run([python, "-m", "pip", "install", "--quiet", "--target", str(target), *requirements], target.parent)
    compileall = [python, "-m", "compileall", "-q", "-b", "--invalidation-mode", "unchecked-hash"]
    run([*compileall, str(target)], target.parent)
    for source in target.rglob("*.py"):
        source.unlink()
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache)
    return target


def without_extensions(compiled: Path, target: Path) -> Path:
    shutil.copytree(compiled, target)
    for extension in target.rglob("*.so"):
        extension.unlink()
    return target


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--python-version", default="3.13")
    args = parser.parse_args()
    python = interpreter(args.python_version)

    with tempfile.TemporaryDirectory(prefix="sf-bench-sql-") as tmp:
        work = Path(tmp)
        parts = {name: install(python, work / name, pins) for name, pins in PACKAGES.items()}
        sqlalchemy = {
            "compiled": parts["sqlalchemy"],
            "Python": without_extensions(parts["sqlalchemy"], work / "sqlalchemy-python"),
        }
        database = f"sf_bench_{uuid.uuid4().hex[:8]}"
        admin_database = {"psycopg": "postgres", "pymysql": "mysql"}

        def set_up(rows: int) -> None:
            """Each server's bench database with ``rows`` questions; none (dropped) with 0."""
            for driver, admin in admin_database.items():
                path = f"{sqlalchemy['compiled']}:{parts[driver]}"
                command = [python, "-I", "-S", "-c", SETUP, path, SERVERS[driver], database, str(rows), admin]
                run(command, work)

        set_up(ROWS)
        try:
            results: dict[tuple[str, str], dict[str, list[float]]] = {}
            for round_ in range(args.runs):
                for driver in SERVERS:
                    variants = list(sqlalchemy.items())
                    for kind, directory in variants if round_ % 2 else reversed(variants):
                        path = f"{directory}:{parts[driver]}"
                        url = SERVERS[driver].format(database=database)
                        seen = results.setdefault(
                            (driver, kind), {"whole": [], "in": [], "rss": [], "warm": []}
                        )
                        started = time.perf_counter()
                        output = run([python, "-I", "-S", "-B", "-c", READ, path, url, "0"], work)
                        seen["whole"].append(time.perf_counter() - started)
                        first, _, peak = json.loads(output.strip().splitlines()[-1])
                        seen["in"].append(first)
                        seen["rss"].append(peak)
                        if round_ < 3:
                            output = run(
                                [python, "-I", "-S", "-B", "-c", READ, path, url, str(WARM_PAGES)], work
                            )
                            seen["warm"].append(json.loads(output.strip().splitlines()[-1])[1])
        finally:
            set_up(0)

        print(f"\nPython {args.python_version}; cold: medians of {args.runs}, warm: of 3 runs")
        print(
            f"{'driver, SQLAlchemy':22} {'cold whole':>11} {'in-process':>11} "
            f"{f'{WARM_PAGES:,} pages':>12} {'peak RSS':>9} {'driver zip':>11} {'SQLAlchemy zip':>15}"
        )
        for (driver, kind), seen in results.items():
            median = {name: statistics.median(values) for name, values in seen.items()}
            print(
                f"{driver + ', ' + kind:22} {median['whole'] * 1000:9.0f}ms {median['in'] * 1000:9.0f}ms "
                f"{median['warm'] * 1000:10.0f}ms {median['rss'] / 2**20:7.1f}MB "
                f"{zipped_size(parts[driver]) / 1e6:9.2f}MB {zipped_size(sqlalchemy[kind]) / 1e6:13.2f}MB"
            )


if __name__ == "__main__":
    main()
