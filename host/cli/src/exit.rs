//! Exit codes and the one-line error message.
//!
//! | code | meaning                                                              |
//! |------|----------------------------------------------------------------------|
//! | 0    | success                                                              |
//! | 1    | any other failure (e.g. writing stdout)                              |
//! | 2    | bad command line, or the payload file / stdin could not be read      |
//! | 3    | bad config file (syntax, unknown key or provider, bad options)        |
//! | 4    | the guest, or a function guest, cannot be loaded or instantiated     |
//! | 5    | the guest returned an error (also after a failed host call)          |
//! | 6    | the guest trapped or exited                                          |
//! | 7    | the invocation ran past its deadline or was canceled                 |
//! | 8    | the guest hit its memory limit                                       |

use std::path::PathBuf;

use switchboard::config::ConfigError;
use switchboard::wapc::WapcError;

/// Shown at the end of `--help`.
pub const HELP: &str = "\
Exit codes: 0 success, 1 other failure, 2 bad command line or unreadable payload,
3 bad config, 4 guest cannot be loaded, 5 guest returned an error, 6 guest trapped,
7 deadline exceeded or canceled, 8 guest memory limit.";

/// The payload argument could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// `@path` named an unreadable file.
    #[error("cannot read payload file {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `-` but stdin could not be read.
    #[error("cannot read the payload from stdin: {source}")]
    Stdin {
        /// Why.
        source: std::io::Error,
    },
}

/// The exit code for an error (see the module table). A guest's error anywhere in the chain
/// decides: a `[function.<name>]` guest that cannot be loaded is reported through the config
/// step, but it is still a guest that cannot be loaded (4).
pub fn code_for(err: &anyhow::Error) -> u8 {
    if let Some(wapc) = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<WapcError>())
    {
        return match wapc {
            WapcError::Io { .. }
            | WapcError::BadModule(_)
            | WapcError::Instantiation(_)
            | WapcError::Config(_) => 4,
            WapcError::Guest(_) | WapcError::HostCall { .. } => 5,
            WapcError::Trap { .. } => 6,
            WapcError::DeadlineExceeded | WapcError::Canceled => 7,
            WapcError::MemoryLimit { .. } => 8,
            _ => 1,
        };
    }
    for cause in err.chain() {
        if cause.downcast_ref::<InputError>().is_some() {
            return 2;
        }
        if cause.downcast_ref::<ConfigError>().is_some() {
            return 3;
        }
    }
    1
}

/// The error and its causes on one line, `outer: inner`. A cause whose text the message
/// already ends with is not repeated (many errors print their source themselves), and
/// multi-line details (wasm backtraces) are folded so stderr gets exactly one line.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.is_empty() {
            message = text;
        } else if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[test]
    fn causes_already_printed_are_not_repeated() {
        let inner = std::io::Error::other("disk on fire");
        let err = anyhow::Error::new(Repeats(inner)).context("while loading");
        assert_eq!(one_line(&err), "while loading: outer: disk on fire");
    }

    #[test]
    fn multi_line_messages_become_one_line() {
        let err = anyhow::anyhow!("trap\n  0: func[1]\n\n  1: func[2]");
        assert_eq!(one_line(&err), "trap 0: func[1] 1: func[2]");
    }

    #[test]
    fn exit_codes_follow_the_error_class() {
        let input = InputError::Stdin {
            source: std::io::Error::other("x"),
        };
        assert_eq!(code_for(&anyhow::Error::new(input)), 2);
        let config = ConfigError::Io {
            path: "a.toml".into(),
            source: std::io::Error::other("x"),
        };
        assert_eq!(code_for(&anyhow::Error::new(config).context("ctx")), 3);
        let cases = [
            (WapcError::BadModule("x".into()), 4),
            (WapcError::Guest("x".into()), 5),
            (WapcError::DeadlineExceeded, 7),
            (
                WapcError::MemoryLimit {
                    limit: 1,
                    requested: 2,
                },
                8,
            ),
        ];
        for (err, code) in cases {
            assert_eq!(code_for(&anyhow::Error::new(err)), code);
        }
        assert_eq!(code_for(&anyhow::anyhow!("other")), 1);
    }
}
