//! Sandboxed WASM component providers (the `switchboard:provider` world).
