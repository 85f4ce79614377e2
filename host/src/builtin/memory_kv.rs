//! `memory-kv`: an in-memory key-value map with a payload format simple enough to type on a
//! command line.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use serde::Deserialize;

use crate::config::{FactoryContext, FactoryError};
use crate::{Provider, ProviderError, Request};

/// Caps that keep a guest from exhausting host memory through the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvLimits {
    /// Most keys the map holds; a `Set` of a new key beyond it fails. Default 10 000.
    pub max_entries: usize,
    /// Longest key in bytes. Default 1 KiB.
    pub max_key_bytes: usize,
    /// Longest value in bytes. Default 1 MiB.
    pub max_value_bytes: usize,
}

impl Default for KvLimits {
    fn default() -> Self {
        KvLimits {
            max_entries: 10_000,
            max_key_bytes: 1024,
            max_value_bytes: 1 << 20,
        }
    }
}

type Map = RwLock<BTreeMap<Vec<u8>, Vec<u8>>>;

/// An in-memory key-value store. Operation names match ASCII case-insensitively:
///
/// | operation | payload        | response                                     |
/// |-----------|----------------|----------------------------------------------|
/// | `Get`     | `key`          | the value; fails `key 'k' not found`          |
/// | `Set`     | `key=value`    | empty; the key ends at the first `=`         |
/// | `Delete`  | `key`          | empty, also when the key did not exist       |
/// | `Keys`    | a prefix or `` | the keys with that prefix, sorted, one per line |
///
/// Keys are non-empty bytes without `=` (in `Set`) or newline. Bad keys are
/// [`ProviderError::InvalidInput`]; sizes over [`KvLimits`] are
/// [`ProviderError::LimitExceeded`]; other operations are [`ProviderError::UnknownOperation`].
///
/// ```
/// use switchboard::builtin::MemoryKv;
/// use switchboard::{CallContext, Router};
/// let router = Router::new();
/// router.register_namespace("kv", MemoryKv::new()).unwrap();
/// let ctx = CallContext::new();
/// router.call(&ctx, "", "kv", "Set", b"greeting=hello").unwrap();
/// assert_eq!(router.call(&ctx, "", "kv", "Get", b"greeting").unwrap(), b"hello");
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryKv {
    map: Arc<Map>,
    store: Option<String>,
    limits: KvLimits,
}

impl MemoryKv {
    /// An empty store with default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replace the limits.
    pub fn with_limits(mut self, limits: KvLimits) -> Self {
        self.limits = limits;
        self
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        // No code panics while holding the lock; recovering from poison is safe.
        self.map.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        self.map.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn check_key<'k>(&self, key: &'k [u8]) -> Result<&'k [u8], ProviderError> {
        if key.is_empty() {
            return Err(ProviderError::InvalidInput("empty key".to_string()));
        }
        if key.contains(&b'\n') {
            return Err(ProviderError::InvalidInput(
                "keys must not contain a newline".to_string(),
            ));
        }
        if key.len() > self.limits.max_key_bytes {
            return Err(ProviderError::LimitExceeded(format!(
                "key of {} bytes exceeds the limit of {} bytes",
                key.len(),
                self.limits.max_key_bytes
            )));
        }
        Ok(key)
    }

    fn get(&self, key: &[u8]) -> Result<Vec<u8>, ProviderError> {
        let key = self.check_key(key)?;
        self.read().get(key).cloned().ok_or_else(|| {
            ProviderError::failed(format!("key '{}' not found", String::from_utf8_lossy(key)))
        })
    }

    fn set(&self, payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
        let split = payload.iter().position(|&b| b == b'=').ok_or_else(|| {
            ProviderError::InvalidInput("Set payload must be `key=value`".to_string())
        })?;
        let key = self.check_key(&payload[..split])?;
        let value = &payload[split + 1..];
        if value.len() > self.limits.max_value_bytes {
            return Err(ProviderError::LimitExceeded(format!(
                "value of {} bytes exceeds the limit of {} bytes",
                value.len(),
                self.limits.max_value_bytes
            )));
        }
        let mut map = self.write();
        if !map.contains_key(key) && map.len() >= self.limits.max_entries {
            return Err(ProviderError::LimitExceeded(format!(
                "store is full ({} entries)",
                self.limits.max_entries
            )));
        }
        map.insert(key.to_vec(), value.to_vec());
        Ok(Vec::new())
    }

    fn delete(&self, key: &[u8]) -> Result<Vec<u8>, ProviderError> {
        let key = self.check_key(key)?;
        self.write().remove(key);
        Ok(Vec::new())
    }

    fn keys(&self, prefix: &[u8]) -> Vec<u8> {
        let map = self.read();
        let mut out = Vec::new();
        let range = map.range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded));
        for key in range.map(|(k, _)| k).take_while(|k| k.starts_with(prefix)) {
            if !out.is_empty() {
                out.push(b'\n');
            }
            out.extend_from_slice(key);
        }
        out
    }
}

