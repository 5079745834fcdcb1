"""Rows read per page of ``GET /questions`` as the table grows: O(page), not O(table).

Each store is a project rendered from this template, run in its own cached
virtualenv with its own repository and its own local stand-ins (``dev.local``:
a fresh database on the local server, or the DynamoDB emulator). It holds 100
questions, then 10,000, and the same pages of 20 are read at each size, newest
first: the first page, and the page halfway through the listing (reached
cursor after cursor). What a page read costs the store:

* PostgreSQL: rows the plan's scans read (``EXPLAIN ANALYZE`` of the
  repository's own statement: actual rows plus those its filter removed);
* MySQL (MariaDB here): rows the session's handler read, the difference of
  ``Handler_read_*`` around the repository's statement;
* DynamoDB: the Query's ``ScannedCount``, from the emulator.

A flat ratio (about 1.0 from 100 to 10,000 questions) is O(page). For
contrast, the SQL stores also price the middle page as ``OFFSET`` would. The
SQL tables are seeded in bulk and then analysed, as a table in service is; on
a table of 100 rows a planner may rightly prefer reading it whole.

    uv run python -m bench.list_pagination [--sizes 100 10000] [--limit 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tests.support import IDENTITY, project_env, render_project  # the template tests' machinery

PYTHON_VERSION = "3.13"
STORES = {
    "PostgreSQL": {"storage": "rds", "rds_engine": "postgres"},
    "MySQL (MariaDB)": {"storage": "rds", "rds_engine": "mysql"},
    "DynamoDB": {"storage": "dynamodb"},
}

# Runs in the project's environment, from its directory: seeds the store with
# its own code, reads pages with its own repository, and prints what they cost.
MEASURE = r'''
import json, os, sys
from datetime import UTC, datetime, timedelta

from dev import local

sizes, limit = [int(size) for size in sys.argv[1].split(",")], int(sys.argv[2])
package = sys.argv[3]
storage = __import__(f"{package}.storage", fromlist=["factory"])
factory = __import__(f"{package}.storage.factory", fromlist=["make_repository"])


class Recorder:
    """The statements (SQL) or calls (DynamoDB) a block sends, with what they report."""

    def __init__(self):
        self.sent = []


def sql_cost(repository, statement, parameters):
    engine = repository.engine
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
            pending, read = [cursor.fetchone()[0][0]["Plan"]], 0
            while pending:
                node = pending.pop()
                pending.extend(node.get("Plans", []))
                if "Scan" in node["Node Type"]:
                    rows = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
                    read += rows * node["Actual Loops"]
            return read
        def handler_reads():
            cursor.execute("SHOW SESSION STATUS LIKE 'Handler_read%'")
            return sum(int(value) for name, value in cursor.fetchall() if name != "Handler_read_retry")
        overhead = -handler_reads() + handler_reads()
        before = handler_reads()
        cursor.execute(statement, parameters)
        cursor.fetchall()
        return handler_reads() - before - overhead
    finally:
        raw.close()


def read_page(repository, after):
    """The page after ``after``, and what reading it cost."""
    if hasattr(repository, "engine"):
        from sqlalchemy import event

        sent = []
        record = lambda conn, cursor, statement, parameters, *rest: sent.append((statement, parameters))
        event.listen(repository.engine, "before_cursor_execute", record)
        try:
            page = repository.list_questions(limit, after)
        finally:
            event.remove(repository.engine, "before_cursor_execute", record)
        return page, sql_cost(repository, *sent[-1])
    client, scanned = repository.client, []
    query = client.query

    def recording_query(**params):
        result = query(**params)
        scanned.append(result["ScannedCount"])
        return result

    repository.client = type("Recording", (), {"__getattr__": lambda self, name: getattr(client, name)})()
    repository.client.query = recording_query
    try:
        page = repository.list_questions(limit, after)
    finally:
        repository.client = client
    return page, sum(scanned)


def offset_cost(repository, offset):
    """What the same page would cost with LIMIT/OFFSET (SQL only)."""
    from sqlalchemy import select
    from sqlalchemy.dialects import mysql, postgresql

    tables = __import__(f"{package}.storage.tables", fromlist=["questions"])
    q = tables.questions
    query = select(q).order_by(q.c.created_at.desc(), q.c.id.desc()).limit(limit + 1).offset(offset)
    compiled = query.compile(repository.engine)
    return sql_cost(repository, str(compiled), compiled.params)


def seed(repository, count, start):
    if not hasattr(repository, "engine"):
        for _ in range(count):
            repository.add_question("a question")
        return
    import uuid
    tables = __import__(f"{package}.storage.tables", fromlist=["questions"])
    rows = [
        {"id": str(uuid.uuid4()), "text": "a question", "answer_count": 0,
         "created_at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=start + n)}
        for n in range(count)
    ]
    with repository.engine.begin() as connection:
        connection.execute(tables.questions.insert(), rows)
    # Statistics as a table in service has them (both engines refresh them in the
    # background after large changes); right after a bulk load they are stale.
    with repository.engine.begin() as connection:
        if repository.engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE questions")
        else:
            connection.exec_driver_sql("ANALYZE TABLE questions").fetchall()


with local.services("test"):
    os.environ.update(local.environment("bench"))
    repository = factory.make_repository()
    results, stored = {}, 0
    for size in sizes:
        seed(repository, size - stored, stored)
        stored = size
        first, first_cost = read_page(repository, None)
        position, middle_page = first.next_position, size // limit // 2
        for _ in range(middle_page - 1):
            position = repository.list_questions(limit, position).next_position
        middle, middle_cost = read_page(repository, position)
        result = {"first": first_cost, "middle": middle_cost}
        if hasattr(repository, "engine"):
            result["middle with OFFSET"] = offset_cost(repository, middle_page * limit)
        results[size] = result
    print(json.dumps(results))
'''


def measure(
    store: str, answers: dict[str, str], sizes: list[int], limit: int, work: Path
) -> dict[str, dict[str, int]]:
    project = render_project({**IDENTITY, **answers, "secrets": "env"}, work / store.split()[0].lower())
    package = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))["package_name"]
    env = project_env(project, PYTHON_VERSION)
    result = env.run(
        [env.python, "-c", MEASURE, ",".join(map(str, sizes)), str(limit), package],
        cwd=project,
        timeout=1800,
        PYTHONPATH=f"{project / 'src'}:{project}",
    )
    if result.returncode != 0:
        sys.exit(f"bench: measuring {store} failed:\n{result.describe(60)}")
    by_size: dict[str, dict[str, int]] = json.loads(result.output.strip().splitlines()[-1])
    return by_size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs=2, default=[100, 10_000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()
    small, large = args.sizes
    with tempfile.TemporaryDirectory(prefix="sf-bench-") as tmp:
        measured = {
            store: measure(store, answers, [small, large], args.limit, Path(tmp))
            for store, answers in STORES.items()
        }
    print(f"\nRows (items) read for one page of {args.limit}, newest first:")
    header = f"{'store':17} {'page':19} {small:>9,} q. {large:>9,} q. {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for store, by_size in measured.items():
        for page, small_cost in by_size[str(small)].items():
            large_cost = by_size[str(large)][page]
            ratio = large_cost / small_cost if small_cost else float("nan")
            print(f"{store:17} {page:19} {small_cost:>12,} {large_cost:>12,} {ratio:>6.2f}x")
    print("\nKeyset pages stay flat (~1.0x): O(page). OFFSET grows with the table: O(table).")


if __name__ == "__main__":
    main()
