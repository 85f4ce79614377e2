//! The errors of the router boundary: what a caller (and a waPC guest) sees, what a provider
//! reports, and what registration refuses.
//!
//! Display texts are stable: a waPC guest receives [`CallError`]'s message through
//! `__host_error`, and guests match on it.

use crate::router::RouteKey;

/// Why a routed call failed. The `Display` text is what a waPC guest receives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No route matches `(binding, namespace, operation)`.
    #[error("no route for namespace '{namespace}' operation '{operation}' (binding '{binding}')")]
    NotFound {
        /// The waPC binding of the call.
        binding: String,
        /// The namespace asked for.
        namespace: String,
        /// The operation asked for.
        operation: String,
    },
    /// The call's cancellation token was triggered.
    #[error("call canceled")]
    Canceled,
    /// The call's deadline passed before it completed.
    #[error("deadline exceeded")]
    DeadlineExceeded,
    /// A pre-call middleware refused the call; the provider did not run.
    #[error("denied: {reason}")]
    Denied {
        /// The reason the middleware gave.
        reason: String,
    },
    /// The call named an empty namespace or operation.
    #[error("invalid route name: {0}")]
    InvalidRouteName(&'static str),
    /// The provider rejected the payload.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The provider serves the namespace but not this operation.
    #[error("unknown operation '{0}'")]
    UnknownOperation(String),
    /// The provider failed. The message is the provider's own, verbatim (Tarmac guests read
    /// status texts from it); `payload` optionally carries an encoded error response.
    #[error("{message}")]
    ProviderFailed {
        /// The provider's message.
        message: String,
        /// An optional machine-readable error payload.
        payload: Option<Vec<u8>>,
    },
    /// A sandboxed provider trapped; its instance was discarded.
    #[error("provider trapped: {0}")]
    ProviderTrapped(String),
    /// A resource limit (memory, payload size, pool capacity, ...) was hit.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// Re-entrant calls nested deeper than the router allows.
    #[error("call depth limit of {max} exceeded")]
    DepthExceeded {
        /// The router's maximum depth.
        max: u32,
    },
    /// The route is served remotely and no worker serves it right now (the request was never
    /// delivered, so retrying later is safe).
    #[error("no worker for namespace '{namespace}' operation '{operation}' (binding '{binding}')")]
    RouteUnavailable {
        /// The waPC binding of the call.
        binding: String,
        /// The namespace asked for.
        namespace: String,
        /// The operation asked for.
        operation: String,
    },
    /// The route is served remotely and the transport to its workers is down.
    #[error("transport unavailable: {0}")]
    TransportUnavailable(String),
    /// The payload is larger than the transport to a remote route accepts; nothing was sent.
    #[error("payload of {size} bytes is over the transport limit of {max} bytes")]
    PayloadTooLarge {
        /// The payload's size, bytes.
        size: usize,
        /// The transport's limit, bytes.
        max: usize,
    },
    /// The remote worker had no free capacity and refused the call without running it.
    #[error("worker overloaded")]
    Overloaded,
}

/// What a provider reports when it cannot answer. The router turns it into a [`CallError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The provider failed, with its message and an optional error payload.
    #[error("{message}")]
    Failed {
        /// Human-readable message, passed to the guest verbatim.
        message: String,
        /// Optional encoded error response.
        payload: Option<Vec<u8>>,
    },
    /// The payload was malformed for this operation.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The provider does not implement this operation.
    #[error("unknown operation '{0}'")]
    UnknownOperation(String),
    /// The provider's sandbox trapped.
    #[error("provider trapped: {0}")]
    Trapped(String),
    /// The provider hit a resource limit.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// The provider stopped because the call's deadline passed.
    #[error("deadline exceeded")]
    DeadlineExceeded,
    /// The provider stopped because the call was canceled.
    #[error("call canceled")]
    Canceled,
    /// A call the provider made back into the router failed; the original error is kept.
    #[error(transparent)]
    Call(Box<CallError>),
    /// A remote provider found no worker serving the route.
    #[error("no worker for namespace '{namespace}' operation '{operation}' (binding '{binding}')")]
    RouteUnavailable {
        /// The waPC binding of the call.
        binding: String,
        /// The namespace asked for.
        namespace: String,
        /// The operation asked for.
        operation: String,
    },
    /// A remote provider's transport is down.
    #[error("transport unavailable: {0}")]
    TransportUnavailable(String),
    /// A remote provider refused a payload over its transport's limit before sending it.
    #[error("payload of {size} bytes is over the transport limit of {max} bytes")]
    PayloadTooLarge {
        /// The payload's size, bytes.
        size: usize,
        /// The transport's limit, bytes.
        max: usize,
    },
    /// The remote worker had no free capacity and refused the call without running it.
    #[error("worker overloaded")]
    Overloaded,
}

impl ProviderError {
    /// A plain failure with a message.
    pub fn failed(message: impl Into<String>) -> Self {
        ProviderError::Failed {
            message: message.into(),
            payload: None,
        }
    }

    /// A failure with a message and an encoded error payload.
    pub fn failed_with_payload(message: impl Into<String>, payload: Vec<u8>) -> Self {
        ProviderError::Failed {
            message: message.into(),
            payload: Some(payload),
        }
    }
}

impl From<String> for ProviderError {
    fn from(message: String) -> Self {
        ProviderError::failed(message)
    }
}

impl From<&str> for ProviderError {
    fn from(message: &str) -> Self {
        ProviderError::failed(message)
    }
}

impl From<std::convert::Infallible> for ProviderError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl From<CallError> for ProviderError {
    fn from(err: CallError) -> Self {
        ProviderError::Call(Box::new(err))
    }
}

