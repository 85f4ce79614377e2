//! The Tarmac request and response decoders of every capability, in both encodings.
//!
//! Input: one selector byte (which message), then the payload. The payload is decoded the way
//! providers decode it (JSON when it starts with `{`, protobuf otherwise). Decoding may fail, but
//! never panic; and whatever decodes must survive a re-encode: encoding the decoded message and
//! decoding that again gives the same encoding (a differential check of encoder and decoder).
#![no_main]

use std::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use prost::Message;
use serde::de::DeserializeOwned;
use serde::Serialize;
use switchboard_providers::wire::{json, proto, Encoding};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    match selector % 19 {
        0 => both::<json::KvStoreGet, proto::KvStoreGet>(payload),
        1 => both::<json::KvStoreGetResponse, proto::KvStoreGetResponse>(payload),
        2 => both::<json::KvStoreSet, proto::KvStoreSet>(payload),
        3 => both::<json::StatusOnly, proto::KvStoreSetResponse>(payload),
        4 => both::<json::KvStoreDelete, proto::KvStoreDelete>(payload),
        5 => both::<json::StatusOnly, proto::KvStoreDeleteResponse>(payload),
        6 => protobuf::<proto::KvStoreKeys>(payload),
        7 => both::<json::KvStoreKeysResponse, proto::KvStoreKeysResponse>(payload),
        8 => both::<json::SqlQuery, proto::SqlQuery>(payload),
        9 => both::<json::SqlQueryResponse, proto::SqlQueryResponse>(payload),
        10 => both::<json::SqlQuery, proto::SqlExec>(payload),
        11 => both::<json::SqlExecResponse, proto::SqlExecResponse>(payload),
        12 => both::<json::HttpClient, proto::HttpClient>(payload),
        13 => both::<json::HttpClientResponse, proto::HttpClientResponse>(payload),
        14 => both::<json::MetricsCounter, proto::MetricsCounter>(payload),
        15 => both::<json::MetricsGauge, proto::MetricsGauge>(payload),
        16 => both::<json::MetricsHistogram, proto::MetricsHistogram>(payload),
        17 => both::<json::Status, proto::Status>(payload),
        _ => {
            // Base64 fields of the JSON messages.
            if let Ok(text) = std::str::from_utf8(payload) {
                if let Ok(bytes) = json::b64_decode(text) {
                    let again = json::b64_decode(&json::b64_encode(&bytes));
                    assert_eq!(again.as_deref(), Ok(&bytes[..]));
                }
            }
        }
    }
});

/// A message with a JSON form `J` and a protobuf form `P`: decode by the first byte.
fn both<J, P>(payload: &[u8])
where
    J: Serialize + DeserializeOwned + Debug,
    P: Message + Default,
{
    match Encoding::detect(payload) {
        Encoding::Json => json_form::<J>(payload),
        Encoding::Protobuf => protobuf::<P>(payload),
    }
}

fn json_form<J: Serialize + DeserializeOwned + Debug>(payload: &[u8]) {
    let Ok(msg) = serde_json::from_slice::<J>(payload) else {
        return;
    };
    let encoded = json::encode(&msg);
    assert_eq!(Encoding::detect(&encoded), Encoding::Json, "{msg:?}");
    let again: J = serde_json::from_slice(&encoded)
        .unwrap_or_else(|e| panic!("re-decoding {msg:?} from {encoded:?}: {e}"));
    assert_eq!(json::encode(&again), encoded, "{msg:?}");
}

fn protobuf<P: Message + Default>(payload: &[u8]) {
    let Ok(msg) = P::decode(payload) else {
        return;
    };
    let encoded = msg.encode_to_vec();
    assert_ne!(
        encoded.first(),
        Some(&b'{'),
        "a protobuf encoding that reads as JSON"
    );
    let again = P::decode(&encoded[..]).unwrap_or_else(|e| panic!("re-decoding {encoded:?}: {e}"));
    assert_eq!(again.encode_to_vec(), encoded);
}
