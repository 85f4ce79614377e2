//! Shared helpers for the end-to-end tests: locating built fixtures.
