#!/usr/bin/env bash
# Guards on the dependency graph that no unit test can see:
# - exactly one wasmtime (wasmtime-provider 2.25 must share our wasmtime 48);
# - wasmtime's `component-model-async` stays off: it doubles a synchronous component call;
# - the library's default build and the CLI do not compile wasmtime-provider (it is only the
#   comparison engine behind the `wasmtime-provider` feature).
set -euo pipefail
cd "$(dirname "$0")/.."

dups=$(cargo tree --workspace -d -e normal --depth 0 --prefix none --format '{p}' 2>/dev/null | grep -E '^wasmtime(-wasi)? v' | sort -u || true)
if [ -n "$dups" ]; then
  echo "check-deps: more than one wasmtime in the dependency graph:" >&2
  echo "$dups" >&2
  exit 1
fi
versions=$(cargo tree --workspace -e normal --prefix none --format '{p}' 2>/dev/null | grep -E '^wasmtime v' | sed 's/ (\*)$//' | sort -u)
if [ "$(echo "$versions" | wc -l)" -ne 1 ]; then
  echo "check-deps: expected one wasmtime, found: $versions" >&2
  exit 1
fi
features=$(cargo tree --workspace -e features -i wasmtime --prefix none 2>/dev/null | grep -o 'wasmtime feature "[a-z0-9-]*"' | sort -u)
if echo "$features" | grep -q '"component-model-async"'; then
  echo "check-deps: wasmtime feature component-model-async is enabled; something turned default features back on:" >&2
  cargo tree --workspace -e features -i wasmtime 2>/dev/null | grep -B3 'component-model-async' >&2 || true
  exit 1
fi
for package in switchboard switchboard-cli; do
  if cargo tree -p "$package" -e normal --prefix none --format '{p}' 2>/dev/null | grep -q '^wasmtime-provider v'; then
    echo "check-deps: the default build of $package compiles wasmtime-provider:" >&2
    cargo tree -p "$package" -e normal -i wasmtime-provider >&2 || true
    exit 1
  fi
done
echo "check-deps: one wasmtime ($versions), component-model-async off, no wasmtime-provider in the default build"
