#!/usr/bin/env bash
# The README's test command: builds every wasm fixture from source, checks formatting and
# clippy lints, then runs the whole suite.
# Works on a fresh machine (installs the wasm targets and the npm packages it needs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/build-fixtures.sh
bash scripts/build-components.sh
bash scripts/build-lang-components.sh
bash scripts/check-deps.sh

# Lint gates, before any test runs: formatting and clippy with warnings denied, on the main
# workspace (the wasm fixture workspaces are separate and not linted here). The components are
# installed on a fresh machine.
if command -v rustup >/dev/null 2>&1; then
    installed="$(rustup component list --installed)"
    for component in rustfmt clippy; do
        if ! grep -q "^$component-" <<<"$installed"; then
            rustup component add "$component"
        fi
    done
fi
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# Real Redis and PostgreSQL on loopback for the provider conformance suites; stopped on exit.
export SWITCHBOARD_SERVICES_DIR="${SWITCHBOARD_SERVICES_DIR:-$(mktemp -d /tmp/switchboard-services.XXXXXX)}"
trap 'bash scripts/services.sh stop' EXIT
bash scripts/services.sh start
# shellcheck disable=SC1091
source "$SWITCHBOARD_SERVICES_DIR/env.sh"

cargo test --workspace --locked
# The workspace run unifies features: the tests crate turns on `wasmtime-provider`, so the
# library's default build (without that engine) gets its own unit-test run.
cargo test -p switchboard --lib --locked
# The guest SDK targets wasm but its dispatch logic is tested natively.
cargo test --manifest-path guest-sdk/Cargo.toml --locked
