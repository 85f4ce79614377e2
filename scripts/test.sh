#!/usr/bin/env bash
# The README's test command: builds every wasm fixture from source, then runs the whole suite.
# Works on a fresh machine (installs the wasm targets and the npm packages it needs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/build-fixtures.sh
bash scripts/build-components.sh
bash scripts/build-lang-components.sh
bash scripts/check-deps.sh

# Real Redis and PostgreSQL on loopback for the provider conformance suites; stopped on exit.
export SWITCHBOARD_SERVICES_DIR="${SWITCHBOARD_SERVICES_DIR:-$(mktemp -d /tmp/switchboard-services.XXXXXX)}"
trap 'bash scripts/services.sh stop' EXIT
bash scripts/services.sh start
# shellcheck disable=SC1091
source "$SWITCHBOARD_SERVICES_DIR/env.sh"

cargo test --workspace --locked
# The guest SDK targets wasm but its dispatch logic is tested natively.
cargo test --manifest-path guest-sdk/Cargo.toml --locked
