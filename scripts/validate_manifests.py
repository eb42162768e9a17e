#!/usr/bin/env python3
"""Validates Kubernetes manifests: built-in kinds against the Kubernetes JSON schemas
(kubernetes-validate, strict: unknown fields are errors), Istio kinds against Istio's CRD schemas
(scripts/validate_istio.mjs). Usage: validate_manifests.py FILE.yaml... (multi-document YAML)."""
import json
import pathlib
import subprocess
import sys

import kubernetes_validate
import yaml

KUBERNETES = "1.30.0"
ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> int:
    failures = 0
    istio = []
    for name in sys.argv[1:]:
        for doc in yaml.safe_load_all(pathlib.Path(name).read_text()):
            if not doc:
                continue
            what = f"{name}: {doc.get('kind')} {doc.get('metadata', {}).get('name', '')}"
            if "istio.io/" in doc.get("apiVersion", ""):
                istio.append(doc)
                continue
            try:
                kubernetes_validate.validate(doc, KUBERNETES, strict=True)
                print(f"valid: {what}")
            except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as err:
                failures += 1
                print(f"INVALID: {what}: {str(err).splitlines()[0]}")
    if istio:
        lines = "\n".join(json.dumps(d) for d in istio)
        result = subprocess.run(["node", str(ROOT / "scripts" / "validate_istio.mjs")], input=lines,
                                capture_output=True, text=True)
        print(result.stdout + result.stderr, end="")
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
