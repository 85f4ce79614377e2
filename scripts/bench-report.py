#!/usr/bin/env python3
"""Print the README's performance table from criterion's estimates of the last `cargo bench` run.

Every ratio divides two medians measured in the same run (see DESIGN.md, Performance), so a
slower or busier machine moves both sides. Thread scaling is throughput on 2 threads over 1:
each iteration makes one call per thread, so scaling = 2 * t(1) / t(2).
"""
import json
import os
import sys
from pathlib import Path

# Where criterion wrote its estimates: it honours CRITERION_HOME, then CARGO_TARGET_DIR.
ROOT = (
    Path(os.environ["CRITERION_HOME"]) if os.environ.get("CRITERION_HOME")
    else Path(os.environ["CARGO_TARGET_DIR"]) / "criterion" if os.environ.get("CARGO_TARGET_DIR")
    else Path(__file__).resolve().parent.parent / "target" / "criterion"
)


def median_ns(bench):
    path = ROOT / bench / "new" / "estimates.json"
    try:
        return json.loads(path.read_text())["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def fmt_time(ns):
    if ns is None:
        return "n/a"
    if ns >= 1_000_000:
        return f"{ns / 1_000_000:.1f} ms"
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def ratio(a, b):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def scaling(group, name):
    t1, t2 = median_ns(f"{group}/{name}/1"), median_ns(f"{group}/{name}/2")
    return "n/a" if not t1 or not t2 else f"{2 * t1 / t2:.2f}x"


rows = []


def row(what, bench_64, bench_4k, base_64, base_4k, target=""):
    m64, m4k = median_ns(bench_64), median_ns(bench_4k)
    rows.append(
        f"| {what} | {fmt_time(m64)} | {ratio(m64, base_64)} | {fmt_time(m4k)} | {ratio(m4k, base_4k)} | {target} |"
    )


print("**waPC guest → host call** (`cargo bench -p switchboard --bench wapc`); ratio to the floor,")
print("a bare `WapcHost` (wasmtime-provider) whose callback is a plain echo closure:\n")
print("| path | 64 B | ratio | 4 KiB | ratio | target |")
print("|---|---|---|---|---|---|")
G = "wapc_host_call"
f64, f4k = median_ns(f"{G}/floor_wasmtime_provider_closure/64"), median_ns(f"{G}/floor_wasmtime_provider_closure/4096")
for name, what, target in [
    ("floor_wasmtime_provider_closure", "floor: WapcHost + closure", ""),
    ("wasmtime_provider_router", "WapcHost + router → native echo", "≤ 1.10x at 64 B"),
    ("wasmtime_provider_router_middleware", "… + pre middleware + post observer", ""),
    ("switchboard_engine_closure", "Switchboard engine + closure", ""),
    ("switchboard_engine_router", "Switchboard engine + router", ""),
    ("switchboard_engine_router_middleware", "Switchboard engine + router + middleware", ""),
    ("runtime_switchboard_engine", "GuestRuntime (pool, deadlines), Switchboard engine, no WapcHost", ""),
    ("runtime_wasmtime_provider", "GuestRuntime, wasmtime-provider engine", ""),
]:
    row(what, f"{G}/{name}/64", f"{G}/{name}/4096", f64, f4k, target)
print("\n".join(rows))
rows.clear()

print("\n**Router dispatch alone** (`--bench router`): ratio to calling the same closure directly:\n")
print("| path | 64 B | ratio | 4 KiB | ratio | target |")
print("|---|---|---|---|---|---|")
d64, d4k = median_ns("dispatch/direct_closure/64"), median_ns("dispatch/direct_closure/4096")
for name, what in [
    ("direct_closure", "direct closure call"),
    ("router", "router.call (48 routes)"),
    ("router_middleware", "router.call + pre + post"),
]:
    row(what, f"dispatch/{name}/64", f"dispatch/{name}/4096", d64, d4k)
print("\n".join(rows))
rows.clear()

print("\n**Component providers** (`--bench component`): guest → router → warm component echo, ratio")
print("to the sum of the waPC floor and a raw wasmtime typed component call of the same echo:\n")
print("| path | 64 B | ratio | 4 KiB | ratio | target |")
print("|---|---|---|---|---|---|")
sums = []
for size in (64, 4096):
    floor, raw = median_ns(f"component_route/floor_wapc_closure/{size}"), median_ns(f"component_echo/raw_typed_call/{size}")
    sums.append(None if floor is None or raw is None else floor + raw)
row("floor: WapcHost + closure", "component_route/floor_wapc_closure/64", "component_route/floor_wapc_closure/4096", None, None)
row("raw typed component call", "component_echo/raw_typed_call/64", "component_echo/raw_typed_call/4096", None, None)
row("router → warm component", "component_echo/router_warm/64", "component_echo/router_warm/4096", None, None)
row("guest → router → component", "component_route/guest_router_component/64", "component_route/guest_router_component/4096", sums[0], sums[1], "≤ 1.5x")
print("\n".join(rows))
rows.clear()

print("\n**Component providers from the `GuestRuntime`** (`--bench component -- component_guest`):")
print("what users run, ratio to the sum of the guest floor (the same runtime, router → native echo)")
print("and the raw typed component call, all three measured in one group:\n")
print("| path | 64 B | ratio | 4 KiB | ratio | target |")
print("|---|---|---|---|---|---|")
G = "component_guest"
sums = []
for size in (64, 4096):
    floor, raw = median_ns(f"{G}/floor_guest_runtime_closure/{size}"), median_ns(f"{G}/raw_typed_call/{size}")
    sums.append(None if floor is None or raw is None else floor + raw)
row("floor: GuestRuntime → router → native echo", f"{G}/floor_guest_runtime_closure/64", f"{G}/floor_guest_runtime_closure/4096", None, None)
row("raw typed component call", f"{G}/raw_typed_call/64", f"{G}/raw_typed_call/4096", None, None)
row("GuestRuntime → router → component", f"{G}/guest_runtime_router_component/64", f"{G}/guest_runtime_router_component/4096", sums[0], sums[1], "≤ 1.2x")
print("\n".join(rows))
rows.clear()
cold = median_ns("component_cold_start/register_and_first_call_from_disk_cache")
print(f"\nCold start, register + first call from the disk cache: {fmt_time(cold)}.")

print("\n**Throughput on 2 threads over 1** (64 B; target ≥ 1.8x; the control is plain CPU work and")
print("shows what the machine itself allows at that moment):\n")
print("| path | 2 threads / 1 |")
print("|---|---|")
for group, name, what in [
    ("wapc_threads_64B", "floor_wapchost_per_thread", "floor: one WapcHost per thread"),
    ("wapc_threads_64B", "runtime_switchboard_engine", "GuestRuntime → router → native, Switchboard engine"),
    ("wapc_threads_64B", "runtime_wasmtime_provider", "GuestRuntime → router → native, wasmtime-provider"),
    ("component_threads", "router_warm_64B", "router → warm component"),
    ("component_threads", "control_cpu_work", "control: CPU work only"),
]:
    print(f"| {what} | {scaling(group, name)} |")

langs = [(lang, median_ns(f"language_warm_set/{lang}")) for lang in ("rust", "python", "js", "c")]
if any(ns is not None for _, ns in langs):
    print("\n**Warm `database:kv` Set by language** (`--bench languages`):\n")
    print("| language | warm call | cold start from the disk cache |")
    print("|---|---|---|")
    for lang, ns in langs:
        cold = median_ns(f"language_cold_start/{lang}")
        print(f"| {lang} | {fmt_time(ns)} | {fmt_time(cold)} |")
