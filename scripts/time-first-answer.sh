#!/usr/bin/env bash
# Times the README's first command from a clean clone (issue 40): `git clone`,
# `scripts/setup.sh`, then `cargo run --release` with cargo's --timings for
# the outer and every nested build, every output line stamped with the
# seconds since the clone started. Measure on an idle machine: nothing else
# should compile or run meanwhile.
#
#   scripts/time-first-answer.sh [REPO] [DIR]
#
# REPO: what to clone (default: this repository); DIR: where (default
# /tmp/coldbench-first-answer, replaced). The stamped log goes to stdout;
# the lines to read are "setup: done", cargo's "Finished", the first
# "Cold start (" table, "The three answers" and /usr/bin/time's summary.
# The nested builds' wall times are in DIR/target/nested/logs/build-times.tsv,
# their --timings reports in DIR/target/nested/**/cargo-timings/.
set -u
repo="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
dir="${2:-/tmp/coldbench-first-answer}"
t0=$(date +%s.%N)
stamp() { perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } printf("%8.1f %s", time() - '"$t0"', $_)'; }
rm -rf "$dir"
{
  echo "time-first-answer: start $(date -u +%FT%TZ) on $(nproc) CPUs"
  git clone -q "$repo" "$dir" && cd "$dir" || exit 1
  echo "time-first-answer: cloned $(git rev-parse --short HEAD)"
  scripts/setup.sh
  echo "time-first-answer: setup rc=$?"
  COLDBENCH_NESTED_TIMINGS=1 /usr/bin/time -v cargo run --release --timings
  echo "time-first-answer: run rc=$? $(date -u +%FT%TZ)"
} 2>&1 | stamp
