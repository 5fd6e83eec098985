#!/usr/bin/env bash
# Builds a coldbench runner against another version of its runtime, on demand
# (never by `cargo build`, which builds the pinned versions only): the
# runner's sources, unchanged, with the runtime crates pinned to that version,
# into target/versions/. The harness then offers the version's variants
# (`wasmtime@50-pooling`, `wasmer@7.5-cranelift`, ...; `coldbench targets`).
#
#   scripts/build-runtime-version.sh wasmtime 50     # wasmtime 50.0.1 (latest)
#   scripts/build-runtime-version.sh wasmtime 36     # wasmtime 36.0.20 (previous LTS)
#   scripts/build-runtime-version.sh wasmer 7.5      # wasmer 7.5.0, wasmer-wasix 0.705.0
#   scripts/build-runtime-version.sh --all           # the three
#
# Each takes 8-15 min on 2 cores (the runtime's crates compile once per
# version; the versions share target/versions/target for everything else).
# Where a runtime's API changed between versions, the runner adapts in one
# place, behind the cargo feature this script turns on (`runtime-<major>`).
# Exit status: 0 built, 1 the build failed, 2 unknown runtime or version.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

if [ "${1:-}" = "--all" ]; then
  for rv in "wasmtime 50" "wasmtime 36" "wasmer 7.5"; do
    # shellcheck disable=SC2086
    "$0" $rv
  done
  exit 0
fi

runtime=${1:-}
label=${2:-}
features=""
# A version whose crates declare a newer rust-version than this host's only
# toolchain (rustc 1.95; no other can be fetched here) is built with
# --ignore-rust-version, and says so in its record (knob `build`).
declared_rust=""
case "$runtime@$label" in
  wasmtime@50)
    pins=("wasmtime=50.0.1" "wasmtime-wasi=50.0.1")
    version=50.0.1
    declared_rust=1.97.0
    ;;
  wasmtime@36)
    pins=("wasmtime=36.0.20" "wasmtime-wasi=36.0.20")
    version=36.0.20
    features=runtime-36
    ;;
  wasmer@7.5)
    pins=("wasmer=7.5.0" "wasmer-wasix=0.705.0")
    version=7.5.0
    declared_rust=1.96
    export COLDBENCH_WASIX_VERSION=0.705.0
    ;;
  *)
    echo "build-runtime-version: unknown runtime/version '$runtime $label'; known: wasmtime 50, wasmtime 36, wasmer 7.5" >&2
    exit 2
    ;;
esac

src=harness/runners/$runtime
dst=target/versions/src/$runtime@$label
rm -rf "$dst"
mkdir -p "$dst" target/versions/bin
cp -r "$src/src" "$src/Cargo.toml" "$dst/"
[ -d "$src/benches" ] && cp -r "$src/benches" "$dst/"
# The copy lives elsewhere: its path dependency is made absolute.
sed -i "s|path = \"../../../workloads/protocol\"|path = \"$repo/workloads/protocol\"|" "$dst/Cargo.toml"
for pin in "${pins[@]}"; do
  name=${pin%%=*}
  ver=${pin#*=}
  grep -qE "^$name = \{ version = \"=" "$dst/Cargo.toml" || {
    echo "build-runtime-version: $src/Cargo.toml does not pin $name as '$name = { version = \"=...\"'" >&2
    exit 1
  }
  sed -i -E "s|^($name = \{ version = \")=[^\"]+|\1=$ver|" "$dst/Cargo.toml"
done
# wasmtime-wasi 36 names its WASI preview 1 feature `preview1` (later: `p1`).
if [ "$runtime@$label" = wasmtime@36 ]; then
  sed -i -E '/^wasmtime-wasi = /s/features = \["p1"\]/features = ["preview1"]/' "$dst/Cargo.toml"
fi
echo "build-runtime-version: $runtime $version (${pins[*]}) → target/versions/bin/coldbench-runner-$runtime@$label"
args=(build --release --manifest-path "$dst/Cargo.toml" --target-dir target/versions/target)
[ -n "$features" ] && args+=(--features "$features")
rustc_v=$(rustc --version | cut -d' ' -f2)
note="built on demand by scripts/build-runtime-version.sh $runtime $label with rustc $rustc_v"
if [ -n "$declared_rust" ]; then
  args+=(--ignore-rust-version)
  note="$note and --ignore-rust-version ($runtime $version declares rust-version $declared_rust)"
fi
export COLDBENCH_BUILD_NOTE=$note
# The runner reports the version it was built against (its `--version` and hello).
COLDBENCH_RUNTIME_VERSION=$version cargo "${args[@]}"
cp "target/versions/target/release/coldbench-runner-$runtime" \
  "target/versions/bin/coldbench-runner-$runtime@$label"
echo "build-runtime-version: built; \`cargo run --release -- targets\` lists $runtime@$label-*"
