#!/usr/bin/env bash
# Run every benchmark and print the README's performance table (ratios within this run).
#   bash scripts/bench.sh            # full criterion runs (several minutes)
#   QUICK=1 bash scripts/bench.sh    # shorter measurement, same table
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build-fixtures.sh
bash scripts/build-components.sh
bash scripts/build-lang-components.sh
args=()
if [ -n "${QUICK:-}" ]; then args=(-- --warm-up-time 1 --measurement-time 3); fi
cargo bench -p switchboard --benches --features wasmtime-provider --locked "${args[@]}" >&2
python3 scripts/bench-report.py
