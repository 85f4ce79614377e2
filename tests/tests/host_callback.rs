//! End-to-end: the router plugged straight into the stock waPC hosts, without Switchboard's
//! runtime: `router.host_callback()` into `wapc::WapcHost` and `router.host_callback_async()`
//! into `wapc::WapcHostAsync`, both on wasmtime-provider, driving the three `callback` guests.

use switchboard::{ProviderError, Router};
use switchboard_tests::{callback_payload, decode_str, encode_str, CallbackGuest};
use wapc::{errors::Error as WapcError, WapcHost, WapcHostAsync};
use wasmtime_provider::WasmtimeEngineProviderBuilder;

fn router() -> Router {
    let router = Router::new();
    router
        .register("text", "upper", |payload: &[u8]| {
            let text =
                decode_str(payload).map_err(|err| ProviderError::InvalidInput(err.to_string()))?;
            Ok::<_, ProviderError>(encode_str(&text.to_uppercase()))
        })
        .unwrap();
    router
}

const NOT_FOUND: &str = "no route for namespace 'nowhere' operation 'op' (binding 'b')";

#[test]
fn host_callback_plugs_into_the_stock_wapc_host() {
    let router = router();
    for guest in CallbackGuest::ALL {
        let bytes = guest.fixture.bytes();
        let engine = WasmtimeEngineProviderBuilder::new()
            .module_bytes(&bytes)
            .build()
            .unwrap();
        let host = WapcHost::new(Box::new(engine), Some(router.host_callback())).unwrap();

        let out = host
            .call("callback", &callback_payload("b", "text", "upper", "sync"))
            .unwrap();
        assert_eq!(decode_str(&out).unwrap(), "SYNC", "{}", guest.fixture);

        match host.call("callback", &callback_payload("b", "nowhere", "op", "x")) {
            Err(WapcError::GuestCallFailure(message)) => {
                assert_eq!(message, guest.host_error(NOT_FOUND), "{}", guest.fixture)
            }
            other => panic!(
                "{}: expected GuestCallFailure, got {other:?}",
                guest.fixture
            ),
        }
    }
}

#[test]
fn host_callback_async_plugs_into_the_stock_async_wapc_host() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let router = router();
    for guest in CallbackGuest::ALL {
        let bytes = guest.fixture.bytes();
        runtime.block_on(async {
            let engine = WasmtimeEngineProviderBuilder::new()
                .module_bytes(&bytes)
                .build_async()
                .unwrap();
            let host = WapcHostAsync::new(Box::new(engine), Some(router.host_callback_async()))
                .await
                .unwrap();

            let out = host
                .call("callback", &callback_payload("b", "text", "upper", "async"))
                .await
                .unwrap();
            assert_eq!(decode_str(&out).unwrap(), "ASYNC", "{}", guest.fixture);

            match host
                .call("callback", &callback_payload("b", "nowhere", "op", "x"))
                .await
            {
                Err(WapcError::GuestCallFailure(message)) => {
                    assert_eq!(message, guest.host_error(NOT_FOUND), "{}", guest.fixture)
                }
                other => panic!(
                    "{}: expected GuestCallFailure, got {other:?}",
                    guest.fixture
                ),
            }
        });
    }
}
