//! The sandbox toolkit shared by waPC guests (`wapc`) and component providers (`component`):
//! what stops a running guest, what bounds it, and how its failures are told apart. It depends
//! on neither side.
//!
//! - [`epoch`]: the interrupt reasons returned from the epoch callback, and the one
//!   process-wide ticker thread that advances the epoch of every engine ([`EPOCH_TICK`]).
//! - [`limits`]: one `ResourceLimiter` that reports a typed [`LimitHit`].
//! - [`fault`]: one classification of an engine error (interrupt, limit hit, wasm trap, exit,
//!   other), which each side maps to its own error type.
//! - [`grants`]: the read-only directory grant both kinds of guest accept.

pub(crate) mod epoch;
pub(crate) mod fault;
pub(crate) mod grants;
pub(crate) mod limits;

pub use epoch::EPOCH_TICK;
pub use grants::ReadOnlyDir;
pub(crate) use limits::LimitHit;
