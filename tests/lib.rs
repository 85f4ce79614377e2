//! Shared helpers for the end-to-end tests: locating the wasm fixtures that
//! `scripts/build-fixtures.sh` builds into `tests/fixtures/out/`, and speaking the MessagePack of
//! the fixtures' `callback` operation.
//!
//! The fixtures are real waPC guests built with the official SDKs (never committed binaries):
//! see [`Fixture`].

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The command that builds every fixture; named in every "fixture missing" message.
pub const BUILD_COMMAND: &str = "bash scripts/build-fixtures.sh";

/// One wasm fixture in `tests/fixtures/out/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fixture {
    /// Rust guest built with crates.io `wapc-guest` 1.2 (`tests/fixtures/rust-guest`).
    RustGuest,
    /// AssemblyScript guest built with npm `@wapc/as-guest` (`tests/fixtures/assemblyscript`).
    AsGuest,
    /// Guest declaring the waPC imports itself and passing out-of-range pointers
    /// (`tests/fixtures/hostile-guest`).
    HostileGuest,
    /// Third party: `rust_host_call.wasm` from npm `@wapc/host@0.0.3` (built with
    /// `wapc-guest` 0.4). Operation `callback`, same contract as ours.
    RustHostCall,
    /// Third party: `rust_echo_string.wasm` from npm `@wapc/host@0.0.3`. Operation `echo`:
    /// msgpack map `{msg: str}` in, msgpack str out.
    RustEchoString,
    /// A Tarmac function built with crates.io `wapc-guest` 1.2 (`tests/fixtures/tarmac-guest`):
    /// operation `handler` takes a JSON command and sends the Tarmac SDKs' JSON or protobuf
    /// payloads; answers `ok:<response>` or `err:<host error>`. Its `crash.writes` command is
    /// the acknowledged-write loop of the crash test (host/cli/tests/crash.rs).
    TarmacGuest,
}

impl Fixture {
    /// Every fixture, in a stable order.
    pub const ALL: [Fixture; 6] = [
        Fixture::RustGuest,
        Fixture::AsGuest,
        Fixture::HostileGuest,
        Fixture::RustHostCall,
        Fixture::RustEchoString,
        Fixture::TarmacGuest,
    ];

    /// The module's file name in `tests/fixtures/out/`.
    pub const fn file_name(self) -> &'static str {
        match self {
            Fixture::RustGuest => "rust_guest.wasm",
            Fixture::AsGuest => "as_guest.wasm",
            Fixture::HostileGuest => "hostile_guest.wasm",
            Fixture::RustHostCall => "rust_host_call.wasm",
            Fixture::RustEchoString => "rust_echo_string.wasm",
            Fixture::TarmacGuest => "tarmac_guest.wasm",
        }
    }

    /// Where the module is expected, whether or not it exists.
    pub fn expected_path(self) -> PathBuf {
        out_dir().join(self.file_name())
    }

    /// The module's path.
    ///
    /// # Errors
    ///
    /// [`MissingFixture`], naming the command that builds it, when it has not been built.
    pub fn path(self) -> Result<PathBuf, MissingFixture> {
        let path = self.expected_path();
        if path.is_file() {
            Ok(path)
        } else {
            Err(MissingFixture { path })
        }
    }

    /// The module's path; panics with the command to run when it has not been built
    /// (for tests, where a missing fixture must fail loudly, never skip).
    pub fn require(self) -> PathBuf {
        self.path().unwrap_or_else(|missing| panic!("{missing}"))
    }

    /// The module's bytes; panics like [`Fixture::require`].
    pub fn bytes(self) -> Vec<u8> {
        let path = self.require();
        std::fs::read(&path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
    }
}

impl fmt::Display for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// A fixture that has not been built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingFixture {
    /// Where the module was looked for.
    pub path: PathBuf,
}

impl fmt::Display for MissingFixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wasm fixture {} is missing: run `{BUILD_COMMAND}` from the repository root \
             (or `bash scripts/test.sh`, which builds the fixtures and runs every test)",
            self.path.display()
        )
    }
}

