//! One kvstore conformance suite, run against every backend: in-memory, redb, and a real Redis
//! (`scripts/services.sh start` provides it through `SWITCHBOARD_TEST_REDIS_URL`).

use prost::Message;
use switchboard::{CallContext, CallError, Router};
use switchboard_providers::kvstore::{KvStore, MemoryKv, RedbKv, RedisKv};
use switchboard_providers::wire::proto;

fn call(router: &Router, op: &str, payload: &[u8]) -> Result<Vec<u8>, CallError> {
    router.call(&CallContext::new(), "tarmac", "kvstore", op, payload)
}

fn status(code: i32, text: &str) -> Option<proto::Status> {
    Some(proto::Status {
        code,
        status: text.to_string(),
    })
}

fn proto_set(key: &str, data: &[u8]) -> Vec<u8> {
    proto::KvStoreSet {
        key: key.to_string(),
        data: Some(data.to_vec()),
    }
    .encode_to_vec()
}

fn proto_get(key: &str) -> Vec<u8> {
    proto::KvStoreGet {
        key: key.to_string(),
    }
    .encode_to_vec()
}

fn proto_delete(key: &str) -> Vec<u8> {
    proto::KvStoreDelete {
        key: key.to_string(),
    }
    .encode_to_vec()
}

/// Bytes of a protobuf status-only response (set, delete).
fn ok_status_only() -> Vec<u8> {
    vec![0x0a, 0x07, 0x08, 0xc8, 0x01, 0x12, 0x02, 0x4f, 0x4b]
}

fn failed(message: &str, payload: Vec<u8>) -> CallError {
    CallError::ProviderFailed {
        message: message.to_string(),
        payload: Some(payload),
    }
}

fn b64(bytes: &[u8]) -> String {
    switchboard_providers::wire::json::b64_encode(bytes)
}

