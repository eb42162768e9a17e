"""Runs SQL statements (separated by lines holding only `;;`) on chDB, the in-process current
ClickHouse, and reports the first that fails. A statement whose first line is `-- expect rows`
must also return at least one row. Used by the SQL compatibility tests."""
import sys
import tempfile

import chdb.session as chs

EXPECT_ROWS = "-- expect rows"


def main() -> int:
    # the session's data folder goes with the run
    with tempfile.TemporaryDirectory(prefix="meshward-chdb-") as data:
        return run(open(sys.argv[1], encoding="utf-8").read(), data)


def run(text: str, data: str) -> int:
    statements = [s.strip() for s in text.split("\n;;\n") if s.strip()]
    session = chs.Session(data)
    version = session.query("SELECT version()").data().strip()
    for i, sql in enumerate(statements):
        try:
            result = session.query(sql, "TSV")
        except Exception as err:  # chdb raises plain exceptions with the server's message
            print(f"statement {i + 1} failed on chDB {version}:\n{sql}\n{err}")
            return 1
        if sql.startswith(EXPECT_ROWS) and not result.data().strip():
            print(f"statement {i + 1} returned no rows on chDB {version}:\n{sql}")
            return 1
    print(f"{len(statements)} statements ran on chDB {version}")
    session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
