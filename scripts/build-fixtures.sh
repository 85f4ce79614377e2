#!/usr/bin/env bash
# Builds every wasm fixture the end-to-end tests use, from source, into tests/fixtures/out/:
#   rust_guest.wasm        Rust, crates.io wapc-guest 1.2      (tests/fixtures/rust-guest)
#   hostile_guest.wasm     Rust, waPC imports declared by hand  (tests/fixtures/hostile-guest)
#   tarmac_guest.wasm      Rust, a Tarmac function (JSON + protobuf payloads) (tests/fixtures/tarmac-guest)
#   as_guest.wasm          AssemblyScript + @wapc/as-guest      (tests/fixtures/assemblyscript)
#   rust_host_call.wasm    third party: shipped in npm @wapc/host@0.0.3 (not built by us)
#   rust_echo_string.wasm  third party: same package
#
# Idempotent and non-interactive (works with CI=true and no stdin). Quiet unless a step fails,
# in which case that step's output is printed and the script exits non-zero.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FIXTURES="$ROOT/tests/fixtures"
OUT="$FIXTURES/out"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT

# The third-party package and the sha256 of the two modules taken from it: a different file
# under the same name must fail the build, not silently change what the tests prove.
WAPC_HOST_PKG="@wapc/host@0.0.3"
WAPC_HOST_TGZ="wapc-host-0.0.3.tgz"
declare -A THIRD_PARTY_SHA256=(
    [rust_host_call.wasm]=bdcd6da71ac936d3a6968bf29cf1bfee5732a0df8d23e2c891f1757ca15c0937
    [rust_echo_string.wasm]=40fdefee55e95490f92051b76ecf67b1d4877dcd54d068915b24f8060f706413
)

# Runs a command with its output captured; prints it only if the command fails. `set -e` does
# not apply inside a command tested by `if`, so the functions below chain with `&&`/`|| return`.
step() {
    local name="$1"
    shift
    if ! "$@" >"$LOG" 2>&1; then
        echo "build-fixtures: step '$name' failed: $*" >&2
        cat "$LOG" >&2
        exit 1
    fi
}

require() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "build-fixtures: '$1' is not installed; $2" >&2
        exit 1
    fi
}

require cargo "install Rust (rustup) first"
require npm "install Node.js 18+ with npm (e.g. apt-get install -y nodejs npm)"

mkdir -p "$OUT"

# wasm targets: wasip1/wasip2 are for the other fixture builds (examples, component providers).
if command -v rustup >/dev/null 2>&1; then
    step "rustup targets" rustup target add wasm32-unknown-unknown wasm32-wasip1 wasm32-wasip2
fi

# Rust guests: their own cargo workspace and lock file.
step "cargo build fixtures" cargo build --quiet --locked --release \
    --manifest-path "$FIXTURES/Cargo.toml" --target wasm32-unknown-unknown
for name in rust_guest hostile_guest tarmac_guest; do
    cp "$FIXTURES/target/wasm32-unknown-unknown/release/$name.wasm" "$OUT/$name.wasm"
done

# AssemblyScript guest: exact versions from package-lock.json; asconfig.json writes out/as_guest.wasm.
build_assemblyscript() (
    cd "$FIXTURES/assemblyscript" &&
        npm ci --no-audit --no-fund --loglevel=error &&
        npm run --silent build
)
step "assemblyscript guest" build_assemblyscript

# Third-party guests: fetched with `npm pack` (the registry checks the tarball's integrity),
# then pinned by sha256. Skipped when both modules are already in place with the right hash.
third_party_ok() {
    local file
    for file in "${!THIRD_PARTY_SHA256[@]}"; do
        [[ -f "$OUT/$file" ]] || return 1
        [[ "$(sha256sum "$OUT/$file" | cut -d' ' -f1)" == "${THIRD_PARTY_SHA256[$file]}" ]] || return 1
    done
}
fetch_third_party() (
    dir="$FIXTURES/third-party"
    rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || return 1
    npm pack --silent --no-audit --no-fund "$WAPC_HOST_PKG" || return 1
    tar -xzf "$WAPC_HOST_TGZ" package/test/fixtures || return 1
    for file in "${!THIRD_PARTY_SHA256[@]}"; do
        actual="$(sha256sum "package/test/fixtures/$file" | cut -d' ' -f1)" || return 1
        if [[ "$actual" != "${THIRD_PARTY_SHA256[$file]}" ]]; then
            echo "sha256 mismatch for $file from $WAPC_HOST_PKG: $actual" >&2
            return 1
        fi
        cp "package/test/fixtures/$file" "$OUT/$file" || return 1
    done
)
if ! third_party_ok; then
    step "third-party guests ($WAPC_HOST_PKG)" fetch_third_party
fi
