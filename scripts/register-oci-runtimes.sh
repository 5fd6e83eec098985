#!/usr/bin/env bash
# Registers the extra OCI runtimes coldbench compares with runc:
#   runsc (gVisor, Debian package `runsc`) with runtimeArgs ["--network=none"]:
#     on hosts like the reference one (fuse-overlayfs storage, cgroup v1,
#     no host networking for the sandbox), runsc starts only without its own
#     netstack; the sandbox then sees loopback only whatever the Docker
#     network mode;
#   crun (Debian package `crun`), registered only where the host's cgroup
#     layout allows it: crun 1.8 refuses hybrid hosts (cgroup v1 controllers
#     plus a v2 `unified` mount). `coldbench targets` reports it as unavailable
#     with that reason.
# Then asks dockerd to reload its configuration (SIGHUP reloads `runtimes`).
# Idempotent; needs root. Usage: scripts/register-oci-runtimes.sh
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "register-oci-runtimes: needs root (edits /etc/docker/daemon.json, signals dockerd)" >&2
  exit 1
fi

need=()
command -v runsc >/dev/null 2>&1 || need+=(runsc)
command -v crun >/dev/null 2>&1 || need+=(crun)
if [ ${#need[@]} -gt 0 ]; then
  echo "register-oci-runtimes: installing ${need[*]} from Debian's packages" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then layout=2
elif [ -d /sys/fs/cgroup/unified ]; then layout=hybrid
else layout=1; fi

conf=/etc/docker/daemon.json
mkdir -p /etc/docker
[ -s "$conf" ] || echo '{}' > "$conf"
python3 - "$conf" "$layout" "$(command -v runsc)" "$(command -v crun)" <<'PY'
import json, sys
path, layout, runsc, crun = sys.argv[1:5]
with open(path) as f:
    conf = json.load(f)
runtimes = conf.setdefault("runtimes", {})
runtimes["runsc"] = {"path": runsc, "runtimeArgs": ["--network=none"]}
if layout != "hybrid":
    runtimes["crun"] = {"path": crun}
else:
    runtimes.pop("crun", None)
    print("register-oci-runtimes: crun not registered: this host's cgroup layout is hybrid, which crun 1.8 refuses", file=sys.stderr)
with open(path + ".tmp", "w") as f:
    json.dump(conf, f, indent=2)
import os
os.replace(path + ".tmp", path)
PY

pid=$(pidof dockerd || true)
if [ -z "$pid" ]; then
  echo "register-oci-runtimes: dockerd is not running; the runtimes apply when it starts (scripts/start-docker.sh)" >&2
  exit 0
fi
kill -HUP $pid
for _ in $(seq 1 50); do
  if docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; then
    echo "register-oci-runtimes: registered: $(docker info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}')" >&2
    exit 0
  fi
  sleep 0.2
done
echo "register-oci-runtimes: dockerd did not pick up runsc after SIGHUP; restart it (scripts/start-docker.sh)" >&2
exit 1
