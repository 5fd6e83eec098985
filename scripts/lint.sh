#!/usr/bin/env bash
# The checks every change must pass besides the tests (.ci/run runs this
# first): rustfmt, clippy with warnings denied, and rustdoc with warnings
# denied — for the workspace and for every nested workspace (the workloads,
# each runner, the containerd shim), which are built by harness/build.rs or the
# set-up and so are not workspace members.
#
#   scripts/lint.sh            # everything
#   scripts/lint.sh --fix      # apply rustfmt first, then check
#
# The nested workspaces are checked in target/lint (clippy's and rustdoc's
# artifacts differ from the release builds in target/nested, so sharing that
# directory would only make both rebuild). Exit status: the first failing
# check's.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTDOCFLAGS="-D warnings"
root="$PWD"
# The nested workspaces, each its own Cargo.lock.
nested_workspaces=(workloads harness/runners/wasmtime harness/runners/wasmer harness/runners/wasmi
    harness/runners/wamr harness/shims/wamr)

if [ "${1:-}" = "--fix" ]; then
    cargo fmt --all
    for ws in "${nested_workspaces[@]}"; do
        (cd "$ws" && cargo fmt --all)
    done
fi

step() { echo "lint: $*" >&2; "$@"; }

step cargo fmt --all --check
for ws in "${nested_workspaces[@]}"; do
    (cd "$ws" && step cargo fmt --all --check)
done

step cargo clippy --release --workspace --all-targets -- -D warnings
step cargo doc --release --workspace --no-deps

nested() { # dir, extra cargo args
    local ws="$1"; shift
    local env=(CARGO_TARGET_DIR="$root/target/lint")
    # WAMR's CMake build (the wamr runner, and the shim that embeds WAMR)
    # takes SIMDe from Debian's headers, as harness/build.rs builds them.
    grep -q wamrx-sys "$ws/Cargo.toml" &&
        env+=(CMAKE_TOOLCHAIN_FILE="$root/harness/runners/wamr/simde-local.cmake")
    (cd "$ws" && step env "${env[@]}" cargo clippy --release --all-targets "$@" -- -D warnings)
    (cd "$ws" && step env "${env[@]}" cargo doc --release --no-deps "$@")
}
# The workloads are built for wasm32-wasip1 and musl; clippy them for the host
# target (their code has no target-specific paths the lints see differently).
for ws in "${nested_workspaces[@]}"; do
    if [ "$ws" = workloads ]; then nested "$ws" --workspace; else nested "$ws"; fi
done
echo "lint: all clean" >&2
