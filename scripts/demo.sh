#!/usr/bin/env bash
# The README's first command: build the demo guest (examples/demo-guest, a Tarmac function in
# Rust + the crates.io wapc-guest SDK) and run its `handler` twice through the `switchboard` CLI
# with examples/switchboard.toml: its key-value and SQL calls go to the Tarmac suite on the
# embedded defaults (redb + SQLite), in a fresh data directory, so the second run sees what the
# first one stored. Non-interactive: needs no stdin.
#
#   scripts/demo.sh [name] [name]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
FIRST="${1:-ada}"
SECOND="${2:-grace}"
GUEST_DIR="$ROOT/examples/demo-guest"
WASM="$GUEST_DIR/target/wasm32-unknown-unknown/release/demo_guest.wasm"
DATA="$(mktemp -d)"
trap 'rm -rf "$DATA"' EXIT

if ! command -v cargo >/dev/null 2>&1; then
    echo "demo: cargo is not installed; install Rust with rustup first (https://rustup.rs)" >&2
    exit 1
fi
if command -v rustup >/dev/null 2>&1; then
    rustup target add wasm32-unknown-unknown >/dev/null 2>&1 </dev/null \
        || { echo "demo: 'rustup target add wasm32-unknown-unknown' failed" >&2; exit 1; }
fi

echo "==> building the demo guest (examples/demo-guest, wasm32-unknown-unknown)" >&2
cargo build --quiet --release --locked --target wasm32-unknown-unknown \
    --manifest-path "$GUEST_DIR/Cargo.toml" --target-dir "$GUEST_DIR/target" </dev/null
switchboard() { cargo run --quiet -p switchboard-cli -- "$@" </dev/null; }

echo "==> switchboard routes --config examples/switchboard.toml" >&2
switchboard routes --config examples/switchboard.toml --data-dir "$DATA" >&2

for name in "$FIRST" "$SECOND"; do
    echo "==> switchboard run demo_guest.wasm handler '$name' --config examples/switchboard.toml" >&2
    switchboard run "$WASM" handler "$name" --config examples/switchboard.toml --data-dir "$DATA"
done
