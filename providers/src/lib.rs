//! Tarmac-compatible native providers (see issue 4).
