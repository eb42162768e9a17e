"""Runs SQL statements (separated by lines holding only `;;`) on chDB, the in-process current
ClickHouse, and reports the first that fails. Used by the SQL compatibility test."""
import sys
import tempfile

import chdb.session as chs

def main() -> int:
    text = open(sys.argv[1], encoding="utf-8").read()
    statements = [s.strip() for s in text.split("\n;;\n") if s.strip()]
    session = chs.Session(tempfile.mkdtemp(prefix="meshward-chdb-"))
    for i, sql in enumerate(statements):
        try:
            session.query(sql)
        except Exception as err:  # chdb raises plain exceptions with the server's message
            print(f"statement {i + 1} failed on chDB {session.query('SELECT version()').data().strip()}:\n{sql}\n{err}")
            return 1
    print(f"{len(statements)} statements ran on chDB {session.query('SELECT version()').data().strip()}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
