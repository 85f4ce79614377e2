//! `kvstore`: Tarmac's key-value capability (`get`, `set`, `delete`, `keys`) over a pluggable
//! [`KvBackend`]: [`MemoryKv`] (tests, ephemeral), [`RedbKv`] (embedded and persistent, the
//! default) and [`RedisKv`].
//!
//! Statuses (in the request's encoding; any non-200 also fails the host call with the text):
//! - 400 `Error Parsing Input`: malformed JSON or protobuf;
//! - 400 `key cannot be nil`: empty key;
//! - 400 `Data cannot be nil`: `set` without a `data` field (`""` in JSON stores an empty value);
//! - 400 `Unable to decode data - <reason>`: bad base64 in JSON `data`;
//! - 400 `key exceeds <n> bytes` / `Data exceeds <n> bytes`: over the configured [`KvLimits`];
//! - 404 `Unable to fetch key <key> - key not found`: `get` of a missing key;
//! - 500 `Unable to fetch key ...`, `Unable to store data using key ...`,
//!   `Unable to delete key ...`, `Unable to fetch keys - ...`: the backend failed.
//!
//! Deleting a missing key succeeds (as with Tarmac's BoltDB and Redis backends).

mod memory;
mod redb_backend;
mod redis_backend;

use std::sync::Arc;

use prost::Message as _;
use switchboard::{Provider, ProviderError, Request};

use crate::wire::{self, code, json, proto, Encoding, Status};

pub use memory::MemoryKv;
pub use redb_backend::RedbKv;
pub use redis_backend::RedisKv;

/// A backend failure, with the backend's own message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KvError(pub String);

impl KvError {
    /// Wrap any displayable backend error.
    pub fn from_display(err: impl std::fmt::Display) -> Self {
        KvError(err.to_string())
    }
}

/// Storage behind the `kvstore` provider. Values are opaque bytes, stored byte-exact.
pub trait KvBackend: Send + Sync + 'static {
    /// The value of `key`, `None` when absent.
    ///
    /// # Errors
    ///
    /// [`KvError`] when the backend fails (I/O, connection, corruption).
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError>;
    /// Store `value` under `key`, replacing any previous value.
    ///
    /// # Errors
    ///
    /// [`KvError`] when the backend fails; then nothing was stored.
    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError>;
    /// Remove `key`; returns whether it existed.
    ///
    /// # Errors
    ///
    /// [`KvError`] when the backend fails.
    fn delete(&self, key: &str) -> Result<bool, KvError>;
    /// Every key (order unspecified).
    ///
    /// # Errors
    ///
    /// [`KvError`] when the backend fails.
    fn keys(&self) -> Result<Vec<String>, KvError>;
    /// A short description for route listings (`memory`, `redb /path`, `redis host:port`).
    fn describe(&self) -> String;
}

/// Size limits enforced before the backend sees a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvLimits {
    /// Longest key in bytes (default 4 KiB).
    pub max_key_bytes: usize,
    /// Largest value in bytes (default 16 MiB).
    pub max_value_bytes: usize,
}

impl Default for KvLimits {
    fn default() -> Self {
        KvLimits {
            max_key_bytes: 4 * 1024,
            max_value_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The `kvstore` provider. Register it for the whole namespace:
/// `router.register_namespace("kvstore", KvStore::new(MemoryKv::new()))`.
#[derive(Clone)]
pub struct KvStore {
    backend: Arc<dyn KvBackend>,
    limits: KvLimits,
}

impl std::fmt::Debug for KvStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvStore")
            .field("backend", &self.backend.describe())
            .field("limits", &self.limits)
            .finish()
    }
}

impl KvStore {
    /// A provider over `backend` with default limits.
    pub fn new(backend: impl KvBackend) -> Self {
        Self::from_arc(Arc::new(backend))
    }

    /// A provider over a shared backend.
    pub fn from_arc(backend: Arc<dyn KvBackend>) -> Self {
        KvStore {
            backend,
            limits: KvLimits::default(),
        }
    }

