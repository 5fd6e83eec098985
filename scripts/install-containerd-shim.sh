#!/usr/bin/env bash
# Builds coldbench's containerd Wasm shim (harness/shims/wamr: runwasi's
# containerd-shim-wasm 1.0.1 with WAMR inside) and installs it where
# containerd looks for shims, its PATH: /usr/local/bin/containerd-shim-coldbench-wamr-v1,
# i.e. runtime `io.containerd.coldbench-wamr.v1` (no containerd configuration
# needed). Used by the containerd-wasm-wamr target.
#
# Not part of the default cargo build (its own workspace, ~580 crates, youki's
# libcontainer among them). Needs Debian protobuf-compiler, libseccomp-dev,
# libdbus-1-dev and pkg-config, plus what the WAMR runner needs (cmake,
# libclang-dev, libsimde-dev); scripts/setup.sh installs them first.
# Idempotent: cargo rebuilds nothing when nothing changed; the copy is
# replaced only when it differs.
set -euo pipefail
cd "$(dirname "$0")/.."
shim=harness/shims/wamr
out=target/shims
dest=/usr/local/bin/containerd-shim-coldbench-wamr-v1
CMAKE_TOOLCHAIN_FILE="$PWD/harness/runners/wamr/simde-local.cmake" \
  CARGO_TARGET_DIR="$out" cargo build --release --locked --quiet --manifest-path "$shim/Cargo.toml"
bin="$out/release/containerd-shim-coldbench-wamr-v1"
if ! cmp -s "$bin" "$dest" 2>/dev/null; then
  install -m 0755 "$bin" "$dest"
  echo "install-containerd-shim: installed $dest" >&2
fi