impl std::error::Error for MissingFixture {}

/// `tests/fixtures/out/`, where `scripts/build-fixtures.sh` puts every module.
pub fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("out")
}

/// A guest implementing the shared `callback` operation, and how its SDK words a failed host
/// call in the guest error it returns (each SDK wraps the host's message differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackGuest {
    /// The module.
    pub fixture: Fixture,
    /// Put before the host's error message by the guest SDK.
    pub host_error_prefix: &'static str,
}

impl CallbackGuest {
    /// The three guests implementing `callback`: Rust (`wapc-guest` 1.2), AssemblyScript
    /// (`@wapc/as-guest`) and the third-party `rust_host_call.wasm` (`wapc-guest` 0.4).
    pub const ALL: [CallbackGuest; 3] = [
        CallbackGuest {
            fixture: Fixture::RustGuest,
            // wapc-guest 1.2: `errors::ErrorKind::HostError` displays as "Host error: {msg}".
            host_error_prefix: "Host error: ",
        },
        CallbackGuest {
            fixture: Fixture::AsGuest,
            // @wapc/as-guest: `HostError(message)`, returned as is.
            host_error_prefix: "",
        },
        CallbackGuest {
            fixture: Fixture::RustHostCall,
            // wapc-guest 0.4: "Guest call failed: " + "Host error: {msg}".
            host_error_prefix: "Guest call failed: Host error: ",
        },
    ];

    /// The guest error expected when a host call failed with `host_message`.
    pub fn host_error(&self, host_message: &str) -> String {
        format!("{}{host_message}", self.host_error_prefix)
    }
}

/// Arguments of the `callback` operation (a msgpack map, as `rust_host_call.wasm` expects).
#[derive(Debug, Clone, Serialize)]
pub struct CallbackArgs<'a> {
    /// waPC binding of the host call.
    pub binding: &'a str,
    /// Route namespace.
    pub namespace: &'a str,
    /// Route operation.
    pub operation: &'a str,
    /// Sent to the route as a msgpack str.
    pub msg: &'a str,
}

/// The `callback` payload: `{binding, namespace, operation, msg}` as a msgpack map.
pub fn callback_payload(binding: &str, namespace: &str, operation: &str, msg: &str) -> Vec<u8> {
    let args = CallbackArgs {
        binding,
        namespace,
        operation,
        msg,
    };
    // Serialising a struct of strings into a Vec cannot fail.
    rmp_serde::to_vec_named(&args).unwrap_or_else(|err| panic!("encoding {args:?}: {err}"))
}

/// `value` as a msgpack str (what `callback` sends to the route, and what it returns).
pub fn encode_str(value: &str) -> Vec<u8> {
    rmp_serde::to_vec(value).unwrap_or_else(|err| panic!("encoding {value:?}: {err}"))
}

