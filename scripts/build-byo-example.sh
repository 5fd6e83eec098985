#!/usr/bin/env bash
# Builds the bring-your-own example: jaq (a jq clone, MIT, crates.io), a WASI
# command not written in this repository, as the two files `--workload`
# takes — a wasm32-wasip1 module and a static x86_64-unknown-linux-musl
# binary — into target/byo/ (jaq.wasm, jaq). Pinned version, --locked, no
# default features (its mimalloc is C). Idempotent: skips when both exist.
# Used by harness/tests/byo.rs and the README's bring-your-own example:
#
#   cargo run --release -- run --workload jaq=target/byo/jaq.wasm:target/byo/jaq \
#     --workload-arg jaq=-c --workload-arg 'jaq=.features | length' \
#     --workload-input jaq=workloads/inputs/json/canada-geojson/document.json
set -euo pipefail
cd "$(dirname "$0")/.."
JAQ_VERSION=2.1.1
out=target/byo
if [ -f "$out/jaq.wasm" ] && [ -f "$out/jaq" ] && [ "$(cat "$out/VERSION" 2>/dev/null)" = "$JAQ_VERSION" ]; then
  exit 0
fi
mkdir -p "$out"
for t in wasm32-wasip1 x86_64-unknown-linux-musl; do
  echo "build-byo-example: jaq $JAQ_VERSION for $t (a few minutes)" >&2
  CARGO_TARGET_DIR="$out/build" cargo install jaq --version "=$JAQ_VERSION" --locked \
    --no-default-features --target "$t" --root "$out/$t" --quiet
done
cp "$out/wasm32-wasip1/bin/jaq.wasm" "$out/jaq.wasm"
cp "$out/x86_64-unknown-linux-musl/bin/jaq" "$out/jaq"
echo "$JAQ_VERSION" > "$out/VERSION"
