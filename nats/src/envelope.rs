//! The wire envelope of a remote call: header names, and the reply's error kinds.
//!
//! Request: the body is the raw payload; headers carry [`BINDING`], [`NAMESPACE`],
//! [`OPERATION`] (exact names, percent-encoded, see [`crate::subject`]), [`CALL_ID`],
//! [`CALLER`] (when known), [`TIMEOUT_MS`] (the remaining budget, so clocks need not agree),
//! [`ATTEMPT`] and the W3C [`TRACEPARENT`].
//!
//! Reply: [`STATUS`] is `ok` (body = the provider's answer) or `error`, with [`ERROR_KIND`]
//! (one of the `kind` strings of [`encode_error`]), [`ERROR`] (the message, percent-encoded)
//! and the body carrying the error payload when the provider gave one ([`HAS_PAYLOAD`] = `1`).

use async_nats::HeaderMap;
use switchboard::CallError;

use crate::subject::{decode_header, encode_header};

/// The call's waPC binding (exact, percent-encoded).
pub const BINDING: &str = "Sb-Binding";
/// The call's namespace (exact, percent-encoded).
pub const NAMESPACE: &str = "Sb-Namespace";
/// The call's operation (exact, percent-encoded).
pub const OPERATION: &str = "Sb-Operation";
/// A unique id of the call (a NUID); the same on every attempt, so it can dedupe.
pub const CALL_ID: &str = "Sb-Call-Id";
/// The calling guest's name, when the context has one (percent-encoded).
pub const CALLER: &str = "Sb-Caller";
/// The caller's remaining budget in milliseconds when the request was sent.
pub const TIMEOUT_MS: &str = "Sb-Timeout-Ms";
/// Which attempt this is, from 1.
pub const ATTEMPT: &str = "Sb-Attempt";
/// The W3C trace context.
pub const TRACEPARENT: &str = "traceparent";
/// `ok` or `error`.
pub const STATUS: &str = "Sb-Status";
/// The error's kind, see [`encode_error`].
pub const ERROR_KIND: &str = "Sb-Error-Kind";
/// The error's message (percent-encoded).
pub const ERROR: &str = "Sb-Error";
/// `1` when the error reply's body is the provider's error payload.
pub const HAS_PAYLOAD: &str = "Sb-Error-Payload";

/// Reply headers (and the error payload, if any) for a failed call.
pub fn encode_error(err: &CallError) -> (HeaderMap, Option<Vec<u8>>) {
    let (kind, message, payload) = match err {
        CallError::NotFound { .. } => ("not-found", err.to_string(), None),
        CallError::Canceled => ("canceled", String::new(), None),
        CallError::DeadlineExceeded => ("deadline", String::new(), None),
        CallError::Denied { reason } => ("denied", reason.clone(), None),
        CallError::InvalidRouteName(_) => ("invalid-route-name", err.to_string(), None),
        CallError::InvalidInput(m) => ("invalid-input", m.clone(), None),
        CallError::UnknownOperation(op) => ("unknown-operation", op.clone(), None),
        CallError::ProviderFailed { message, payload } => {
            ("failed", message.clone(), payload.clone())
        }
        CallError::ProviderTrapped(m) => ("trapped", m.clone(), None),
        CallError::LimitExceeded(m) => ("limit", m.clone(), None),
        CallError::DepthExceeded { .. } => ("depth", err.to_string(), None),
        CallError::RouteUnavailable { .. } => ("route-unavailable", err.to_string(), None),
        CallError::TransportUnavailable(m) => ("transport", m.clone(), None),
        CallError::PayloadTooLarge { .. } => ("payload-too-large", err.to_string(), None),
        CallError::Overloaded => ("overloaded", String::new(), None),
        // A kind this crate does not know yet keeps its message.
        other => ("failed", other.to_string(), None),
    };
    let mut headers = HeaderMap::new();
    headers.insert(STATUS, "error");
    headers.insert(ERROR_KIND, kind);
    headers.insert(ERROR, encode_header(&message).as_str());
    if payload.is_some() {
        headers.insert(HAS_PAYLOAD, "1");
    }
    (headers, payload)
}

