#!/usr/bin/env bash
# Host limits that density runs reach before memory does (idempotent; needs root):
#  - vm.max_map_count (memory mappings per process, default 65530): an embedded
#    Wasm runner holds ~10 mappings per live instance (thread stack and guard,
#    Rust's and wasmtime's signal stacks, linear-memory and table slots), so
#    the default stops a wasmtime-pooling runner near 6,300 instances with an
#    mmap failure. 262144 is the value Elasticsearch's documentation requires
#    and what many hosts already set. coldbench density records the limit it
#    ran under and stops with `map_limit` before reaching it.
set -euo pipefail
want=262144
have=$(cat /proc/sys/vm/max_map_count)
if [ "$have" -ge "$want" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "tune-host: vm.max_map_count is $have; as root run: sysctl -w vm.max_map_count=$want (density runs of embedded runtimes stop near $((have / 10)) instances otherwise)" >&2
  exit 0
fi
sysctl -q -w vm.max_map_count=$want
echo "tune-host: vm.max_map_count $have -> $want" >&2
