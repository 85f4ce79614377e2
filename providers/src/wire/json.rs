//! JSON messages of Tarmac's older SDKs: the protobuf field names in snake_case, binary fields as
//! standard base64 strings, HTTP headers as a `string -> string` map.
//!
//! Like Go's decoder, missing fields and `null` take their zero value (Go's SDK marshals a nil
//! header map or body as `null`) and unknown fields are ignored.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The status envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// 200, 206, 400, 404 or 500.
    pub code: i32,
    /// `OK` or the reason.
    pub status: String,
}

/// `kvstore:get` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct KvStoreGet {
    /// The key.
    #[serde(deserialize_with = "null_as_default")]
    pub key: String,
}

/// `kvstore:get` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvStoreGetResponse {
    /// The envelope.
    pub status: Status,
    /// The value, base64.
    pub data: String,
}

/// `kvstore:set` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct KvStoreSet {
    /// The key.
    #[serde(deserialize_with = "null_as_default")]
    pub key: String,
    /// The value, base64; absent or `null` means "Data cannot be nil", `""` stores an empty value.
    pub data: Option<String>,
}

/// `kvstore:set` and `kvstore:delete` responses (the envelope only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusOnly {
    /// The envelope.
    pub status: Status,
}

/// `kvstore:delete` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct KvStoreDelete {
    /// The key.
    #[serde(deserialize_with = "null_as_default")]
    pub key: String,
}

/// `kvstore:keys` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvStoreKeysResponse {
    /// Every key.
    pub keys: Vec<String>,
    /// The envelope.
    pub status: Status,
}

/// `sql:query` (and, as an extension, `sql:exec`) request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct SqlQuery {
    /// SQL text, base64.
    #[serde(deserialize_with = "null_as_default")]
    pub query: String,
}

/// `sql:query` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlQueryResponse {
    /// The envelope.
    pub status: Status,
    /// Base64 of the JSON array of row objects.
    pub data: String,
}

/// `sql:exec` response (an extension: Tarmac has no JSON form of exec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlExecResponse {
    /// The envelope.
    pub status: Status,
    /// Id of the last inserted row, where the engine reports one.
    pub last_insert_id: i64,
    /// Rows changed.
    pub rows_affected: i64,
}

/// `httpclient:call` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct HttpClient {
    /// `GET`, `POST`, ...
    #[serde(deserialize_with = "null_as_default")]
    pub method: String,
    /// Request headers, one value each.
    #[serde(deserialize_with = "null_as_default")]
    pub headers: BTreeMap<String, String>,
    /// Absolute URL.
    #[serde(deserialize_with = "null_as_default")]
    pub url: String,
    /// Request body, base64.
    #[serde(deserialize_with = "null_as_default")]
    pub body: String,
    /// Skip TLS verification (honoured only where configuration allows it).
    #[serde(deserialize_with = "null_as_default")]
    pub insecure: bool,
}

/// `httpclient:call` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpClientResponse {
    /// The envelope.
    pub status: Status,
    /// Remote HTTP status.
    pub code: i32,
    /// Response headers, lower-cased names, values of a repeated header joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// Response body, base64.
    pub body: String,
}

/// `metrics:counter` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct MetricsCounter {
    /// Metric name.
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
}

/// `metrics:gauge` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct MetricsGauge {
    /// Metric name.
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    /// `inc` or `dec`.
    #[serde(deserialize_with = "null_as_default")]
    pub action: String,
}

/// `metrics:histogram` request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct MetricsHistogram {
    /// Metric name.
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    /// Observed value.
    #[serde(deserialize_with = "null_as_default")]
    pub value: f64,
}

/// `null` as the type's zero value, like Go's `encoding/json`.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// Standard base64 with padding, as Go's `base64.StdEncoding`.
pub fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decode standard base64; the error text follows the `Unable to decode ... - <reason>` statuses.
///
/// # Errors
///
/// The decoder's reason when `text` is not standard base64.
pub fn b64_decode(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| e.to_string())
}

/// Serialise a response. These types cannot fail to serialise (string keys, no custom
/// serialisers); should that ever change the failure is logged and an empty body returned rather
/// than a panic.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|err| {
        tracing::error!(%err, "serialising a JSON response failed");
        Vec::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_response_shape() {
        let rsp = KvStoreGetResponse {
            status: Status {
                code: 200,
                status: "OK".to_string(),
            },
            data: b64_encode(b"somedata"),
        };
        assert_eq!(
            String::from_utf8(encode(&rsp)).unwrap(),
            r#"{"status":{"code":200,"status":"OK"},"data":"c29tZWRhdGE="}"#
        );
    }

    #[test]
    fn missing_fields_take_zero_values_and_unknown_fields_are_ignored() {
        let set: KvStoreSet = serde_json::from_str(r#"{"other":1}"#).unwrap();
        assert_eq!(set, KvStoreSet::default());
        let http: HttpClient = serde_json::from_str(r#"{"url":"http://x"}"#).unwrap();
        assert_eq!(http.method, "");
        assert!(http.headers.is_empty());
    }

    #[test]
    fn null_takes_the_zero_value_like_go() {
        // What Tarmac's Go SDK sends for a GET: nil header map and nil body marshal as null.
        let http: HttpClient = serde_json::from_str(
            r#"{"method":"GET","headers":null,"url":"http://x/","body":null,"insecure":false}"#,
        )
        .unwrap();
        assert_eq!(
            http,
            HttpClient {
                method: "GET".to_string(),
                url: "http://x/".to_string(),
                ..HttpClient::default()
            }
        );
        let get: KvStoreGet = serde_json::from_str(r#"{"key":null}"#).unwrap();
        assert_eq!(get.key, "");
        let set: KvStoreSet = serde_json::from_str(r#"{"key":"k","data":null}"#).unwrap();
        assert_eq!(set.data, None);
        let histogram: MetricsHistogram =
            serde_json::from_str(r#"{"name":"h","value":null}"#).unwrap();
        assert_eq!(histogram.value, 0.0);
        assert!(serde_json::from_str::<KvStoreGet>(r#"{"key":1}"#).is_err());
    }

    #[test]
    fn histogram_values_round_trip_exactly() {
        // Found by the property tests: serde_json's default float parser read this one ulp off.
        for value in [
            8.868037291271392e-8,
            0.1,
            -2.5e-308,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            let msg = MetricsHistogram {
                name: "h".to_string(),
                value,
            };
            let back: MetricsHistogram = serde_json::from_slice(&encode(&msg)).unwrap();
            assert_eq!(back.value.to_bits(), value.to_bits(), "{value:e}");
        }
    }

    #[test]
    fn base64_is_standard_padded() {
        assert_eq!(b64_encode(&[0xff, 0xfe]), "//4=");
        assert_eq!(b64_decode("//4=").unwrap(), vec![0xff, 0xfe]);
        assert!(b64_decode("not base64!").is_err());
    }
}
