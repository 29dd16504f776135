#!/usr/bin/env bash
# Run one Flatland fuzz target for a fixed number of executions (default 10^6), with the
# settings FUZZING.md records. Usage, from the repository root:
#   fuzz/run.sh TARGET [RUNS] [SANITIZER] [extra libFuzzer flags...]
# SANITIZER: none (default) or address. Needs cargo-fuzz; RUSTC_BOOTSTRAP=1 lets the stable
# toolchain accept the nightly-only flags cargo-fuzz passes (-Zsanitizer, -Cpasses=sancov...).
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?target}
runs=${2:-1000000}
san=${3:-none}
shift $(( $# < 3 ? $# : 3 ))
extra=()
[ "$target" = forward_weights ] && extra+=(-max_len=65536 -dict=dict/numpy.dict)
RUSTC_BOOTSTRAP=1 exec cargo fuzz run "$target" --sanitizer "$san" -- \
  -runs="$runs" -max_total_time=7200 -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 "${extra[@]}" "$@"
