//! Subject and header encoding of guest-chosen names.
//!
//! A route's subject is `<prefix>.call.<binding>.<namespace>.<operation>`. Each of the three
//! names becomes one subject token:
//! - a name matching `^[A-Za-z0-9_-]{1,64}$` is used as is;
//! - any other name up to 64 bytes (empty, with `.`, `*`, `>`, spaces, non-ASCII, ...) becomes
//!   `~` followed by the unpadded lowercase RFC 4648 base32 of its UTF-8 bytes (`""` is `~`);
//! - a name over 64 bytes becomes `~~` followed by the 16 hex digits of its 64-bit FNV-1a hash,
//!   which keeps subjects short. Two long names can share a token; that only makes a worker
//!   receive a call it then routes by the exact names in the headers.
//!
//! Neither `~` nor the base32 or hex alphabets can produce `*` or `>`, so an encoded token never
//! acts as a wildcard. The exact names travel percent-encoded in headers (see
//! [`encode_header`]); the worker routes by those, never by the subject.

/// The longest name kept readable (as is or base32) in a subject token.
const MAX_PLAIN: usize = 64;

/// The subject token for one guest-chosen name (see the module docs for the encoding).
pub fn token(name: &str) -> String {
    let safe = !name.is_empty()
        && name.len() <= MAX_PLAIN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if safe {
        return name.to_string();
    }
    if name.len() > MAX_PLAIN {
        return format!("~~{:016x}", fnv1a(name.as_bytes()));
    }
    let mut out = String::with_capacity(1 + name.len().div_ceil(5) * 8);
    out.push('~');
    base32_lower(name.as_bytes(), &mut out);
    out
}

/// The subject of one call: `<prefix>.call.<binding>.<namespace>.<operation>`.
pub fn call_subject(prefix: &str, binding: &str, namespace: &str, operation: &str) -> String {
    format!(
        "{prefix}.call.{}.{}.{}",
        token(binding),
        token(namespace),
        token(operation)
    )
}

/// The subject a worker subscribes to for one route: an unscoped route (every binding) uses
/// `*` for the binding, a namespace route `*` for the operation.
pub fn route_subject(
    prefix: &str,
    binding: Option<&str>,
    namespace: &str,
    operation: Option<&str>,
) -> String {
    format!(
        "{prefix}.call.{}.{}.{}",
        binding.map_or_else(|| "*".to_string(), token),
        token(namespace),
        operation.map_or_else(|| "*".to_string(), token)
    )
}

/// Percent-encodes a header value: `%`, control characters and non-ASCII bytes become `%XX`,
/// so any string (a guest's name, a provider's multi-line message) is a valid NATS header value.
pub fn encode_header(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reverses [`encode_header`]. `None` if the value is not a valid encoding of UTF-8 text.
pub fn decode_header(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn base32_lower(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names_stay_readable() {
        assert_eq!(
            call_subject("sb.t1", "b", "kv", "get_x-1"),
            "sb.t1.call.b.kv.get_x-1"
        );
    }

    #[test]
    fn unsafe_names_are_base32_and_never_wildcards() {
        // RFC 4648 test vectors, lowercase and unpadded.
        let base32 = |bytes: &[u8]| {
            let mut out = String::new();
            base32_lower(bytes, &mut out);
            out
        };
        assert_eq!(base32(b"f"), "my");
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
        assert_eq!(token("f"), "f");
        assert_eq!(token(""), "~");
        assert_eq!(token("a.b"), "~mexge");
        assert_eq!(token("gét"), "~m7b2s5a");
        assert_eq!(token("*"), "~fi");
        assert_eq!(token(">"), "~hy");
        let long = "x".repeat(65);
        assert_eq!(token(&long), format!("~~{:016x}", fnv1a(long.as_bytes())));
        assert_eq!(token(&long).len(), 18);
    }

    #[test]
    fn route_subjects_use_wildcards_for_unscoped_parts() {
        assert_eq!(route_subject("p", None, "kv", None), "p.call.*.kv.*");
        assert_eq!(
            route_subject("p", Some("b"), "kv", Some("get")),
            "p.call.b.kv.get"
        );
    }

    #[test]
    fn header_encoding_round_trips_any_text() {
        for text in ["plain", "", "a%b", "line1\r\nline2", "ünï ✓", "tab\there"] {
            let encoded = encode_header(text);
            assert!(!encoded.contains(['\r', '\n']), "{encoded:?}");
            assert_eq!(
                decode_header(&encoded).as_deref(),
                Some(text),
                "{encoded:?}"
            );
        }
        assert_eq!(encode_header("a%b\n"), "a%25b%0A");
        assert_eq!(decode_header("%zz"), None);
        assert_eq!(decode_header("%F"), None);
    }
}
