//! Property test: the `memory-kv` built-in ([`switchboard::builtin::MemoryKv`]), driven through a
//! [`Router`] by random sequences of `Set`, `Get`, `Delete`, `Keys` and unknown operations, answers
//! exactly what a model `BTreeMap` with the same limits answers: the same bytes, or the same
//! typed error with the same message.
//!
//! Keys and values come from a small alphabet (with `=`, newline and a non-UTF-8 byte) so that
//! sequences hit the same keys, the separators and every validation error; limits are small so
//! that they are hit too.

use std::collections::BTreeMap;

use proptest::prelude::*;
use switchboard::builtin::{KvLimits, MemoryKv};
use switchboard::{CallContext, CallError, Router};

/// One call to the store. Operation names carry their case: the store matches them ASCII
/// case-insensitively.
#[derive(Debug, Clone)]
enum Op {
    /// `Set` with `key=value`.
    Set {
        name: String,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    /// `Set` with a payload that has no `=`.
    SetWithoutSeparator {
        name: String,
        payload: Vec<u8>,
    },
    Get {
        name: String,
        key: Vec<u8>,
    },
    Delete {
        name: String,
        key: Vec<u8>,
    },
    Keys {
        name: String,
        prefix: Vec<u8>,
    },
    Unknown {
        name: String,
        payload: Vec<u8>,
    },
}

impl Op {
    fn operation(&self) -> &str {
        match self {
            Op::Set { name, .. }
            | Op::SetWithoutSeparator { name, .. }
            | Op::Get { name, .. }
            | Op::Delete { name, .. }
            | Op::Keys { name, .. }
            | Op::Unknown { name, .. } => name,
        }
    }

    fn payload(&self) -> Vec<u8> {
        match self {
            Op::Set { key, value, .. } => [key.as_slice(), b"=", value].concat(),
            Op::SetWithoutSeparator { payload, .. } | Op::Unknown { payload, .. } => {
                payload.clone()
            }
            Op::Get { key, .. } | Op::Delete { key, .. } => key.clone(),
            Op::Keys { prefix, .. } => prefix.clone(),
        }
    }
}

/// The documented behaviour of `memory-kv`, written independently of its code.
struct Model {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
    limits: KvLimits,
}

impl Model {
    fn check_key(&self, key: &[u8]) -> Result<(), CallError> {
        if key.is_empty() {
            return Err(CallError::InvalidInput("empty key".to_string()));
        }
        if key.contains(&b'\n') {
            return Err(CallError::InvalidInput(
                "keys must not contain a newline".to_string(),
            ));
        }
        if key.len() > self.limits.max_key_bytes {
            return Err(CallError::LimitExceeded(format!(
                "key of {} bytes exceeds the limit of {} bytes",
                key.len(),
                self.limits.max_key_bytes
            )));
        }
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<Vec<u8>, CallError> {
        match op {
            Op::Set { key, value, .. } => {
                self.check_key(key)?;
                if value.len() > self.limits.max_value_bytes {
                    return Err(CallError::LimitExceeded(format!(
                        "value of {} bytes exceeds the limit of {} bytes",
                        value.len(),
                        self.limits.max_value_bytes
                    )));
                }
                if !self.map.contains_key(key) && self.map.len() >= self.limits.max_entries {
                    return Err(CallError::LimitExceeded(format!(
                        "store is full ({} entries)",
                        self.limits.max_entries
                    )));
                }
                self.map.insert(key.clone(), value.clone());
                Ok(Vec::new())
            }
            Op::SetWithoutSeparator { .. } => Err(CallError::InvalidInput(
                "Set payload must be `key=value`".to_string(),
            )),
            Op::Get { key, .. } => {
                self.check_key(key)?;
                self.map
                    .get(key)
                    .cloned()
                    .ok_or_else(|| CallError::ProviderFailed {
                        message: format!("key '{}' not found", String::from_utf8_lossy(key)),
                        payload: None,
                    })
            }
            Op::Delete { key, .. } => {
                self.check_key(key)?;
                self.map.remove(key);
                Ok(Vec::new())
            }
            Op::Keys { prefix, .. } => Ok(self
                .map
                .keys()
                .filter(|key| key.starts_with(prefix))
                .cloned()
                .collect::<Vec<_>>()
                .join(&b'\n')),
            Op::Unknown { name, .. } => Err(CallError::UnknownOperation(name.clone())),
        }
    }
}

/// Bytes from an alphabet small enough for collisions, with the separators and a byte that is
/// not UTF-8.
fn bytes(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(vec![b'a', b'b', b'c', b':', b'=', b'\n', 0xff]),
        0..=max_len,
    )
}

/// A key as a `Set` can carry it: no `=` (the key ends at the first one).
fn set_key() -> impl Strategy<Value = Vec<u8>> {
    bytes(5).prop_map(|mut key| {
        key.retain(|&b| b != b'=');
        key
    })
}

/// `base` in a random ASCII case.
fn any_case(base: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<bool>(), base.len()).prop_map(move |upper| {
        base.chars()
            .zip(upper)
            .map(|(c, up)| {
                if up {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any_case("set"), set_key(), bytes(6))
            .prop_map(|(name, key, value)| Op::Set { name, key, value }),
        1 => (any_case("set"), set_key())
            .prop_map(|(name, payload)| Op::SetWithoutSeparator { name, payload }),
        3 => (any_case("get"), bytes(5)).prop_map(|(name, key)| Op::Get { name, key }),
        2 => (any_case("delete"), bytes(5)).prop_map(|(name, key)| Op::Delete { name, key }),
        2 => (any_case("keys"), bytes(2)).prop_map(|(name, prefix)| Op::Keys { name, prefix }),
        1 => (prop::sample::select(vec!["Increment", "Scan", "gets", "Setx"]), bytes(3))
            .prop_map(|(name, payload)| Op::Unknown { name: name.to_string(), payload }),
    ]
}

fn limits() -> impl Strategy<Value = KvLimits> {
    prop_oneof![
        1 => Just(KvLimits::default()),
        3 => (1usize..=6, 1usize..=5, 0usize..=6).prop_map(
            |(max_entries, max_key_bytes, max_value_bytes)| KvLimits {
                max_entries,
                max_key_bytes,
                max_value_bytes,
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn memory_kv_answers_like_a_map(
        limits in limits(),
        ops in prop::collection::vec(op(), 1..60),
        binding in prop::sample::select(vec!["", "tarmac", "guest"]),
    ) {
        let router = Router::new();
        router
            .register_namespace("kv", MemoryKv::new().with_limits(limits))
            .expect("registering a namespace on an empty router");
        let mut model = Model { map: BTreeMap::new(), limits };
        let ctx = CallContext::new();
        for (step, op) in ops.iter().enumerate() {
            let expected = model.apply(op);
            let actual = router.call(&ctx, binding, "kv", op.operation(), &op.payload());
            prop_assert_eq!(actual, expected, "step {} of {:?}", step, ops);
        }
        // The whole content at the end, through `Keys` and `Get`.
        let keys = router.call(&ctx, binding, "kv", "Keys", b"").expect("Keys never fails");
        let expected_keys: Vec<u8> = model.map.keys().cloned().collect::<Vec<_>>().join(&b'\n');
        prop_assert_eq!(keys, expected_keys);
        for (key, value) in &model.map {
            let got = router.call(&ctx, binding, "kv", "Get", key);
            prop_assert_eq!(got, Ok(value.clone()), "key {:?}", key);
        }
    }
}
