//! Following a redirect: which responses are redirects, where they lead, and what the next request
//! keeps. The transport never follows redirects itself; every hop goes back through the same
//! checks as the guest's own URL.
//!
//! Methods and bodies follow Go's `net/http` (Tarmac's client): 301 and 302 turn `POST` into
//! `GET`, 303 turns anything but `GET` and `HEAD` into `GET`, and all three drop the body; 307
//! and 308 keep both. Credentials (`Authorization`, `Cookie`, ...) are dropped when the origin
//! (scheme, host, port) changes.

use ureq::http::{header, HeaderMap, Method, StatusCode, Uri};

use super::target::scheme_of;

/// Headers that carry credentials, dropped on a redirect to another origin.
const CREDENTIAL_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "www-authenticate",
    "cookie",
    "cookie2",
];

/// The `Location` of a response that is followed, as text; `None` when the response is final
/// (not 301, 302, 303, 307 or 308, or no `Location`, as in Go). `Err` carries the header, lossily
/// decoded, when it is not text.
pub(crate) fn location(status: StatusCode, headers: &HeaderMap) -> Option<Result<String, String>> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let value = headers.get(header::LOCATION)?;
    Some(
        value
            .to_str()
            .map(str::to_string)
            .map_err(|_| String::from_utf8_lossy(value.as_bytes()).into_owned()),
    )
}

/// The method of the next hop, and whether it carries the body.
pub(crate) fn next_method(status: StatusCode, method: &Method) -> (Method, bool) {
    match status.as_u16() {
        307 | 308 => (method.clone(), true),
        303 if method != Method::GET && method != Method::HEAD => (Method::GET, false),
        301 | 302 if method == Method::POST => (Method::GET, false),
        _ => (method.clone(), false),
    }
}

/// Drop what must not follow the request: credentials when the origin changes, the body's
/// description when the body is dropped.
pub(crate) fn next_headers(headers: &mut HeaderMap, same_origin: bool, keeps_body: bool) {
    if !same_origin {
        for name in CREDENTIAL_HEADERS {
            headers.remove(name);
        }
    }
    if !keeps_body {
        for name in [
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
            header::TRANSFER_ENCODING,
        ] {
            headers.remove(name);
        }
    }
}

/// Resolve a URI reference against the URL it came from (RFC 3986 section 5.2). The result is
/// checked as a new URL by the caller; this only does the string work.
///
/// `base` is a request URL, so it has a scheme and an authority.
pub(crate) fn resolve(base: &Uri, reference: &str) -> String {
    if scheme_of(reference).is_some() {
        return reference.to_string();
    }
    let scheme = base
        .scheme_str()
        .expect("a request URL has a scheme; this is a bug");
    if reference.starts_with("//") {
        return format!("{scheme}:{reference}");
    }
    let authority = base
        .authority()
        .expect("a request URL has an authority; this is a bug");
    let reference = reference.split('#').next().unwrap_or_default();
    let (path, query) = match reference.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (reference, None),
    };
    let (path, query) = if path.is_empty() {
        (base.path().to_string(), query.or(base.query()))
    } else if path.starts_with('/') {
        (remove_dot_segments(path), query)
    } else {
        let base_path = base.path();
        let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
        let merged = if dir.is_empty() {
            format!("/{path}")
        } else {
            format!("{dir}{path}")
        };
        (remove_dot_segments(&merged), query)
    };
    match query {
        Some(query) => format!("{scheme}://{authority}{path}?{query}"),
        None => format!("{scheme}://{authority}{path}"),
    }
}

