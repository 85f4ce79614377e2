//! The Tarmac callback wire format: encoding detection, the status envelope, and the messages.
//!
//! Every request is protobuf (Tarmac's newer SDKs) or JSON (the older ones), and the response uses
//! the request's encoding. Tarmac itself tries protobuf first and falls back to JSON, which misreads
//! some long JSON payloads as protobuf; a Tarmac protobuf message can never start with byte `{`
//! (0x7B would be field 15 with the deprecated group wire type), so "first byte `{` means JSON" is
//! exact and is the rule used here.

pub mod json;
pub mod proto;
#[cfg(test)]
mod round_trip;

use switchboard::ProviderError;

/// How a request (and therefore its response) is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// JSON, binary fields as standard base64 strings.
    Json,
    /// Protobuf, package `tarmac`.
    Protobuf,
}

impl Encoding {
    /// The encoding of a request payload: JSON when its first byte is `{`, protobuf otherwise
    /// (including the empty payload, which is a valid protobuf message with default fields).
    pub fn detect(payload: &[u8]) -> Self {
        if payload.first() == Some(&b'{') {
            Encoding::Json
        } else {
            Encoding::Protobuf
        }
    }
}

/// Status codes used in the envelope.
pub mod code {
    /// Success.
    pub const OK: i32 = 200;
    /// Success, but some metadata is missing (sql exec).
    pub const PARTIAL: i32 = 206;
    /// The request was malformed.
    pub const BAD_REQUEST: i32 = 400;
    /// The request is refused by policy (httpclient's allow-list; not a Tarmac code).
    pub const FORBIDDEN: i32 = 403;
    /// The key (or other resource) does not exist.
    pub const NOT_FOUND: i32 = 404;
    /// The backend failed.
    pub const INTERNAL: i32 = 500;
}

/// Text of the 400 status for a payload that is neither valid JSON nor valid protobuf for the
/// operation (Tarmac's wording).
pub const PARSE_ERROR: &str = "Error Parsing Input";

/// The status envelope carried by every response except logger and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// One of [`code`].
    pub code: i32,
    /// `OK`, or the reason; when `code` is not 200 this is also the host call's error message.
    pub text: String,
}

impl Status {
    /// `200 OK`.
    pub fn ok() -> Self {
        Status {
            code: code::OK,
            text: "OK".to_string(),
        }
    }

    /// Any status.
    pub fn new(code: i32, text: impl Into<String>) -> Self {
        Status {
            code,
            text: text.into(),
        }
    }

    /// `400` with a reason.
    pub fn bad_request(text: impl Into<String>) -> Self {
        Status::new(code::BAD_REQUEST, text)
    }

    /// `400 Error Parsing Input`.
    pub fn parse_error() -> Self {
        Status::bad_request(PARSE_ERROR)
    }

    /// Whether the host call succeeds with this status (only 200 does).
    pub fn is_ok(&self) -> bool {
        self.code == code::OK
    }

    pub(crate) fn to_proto(&self) -> proto::Status {
        proto::Status {
            code: self.code,
            status: self.text.clone(),
        }
    }

    pub(crate) fn to_json(&self) -> json::Status {
        json::Status {
            code: self.code,
            status: self.text.clone(),
        }
    }
}

/// Turn an encoded response into the host call's outcome: the response itself when the status is
/// 200, otherwise a failure whose message is the status text and whose payload is the encoded
/// response (so hosts that surface error payloads still give the guest the envelope).
///
/// # Errors
///
/// [`ProviderError::Failed`] with the status text when the status is not 200.
pub fn reply(status: &Status, encoded: Vec<u8>) -> Result<Vec<u8>, ProviderError> {
    if status.is_ok() {
        Ok(encoded)
    } else {
        Err(ProviderError::failed_with_payload(
            status.text.clone(),
            encoded,
        ))
    }
}

/// Decode a request in its detected encoding and normalise it with `from_json` / `from_proto`.
/// Either decoder failing is `400 Error Parsing Input`.
pub(crate) fn parse<J, P, T>(
    encoding: Encoding,
    payload: &[u8],
    from_json: impl FnOnce(J) -> Result<T, Status>,
    from_proto: impl FnOnce(P) -> Result<T, Status>,
) -> Result<T, Status>
where
    J: serde::de::DeserializeOwned,
    P: prost::Message + Default,
{
    match encoding {
        Encoding::Json => {
            let msg: J = serde_json::from_slice(payload).map_err(|_| Status::parse_error())?;
            from_json(msg)
        }
        Encoding::Protobuf => {
            let msg = P::decode(payload).map_err(|_| Status::parse_error())?;
            from_proto(msg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_byte_brace_selects_json() {
        assert_eq!(Encoding::detect(b"{\"key\":\"a\"}"), Encoding::Json);
        assert_eq!(Encoding::detect(b"\x0a\x01a"), Encoding::Protobuf);
        assert_eq!(Encoding::detect(b""), Encoding::Protobuf);
        // Leading whitespace is not JSON by this rule (Tarmac's SDKs never send it).
        assert_eq!(Encoding::detect(b" {}"), Encoding::Protobuf);
    }

    #[test]
    fn reply_fails_with_status_text_and_keeps_the_response() {
        assert_eq!(reply(&Status::ok(), b"x".to_vec()), Ok(b"x".to_vec()));
        let err = reply(&Status::new(404, "gone"), b"resp".to_vec()).unwrap_err();
        assert_eq!(
            err,
            ProviderError::Failed {
                message: "gone".to_string(),
                payload: Some(b"resp".to_vec())
            }
        );
    }
}