impl Provider for MemoryKv {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        let op = req.operation;
        if op.eq_ignore_ascii_case("get") {
            self.get(req.payload)
        } else if op.eq_ignore_ascii_case("set") {
            self.set(req.payload)
        } else if op.eq_ignore_ascii_case("delete") {
            self.delete(req.payload)
        } else if op.eq_ignore_ascii_case("keys") {
            Ok(self.keys(req.payload))
        } else {
            Err(ProviderError::UnknownOperation(op.to_string()))
        }
    }

    fn describe(&self) -> String {
        match &self.store {
            Some(name) => format!("builtin memory-kv (store '{name}')"),
            None => "builtin memory-kv".to_string(),
        }
    }
}

/// Named maps shared by the `memory-kv` routes of one registry: routes with the same `store`
/// option see the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryKvStores {
    named: Arc<Mutex<HashMap<String, Arc<Map>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KvOptions {
    store: Option<String>,
    max_entries: Option<usize>,
    max_key_bytes: Option<usize>,
    max_value_bytes: Option<usize>,
}

impl MemoryKvStores {
    /// Build a `memory-kv` provider from route options: `store` (share the map with other
    /// routes naming it), `max_entries`, `max_key_bytes`, `max_value_bytes` (see [`KvLimits`]).
    ///
    /// # Errors
    ///
    /// [`FactoryError::InvalidOptions`] for an unknown option or a value of the wrong type.
    pub fn build(&self, ctx: &FactoryContext<'_>) -> Result<MemoryKv, FactoryError> {
        let options: KvOptions = ctx.parse_options()?;
        let defaults = KvLimits::default();
        let limits = KvLimits {
            max_entries: options.max_entries.unwrap_or(defaults.max_entries),
            max_key_bytes: options.max_key_bytes.unwrap_or(defaults.max_key_bytes),
            max_value_bytes: options.max_value_bytes.unwrap_or(defaults.max_value_bytes),
        };
        let map = match &options.store {
            Some(name) => self
                .named
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(name.clone())
                .or_default()
                .clone(),
            None => Arc::default(),
        };
        Ok(MemoryKv {
            map,
            store: options.store,
            limits,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{CallContext, CallError, Router};

    fn router_with(kv: MemoryKv) -> Router {
        let router = Router::new();
        router.register_namespace("kv", kv).expect("register");
        router
    }

    fn call(router: &Router, op: &str, payload: &[u8]) -> Result<Vec<u8>, CallError> {
        router.call(&CallContext::new(), "", "kv", op, payload)
    }

    #[test]
    fn set_get_delete_round_trip() {
        let r = router_with(MemoryKv::new());
        assert_eq!(call(&r, "Set", b"a=1=2").unwrap(), b"");
        assert_eq!(call(&r, "Get", b"a").unwrap(), b"1=2");
        assert_eq!(call(&r, "set", b"a=").unwrap(), b"");
        assert_eq!(call(&r, "GET", b"a").unwrap(), b"");
        assert_eq!(call(&r, "Delete", b"a").unwrap(), b"");
        assert_eq!(
            call(&r, "Get", b"a").unwrap_err(),
            CallError::ProviderFailed {
                message: "key 'a' not found".into(),
                payload: None
            }
        );
        assert_eq!(call(&r, "Delete", b"a").unwrap(), b"");
    }

    #[test]
    fn binary_values_are_kept_exactly() {
        let r = router_with(MemoryKv::new());
        call(&r, "Set", b"bin=\x00\xff\n=").unwrap();
        assert_eq!(call(&r, "Get", b"bin").unwrap(), b"\x00\xff\n=");
    }

    #[test]
    fn keys_lists_sorted_with_prefix() {
        let r = router_with(MemoryKv::new());
        for kv in [&b"user:b=2"[..], b"user:a=1", b"order:1=x", b"user=0"] {
            call(&r, "Set", kv).unwrap();
        }
        assert_eq!(
            call(&r, "Keys", b"").unwrap(),
            b"order:1\nuser\nuser:a\nuser:b"
        );
        assert_eq!(call(&r, "Keys", b"user:").unwrap(), b"user:a\nuser:b");
        assert_eq!(call(&r, "Keys", b"zzz").unwrap(), b"");
    }

    #[test]
    fn malformed_payloads_are_invalid_input() {
        let r = router_with(MemoryKv::new());
        let invalid = |op: &str, payload: &[u8]| match call(&r, op, payload) {
            Err(CallError::InvalidInput(m)) => m,
            other => panic!("expected InvalidInput for {op}, got {other:?}"),
        };
        assert_eq!(
            invalid("Set", b"novalue"),
            "Set payload must be `key=value`"
        );
        assert_eq!(invalid("Set", b"=v"), "empty key");
        assert_eq!(invalid("Get", b""), "empty key");
        assert_eq!(invalid("Set", b"a\nb=v"), "keys must not contain a newline");
    }

    #[test]
    fn unknown_operation_is_typed() {
        let r = router_with(MemoryKv::new());
        assert_eq!(
            call(&r, "Increment", b"a").unwrap_err(),
            CallError::UnknownOperation("Increment".into())
        );
    }

    #[test]
    fn limits_are_enforced() {
        let r = router_with(MemoryKv::new().with_limits(KvLimits {
            max_entries: 2,
            max_key_bytes: 3,
            max_value_bytes: 4,
        }));
        let limit = |op: &str, payload: &[u8]| match call(&r, op, payload) {
            Err(CallError::LimitExceeded(m)) => m,
            other => panic!("expected LimitExceeded, got {other:?}"),
        };
        assert_eq!(
            limit("Set", b"abcd=1"),
            "key of 4 bytes exceeds the limit of 3 bytes"
        );
        assert_eq!(
            limit("Set", b"a=12345"),
            "value of 5 bytes exceeds the limit of 4 bytes"
        );
        call(&r, "Set", b"a=1").unwrap();
        call(&r, "Set", b"b=1").unwrap();
        assert_eq!(limit("Set", b"c=1"), "store is full (2 entries)");
        // Overwriting an existing key does not grow the map.
        call(&r, "Set", b"a=2").unwrap();
        assert_eq!(call(&r, "Get", b"a").unwrap(), b"2");
    }

    #[test]
    fn routes_naming_a_store_share_it_and_others_do_not() {
        let stores = MemoryKvStores::default();
        let build = |options: &str| {
            let table: toml::Table = toml::from_str(options).expect("toml");
            stores
                .build(&FactoryContext::new("memory-kv", &table, Path::new(".")))
                .expect("builds")
        };
        let router = Router::new();
        let a = build("store = \"main\"");
        assert_eq!(a.describe(), "builtin memory-kv (store 'main')");
        router.register_namespace("a", a).unwrap();
        router
            .register_namespace("b", build("store = \"main\""))
            .unwrap();
        router.register_namespace("c", build("")).unwrap();
        let ctx = CallContext::new();
        router.call(&ctx, "", "a", "Set", b"k=v").unwrap();
        assert_eq!(router.call(&ctx, "", "b", "Get", b"k").unwrap(), b"v");
        assert!(matches!(
            router.call(&ctx, "", "c", "Get", b"k"),
            Err(CallError::ProviderFailed { .. })
        ));
    }

    #[test]
    fn options_are_checked() {
        let table: toml::Table = toml::from_str("max_entrys = 3").expect("toml");
        let err = MemoryKvStores::default()
            .build(&FactoryContext::new("memory-kv", &table, Path::new(".")))
            .expect_err("misspelt option");
        assert!(
            matches!(&err, FactoryError::InvalidOptions(m) if m.starts_with("unknown field `max_entrys`")),
            "{err}"
        );
    }
}
