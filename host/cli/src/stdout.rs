//! Writing results to stdout, where a reader that went away is not an error.

use std::io::{ErrorKind, Write};

/// Write `bytes` to stdout and flush. A closed pipe (`switchboard run ... | head -c1`) ends the
/// write quietly: whoever reads has all it wanted. Rust ignores SIGPIPE, so it surfaces here
/// as [`ErrorKind::BrokenPipe`].
///
/// # Errors
///
/// Any other write error.
pub fn write_all(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() == ErrorKind::BrokenPipe => {
            tracing::debug!("stdout was closed before the output was written");
            Ok(())
        }
        other => other,
    }
}