/// Decodes a msgpack str.
///
/// # Errors
///
/// When `bytes` is not one msgpack str.
pub fn decode_str(bytes: &[u8]) -> Result<String, rmp_serde::decode::Error> {
    rmp_serde::from_slice(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msgpack_helpers_round_trip_and_match_the_wire_format() {
        assert_eq!(encode_str("hi"), vec![0xa2, b'h', b'i']);
        assert_eq!(decode_str(&[0xa2, b'h', b'i']).unwrap(), "hi");
        let payload = callback_payload("b", "n", "o", "m");
        // fixmap of 4 entries, first key "binding".
        assert_eq!(payload[0], 0x84);
        assert_eq!(&payload[1..9], b"\xa7binding");
    }

    #[test]
    fn missing_fixture_names_the_build_command() {
        let missing = MissingFixture {
            path: PathBuf::from("/nowhere/x.wasm"),
        };
        assert_eq!(
            missing.to_string(),
            "wasm fixture /nowhere/x.wasm is missing: run `bash scripts/build-fixtures.sh` from \
             the repository root (or `bash scripts/test.sh`, which builds the fixtures and runs \
             every test)"
        );
    }

    #[test]
    fn host_error_applies_the_sdk_prefix() {
        let rust = CallbackGuest::ALL[0];
        assert_eq!(rust.host_error("boom"), "Host error: boom");
    }

    #[test]
    fn redis_url_with_db_replaces_or_adds_the_database() {
        assert_eq!(
            redis_url_with_db("redis://127.0.0.1:6379/0", 2),
            "redis://127.0.0.1:6379/2"
        );
        assert_eq!(
            redis_url_with_db("redis://127.0.0.1:6379", 3),
            "redis://127.0.0.1:6379/3"
        );
        assert_eq!(
            redis_url_with_db("redis://:secret@host:1/15", 1),
            "redis://:secret@host:1/1"
        );
    }
}

/// The command that builds the component providers written in Python, JavaScript and C.
pub const LANG_BUILD_COMMAND: &str = "bash scripts/build-lang-components.sh";

/// The `database:kv` component provider (same contract, same error texts) in each language,
/// built into `providers/components/out/`: the Rust one by `scripts/build-components.sh`, the
/// others by [`LANG_BUILD_COMMAND`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KvComponent {
    /// `providers/components/kv`, Rust with the `switchboard-guest` SDK (import-free).
    Rust,
    /// `providers/components/python`, componentize-py (imports WASI).
    Python,
    /// `providers/components/js`, componentize-js (imports WASI).
    Js,
    /// `providers/components/c`, clang + wasi-libc + wit-bindgen's C bindings, with the WASI
    /// preview 1 reactor adapter.
    C,
}

impl KvComponent {
    /// Every language, in a stable order.
    pub const ALL: [KvComponent; 4] = [
        KvComponent::Rust,
        KvComponent::Python,
        KvComponent::Js,
        KvComponent::C,
    ];

    /// The component's file name in `providers/components/out/`.
    pub const fn file_name(self) -> &'static str {
        match self {
            KvComponent::Rust => "kv.wasm",
            KvComponent::Python => "kv_python.wasm",
            KvComponent::Js => "kv_js.wasm",
            KvComponent::C => "kv_c.wasm",
        }
    }

    /// The script that builds this component.
    pub const fn build_command(self) -> &'static str {
        match self {
            KvComponent::Rust => "bash scripts/build-components.sh",
            _ => LANG_BUILD_COMMAND,
        }
    }

    /// Where the component is expected, whether or not it exists.
    pub fn expected_path(self) -> PathBuf {
        components_out_dir().join(self.file_name())
    }

    /// The component's path; panics with the build command when it has not been built (for
    /// tests, where a missing component must fail loudly, never skip).
    pub fn require(self) -> PathBuf {
        let path = self.expected_path();
        assert!(
            path.is_file(),
            "component {} is missing: run `{}` from the repository root (or `bash \
             scripts/test.sh`)",
            path.display(),
            self.build_command()
        );
        path
    }
}

impl fmt::Display for KvComponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// `providers/components/out/`, where the component build scripts put every component.
pub fn components_out_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("providers")
        .join("components")
        .join("out")
}

/// The environment variable naming the test Redis server (database 0), written by
/// `scripts/services.sh start`.
pub const REDIS_URL_VAR: &str = "SWITCHBOARD_TEST_REDIS_URL";

/// `url` (a `redis://host:port[/db]` URL) with its database replaced by `db`. Each suite uses its
/// own database of the one test server, so a suite that wipes its database never wipes another
/// suite's keys mid-run; `scripts/services.sh` lists which suite owns which number.
pub fn redis_url_with_db(url: &str, db: u8) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let authority = rest
        .split_once('/')
        .map_or(rest, |(authority, _)| authority);
    format!("{scheme}://{authority}/{db}")
}

/// The test Redis server's URL for database `db`; panics, naming the command that starts the
/// server, when [`REDIS_URL_VAR`] is not set (a test needing Redis must fail loudly, never skip).
pub fn test_redis_url(db: u8) -> String {
    let url = std::env::var(REDIS_URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{REDIS_URL_VAR} is not set: run `scripts/services.sh start` and source the env file \
             it writes, or use scripts/test.sh (this test needs a real Redis server)"
        )
    });
    redis_url_with_db(&url, db)
}