/// Reply headers for a successful call.
pub fn ok_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(STATUS, "ok");
    headers
}

/// The error a reply reports, or `None` for a successful reply. A reply the worker could not
/// have produced (no or unknown status) is a transport failure. Messages that travel as a
/// whole `Display` text on the worker's side (`not-found`, `depth`, ...) are mapped to the
/// closest variant that keeps that text.
pub fn decode_error(
    headers: Option<&HeaderMap>,
    body: &[u8],
) -> Option<switchboard::ProviderError> {
    use switchboard::ProviderError as P;
    let header = |name: &str| headers.and_then(|h| h.get(name)).map(|v| v.as_str());
    match header(STATUS) {
        Some("ok") => return None,
        Some("error") => {}
        other => {
            return Some(P::TransportUnavailable(format!(
                "malformed reply from worker (status {other:?})"
            )))
        }
    }
    let message = header(ERROR).and_then(decode_header).unwrap_or_default();
    let payload = (header(HAS_PAYLOAD) == Some("1")).then(|| body.to_vec());
    Some(match header(ERROR_KIND).unwrap_or("failed") {
        "canceled" => P::Canceled,
        "deadline" => P::DeadlineExceeded,
        "overloaded" => P::Overloaded,
        "denied" => P::Call(Box::new(CallError::Denied { reason: message })),
        "invalid-input" => P::InvalidInput(message),
        "unknown-operation" => P::UnknownOperation(message),
        "trapped" => P::Trapped(message),
        "limit" => P::LimitExceeded(message),
        "transport" => P::TransportUnavailable(message),
        // The worker's own routing failed (no such route there, too deep, ...): its text, as a
        // provider failure, since the remote call itself reached a worker.
        _ => P::Failed { message, payload },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard::ProviderError;

    fn round_trip(err: CallError) -> CallError {
        let (headers, payload) = encode_error(&err);
        let body = payload.unwrap_or_default();
        CallError::from(decode_error(Some(&headers), &body).expect("an error reply"))
    }

    #[test]
    fn error_replies_keep_kind_message_and_payload() {
        let failed = CallError::ProviderFailed {
            message: "Error Parsing\nInput".into(),
            payload: Some(vec![0, 1, 2]),
        };
        assert_eq!(round_trip(failed.clone()), failed);
        let plain = CallError::ProviderFailed {
            message: "boom".into(),
            payload: None,
        };
        assert_eq!(round_trip(plain.clone()), plain);
        for err in [
            CallError::DeadlineExceeded,
            CallError::Canceled,
            CallError::Overloaded,
            CallError::Denied {
                reason: "quota".into(),
            },
            CallError::InvalidInput("bad json".into()),
            CallError::UnknownOperation("frob".into()),
            CallError::ProviderTrapped("unreachable".into()),
            CallError::LimitExceeded("memory".into()),
            CallError::TransportUnavailable("redis down".into()),
        ] {
            assert_eq!(round_trip(err.clone()), err);
        }
        let not_found = CallError::NotFound {
            binding: "b".into(),
            namespace: "n".into(),
            operation: "o".into(),
        };
        assert_eq!(
            round_trip(not_found),
            CallError::ProviderFailed {
                message: "no route for namespace 'n' operation 'o' (binding 'b')".into(),
                payload: None
            }
        );
    }

    #[test]
    fn ok_and_malformed_replies() {
        assert_eq!(decode_error(Some(&ok_headers()), b"x"), None);
        match decode_error(None, b"x") {
            Some(ProviderError::TransportUnavailable(m)) => {
                assert_eq!(m, "malformed reply from worker (status None)")
            }
            other => panic!("{other:?}"),
        }
    }
}
