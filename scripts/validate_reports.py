#!/usr/bin/env python3
"""Validates a JUnit XML report and a SARIF 2.1.0 report against their published schemas
(fetched by `make setup` into .tools/schemas). Usage: validate_reports.py REPORT.xml REPORT.sarif"""
import json
import pathlib
import sys

import jsonschema
import xmlschema

SCHEMAS = pathlib.Path(__file__).resolve().parent.parent / ".tools" / "schemas"


def main() -> int:
    junit, sarif = sys.argv[1], sys.argv[2]
    xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd")).validate(junit)
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(json.loads(pathlib.Path(sarif).read_text()))
    print(f"valid: {junit} (JUnit, junit-10.xsd), {sarif} (SARIF 2.1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
