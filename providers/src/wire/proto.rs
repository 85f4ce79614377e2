//! Protobuf messages of package `tarmac`, with the field numbers of Tarmac's `.proto` files.
//!
//! Declared with `prost` derives so no `protoc` is needed at build time.

use std::collections::BTreeMap;

/// `tarmac.Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Status {
    /// 200, 206, 400, 404 or 500.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// `OK` or the reason.
    #[prost(string, tag = "2")]
    pub status: String,
}

/// `tarmac.kvstore.KVStoreGet`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KvStoreGet {
    /// The key to read.
    #[prost(string, tag = "1")]
    pub key: String,
}

/// `tarmac.kvstore.KVStoreGetResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KvStoreGetResponse {
    /// The envelope.
    #[prost(message, optional, tag = "1")]
    pub status: Option<Status>,
    /// The value.
    #[prost(bytes = "vec", tag = "2")]
    pub data: Vec<u8>,
}

/// `tarmac.kvstore.KVStoreSet`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KvStoreSet {
    /// The key to write.
    #[prost(string, tag = "1")]
    pub key: String,
    /// The value; `None` when the field is absent on the wire ("Data cannot be nil").
    #[prost(bytes = "vec", optional, tag = "2")]
    pub data: Option<Vec<u8>>,
}

/// `tarmac.kvstore.KVStoreSetResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KvStoreSetResponse {
    /// The envelope.
    #[prost(message, optional, tag = "1")]
    pub status: Option<Status>,
}

/// `tarmac.kvstore.KVStoreDelete`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KvStoreDelete {
    /// The key to remove.
    #[prost(string, tag = "1")]
    pub key: String,
}

/// `tarmac.kvstore.KVStoreDeleteResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KvStoreDeleteResponse {
    /// The envelope.
    #[prost(message, optional, tag = "1")]
    pub status: Option<Status>,
}

/// `tarmac.kvstore.KVStoreKeys`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KvStoreKeys {
    /// Set by the SDK so that the payload is non-empty (which selects a protobuf response).
    #[prost(bool, tag = "1")]
    pub return_proto: bool,
}

/// `tarmac.kvstore.KVStoreKeysResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KvStoreKeysResponse {
    /// The envelope.
    #[prost(message, optional, tag = "1")]
    pub status: Option<Status>,
    /// Every key.
    #[prost(string, repeated, tag = "2")]
    pub keys: Vec<String>,
}

/// `tarmac.sql.SQLQuery`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SqlQuery {
    /// SQL text.
    #[prost(bytes = "vec", tag = "1")]
    pub query: Vec<u8>,
}

/// `tarmac.sql.SQLQueryResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SqlQueryResponse {
    /// The envelope.
    #[prost(message, optional, tag = "1")]
    pub status: Option<Status>,
    /// Column names, in result order.
    #[prost(string, repeated, tag = "4")]
    pub columns: Vec<String>,
    /// JSON array of row objects keyed by column name.
    #[prost(bytes = "vec", tag = "5")]
    pub data: Vec<u8>,
}

/// `tarmac.sql.SQLExec`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SqlExec {
    /// SQL text.
    #[prost(bytes = "vec", tag = "1")]
    pub query: Vec<u8>,
}

/// `tarmac.sql.SQLExecResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SqlExecResponse {
    /// The envelope.
    #[prost(message, optional, tag = "1")]
    pub status: Option<Status>,
    /// Id of the last inserted row, where the engine reports one.
    #[prost(int64, tag = "2")]
    pub last_insert_id: i64,
    /// Rows changed by the statement.
    #[prost(int64, tag = "3")]
    pub rows_affected: i64,
}

/// `tarmac.http.Header`: every value of one header.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Header {
    /// The values, in order.
    #[prost(string, repeated, tag = "1")]
    pub values: Vec<String>,
}

/// `tarmac.http.HTTPClient`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HttpClient {
    /// `GET`, `POST`, ...
    #[prost(string, tag = "1")]
    pub method: String,
    /// Request headers.
    #[prost(btree_map = "string, message", tag = "2")]
    pub headers: BTreeMap<String, Header>,
    /// Absolute URL.
    #[prost(string, tag = "3")]
    pub url: String,
    /// Request body.
    #[prost(bytes = "vec", tag = "4")]
    pub body: Vec<u8>,
    /// Skip TLS verification (honoured only where configuration allows it).
    #[prost(bool, tag = "5")]
    pub insecure: bool,
}

