#!/usr/bin/env bash
# Validates the deployment files in compose/ with the tools that run without a container engine:
#   yamllint             YAML syntax and style of every file
#   docker-compose config  the compose file against the Compose schema (no engine needed)
#   kubernetes-validate  every manifest in compose/k8s against the Kubernetes API schemas
#   retain-gateway check the topology files (compose's and the ConfigMap's) and flows.json,
#                        when retain-gateway is built
# Installs what is missing (Debian packages docker-compose and yamllint, PyPI kubernetes-validate).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=()
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v yamllint >/dev/null || missing+=(yamllint)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v kubernetes-validate >/dev/null; then
  echo "installing kubernetes-validate"
  python3 -m pip install --quiet kubernetes-validate 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages kubernetes-validate
fi

echo "== yamllint"
yamllint -c compose/.yamllint compose/
echo "== docker-compose config"
docker-compose -f compose/docker-compose.yml config --quiet
services=$(docker-compose -f compose/docker-compose.yml config --services)
for service in profile growth ledger feedback gateway; do
  grep -qx "$service" <<<"$services" || { echo "compose file has no service $service" >&2; exit 1; }
done
echo "== kubernetes-validate"
kubernetes-validate --strict compose/k8s/*.yaml

gateway=""
for candidate in .build/release/retain-gateway .build/debug/retain-gateway; do
  [ -x "$candidate" ] && { gateway=$candidate; break; }
done
if [ -n "$gateway" ]; then
  echo "== retain-gateway check"
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  python3 - "$scratch/k8s-topology.json" <<'PY'
import sys, yaml
for doc in yaml.safe_load_all(open("compose/k8s/gateway.yaml")):
    if doc and doc.get("kind") == "ConfigMap":
        open(sys.argv[1], "w").write(doc["data"]["topology.json"])
PY
  "$gateway" check --topology compose/topology.json --config Services/Gateway/Config/flows.json
  "$gateway" check --topology "$scratch/k8s-topology.json"
else
  echo "== retain-gateway check skipped (not built)"
fi
echo "deployment files are valid"
