#!/usr/bin/env bash
# Builds the Debian base image of the `docker-debian-*` targets without a
# registry: debootstrap of Debian bookworm (minbase variant: essential
# packages + apt, about 100-200 MB) into target/debian-rootfs, then
# `docker import` as coldbench/debian-base:bookworm-minbase. The workload's
# glibc binary is added on top by the harness (FROM that image).
# Idempotent: does nothing if the image exists (pass --force to rebuild).
# Needs root and Debian's mirror (deb.debian.org, or $DEBIAN_MIRROR).
set -euo pipefail
cd "$(dirname "$0")/.."

image=coldbench/debian-base:bookworm-minbase
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ "${1:-}" != "--force" ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "build-debian-base: $image already in the engine" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "build-debian-base: debootstrap needs root" >&2
  exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "build-debian-base: installing debootstrap from Debian's packages" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
fi

rootfs=target/debian-rootfs
rm -rf "$rootfs"
mkdir -p "$rootfs"
echo "build-debian-base: debootstrap --variant=minbase bookworm from $mirror (a few minutes)" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >target/debian-rootfs.log 2>&1 || {
  echo "build-debian-base: debootstrap failed; see target/debian-rootfs.log" >&2
  tail -n 20 target/debian-rootfs.log >&2
  exit 1
}
# Trim what a container never uses; keep the image reproducible in size.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" --numeric-owner -c . | docker import \
  --change 'LABEL io.coldbench=1' \
  --message 'debootstrap --variant=minbase bookworm (coldbench)' - "$image" >/dev/null
rm -rf "$rootfs"
echo "build-debian-base: $image: $(docker image inspect "$image" --format '{{.Size}}') bytes" >&2
