//! Property tests: every Tarmac message of every capability survives encode/decode in both
//! encodings, an encoded message always selects its own encoding by its first byte, and the same
//! request in either encoding decodes to the same request.

use std::collections::BTreeMap;
use std::fmt::Debug;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use prost::Message;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{json, parse, proto, Encoding, Status};

fn text() -> impl Strategy<Value = String> {
    any::<String>()
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..48)
}

fn base64() -> impl Strategy<Value = String> {
    bytes().prop_map(|b| json::b64_encode(&b))
}

fn proto_status() -> impl Strategy<Value = Option<proto::Status>> {
    option::of((any::<i32>(), text()).prop_map(|(code, status)| proto::Status { code, status }))
}

fn json_status() -> impl Strategy<Value = json::Status> {
    (any::<i32>(), text()).prop_map(|(code, status)| json::Status { code, status })
}

fn proto_headers() -> impl Strategy<Value = BTreeMap<String, proto::Header>> {
    btree_map(
        text(),
        vec(text(), 0..3).prop_map(|values| proto::Header { values }),
        0..4,
    )
}

fn json_headers() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map(text(), text(), 0..4)
}

/// decode(encode(m)) == m, and the encoding is detected as protobuf.
fn proto_round_trip<M>(msg: &M) -> Result<(), TestCaseError>
where
    M: Message + Default + PartialEq + Debug,
{
    let bytes = msg.encode_to_vec();
    prop_assert_eq!(Encoding::detect(&bytes), Encoding::Protobuf);
    let back = M::decode(&bytes[..]).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(&back, msg);
    Ok(())
}

/// decode(encode(m)) == m, and the encoding is detected as JSON.
fn json_round_trip<M>(msg: &M) -> Result<(), TestCaseError>
where
    M: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let bytes = json::encode(msg);
    prop_assert_eq!(Encoding::detect(&bytes), Encoding::Json);
    let back: M =
        serde_json::from_slice(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(&back, msg);
    Ok(())
}

/// Decode `bytes` the way providers do (encoding from the first byte) into a comparable form.
fn decode_either<J, P, T>(
    bytes: &[u8],
    from_json: impl FnOnce(J) -> T,
    from_proto: impl FnOnce(P) -> T,
) -> Result<T, TestCaseError>
where
    J: DeserializeOwned,
    P: Message + Default,
{
    parse(
        Encoding::detect(bytes),
        bytes,
        |m| Ok(from_json(m)),
        |m| Ok(from_proto(m)),
    )
    .map_err(|status: Status| TestCaseError::fail(status.text))
}

