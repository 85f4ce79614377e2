//! Built-in native providers, usable by name from `switchboard.toml`:
//!
//! | name        | operations                  | does                                              |
//! |-------------|-----------------------------|---------------------------------------------------|
//! | `echo`      | any                         | returns the payload unchanged                     |
//! | `uppercase` | any                         | returns the UTF-8 payload in upper case           |
//! | `memory-kv` | `Get` `Set` `Delete` `Keys` | an in-memory key-value map, see [`MemoryKv`]      |
//! | `fail`      | any                         | always fails with the configured message          |
//!
//! Small but real: they make demos and end-to-end tests meaningful without external services.

mod memory_kv;

use std::sync::Arc;

use serde::Deserialize;

use crate::config::{Capability, FactoryContext, FactoryError, ProviderRegistry};
use crate::{Provider, ProviderError, Request};

pub use memory_kv::{KvLimits, MemoryKv, MemoryKvStores};

/// The built-in providers as a [`Capability`]: registers `echo`, `uppercase`, `memory-kv`
/// and `fail`.
///
/// `memory-kv` routes naming the same `store` option share one map; routes without it get a
/// map of their own. The maps belong to the registry the capability was added to.
///
/// ```
/// use switchboard::builtin::Builtins;
/// use switchboard::config::ProviderRegistry;
/// let registry = ProviderRegistry::new().with(&Builtins);
/// assert!(registry.has_provider("memory-kv"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Builtins;

impl Capability for Builtins {
    fn register(&self, registry: &mut ProviderRegistry) {
        let stores = MemoryKvStores::default();
        registry
            .register_provider("echo", |ctx| {
                no_options(ctx)?;
                Ok(Arc::new(Echo) as Arc<dyn Provider>)
            })
            .register_provider("uppercase", |ctx| {
                no_options(ctx)?;
                Ok(Arc::new(Uppercase) as Arc<dyn Provider>)
            })
            .register_provider("fail", |ctx| {
                Ok(Arc::new(Fail::from_options(ctx)?) as Arc<dyn Provider>)
            })
            .register_provider("memory-kv", move |ctx| {
                Ok(Arc::new(stores.build(ctx)?) as Arc<dyn Provider>)
            });
    }
}

fn no_options(ctx: &FactoryContext<'_>) -> Result<(), FactoryError> {
    match ctx.options().keys().next() {
        None => Ok(()),
        Some(key) => Err(FactoryError::InvalidOptions(format!(
            "'{}' takes no options, got `{key}`",
            ctx.name()
        ))),
    }
}

/// Returns the payload unchanged, for every operation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Echo;

impl Provider for Echo {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        Ok(req.payload.to_vec())
    }

    fn describe(&self) -> String {
        "builtin echo".to_string()
    }
}

/// Returns the payload in upper case (Unicode rules), for every operation. A payload that is
/// not UTF-8 is [`ProviderError::InvalidInput`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Uppercase;

impl Provider for Uppercase {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        let text = std::str::from_utf8(req.payload)
            .map_err(|e| ProviderError::InvalidInput(format!("payload is not UTF-8: {e}")))?;
        Ok(text.to_uppercase().into_bytes())
    }

    fn describe(&self) -> String {
        "builtin uppercase".to_string()
    }
}

/// Always fails with [`ProviderError::Failed`] carrying the configured message and optional
/// error payload. Options: `message` (required), `payload` (a string, optional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    message: String,
    payload: Option<Vec<u8>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailOptions {
    message: String,
    payload: Option<String>,
}

impl Fail {
    /// A provider failing with `message` and no payload.
    pub fn new(message: impl Into<String>) -> Self {
        Fail {
            message: message.into(),
            payload: None,
        }
    }

    /// Also hand `payload` to the caller with the failure.
    pub fn with_payload(mut self, payload: impl Into<Vec<u8>>) -> Self {
        self.payload = Some(payload.into());
        self
    }

    fn from_options(ctx: &FactoryContext<'_>) -> Result<Self, FactoryError> {
        let options: FailOptions = ctx.parse_options()?;
        Ok(Fail {
            message: options.message,
            payload: options.payload.map(String::into_bytes),
        })
    }
}

impl Provider for Fail {
    fn call(&self, _req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        Err(ProviderError::Failed {
            message: self.message.clone(),
            payload: self.payload.clone(),
        })
    }

    fn describe(&self) -> String {
        "builtin fail".to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{CallContext, CallError, Router};

    fn build(name: &str, options: &str) -> Result<Arc<dyn Provider>, FactoryError> {
        let registry = ProviderRegistry::new().with(&Builtins);
        let table: toml::Table = toml::from_str(options).expect("test options are TOML");
        let factory = registry.provider(name).expect("builtin is registered");
        factory(&FactoryContext::new(name, &table, Path::new(".")))
    }

    fn call(provider: Arc<dyn Provider>, op: &str, payload: &[u8]) -> Result<Vec<u8>, CallError> {
        let router = Router::new();
        router.register("ns", op, provider).expect("register");
        router.call(&CallContext::new(), "", "ns", op, payload)
    }

    #[test]
    fn registry_knows_every_builtin() {
        let registry = ProviderRegistry::new().with(&Builtins);
        assert_eq!(
            registry.provider_names().collect::<Vec<_>>(),
            ["echo", "fail", "memory-kv", "uppercase"]
        );
    }

    #[test]
    fn echo_returns_the_payload() {
        let echo = build("echo", "").expect("echo builds");
        assert_eq!(
            call(echo, "anything", b"\x00bytes\xff").unwrap(),
            b"\x00bytes\xff"
        );
    }

    #[test]
    fn echo_refuses_options() {
        let err = build("echo", "x = 1").err().expect("options refused");
        assert_eq!(
            err.to_string(),
            "invalid options: 'echo' takes no options, got `x`"
        );
    }

    #[test]
    fn uppercase_transforms_utf8() {
        let up = build("uppercase", "").expect("uppercase builds");
        assert_eq!(
            call(up, "x", "straße".as_bytes()).unwrap(),
            "STRASSE".as_bytes()
        );
    }

    #[test]
    fn uppercase_rejects_non_utf8() {
        let up = build("uppercase", "").expect("uppercase builds");
        let err = call(up, "x", b"\xff").unwrap_err();
        assert!(
            matches!(err, CallError::InvalidInput(ref m) if m.starts_with("payload is not UTF-8")),
            "{err}"
        );
    }

    #[test]
    fn fail_fails_with_message_and_payload() {
        let fail = build(
            "fail",
            "message = \"Store offline\"\npayload = \"{\\\"code\\\":503}\"",
        )
        .expect("fail builds");
        let err = call(fail, "Get", b"k").unwrap_err();
        assert_eq!(
            err,
            CallError::ProviderFailed {
                message: "Store offline".into(),
                payload: Some(b"{\"code\":503}".to_vec()),
            }
        );
        assert_eq!(err.to_string(), "Store offline");
    }

    #[test]
    fn fail_requires_a_message() {
        let err = build("fail", "").err().expect("message is required");
        assert_eq!(err.to_string(), "invalid options: missing field `message`");
    }
}
