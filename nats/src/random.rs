//! Cheap non-cryptographic randomness for trace ids and backoff jitter.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

/// A random-looking 64-bit value: std's randomly keyed SipHash of a process-wide counter.
pub(crate) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    std::collections::hash_map::RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The `traceparent` of an outgoing request: the caller's trace id and flags with a new
/// parent id, or a new sampled trace when the caller has none (or an unreadable one).
pub(crate) fn traceparent_for(caller: Option<&str>) -> String {
    let span = nonzero();
    if let Some((trace, flags)) = caller.and_then(parse) {
        return format!("00-{trace}-{span:016x}-{flags}");
    }
    format!("00-{:016x}{:016x}-{span:016x}-01", nonzero(), random_u64())
}

fn nonzero() -> u64 {
    random_u64().max(1)
}

/// The trace id and flags of a version-00 `traceparent`.
fn parse(value: &str) -> Option<(&str, &str)> {
    let mut parts = value.split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    let valid = version == "00"
        && parts.next().is_none()
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0');
    valid.then_some((trace, flags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_keeps_the_callers_trace_with_a_new_parent() {
        let caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let next = traceparent_for(Some(caller));
        assert!(
            next.starts_with("00-0af7651916cd43dd8448eb211c80319c-"),
            "{next}"
        );
        assert!(next.ends_with("-01"), "{next}");
        assert_ne!(next, caller);
        assert_eq!(
            parse(&next).map(|(t, _)| t),
            Some("0af7651916cd43dd8448eb211c80319c")
        );
    }

    #[test]
    fn traceparent_is_generated_without_a_valid_caller_trace() {
        for caller in [
            None,
            Some("garbage"),
            Some("00-00000000000000000000000000000000-b7ad6b7169203331-01"),
        ] {
            let fresh = traceparent_for(caller);
            let (trace, flags) = parse(&fresh).expect("a valid traceparent");
            assert_eq!(flags, "01");
            assert_ne!(Some(trace), caller.and_then(parse).map(|(t, _)| t));
        }
        assert_ne!(traceparent_for(None), traceparent_for(None));
    }
}