/// RFC 3986 section 5.2.4 for an absolute path (one starting with `/`).
fn remove_dot_segments(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {}
            ".." => {
                // The first entry is the empty segment before the leading `/`: never popped.
                if out.len() > 1 {
                    out.pop();
                }
            }
            other => {
                out.push(other);
                continue;
            }
        }
        if last {
            out.push("");
        }
    }
    if out.len() == 1 {
        return "/".to_string();
    }
    out.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Uri {
        "http://a.test:8080/b/c/d;p?q".parse().expect("test URL")
    }

    #[test]
    fn references_resolve_as_in_rfc_3986() {
        // RFC 3986 section 5.4.1, with this base's authority.
        let cases = [
            ("g", "http://a.test:8080/b/c/g"),
            ("./g", "http://a.test:8080/b/c/g"),
            ("g/", "http://a.test:8080/b/c/g/"),
            ("/g", "http://a.test:8080/g"),
            ("//g", "http://g"),
            ("?y", "http://a.test:8080/b/c/d;p?y"),
            ("g?y", "http://a.test:8080/b/c/g?y"),
            ("#s", "http://a.test:8080/b/c/d;p?q"),
            ("g#s", "http://a.test:8080/b/c/g"),
            ("", "http://a.test:8080/b/c/d;p?q"),
            (".", "http://a.test:8080/b/c/"),
            ("./", "http://a.test:8080/b/c/"),
            ("..", "http://a.test:8080/b/"),
            ("../", "http://a.test:8080/b/"),
            ("../g", "http://a.test:8080/b/g"),
            ("../..", "http://a.test:8080/"),
            ("../../", "http://a.test:8080/"),
            ("../../g", "http://a.test:8080/g"),
            ("../../../g", "http://a.test:8080/g"),
            ("/./g", "http://a.test:8080/g"),
            ("/../g", "http://a.test:8080/g"),
            ("g.", "http://a.test:8080/b/c/g."),
            ("..g", "http://a.test:8080/b/c/..g"),
            ("./../g", "http://a.test:8080/b/g"),
            ("g/./h", "http://a.test:8080/b/c/g/h"),
            ("g/../h", "http://a.test:8080/b/c/h"),
            ("https://other.test/x", "https://other.test/x"),
            ("file:///etc/passwd", "file:///etc/passwd"),
            // Not a scheme (no letter first): a relative path, on the same host.
            (
                "1http://evil.test/",
                "http://a.test:8080/b/c/1http://evil.test/",
            ),
        ];
        for (reference, expected) in cases {
            assert_eq!(resolve(&base(), reference), expected, "{reference}");
        }
        let root: Uri = "http://a.test".parse().expect("test URL");
        assert_eq!(resolve(&root, "g"), "http://a.test/g");
    }

    #[test]
    fn methods_follow_go() {
        let post = Method::POST;
        let put = Method::PUT;
        let head = Method::HEAD;
        let code = |n| StatusCode::from_u16(n).expect("test status");
        assert_eq!(next_method(code(301), &post), (Method::GET, false));
        assert_eq!(next_method(code(302), &post), (Method::GET, false));
        assert_eq!(next_method(code(302), &put), (Method::PUT, false));
        assert_eq!(next_method(code(303), &put), (Method::GET, false));
        assert_eq!(next_method(code(303), &head), (Method::HEAD, false));
        assert_eq!(next_method(code(307), &post), (Method::POST, true));
        assert_eq!(next_method(code(308), &put), (Method::PUT, true));
    }

    #[test]
    fn only_redirect_statuses_with_a_location_are_followed() {
        let mut headers = HeaderMap::new();
        headers.insert(header::LOCATION, "/next".parse().expect("test header"));
        for n in [301, 302, 303, 307, 308] {
            let status = StatusCode::from_u16(n).expect("test status");
            assert_eq!(
                location(status, &headers),
                Some(Ok("/next".to_string())),
                "{n}"
            );
        }
        for n in [200, 300, 304, 305, 306, 404] {
            let status = StatusCode::from_u16(n).expect("test status");
            assert_eq!(location(status, &headers), None, "{n}");
        }
        assert_eq!(location(StatusCode::FOUND, &HeaderMap::new()), None);
        let mut binary = HeaderMap::new();
        binary.insert(
            header::LOCATION,
            ureq::http::HeaderValue::from_bytes(b"/caf\xe9").expect("test header"),
        );
        assert_eq!(
            location(StatusCode::FOUND, &binary),
            Some(Err("/caf\u{fffd}".to_string()))
        );
    }

    #[test]
    fn credentials_stay_with_their_origin() {
        let full = || {
            let mut headers = HeaderMap::new();
            for (name, value) in [
                ("authorization", "Bearer t"),
                ("cookie", "a=b"),
                ("content-type", "text/plain"),
                ("x-other", "kept"),
            ] {
                headers.insert(name, value.parse().expect("test header"));
            }
            headers
        };
        let names = |headers: &HeaderMap| {
            let mut names: Vec<String> = headers.keys().map(|k| k.to_string()).collect();
            names.sort();
            names
        };
        let mut same = full();
        next_headers(&mut same, true, true);
        assert_eq!(
            names(&same),
            ["authorization", "content-type", "cookie", "x-other"]
        );
        let mut other = full();
        next_headers(&mut other, false, false);
        assert_eq!(names(&other), ["x-other"]);
    }
}