proptest! {
    #[test]
    fn status_envelope(status in proto_status(), json in json_status()) {
        if let Some(status) = &status {
            proto_round_trip(status)?;
        }
        json_round_trip(&json)?;
    }

    #[test]
    fn kvstore_protobuf(
        key in text(),
        data in bytes(),
        maybe_data in option::of(bytes()),
        status in proto_status(),
        keys in vec(text(), 0..5),
        return_proto in any::<bool>(),
    ) {
        proto_round_trip(&proto::KvStoreGet { key: key.clone() })?;
        proto_round_trip(&proto::KvStoreGetResponse { status: status.clone(), data })?;
        proto_round_trip(&proto::KvStoreSet { key: key.clone(), data: maybe_data })?;
        proto_round_trip(&proto::KvStoreSetResponse { status: status.clone() })?;
        proto_round_trip(&proto::KvStoreDelete { key })?;
        proto_round_trip(&proto::KvStoreDeleteResponse { status: status.clone() })?;
        proto_round_trip(&proto::KvStoreKeys { return_proto })?;
        proto_round_trip(&proto::KvStoreKeysResponse { status, keys })?;
    }

    #[test]
    fn kvstore_json(
        key in text(),
        data in base64(),
        maybe_data in option::of(base64()),
        status in json_status(),
        keys in vec(text(), 0..5),
    ) {
        json_round_trip(&json::KvStoreGet { key: key.clone() })?;
        json_round_trip(&json::KvStoreGetResponse { status: status.clone(), data })?;
        json_round_trip(&json::KvStoreSet { key: key.clone(), data: maybe_data })?;
        json_round_trip(&json::StatusOnly { status: status.clone() })?;
        json_round_trip(&json::KvStoreDelete { key })?;
        json_round_trip(&json::KvStoreKeysResponse { keys, status })?;
    }

    #[test]
    fn sql_protobuf(
        query in bytes(),
        status in proto_status(),
        columns in vec(text(), 0..5),
        data in bytes(),
        last_insert_id in any::<i64>(),
        rows_affected in any::<i64>(),
    ) {
        proto_round_trip(&proto::SqlQuery { query: query.clone() })?;
        proto_round_trip(&proto::SqlQueryResponse { status: status.clone(), columns, data })?;
        proto_round_trip(&proto::SqlExec { query })?;
        proto_round_trip(&proto::SqlExecResponse { status, last_insert_id, rows_affected })?;
    }

    #[test]
    fn sql_json(
        query in base64(),
        status in json_status(),
        data in base64(),
        last_insert_id in any::<i64>(),
        rows_affected in any::<i64>(),
    ) {
        json_round_trip(&json::SqlQuery { query })?;
        json_round_trip(&json::SqlQueryResponse { status: status.clone(), data })?;
        json_round_trip(&json::SqlExecResponse { status, last_insert_id, rows_affected })?;
    }

    #[test]
    fn httpclient_protobuf(
        method in text(),
        headers in proto_headers(),
        url in text(),
        body in bytes(),
        insecure in any::<bool>(),
        status in proto_status(),
        code in any::<i32>(),
        response_headers in proto_headers(),
        response_body in bytes(),
    ) {
        proto_round_trip(&proto::HttpClient { method, headers, url, body, insecure })?;
        proto_round_trip(&proto::HttpClientResponse {
            status,
            code,
            headers: response_headers,
            body: response_body,
        })?;
    }

    #[test]
    fn httpclient_json(
        method in text(),
        headers in json_headers(),
        url in text(),
        body in base64(),
        insecure in any::<bool>(),
        status in json_status(),
        code in any::<i32>(),
        response_headers in json_headers(),
        response_body in base64(),
    ) {
        json_round_trip(&json::HttpClient { method, headers, url, body, insecure })?;
        json_round_trip(&json::HttpClientResponse {
            status,
            code,
            headers: response_headers,
            body: response_body,
        })?;
    }

    #[test]
    fn metrics_protobuf(name in text(), action in text(), value in any::<f64>()) {
        proto_round_trip(&proto::MetricsCounter { name: name.clone() })?;
        proto_round_trip(&proto::MetricsGauge { name: name.clone(), action })?;
        // NaN is not equal to itself: same bits. -0.0 equals 0.0, the proto3 default, which
        // prost leaves out of the encoding and so decodes as 0.0: equal as numbers.
        let msg = proto::MetricsHistogram { name, value };
        let back = proto::MetricsHistogram::decode(&msg.encode_to_vec()[..])
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(back.name, msg.name);
        prop_assert!(
            back.value.to_bits() == msg.value.to_bits() || back.value == msg.value,
            "{} decoded as {}",
            msg.value,
            back.value
        );
    }

    #[test]
    fn metrics_json(
        name in text(),
        action in text(),
        // JSON has no NaN or infinity (Go's encoder refuses them too).
        value in any::<f64>().prop_filter("finite", |v| v.is_finite()),
    ) {
        json_round_trip(&json::MetricsCounter { name: name.clone() })?;
        json_round_trip(&json::MetricsGauge { name: name.clone(), action })?;
        json_round_trip(&json::MetricsHistogram { name, value })?;
    }

    #[test]
    fn base64_round_trips(data in bytes()) {
        prop_assert_eq!(json::b64_decode(&json::b64_encode(&data)), Ok(data));
    }

    #[test]
    fn only_a_leading_brace_selects_json(payload in vec(any::<u8>(), 0..16)) {
        let expected = if payload.first() == Some(&b'{') {
            Encoding::Json
        } else {
            Encoding::Protobuf
        };
        prop_assert_eq!(Encoding::detect(&payload), expected);
    }

    /// The same request, sent by an old SDK (JSON) or a new one (protobuf), is the same request.
    #[test]
    fn either_encoding_decodes_to_the_same_request(
        key in text(),
        data in bytes(),
        query in bytes(),
        name in text(),
        action in text(),
        method in text(),
        url in text(),
        headers in json_headers(),
        insecure in any::<bool>(),
    ) {
        let as_json = json::encode(&json::KvStoreSet {
            key: key.clone(),
            data: Some(json::b64_encode(&data)),
        });
        let as_proto = proto::KvStoreSet { key: key.clone(), data: Some(data.clone()) }
            .encode_to_vec();
        for bytes in [&as_json, &as_proto] {
            let got = decode_either(
                bytes,
                |m: json::KvStoreSet| (m.key, m.data.map(|d| json::b64_decode(&d))),
                |m: proto::KvStoreSet| (m.key, m.data.map(Ok)),
            )?;
            prop_assert_eq!(got, (key.clone(), Some(Ok(data.clone()))));
        }

        let as_json = json::encode(&json::SqlQuery { query: json::b64_encode(&query) });
        let as_proto = proto::SqlQuery { query: query.clone() }.encode_to_vec();
        for bytes in [&as_json, &as_proto] {
            let got = decode_either(
                bytes,
                |m: json::SqlQuery| json::b64_decode(&m.query),
                |m: proto::SqlQuery| Ok(m.query),
            )?;
            prop_assert_eq!(got, Ok(query.clone()));
        }

        let as_json = json::encode(&json::MetricsGauge { name: name.clone(), action: action.clone() });
        let as_proto = proto::MetricsGauge { name: name.clone(), action: action.clone() }
            .encode_to_vec();
        for bytes in [&as_json, &as_proto] {
            let got = decode_either(
                bytes,
                |m: json::MetricsGauge| (m.name, m.action),
                |m: proto::MetricsGauge| (m.name, m.action),
            )?;
            prop_assert_eq!(got, (name.clone(), action.clone()));
        }

        let as_json = json::encode(&json::HttpClient {
            method: method.clone(),
            headers: headers.clone(),
            url: url.clone(),
            body: json::b64_encode(&data),
            insecure,
        });
        let as_proto = proto::HttpClient {
            method: method.clone(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.clone(), proto::Header { values: vec![v.clone()] }))
                .collect(),
            url: url.clone(),
            body: data.clone(),
            insecure,
        }
        .encode_to_vec();
        let flat: Vec<(String, String)> = headers.into_iter().collect();
        for bytes in [&as_json, &as_proto] {
            let got = decode_either(
                bytes,
                |m: json::HttpClient| {
                    let headers: Vec<(String, String)> = m.headers.into_iter().collect();
                    (m.method, headers, m.url, json::b64_decode(&m.body), m.insecure)
                },
                |m: proto::HttpClient| {
                    let headers: Vec<(String, String)> = m
                        .headers
                        .into_iter()
                        .flat_map(|(k, h)| h.values.into_iter().map(move |v| (k.clone(), v)))
                        .collect();
                    (m.method, headers, m.url, Ok(m.body), m.insecure)
                },
            )?;
            prop_assert_eq!(
                got,
                (method.clone(), flat.clone(), url.clone(), Ok(data.clone()), insecure)
            );
        }
    }
}
