//! Built-in native providers usable by name from `switchboard.toml`.
