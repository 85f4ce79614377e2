#!/usr/bin/env bash
# Builds the database:kv component providers written in other languages, from source, into
# providers/components/out/, installing each toolchain from its package registry:
#   kv_python.wasm  providers/components/python/app.py, componentize-py (PyPI, pinned in
#                   providers/components/python/requirements.txt) in a venv under target/
#   kv_js.wasm      providers/components/js/app.js, @bytecodealliance/componentize-js (npm,
#                   pinned by package.json + package-lock.json, `npm ci`)
#   kv_c.wasm       providers/components/c/kv.c, Debian's clang + lld + wasi-libc +
#                   libclang-rt-dev-wasm32 (apt-get, installed when missing and run as root);
#                   C bindings and componentization (WASI preview 1 reactor adapter of
#                   wasmtime 48) by tests/componentize/c-bindgen, a small tool on crates.io's
#                   wit-bindgen-c (no wit-bindgen-cli install)
#
# A component is rebuilt only when its sources or pinned toolchain are newer than it.
# Prints one line per language with the build time. Idempotent and non-interactive (works with
# CI=true and no stdin); on a failed step, that step's output is printed and the script exits
# non-zero.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMPONENTS="$ROOT/providers/components"
OUT="$COMPONENTS/out"
WIT="$ROOT/wit"
TOOLS="$ROOT/target/lang-tools"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT

step() {
    local name="$1"
    shift
    if ! "$@" >"$LOG" 2>&1; then
        echo "build-lang-components: step '$name' failed: $*" >&2
        cat "$LOG" >&2
        exit 1
    fi
}

require() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "build-lang-components: '$1' is not installed; $2" >&2
        exit 1
    fi
}

# up_to_date OUTPUT INPUT...: OUTPUT exists and no INPUT is newer.
up_to_date() {
    local output="$1"
    shift
    [[ -f "$output" ]] || return 1
    local input
    for input in "$@"; do
        [[ "$input" -nt "$output" ]] && return 1
    done
    return 0
}

# timed LABEL COMMAND...: runs COMMAND and prints LABEL with the elapsed time.
timed() {
    local label="$1"
    shift
    local start=$SECONDS
    "$@"
    echo "build-lang-components: $label built in $((SECONDS - start)) s"
}

mkdir -p "$OUT" "$TOOLS"

# --- Python (componentize-py) ----------------------------------------------------------------
build_python() {
    local dir="$COMPONENTS/python"
    local venv="$TOOLS/venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        step "python venv" python3 -m venv "$venv"
    fi
    step "pip install componentize-py" "$venv/bin/pip" install --quiet --disable-pip-version-check \
        -r "$dir/requirements.txt"
    # componentize-py bundles the whole module path: stage only app.py (no README, no
    # __pycache__), so the component holds just the provider and builds reproducibly.
    local src="$TOOLS/python-src"
    rm -rf "$src"
    mkdir -p "$src"
    cp "$dir/app.py" "$src/app.py"
    step "componentize-py" env PYTHONDONTWRITEBYTECODE=1 "$venv/bin/componentize-py" \
        -d "$WIT" -w provider componentize -p "$src" app -o "$OUT/kv_python.wasm"
}

require python3 "install Python 3.10+ with venv (e.g. apt-get install -y python3 python3-venv)"
if up_to_date "$OUT/kv_python.wasm" "$COMPONENTS/python/app.py" \
    "$COMPONENTS/python/requirements.txt" "$WIT/provider.wit"; then
    echo "build-lang-components: kv_python.wasm up to date"
else
    timed kv_python.wasm build_python
fi

# --- JavaScript (componentize-js) ------------------------------------------------------------
build_js() {
    local dir="$COMPONENTS/js"
    step "npm ci (componentize-js)" npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    # http and fetch-event are off: a provider has no network, and they pull in more WASI.
    step "componentize-js" "$dir/node_modules/.bin/componentize-js" --wit "$WIT" \
        --world-name provider -d http fetch-event -o "$OUT/kv_js.wasm" "$dir/app.js"
}

require npm "install Node.js 18+ with npm (e.g. apt-get install -y nodejs npm)"
if up_to_date "$OUT/kv_js.wasm" "$COMPONENTS/js/app.js" "$COMPONENTS/js/package-lock.json" \
    "$WIT/provider.wit"; then
    echo "build-lang-components: kv_js.wasm up to date"
else
    timed kv_js.wasm build_js
fi

# --- C (clang + wasi-libc + wit-bindgen-c) ---------------------------------------------------
WASI_SYSROOT=/usr
C_PACKAGES=(clang lld wasi-libc libclang-rt-dev-wasm32)

c_toolchain_present() {
    command -v clang >/dev/null 2>&1 && command -v wasm-ld >/dev/null 2>&1 &&
        [[ -f "$WASI_SYSROOT/lib/wasm32-wasi/libc.a" ]] &&
        compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a" >/dev/null
}

install_c_toolchain() {
    if c_toolchain_present; then
        return 0
    fi
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        echo "build-lang-components: the C toolchain is missing; install it with" \
            "'apt-get install -y ${C_PACKAGES[*]}'" >&2
        exit 1
    fi
    step "apt-get update" apt-get update -q
    step "apt-get install ${C_PACKAGES[*]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${C_PACKAGES[@]}"
}

build_c() {
    local dir="$COMPONENTS/c"
    local tool_dir="$ROOT/tests/componentize/c-bindgen"
    local tool_target="$TOOLS/c-bindgen-target"
    local gen="$TOOLS/c-bindings"
    install_c_toolchain
    step "build switchboard-c-bindgen" cargo build --quiet --locked --release \
        --manifest-path "$tool_dir/Cargo.toml" --target-dir "$tool_target"
    local tool="$tool_target/release/switchboard-c-bindgen"
    rm -rf "$gen"
    step "wit-bindgen c" "$tool" bindgen "$WIT" provider "$gen"
    # A reactor (no main): the host calls the exports; wasi-libc's initialisers run first.
    step "clang" clang --target=wasm32-wasi --sysroot="$WASI_SYSROOT" -mexec-model=reactor \
        -O2 -Wall -Wextra -Werror -I "$gen" \
        "$dir/kv.c" "$gen/provider.c" "$gen/provider_component_type.o" \
        -o "$TOOLS/kv_c.core.wasm"
    step "componentize (C)" "$tool" componentize "$TOOLS/kv_c.core.wasm" "$OUT/kv_c.wasm"
}

if up_to_date "$OUT/kv_c.wasm" "$COMPONENTS/c/kv.c" "$WIT/provider.wit" \
    "$ROOT/tests/componentize/c-bindgen/src/main.rs" "$ROOT/tests/componentize/c-bindgen/Cargo.lock"; then
    echo "build-lang-components: kv_c.wasm up to date"
else
    timed kv_c.wasm build_c
fi
