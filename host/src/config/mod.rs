//! `switchboard.toml`: routes, guest limits and grants.
