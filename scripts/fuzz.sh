#!/usr/bin/env bash
# Run every fuzz target (fuzz/, cargo-fuzz + libFuzzer) for SECONDS each (default 60) and print
# executions and coverage per target.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Installs what is missing on a fresh machine: the nightly toolchain (fuzzing only; the project
# itself builds on stable) and cargo-fuzz. Corpora grow in fuzz/corpus/<target> (seeded from
# fuzz/seeds/<target>); crashes land in fuzz/artifacts/<target>. Reproduce one with
# `cargo +nightly fuzz run <target> <artifact>` in fuzz/, then add a regression test on stable.
# CARGO_TARGET_DIR, when set, is used for the (separate, instrumented) fuzz build.
# Exit status: 0 when no target crashed, 1 otherwise.
set -euo pipefail

log() { echo "fuzz: $*" >&2; }
die() { log "$*"; exit 2; }

SECS="${1:-60}"
case "$SECS" in '' | *[!0-9]*) die "SECONDS must be a whole number, got '$SECS'" ;; esac
shift || true

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ="$ROOT/fuzz"
cd "$FUZZ"

command -v rustup >/dev/null || die "rustup is needed (https://rustup.rs)"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  log "installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

target_dir_args=()
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  target_dir_args=(--target-dir "$CARGO_TARGET_DIR")
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
[ "${#targets[@]}" -gt 0 ] || die "no fuzz targets found in $FUZZ"

log "building ${targets[*]} (nightly, instrumented; the first build takes a while)"
if [ "$#" -gt 0 ]; then
  for target in "${targets[@]}"; do
    cargo +nightly fuzz build "${target_dir_args[@]}" "$target"
  done
else
  cargo +nightly fuzz build "${target_dir_args[@]}"
fi

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
crashed=0
declare -A summary
for target in "${targets[@]}"; do
  corpus="$FUZZ/corpus/$target"
  mkdir -p "$corpus" "$FUZZ/artifacts/$target"
  if [ -d "$FUZZ/seeds/$target" ]; then
    cp -n "$FUZZ/seeds/$target"/* "$corpus"/ 2>/dev/null || true
  fi
  log "running $target for ${SECS}s"
  status=0
  cargo +nightly fuzz run "${target_dir_args[@]}" "$target" "$corpus" -- \
    -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$logs/$target.log" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$target.log" | tail -n1)"
  # libFuzzer's last status line: `#N DONE cov: C ft: F corp: U/S ...` (or the last pulse).
  line="$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$logs/$target.log" | tail -n1 || true)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$line")"
  corp="$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$line")"
  result="ok"
  if [ "$status" -ne 0 ]; then
    crashed=1
    artifact="$(ls -t "$FUZZ/artifacts/$target" 2>/dev/null | head -n1 || true)"
    result="CRASH ${artifact:+fuzz/artifacts/$target/$artifact}"
    log "$target failed (exit $status); the end of its log:"
    tail -n 40 "$logs/$target.log" >&2
  fi
  summary[$target]="$(printf '%-18s %12s %8s %8s %12s  %s' "$target" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result")"
done

printf '\n%-18s %12s %8s %8s %12s  %s\n' target executions cov ft corpus result
for target in "${targets[@]}"; do
  echo "${summary[$target]}"
done
exit "$crashed"