impl From<ProviderError> for CallError {
    fn from(err: ProviderError) -> Self {
        match err {
            ProviderError::Failed { message, payload } => {
                CallError::ProviderFailed { message, payload }
            }
            ProviderError::InvalidInput(m) => CallError::InvalidInput(m),
            ProviderError::UnknownOperation(op) => CallError::UnknownOperation(op),
            ProviderError::Trapped(m) => CallError::ProviderTrapped(m),
            ProviderError::LimitExceeded(m) => CallError::LimitExceeded(m),
            ProviderError::DeadlineExceeded => CallError::DeadlineExceeded,
            ProviderError::Canceled => CallError::Canceled,
            ProviderError::Call(inner) => *inner,
            ProviderError::RouteUnavailable {
                binding,
                namespace,
                operation,
            } => CallError::RouteUnavailable {
                binding,
                namespace,
                operation,
            },
            ProviderError::TransportUnavailable(m) => CallError::TransportUnavailable(m),
            ProviderError::PayloadTooLarge { size, max } => {
                CallError::PayloadTooLarge { size, max }
            }
            ProviderError::Overloaded => CallError::Overloaded,
        }
    }
}

/// Why a route could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// The namespace was empty.
    #[error("namespace must not be empty")]
    EmptyNamespace,
    /// The operation was empty (use a namespace route to serve every operation).
    #[error("operation must not be empty")]
    EmptyOperation,
    /// The binding scope was empty (leave it unset to match every binding).
    #[error("binding must not be empty")]
    EmptyBinding,
    /// A route with this key exists and replacement was not asked for.
    #[error("route {0} is already registered")]
    Duplicate(RouteKey),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks `err`'s `source()` chain and fails if a message repeats its source's text
    /// (ripgrep's rule: context in `Display`, the cause in `source()`, never both). Returns
    /// the chain's messages so the caller can pin them.
    fn chain_without_repeats(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
        let mut messages = vec![err.to_string()];
        let mut current = err;
        while let Some(source) = current.source() {
            let outer = current.to_string();
            let inner = source.to_string();
            assert!(
                !outer.contains(&inner),
                "{outer:?} repeats the text of its source {inner:?}"
            );
            messages.push(inner);
            current = source;
        }
        messages
    }

    fn not_found() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")
    }

    #[test]
    fn errors_print_their_source_once() {
        let wapc_io = crate::wapc::WapcError::Io {
            path: "/g.wasm".into(),
            source: not_found(),
        };
        assert_eq!(
            chain_without_repeats(&wapc_io),
            ["cannot read guest module /g.wasm", "no such file"]
        );
        let component_io = crate::component::ComponentError::Io {
            path: "/c.wasm".into(),
            source: not_found(),
        };
        assert_eq!(
            chain_without_repeats(&component_io),
            ["cannot read component /c.wasm", "no such file"]
        );
        // The guest reads the routed error's text through `__host_error`, so `HostCall` keeps
        // it in its message and therefore must not also return it as its source.
        let host_call = crate::wapc::WapcError::HostCall {
            error: CallError::DeadlineExceeded,
            guest_message: "gave up".into(),
        };
        assert_eq!(
            chain_without_repeats(&host_call),
            ["host call failed: deadline exceeded (guest reported: gave up)"]
        );
        let nested = ProviderError::from(CallError::Denied {
            reason: "quota".into(),
        });
        assert_eq!(chain_without_repeats(&nested), ["denied: quota"]);
        let trapped = CallError::from(ProviderError::Trapped("unreachable".into()));
        assert_eq!(
            chain_without_repeats(&trapped),
            ["provider trapped: unreachable"]
        );
    }

    #[test]
    fn provider_failure_message_reaches_the_guest_verbatim() {
        let err: CallError = ProviderError::failed("Error Parsing Input").into();
        assert_eq!(err.to_string(), "Error Parsing Input");
    }

    #[test]
    fn nested_call_errors_keep_their_kind() {
        let inner = CallError::DeadlineExceeded;
        let err: CallError = ProviderError::from(inner.clone()).into();
        assert_eq!(err, inner);
    }

    #[test]
    fn remote_route_errors_keep_their_kind_and_message() {
        let unavailable: CallError = ProviderError::RouteUnavailable {
            binding: "b".into(),
            namespace: "kv".into(),
            operation: "get".into(),
        }
        .into();
        assert_eq!(
            unavailable.to_string(),
            "no worker for namespace 'kv' operation 'get' (binding 'b')"
        );
        let down: CallError =
            ProviderError::TransportUnavailable("connection closed".into()).into();
        assert_eq!(
            down,
            CallError::TransportUnavailable("connection closed".into())
        );
        assert_eq!(down.to_string(), "transport unavailable: connection closed");
        let big: CallError = ProviderError::PayloadTooLarge { size: 10, max: 4 }.into();
        assert_eq!(
            big.to_string(),
            "payload of 10 bytes is over the transport limit of 4 bytes"
        );
        let busy: CallError = ProviderError::Overloaded.into();
        assert_eq!(busy, CallError::Overloaded);
        assert_eq!(busy.to_string(), "worker overloaded");
    }

    #[test]
    fn stable_messages() {
        let nf = CallError::NotFound {
            binding: "b".into(),
            namespace: "n".into(),
            operation: "o".into(),
        };
        assert_eq!(
            nf.to_string(),
            "no route for namespace 'n' operation 'o' (binding 'b')"
        );
        assert_eq!(CallError::Canceled.to_string(), "call canceled");
        assert_eq!(
            CallError::Denied {
                reason: "nope".into()
            }
            .to_string(),
            "denied: nope"
        );
    }
}