/// `tarmac.http.HTTPClientResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HttpClientResponse {
    /// The envelope (200 means the request was made).
    #[prost(message, optional, tag = "1")]
    pub status: Option<Status>,
    /// The remote HTTP status code.
    #[prost(int32, tag = "2")]
    pub code: i32,
    /// Response headers, names lower-cased.
    #[prost(btree_map = "string, message", tag = "3")]
    pub headers: BTreeMap<String, Header>,
    /// Response body (possibly capped).
    #[prost(bytes = "vec", tag = "4")]
    pub body: Vec<u8>,
}

/// `tarmac.metrics.MetricsCounter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricsCounter {
    /// Metric name.
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `tarmac.metrics.MetricsGauge`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricsGauge {
    /// Metric name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// `inc` or `dec`.
    #[prost(string, tag = "2")]
    pub action: String,
}

/// `tarmac.metrics.MetricsHistogram`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricsHistogram {
    /// Metric name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Observed value.
    #[prost(double, tag = "2")]
    pub value: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn ok() -> Status {
        Status {
            code: 200,
            status: "OK".to_string(),
        }
    }

    #[test]
    fn spec_vector_status() {
        assert_eq!(
            ok().encode_to_vec(),
            [0x08, 0xc8, 0x01, 0x12, 0x02, 0x4f, 0x4b]
        );
    }

    #[test]
    fn spec_vector_kvstore_get() {
        let msg = KvStoreGet {
            key: "test-data".to_string(),
        };
        let bytes = [
            0x0a, 0x09, 0x74, 0x65, 0x73, 0x74, 0x2d, 0x64, 0x61, 0x74, 0x61,
        ];
        assert_eq!(msg.encode_to_vec(), bytes);
        assert_eq!(KvStoreGet::decode(&bytes[..]), Ok(msg));
    }

    #[test]
    fn spec_vector_kvstore_get_response() {
        let msg = KvStoreGetResponse {
            status: Some(ok()),
            data: b"somedata".to_vec(),
        };
        let bytes = [
            0x0a, 0x07, 0x08, 0xc8, 0x01, 0x12, 0x02, 0x4f, 0x4b, 0x12, 0x08, 0x73, 0x6f, 0x6d,
            0x65, 0x64, 0x61, 0x74, 0x61,
        ];
        assert_eq!(msg.encode_to_vec(), bytes);
        assert_eq!(KvStoreGetResponse::decode(&bytes[..]), Ok(msg));
    }

    #[test]
    fn set_distinguishes_absent_from_empty_data() {
        let absent = KvStoreSet::decode(&[0x0a, 0x01, b'k'][..]).unwrap();
        assert_eq!(absent.data, None);
        let empty = KvStoreSet::decode(&[0x0a, 0x01, b'k', 0x12, 0x00][..]).unwrap();
        assert_eq!(empty.data, Some(Vec::new()));
    }

    #[test]
    fn field_numbers_of_sql_and_http_messages() {
        let rsp = SqlQueryResponse {
            status: None,
            columns: vec!["a".to_string()],
            data: b"[]".to_vec(),
        };
        assert_eq!(
            rsp.encode_to_vec(),
            [0x22, 0x01, b'a', 0x2a, 0x02, b'[', b']']
        );
        let exec = SqlExecResponse {
            status: None,
            last_insert_id: 7,
            rows_affected: 2,
        };
        assert_eq!(exec.encode_to_vec(), [0x10, 0x07, 0x18, 0x02]);
        let mut headers = BTreeMap::new();
        headers.insert(
            "a".to_string(),
            Header {
                values: vec!["b".to_string()],
            },
        );
        let req = HttpClient {
            method: "GET".to_string(),
            headers,
            url: "u".to_string(),
            body: b"x".to_vec(),
            insecure: true,
        };
        assert_eq!(
            req.encode_to_vec(),
            [
                0x0a, 0x03, b'G', b'E', b'T', // method = 1
                0x12, 0x08, 0x0a, 0x01, b'a', 0x12, 0x03, 0x0a, 0x01, b'b', // headers = 2
                0x1a, 0x01, b'u', // url = 3
                0x22, 0x01, b'x', // body = 4
                0x28, 0x01, // insecure = 5
            ]
        );
        let hist = MetricsHistogram {
            name: "h".to_string(),
            value: 1.0,
        };
        assert_eq!(
            hist.encode_to_vec(),
            [0x0a, 0x01, b'h', 0x11, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]
        );
    }

    #[test]
    fn garbage_is_rejected() {
        // Field 1 declared as a 9-byte string with only 2 bytes present.
        assert!(KvStoreGet::decode(&[0x0a, 0x09, 0x74, 0x65][..]).is_err());
    }
}
