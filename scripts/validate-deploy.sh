#!/usr/bin/env bash
# Validates the deployment files in compose/ with the tools that run without a container engine:
#   yamllint             YAML syntax and style of every file
#   docker-compose config  the compose file against the Compose schema (no engine needed)
#   kubernetes-validate  every manifest in compose/k8s against the Kubernetes API schemas
#   replication wiring   each member's --shard, --member, --advertise and --etcd-endpoints, three
#                        members per shard, probes that tell leader (/readyz) from replica
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
# A three-member etcd, three members of each service's shard, the gateway, the console.
expected=(etcd-0 etcd-1 etcd-2 gateway console)
for service in profile growth ledger feedback; do
  for member in a b c; do expected+=("$service-0-$member"); done
done
for service in "${expected[@]}"; do
  grep -qx "$service" <<<"$services" || { echo "compose file has no service $service" >&2; exit 1; }
done
echo "== kubernetes-validate"
kubernetes-validate --strict compose/k8s/*.yaml
echo "== replication wiring"
# Every member names its shard, itself and an address the others reach it at; shards run three
# members; readiness (leader only) and liveness probes differ.
python3 - <<'PY'
import sys, yaml
errors = []
compose = yaml.safe_load(open("compose/docker-compose.yml"))["services"]
for name, service in compose.items():
    if name.startswith("etcd-") or name in ("gateway", "console"):
        continue
    command = service.get("command", [])
    def flag(option):
        return command[command.index(option) + 1] if option in command else None
    shard, member, advertise = flag("--shard"), flag("--member"), flag("--advertise")
    if member != name or shard != name.rsplit("-", 1)[0] or not (advertise or "").startswith(name + ":"):
        errors.append(f"compose {name}: --shard {shard} --member {member} --advertise {advertise}")
    if not flag("--etcd-endpoints"):
        errors.append(f"compose {name}: no --etcd-endpoints")
if "--etcd-endpoints" not in compose["gateway"]["command"]:
    errors.append("compose gateway: no --etcd-endpoints")
for component in ["profile", "growth", "ledger", "feedback"]:
    for doc in yaml.safe_load_all(open(f"compose/k8s/{component}.yaml")):
        if not doc or doc.get("kind") != "StatefulSet":
            continue
        spec = doc["spec"]
        container = spec["template"]["spec"]["containers"][0]
        args = container["args"]
        if spec["replicas"] != 3 or "--shard" not in args or "--member" not in args or "--etcd-endpoints" not in args:
            errors.append(f"k8s {component}: replicas {spec['replicas']}, args {args}")
        if container["readinessProbe"]["httpGet"]["path"] != "/readyz" or container["livenessProbe"]["httpGet"]["path"] != "/healthz":
            errors.append(f"k8s {component}: readiness must be /readyz (leader only), liveness /healthz")
        if not spec.get("volumeClaimTemplates"):
            errors.append(f"k8s {component}: no volume per pod")
if errors:
    sys.exit("replication wiring:\n  " + "\n  ".join(errors))
PY

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