    /// Replace the size limits.
    pub fn with_limits(mut self, limits: KvLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<dyn KvBackend> {
        &self.backend
    }

    fn check_key(&self, key: &str) -> Result<(), Status> {
        if key.is_empty() {
            return Err(Status::bad_request("key cannot be nil"));
        }
        if key.len() > self.limits.max_key_bytes {
            return Err(Status::bad_request(format!(
                "key exceeds {} bytes",
                self.limits.max_key_bytes
            )));
        }
        Ok(())
    }

    fn get(&self, payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
        let enc = Encoding::detect(payload);
        let outcome = wire::parse(
            enc,
            payload,
            |m: json::KvStoreGet| Ok(m.key),
            |m: proto::KvStoreGet| Ok(m.key),
        )
        .and_then(|key| {
            self.check_key(&key)?;
            match self.backend.get(&key) {
                Ok(Some(value)) => Ok(value),
                Ok(None) => Err(Status::new(
                    code::NOT_FOUND,
                    format!("Unable to fetch key {key} - key not found"),
                )),
                Err(err) => Err(Status::new(
                    code::INTERNAL,
                    format!("Unable to fetch key {key} - {err}"),
                )),
            }
        });
        let (status, data) = match outcome {
            Ok(data) => (Status::ok(), data),
            Err(status) => (status, Vec::new()),
        };
        let encoded = match enc {
            Encoding::Json => json::encode(&json::KvStoreGetResponse {
                status: status.to_json(),
                data: json::b64_encode(&data),
            }),
            Encoding::Protobuf => proto::KvStoreGetResponse {
                status: Some(status.to_proto()),
                data,
            }
            .encode_to_vec(),
        };
        wire::reply(&status, encoded)
    }

    fn set(&self, payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
        let enc = Encoding::detect(payload);
        let missing = || Status::bad_request("Data cannot be nil");
        let status = wire::parse(
            enc,
            payload,
            |m: json::KvStoreSet| {
                let text = m.data.ok_or_else(missing)?;
                let data = json::b64_decode(&text)
                    .map_err(|e| Status::bad_request(format!("Unable to decode data - {e}")))?;
                Ok((m.key, data))
            },
            |m: proto::KvStoreSet| Ok((m.key, m.data.ok_or_else(missing)?)),
        )
        .and_then(|(key, data)| {
            self.check_key(&key)?;
            if data.len() > self.limits.max_value_bytes {
                return Err(Status::bad_request(format!(
                    "Data exceeds {} bytes",
                    self.limits.max_value_bytes
                )));
            }
            self.backend.set(&key, &data).map_err(|err| {
                Status::new(
                    code::INTERNAL,
                    format!("Unable to store data using key {key} - {err}"),
                )
            })
        })
        .err()
        .unwrap_or_else(Status::ok);
        let encoded = match enc {
            Encoding::Json => json::encode(&json::StatusOnly {
                status: status.to_json(),
            }),
            Encoding::Protobuf => proto::KvStoreSetResponse {
                status: Some(status.to_proto()),
            }
            .encode_to_vec(),
        };
        wire::reply(&status, encoded)
    }

    fn delete(&self, payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
        let enc = Encoding::detect(payload);
        let status = wire::parse(
            enc,
            payload,
            |m: json::KvStoreDelete| Ok(m.key),
            |m: proto::KvStoreDelete| Ok(m.key),
        )
        .and_then(|key| {
            self.check_key(&key)?;
            self.backend.delete(&key).map(|_existed| ()).map_err(|err| {
                Status::new(
                    code::INTERNAL,
                    format!("Unable to delete key {key} - {err}"),
                )
            })
        })
        .err()
        .unwrap_or_else(Status::ok);
        let encoded = match enc {
            Encoding::Json => json::encode(&json::StatusOnly {
                status: status.to_json(),
            }),
            Encoding::Protobuf => proto::KvStoreDeleteResponse {
                status: Some(status.to_proto()),
            }
            .encode_to_vec(),
        };
        wire::reply(&status, encoded)
    }

    fn keys(&self, payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
        // Tarmac: an empty payload asks for JSON, a non-empty one (a KVStoreKeys message) for
        // protobuf. A JSON object is answered in JSON too, by the first-byte rule.
        let enc = if payload.is_empty() {
            Encoding::Json
        } else {
            Encoding::detect(payload)
        };
        let parsed = match enc {
            Encoding::Json if payload.is_empty() => Ok(()),
            Encoding::Json => serde_json::from_slice::<serde_json::Value>(payload)
                .map(|_| ())
                .map_err(|_| Status::parse_error()),
            Encoding::Protobuf => proto::KvStoreKeys::decode(payload)
                .map(|_| ())
                .map_err(|_| Status::parse_error()),
        };
        let outcome = parsed.and_then(|()| {
            self.backend
                .keys()
                .map_err(|err| Status::new(code::INTERNAL, format!("Unable to fetch keys - {err}")))
        });
        let (status, keys) = match outcome {
            Ok(mut keys) => {
                keys.sort_unstable();
                (Status::ok(), keys)
            }
            Err(status) => (status, Vec::new()),
        };
        let encoded = match enc {
            Encoding::Json => json::encode(&json::KvStoreKeysResponse {
                keys,
                status: status.to_json(),
            }),
            Encoding::Protobuf => proto::KvStoreKeysResponse {
                status: Some(status.to_proto()),
                keys,
            }
            .encode_to_vec(),
        };
        wire::reply(&status, encoded)
    }
}

impl Provider for KvStore {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        match req.operation {
            "get" => self.get(req.payload),
            "set" => self.set(req.payload),
            "delete" => self.delete(req.payload),
            "keys" => self.keys(req.payload),
            other => Err(ProviderError::UnknownOperation(other.to_string())),
        }
    }

