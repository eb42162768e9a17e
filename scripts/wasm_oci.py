#!/usr/bin/env python3
"""Lays out the filter's .wasm as an OCI image (an OCI image layout folder) in the Wasm OCI
artifact format Istio's WasmPlugin pulls: a manifest whose config has media type
application/vnd.module.wasm.config.v1+json and whose one layer is the module itself
(application/vnd.module.wasm.content.layer.v1+wasm). Pushing is yours, e.g.
`skopeo copy oci:build/oci/meshward-filter:0.1.0 docker://registry.example.com/meshward/meshward-filter:0.1.0`
or `oras cp --from-oci-layout build/oci/meshward-filter:0.1.0 registry.example.com/meshward/meshward-filter:0.1.0`.

Usage: wasm_oci.py MODULE.wasm OUT_DIR TAG"""
import hashlib
import json
import pathlib
import sys

WASM_CONFIG = "application/vnd.module.wasm.config.v1+json"
WASM_LAYER = "application/vnd.module.wasm.content.layer.v1+wasm"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def put(blobs: pathlib.Path, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def main() -> int:
    module, out, tag = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
    wasm = module.read_bytes()
    if wasm[:4] != b"\0asm":
        print(f"{module} is not a WebAssembly module", file=sys.stderr)
        return 1
    blobs = out / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (out / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    config = put(blobs, json.dumps({"author": "meshward", "platform": {"os": "wasip1", "architecture": "wasm"}}).encode())
    layer = put(blobs, wasm)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": WASM_CONFIG, **config},
        "layers": [{"mediaType": WASM_LAYER, **layer, "annotations": {"org.opencontainers.image.title": module.name}}],
    }
    manifest_ref = put(blobs, json.dumps(manifest, indent=2).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [{"mediaType": OCI_MANIFEST, **manifest_ref, "annotations": {"org.opencontainers.image.ref.name": tag}}],
    }
    (out / "index.json").write_text(json.dumps(index, indent=2))
    print(f"{out}:{tag}: module {layer['digest']} ({layer['size']} bytes); "
          f"WasmPlugin sha256 for an https:// URL of the module: {layer['digest'][7:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
