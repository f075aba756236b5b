#!/bin/sh
# The GPU benchmark, for a machine with an NVIDIA GPU and its driver and nothing else: no
# network, nothing to install. It needs only a `rusk` release binary built elsewhere (the
# kernels' PTX is in the binary; NVRTC is used where present, not needed).
#
#   bench/gpu/run.sh [RUSK_BINARY] [REPORT]     (defaults: target/release/rusk, gpu-report.json)
#
# Sizes and more: `rusk gpu-bench --help`; extra flags follow in GPU_BENCH_ARGS, e.g.
#   GPU_BENCH_ARGS="--rows 1000000 --kmeans-rows 100000" bench/gpu/run.sh
# It checks every GPU answer against the CPU's (exact counts and integer sums, float sums to
# 1e-9 relative, identical k-means labels from the same start) and exits non-zero if one
# differs; times group-by aggregation (kernel-only and end to end from Parquet on this disk,
# plain and with a filter and computed arguments) and k-means at 10M and 100M rows, linear and
# logistic regression at 10M rows, and pinned, pageable and staged host-to-device copies.
set -eu
rusk="${1:-target/release/rusk}"
report="${2:-gpu-report.json}"
scratch="${TMPDIR:-/tmp}/rusk-gpu-bench.$$"
trap 'rm -rf "$scratch"' EXIT
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
# shellcheck disable=SC2086 # GPU_BENCH_ARGS is a list of flags
"$rusk" gpu-bench --dir "$scratch" --out "$report" ${GPU_BENCH_ARGS:-}
echo "wrote $report"