fn conformance(kv: KvStore) {
    let router = Router::new();
    router.register_namespace("kvstore", kv).unwrap();

    let binary: Vec<u8> = (0..=255u8).collect();
    let utf8 = "héllo wörld ✓ 日本".as_bytes().to_vec();
    let json_like = br#"{"status":{"code":500},"data":null}"#.to_vec();
    let empty_json = b"{}".to_vec();
    let values: [(&str, &[u8]); 4] = [
        ("binary", &binary),
        ("utf8", &utf8),
        ("json-like", &json_like),
        ("empty-json", &empty_json),
    ];

    // Protobuf round trips, byte-exact.
    for (key, value) in values {
        assert_eq!(
            call(&router, "set", &proto_set(key, value)).unwrap(),
            ok_status_only()
        );
        let got = call(&router, "get", &proto_get(key)).unwrap();
        let expected = proto::KvStoreGetResponse {
            status: status(200, "OK"),
            data: value.to_vec(),
        };
        assert_eq!(got, expected.encode_to_vec(), "protobuf get {key}");
    }

    // JSON round trips, and JSON/protobuf see the same data.
    for (key, value) in values {
        let set = format!(r#"{{"key":"j-{key}","data":"{}"}}"#, b64(value));
        assert_eq!(
            call(&router, "set", set.as_bytes()).unwrap(),
            br#"{"status":{"code":200,"status":"OK"}}"#
        );
        let got = call(&router, "get", format!(r#"{{"key":"j-{key}"}}"#).as_bytes()).unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            format!(
                r#"{{"status":{{"code":200,"status":"OK"}},"data":"{}"}}"#,
                b64(value)
            )
        );
        let via_proto = call(&router, "get", &proto_get(&format!("j-{key}"))).unwrap();
        let decoded = proto::KvStoreGetResponse::decode(&via_proto[..]).unwrap();
        assert_eq!(
            decoded.data, value,
            "json-set value read through protobuf: {key}"
        );
    }

    // An empty value can be stored through JSON (`"data":""`).
    assert_eq!(
        call(&router, "set", br#"{"key":"empty","data":""}"#).unwrap(),
        br#"{"status":{"code":200,"status":"OK"}}"#
    );
    assert_eq!(
        call(&router, "get", br#"{"key":"empty"}"#).unwrap(),
        br#"{"status":{"code":200,"status":"OK"},"data":""}"#
    );

    // Overwrite replaces.
    call(&router, "set", &proto_set("utf8", b"v2")).unwrap();
    let got = call(&router, "get", &proto_get("utf8")).unwrap();
    assert_eq!(
        proto::KvStoreGetResponse::decode(&got[..]).unwrap().data,
        b"v2"
    );

    // keys: empty payload => JSON, KVStoreKeys => protobuf; sorted.
    let mut all: Vec<String> = values
        .iter()
        .flat_map(|(k, _)| [k.to_string(), format!("j-{k}")])
        .chain(["empty".to_string()])
        .collect();
    all.sort();
    let keys_json = call(&router, "keys", b"").unwrap();
    assert_eq!(
        String::from_utf8(keys_json).unwrap(),
        format!(
            r#"{{"keys":{},"status":{{"code":200,"status":"OK"}}}}"#,
            serde_json::to_string(&all).unwrap()
        )
    );
    let keys_proto = call(
        &router,
        "keys",
        &proto::KvStoreKeys { return_proto: true }.encode_to_vec(),
    )
    .unwrap();
    assert_eq!(
        keys_proto,
        proto::KvStoreKeysResponse {
            status: status(200, "OK"),
            keys: all.clone(),
        }
        .encode_to_vec()
    );

    // delete, then get is 404 (protobuf and JSON envelopes).
    assert_eq!(
        call(&router, "delete", &proto_delete("binary")).unwrap(),
        ok_status_only()
    );
    let missing = "Unable to fetch key binary - key not found";
    assert_eq!(
        call(&router, "get", &proto_get("binary")).unwrap_err(),
        failed(
            missing,
            proto::KvStoreGetResponse {
                status: status(404, missing),
                data: Vec::new(),
            }
            .encode_to_vec()
        )
    );
    assert_eq!(
        call(&router, "get", br#"{"key":"binary"}"#).unwrap_err(),
        failed(
            missing,
            format!(r#"{{"status":{{"code":404,"status":"{missing}"}},"data":""}}"#).into_bytes()
        )
    );
    // Deleting a missing key succeeds, in both encodings.
    assert_eq!(
        call(&router, "delete", &proto_delete("binary")).unwrap(),
        ok_status_only()
    );
    assert_eq!(
        call(&router, "delete", br#"{"key":"never-set"}"#).unwrap(),
        br#"{"status":{"code":200,"status":"OK"}}"#
    );
    assert_eq!(
        call(&router, "delete", br#"{"key":"j-utf8"}"#).unwrap(),
        br#"{"status":{"code":200,"status":"OK"}}"#
    );

    // Every error case of the spec; none of them touches stored data.
    let nil_key = "key cannot be nil";
    let proto_400 = |text: &str| {
        proto::KvStoreSetResponse {
            status: status(400, text),
        }
        .encode_to_vec()
    };
    let json_400 =
        |text: &str| format!(r#"{{"status":{{"code":400,"status":"{text}"}}}}"#).into_bytes();
    assert_eq!(
        call(&router, "get", &proto_get("")).unwrap_err(),
        failed(
            nil_key,
            proto::KvStoreGetResponse {
                status: status(400, nil_key),
                data: Vec::new()
            }
            .encode_to_vec()
        )
    );
    assert_eq!(
        call(&router, "get", br#"{"key":""}"#).unwrap_err(),
        failed(
            nil_key,
            format!(r#"{{"status":{{"code":400,"status":"{nil_key}"}},"data":""}}"#).into_bytes()
        )
    );
    assert_eq!(
        call(&router, "set", &proto_set("", b"v")).unwrap_err(),
        failed(nil_key, proto_400(nil_key))
    );
    assert_eq!(
        call(&router, "delete", &proto_delete("")).unwrap_err(),
        failed(nil_key, proto_400(nil_key))
    );
    assert_eq!(
        call(&router, "delete", br#"{}"#).unwrap_err(),
        failed(nil_key, json_400(nil_key))
    );
    let no_data = "Data cannot be nil";
    let key_only = proto::KvStoreSet {
        key: "utf8".to_string(),
        data: None,
    }
    .encode_to_vec();
    assert_eq!(
        call(&router, "set", &key_only).unwrap_err(),
        failed(no_data, proto_400(no_data))
    );
    assert_eq!(
        call(&router, "set", br#"{"key":"utf8"}"#).unwrap_err(),
        failed(no_data, json_400(no_data))
    );
    let parse = "Error Parsing Input";
    assert_eq!(
        call(&router, "set", br#"{"key":"utf8","data":"#).unwrap_err(),
        failed(parse, json_400(parse))
    );
    assert_eq!(
        call(&router, "set", br#"{"key":"utf8","data":42}"#).unwrap_err(),
        failed(parse, json_400(parse))
    );
    // Field 1 announced as 9 bytes with 2 present: invalid protobuf.
    assert_eq!(
        call(&router, "set", &[0x0a, 0x09, 0x74, 0x65]).unwrap_err(),
        failed(parse, proto_400(parse))
    );
    let bad_b64 = "Unable to decode data - Invalid symbol 42, offset 0.";
    assert_eq!(
        call(&router, "set", br#"{"key":"utf8","data":"***"}"#).unwrap_err(),
        failed(bad_b64, json_400(bad_b64))
    );
    assert_eq!(
        call(&router, "nope", b"").unwrap_err(),
        CallError::UnknownOperation("nope".to_string())
    );

    // The stored data is intact after all the failures.
    let got = call(&router, "get", &proto_get("utf8")).unwrap();
    assert_eq!(
        proto::KvStoreGetResponse::decode(&got[..]).unwrap().data,
        b"v2"
    );
    let got = call(&router, "get", &proto_get("json-like")).unwrap();
    assert_eq!(
        proto::KvStoreGetResponse::decode(&got[..]).unwrap().data,
        json_like
    );
    let keys = call(&router, "keys", b"\x08\x01").unwrap();
    let keys = proto::KvStoreKeysResponse::decode(&keys[..]).unwrap().keys;
    let expected: Vec<String> = all
        .into_iter()
        .filter(|k| k != "binary" && k != "j-utf8")
        .collect();
    assert_eq!(keys, expected);
}

#[test]
fn memory_backend_conforms() {
    conformance(KvStore::new(MemoryKv::new()));
}

#[test]
fn redb_backend_conforms() {
    let dir = tempfile::tempdir().unwrap();
    conformance(KvStore::new(
        RedbKv::open(dir.path().join("kv.redb")).unwrap(),
    ));
}

/// This suite's Redis database (see scripts/services.sh): it is wiped before the run, so no
/// other suite may use it.
const REDIS_DB: u8 = 1;

/// `url` (`redis://host:port[/db]`) with its database replaced by `db`.
fn with_db(url: &str, db: u8) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let authority = rest
        .split_once('/')
        .map_or(rest, |(authority, _)| authority);
    format!("{scheme}://{authority}/{db}")
}

/// `SWITCHBOARD_TEST_REDIS_URL` (database 0) with the database replaced by [`REDIS_DB`].
fn redis_url() -> String {
    let url = std::env::var("SWITCHBOARD_TEST_REDIS_URL").expect(
        "SWITCHBOARD_TEST_REDIS_URL is not set: run `scripts/services.sh start` and source the \
         env file it writes (this test needs a real Redis server)",
    );
    with_db(&url, REDIS_DB)
}

#[test]
fn the_suite_uses_its_own_redis_database() {
    assert_eq!(
        with_db("redis://127.0.0.1:6379/0", REDIS_DB),
        "redis://127.0.0.1:6379/1"
    );
    assert_eq!(
        with_db("redis://127.0.0.1:6379", 1),
        "redis://127.0.0.1:6379/1"
    );
}

#[test]
fn redis_backend_conforms() {
    let url = redis_url();
    // A clean database: this suite owns it (the CLI suites use other databases of the server).
    let client = redis::Client::open(url.as_str()).expect("valid redis url");
    let mut conn = client
        .get_connection()
        .unwrap_or_else(|err| panic!("connecting to {url}: {err}"));
    redis::cmd("FLUSHDB")
        .query::<()>(&mut conn)
        .unwrap_or_else(|err| panic!("FLUSHDB on {url}: {err}"));
    conformance(KvStore::new(
        RedisKv::connect(&url).unwrap_or_else(|err| panic!("RedisKv on {url}: {err}")),
    ));
}
