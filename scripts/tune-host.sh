#!/usr/bin/env bash
# Host settings coldbench's measurements depend on (idempotent; needs root to
# change anything; coldbench records both in every results file):
#
#  1. vm.max_map_count (memory mappings per process, default 65530): an
#     embedded Wasm runner holds ~10 mappings per live instance (thread stack
#     and guard, Rust's and wasmtime's signal stacks, linear-memory and table
#     slots), so the default stops a wasmtime-pooling runner near 6,300
#     instances with an mmap failure. 262144 is the value Elasticsearch's
#     documentation requires and what many hosts already set. coldbench density
#     records the limit it ran under and stops with `map_limit` before it.
#
#  2. guest halt polling, on KVM guests with the cpuidle-haltpoll driver (in
#     the spirit of `pyperf system tune`). Such guests can be booted with
#     `haltpoll.guest_halt_poll_ns=0` (the 2-vCPU Firecracker guests of this
#     project's machines are): an idle vCPU then halts at once, and waking a
#     thread on it costs a VM exit and entry. Measured 2026-12-01 (Intel Xeon
#     guest, 0 and 200000 ns alternated 3x, n = 200 noop starts each):
#     wasmtime-pooling's dispatch + handoff + return went from 86-90 us to
#     39-40 us and t_ready from 152-157 us to 105-110 us with Linux's own
#     default, 200000 ns; native's t_ready from 293-302 us to 243-260 us;
#     the other runners' and the containers' wake-ups benefit alike. Only a 0
#     is raised; another value is the host owner's choice and left alone.
#     run.json records it as host.cpu_idle.
#
#   scripts/tune-host.sh                 both, as above
#   scripts/tune-host.sh --halt-poll NS  set guest_halt_poll_ns to NS (0 undoes)
set -euo pipefail
root=0
[ "$(id -u)" -eq 0 ] && root=1

halt_poll=/sys/module/haltpoll/parameters/guest_halt_poll_ns
if [ "${1:-}" = "--halt-poll" ]; then
  want_poll="${2:?--halt-poll needs a value in ns}"
  [ -e $halt_poll ] || { echo "tune-host: no guest halt polling on this host ($halt_poll missing)" >&2; exit 1; }
  echo "$want_poll" > $halt_poll
  echo "tune-host: guest_halt_poll_ns -> $(cat $halt_poll)" >&2
  exit 0
fi

want=262144
have=$(cat /proc/sys/vm/max_map_count)
if [ "$have" -lt "$want" ]; then
  if [ $root -eq 1 ]; then
    sysctl -q -w vm.max_map_count=$want
    echo "tune-host: vm.max_map_count $have -> $want" >&2
  else
    echo "tune-host: vm.max_map_count is $have; as root run: sysctl -w vm.max_map_count=$want (density runs of embedded runtimes stop near $((have / 10)) instances otherwise)" >&2
  fi
fi

if [ -e $halt_poll ] && [ "$(cat $halt_poll)" = 0 ]; then
  driver=$(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null || echo unknown)
  if [ $root -eq 1 ] && [ -w $halt_poll ]; then
    echo 200000 > $halt_poll
    echo "tune-host: guest_halt_poll_ns 0 -> $(cat $halt_poll) (cpuidle driver $driver; Linux's default)" >&2
  else
    echo "tune-host: guest_halt_poll_ns is 0 (cpuidle driver $driver): idle vCPUs halt at once and every cross-CPU wake-up costs ~22-26 us more; as root run: scripts/tune-host.sh" >&2
  fi
fi
