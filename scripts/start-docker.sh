#!/usr/bin/env bash
# Starts a Docker Engine where none runs: Debian's `docker.io` package and
# `dockerd` in the background (log: /var/log/coldbench-dockerd.log). Needs root.
# Waits at most 60 s for the engine to answer. No image is ever pulled by
# coldbench: it builds its images locally.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  echo "start-docker: engine already running"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "start-docker: run as root (sudo $0)" >&2
  exit 1
fi
if ! command -v dockerd >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi
nohup dockerd >/var/log/coldbench-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "start-docker: engine up ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
echo "start-docker: dockerd did not answer within 60 s; see /var/log/coldbench-dockerd.log" >&2
exit 1
