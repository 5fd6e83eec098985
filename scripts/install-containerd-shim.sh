#!/usr/bin/env bash
# Installs coldbench's containerd Wasm shim (harness/shims/wamr: runwasi's
# containerd-shim-wasm 1.0.1 with WAMR inside) where containerd looks for
# shims by name, its PATH: /usr/local/bin/containerd-shim-coldbench-wamr-v1,
# i.e. runtime `io.containerd.coldbench-wamr.v1`, for use outside coldbench
# (ctr, a CRI RuntimeClass). coldbench itself needs no installation:
# harness/build.rs builds the shim into target/nested/shim-wamr and the
# containerd-wasm-wamr target names it to containerd by its path.
#
# Builds in that same directory, with the same settings, so after a
# `cargo build` there is nothing left to compile. Needs Debian
# protobuf-compiler, libseccomp-dev, libdbus-1-dev and pkg-config, plus what
# the WAMR runner needs (cmake, libclang-dev, libsimde-dev); scripts/setup.sh
# installs them. Idempotent: the copy is replaced only when it differs.
set -euo pipefail
cd "$(dirname "$0")/.."
shim=harness/shims/wamr
out=target/nested/shim-wamr
dest=/usr/local/bin/containerd-shim-coldbench-wamr-v1
CMAKE_TOOLCHAIN_FILE="$PWD/harness/runners/wamr/simde-local.cmake" \
  cargo build --release --locked --quiet --manifest-path "$shim/Cargo.toml" --target-dir "$out"
bin="$out/release/containerd-shim-coldbench-wamr-v1"
if ! cmp -s "$bin" "$dest" 2>/dev/null; then
  install -m 0755 "$bin" "$dest"
  echo "install-containerd-shim: installed $dest" >&2
fi
