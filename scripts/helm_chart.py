#!/usr/bin/env python3
"""Lints and renders a Helm chart with Helm v4's own Go SDK (the PyPI wheel helm-python-sdk,
imported as helm_python; no helm binary), the way `helm lint --strict` and `helm template` do.

  helm_chart.py lint CHART [-f VALUES.yaml]... [--set-json JSON]
      prints the lint report as one JSON line; exits 1 on any warning or error (strict)
  helm_chart.py render CHART [-f VALUES.yaml]... [--set-json JSON] [--name N] [--namespace NS]
      prints {"documents": [{"source", "manifest"}], "notes": TEXT} as JSON, test hooks included;
      exits 1 with Helm's message when the values fail the chart's schema or a template fails

Values files merge in order like repeated `-f` (maps merge, anything else replaces), then
--set-json over them."""
import argparse
import json
import sys

import helm_python
import yaml


def merge(base, overlay):
    if isinstance(base, dict) and isinstance(overlay, dict):
        for key, value in overlay.items():
            base[key] = merge(base[key], value) if key in base else value
        return base
    return overlay


def values(args):
    merged = {}
    for name in args.values:
        with open(name, encoding="utf-8") as file:
            merged = merge(merged, yaml.safe_load(file) or {})
    if args.set_json:
        merged = merge(merged, json.loads(args.set_json))
    return merged


def lint(args) -> int:
    report = helm_python.lint(args.chart, values(args), strict=True, namespace=args.namespace)
    print(json.dumps(report))
    # strict: warnings fail as errors do (severity 2 warning, 3 error)
    failed = report.get("errors") or any(m.get("severity", 0) >= 2 for m in report.get("messages", []))
    return 1 if failed else 0


def render(args) -> int:
    chart = helm_python.Chart.load(args.chart)
    try:
        rendered = chart.render(values(args), name=args.name, namespace=args.namespace, is_install=True)
    except helm_python.HelmError as err:
        print(f"helm: {err}", file=sys.stderr)
        return 1
    documents, notes = [], ""
    for source in sorted(rendered):
        text = rendered[source]
        if source.endswith("NOTES.txt"):
            notes = text
            continue
        for doc in text.split("\n---"):
            if doc.strip() and yaml.safe_load(doc) is not None:
                documents.append({"source": source, "manifest": doc})
    print(json.dumps({"documents": documents, "notes": notes}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["lint", "render"])
    parser.add_argument("chart")
    parser.add_argument("-f", "--values", action="append", default=[], help="a values file (repeatable)")
    parser.add_argument("--set-json", help="values as a JSON object, merged last")
    parser.add_argument("--name", default="meshward", help="the release name")
    parser.add_argument("--namespace", default="meshward", help="the release namespace")
    args = parser.parse_args()
    helm_python.disable_logging()
    return lint(args) if args.command == "lint" else render(args)


if __name__ == "__main__":
    sys.exit(main())