    fn describe(&self) -> String {
        format!("tarmac kvstore ({})", self.backend.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard::{CallContext, CallError, Router};

    /// A backend whose every operation fails, for the 500 statuses.
    struct Broken;

    impl KvBackend for Broken {
        fn get(&self, _: &str) -> Result<Option<Vec<u8>>, KvError> {
            Err(KvError("disk on fire".to_string()))
        }
        fn set(&self, _: &str, _: &[u8]) -> Result<(), KvError> {
            Err(KvError("disk full".to_string()))
        }
        fn delete(&self, _: &str) -> Result<bool, KvError> {
            Err(KvError("read-only".to_string()))
        }
        fn keys(&self) -> Result<Vec<String>, KvError> {
            Err(KvError("gone".to_string()))
        }
        fn describe(&self) -> String {
            "broken".to_string()
        }
    }

    /// Walks `err`'s `source()` chain and fails if a message repeats its source's text
    /// (context in `Display`, the cause in `source()`, never both); returns the messages.
    fn chain_without_repeats(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
        let mut messages = vec![err.to_string()];
        let mut current = err;
        while let Some(source) = current.source() {
            let (outer, inner) = (current.to_string(), source.to_string());
            assert!(
                !outer.contains(&inner),
                "{outer:?} repeats the text of its source {inner:?}"
            );
            messages.push(inner);
            current = source;
        }
        messages
    }

    #[test]
    fn provider_errors_print_their_source_once() {
        // The backends flatten their engine's error into the message the guest reads, so
        // none of these may also return a source.
        let kv = KvError::from_display(std::io::Error::other("connection refused"));
        assert_eq!(chain_without_repeats(&kv), ["connection refused"]);
        let sql = crate::sql::SqlError::from_display("no such table: t");
        assert_eq!(chain_without_repeats(&sql), ["no such table: t"]);
        let parse = crate::metrics::MetricsError::Parse {
            encoding: "JSON",
            reason: "expected value".to_string(),
        };
        assert_eq!(
            chain_without_repeats(&parse),
            ["unable to parse input JSON - expected value"]
        );
        let routed = CallError::from(ProviderError::from(parse));
        assert_eq!(
            chain_without_repeats(&routed),
            ["unable to parse input JSON - expected value"]
        );
    }

    fn router(kv: KvStore) -> Router {
        let router = Router::new();
        router.register_namespace("kvstore", kv).unwrap();
        router
    }

    fn message(err: CallError) -> String {
        match err {
            CallError::ProviderFailed { message, .. } => message,
            other => panic!("expected ProviderFailed, got {other:?}"),
        }
    }

    #[test]
    fn backend_failures_are_500_with_the_backend_message() {
        let r = router(KvStore::new(Broken));
        let ctx = CallContext::new();
        let err = r
            .call(
                &ctx,
                "tarmac",
                "kvstore",
                "set",
                br#"{"key":"k","data":"dg=="}"#,
            )
            .unwrap_err();
        assert_eq!(
            err,
            CallError::ProviderFailed {
                message: "Unable to store data using key k - disk full".to_string(),
                payload: Some(
                    br#"{"status":{"code":500,"status":"Unable to store data using key k - disk full"}}"#
                        .to_vec()
                ),
            }
        );
        let get = r.call(&ctx, "tarmac", "kvstore", "get", br#"{"key":"k"}"#);
        assert_eq!(
            message(get.unwrap_err()),
            "Unable to fetch key k - disk on fire"
        );
        let del = r.call(&ctx, "tarmac", "kvstore", "delete", br#"{"key":"k"}"#);
        assert_eq!(
            message(del.unwrap_err()),
            "Unable to delete key k - read-only"
        );
        let keys = r.call(&ctx, "tarmac", "kvstore", "keys", b"");
        assert_eq!(message(keys.unwrap_err()), "Unable to fetch keys - gone");
    }

    #[test]
    fn limits_are_enforced_before_the_backend() {
        let kv = KvStore::new(MemoryKv::new()).with_limits(KvLimits {
            max_key_bytes: 3,
            max_value_bytes: 2,
        });
        let r = router(kv);
        let ctx = CallContext::new();
        let long_key = r.call(&ctx, "tarmac", "kvstore", "get", br#"{"key":"abcd"}"#);
        assert_eq!(message(long_key.unwrap_err()), "key exceeds 3 bytes");
        let big = r.call(
            &ctx,
            "tarmac",
            "kvstore",
            "set",
            br#"{"key":"k","data":"YWJj"}"#,
        );
        assert_eq!(message(big.unwrap_err()), "Data exceeds 2 bytes");
        let keys = r.call(&ctx, "tarmac", "kvstore", "keys", b"").unwrap();
        assert_eq!(keys, br#"{"keys":[],"status":{"code":200,"status":"OK"}}"#);
    }

    #[test]
    fn describe_names_the_backend() {
        assert_eq!(
            KvStore::new(MemoryKv::new()).describe(),
            "tarmac kvstore (memory)"
        );
    }
}
