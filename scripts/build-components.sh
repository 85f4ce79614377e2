#!/usr/bin/env bash
# Builds every component provider the tests and benchmarks use, from source, into
# providers/components/out/:
#   kv.wasm               database:kv example, wasm32-unknown-unknown + switchboard-componentize
#                         (import-free component)
#   transform.wasm        stateless example (echo/upper/reverse), import-free, same path
#   transform_wasip2.wasm the same source built for wasm32-wasip2 (imports WASI)
#   faults.wasm           hostile provider for the fault tests, wasm32-wasip2
#
# Idempotent and non-interactive (works with CI=true and no stdin). Quiet unless a step fails,
# in which case that step's output is printed and the script exits non-zero.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMPONENTS="$ROOT/providers/components"
OUT="$COMPONENTS/out"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT

step() {
    local name="$1"
    shift
    if ! "$@" >"$LOG" 2>&1; then
        echo "build-components: step '$name' failed: $*" >&2
        cat "$LOG" >&2
        exit 1
    fi
}

if ! command -v cargo >/dev/null 2>&1; then
    echo "build-components: 'cargo' is not installed; install Rust (rustup) first" >&2
    exit 1
fi

mkdir -p "$OUT"

if command -v rustup >/dev/null 2>&1; then
    step "rustup targets" rustup target add wasm32-unknown-unknown wasm32-wasip2
fi

# The componentize tool is a member of the main workspace (it shares wasmtime's wasm-tools).
step "build switchboard-componentize" cargo build --quiet --locked --release \
    --manifest-path "$ROOT/Cargo.toml" -p switchboard-componentize
COMPONENTIZE="$ROOT/target/release/switchboard-componentize"

step "cargo build (wasm32-unknown-unknown)" cargo build --quiet --locked --release \
    --manifest-path "$COMPONENTS/Cargo.toml" --target wasm32-unknown-unknown \
    -p kv-component -p transform-component
for name in kv transform; do
    step "componentize $name" "$COMPONENTIZE" \
        "$COMPONENTS/target/wasm32-unknown-unknown/release/${name}_component.wasm" "$OUT/$name.wasm"
done

step "cargo build (wasm32-wasip2)" cargo build --quiet --locked --release \
    --manifest-path "$COMPONENTS/Cargo.toml" --target wasm32-wasip2 \
    -p transform-component -p faults-component
cp "$COMPONENTS/target/wasm32-wasip2/release/transform_component.wasm" "$OUT/transform_wasip2.wasm"
cp "$COMPONENTS/target/wasm32-wasip2/release/faults_component.wasm" "$OUT/faults.wasm"
