#!/usr/bin/env bash
# Re-run coldbench's cross-checks against the tools people already trust
# (docs/validation.md): the same `noop` lifecycle timed by hyperfine and by
# coldbench, alternated, on this host.
#
#   scripts/cross-check.sh [--pairs N] [--out DIR] [--no-docker]
#
# - native: hyperfine runs the static `noop` binary with the request coldbench
#   sends on its stdin (`--input`, hyperfine >= 1.17; Debian's 1.15 falls back
#   to /dev/null and says so) against coldbench's `native`
#   `t_first_response + t_teardown` (p50, n = 300);
# - Docker: `hyperfine 'docker run --rm -i coldbench/noop:scratch'` (bridge and
#   `--network none`) against coldbench's `docker-scratch-runc-{bridge,none}`
#   `t_first_response + t_teardown` (p50, n = 40).
# Each pair is measured back to back, N times (default 3), and printed as one
# row with the ratio coldbench ÷ hyperfine; the raw files stay in DIR.
# Needs: a built coldbench (`cargo build --release`), hyperfine, jq, and for the
# Docker rows a Docker engine (scripts/start-docker.sh). Nothing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

pairs=3
out=""
docker=1
while [ $# -gt 0 ]; do
    case "$1" in
        --pairs) pairs="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --no-docker) docker=0; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "cross-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
out="${out:-$(mktemp -d /tmp/coldbench-cross-check.XXXXXX)}"
mkdir -p "$out"

need() {
    command -v "$1" >/dev/null 2>&1 || { echo "cross-check: '$1' not found: $2" >&2; exit 1; }
}
need hyperfine "install Debian's hyperfine (apt-get install hyperfine) or 'cargo install hyperfine --locked'"
need jq "install Debian's jq"
coldbench=target/release/coldbench
[ -x "$coldbench" ] || { echo "cross-check: $coldbench not built: run 'cargo build --release' first" >&2; exit 1; }
noop=target/nested/x86_64-unknown-linux-musl/release/noop
[ -x "$noop" ] || { echo "cross-check: $noop not built: run 'cargo build --release' first" >&2; exit 1; }

# The request coldbench sends to noop (docs/design.md §2).
printf 'REQ -\n' >"$out/req"
if hyperfine --help | grep -q -- '--input'; then
    stdin=(--input "$out/req"); stdin_note="request on stdin"
else
    stdin=(-i); stdin_note="/dev/null stdin"
    echo "cross-check: hyperfine < 1.17 has no --input: native runs with /dev/null on stdin (no request; cargo install hyperfine --locked for the like-for-like row)" >&2
fi

# p50 of t_first_response + t_teardown of one target, in µs, from run.json.
coldbench_us() {
    jq --arg t "$2" '[.cold_start.results[] | select(.workload == "noop" and .target == $t
        and (.metric == "t_first_response" or .metric == "t_teardown")) | .p50_ns]
        | if length == 2 then add / 1000 else error("no t_first_response and t_teardown for " + $t) end' "$1"
}
hyperfine_us() { jq '.results[0].median * 1e6' "$1"; }

printf '%-28s %4s %14s %14s %10s\n' pair n "hyperfine µs" "coldbench µs" ratio
row() { # name pair hyperfine.json run.json target
    local h c
    h=$(hyperfine_us "$3"); c=$(coldbench_us "$4" "$5")
    printf '%-28s %4s %14.1f %14.1f %9.2f×\n' "$1" "$2" "$h" "$c" "$(jq -n "$c / $h")"
}

for i in $(seq 1 "$pairs"); do
    d="$out/native-$i"; mkdir -p "$d"
    hyperfine -N --style none --runs 300 --warmup 20 "${stdin[@]}" \
        --export-json "$d/hyperfine.json" "$noop" >/dev/null 2>"$d/hyperfine.err"
    "$coldbench" run --quiet --no-report --workloads noop --targets native \
        --runs 300 --warmup 10 --out "$d/coldbench" >/dev/null
    row "native ($stdin_note)" "$i" "$d/hyperfine.json" "$d/coldbench/run.json" native
done

if [ "$docker" = 1 ]; then
    for i in $(seq 1 "$pairs"); do
        d="$out/docker-$i"; mkdir -p "$d"
        "$coldbench" run --quiet --no-report --workloads noop \
            --targets docker-scratch-runc-bridge,docker-scratch-runc-none \
            --runs 40 --warmup 3 --out "$d/coldbench" >/dev/null
        hyperfine -N -i --style none --runs 40 --warmup 3 \
            --export-json "$d/hyperfine-bridge.json" 'docker run --rm -i coldbench/noop:scratch' >/dev/null 2>"$d/hyperfine-bridge.err"
        hyperfine -N -i --style none --runs 40 --warmup 3 \
            --export-json "$d/hyperfine-none.json" 'docker run --rm -i --network none coldbench/noop:scratch' >/dev/null 2>"$d/hyperfine-none.err"
        row "docker run (bridge)" "$i" "$d/hyperfine-bridge.json" "$d/coldbench/run.json" docker-scratch-runc-bridge
        row "docker run (none)" "$i" "$d/hyperfine-none.json" "$d/coldbench/run.json" docker-scratch-runc-none
    done
fi
echo "raw files: $out"
