//! Route keys, lookup precedence, registration and listing.

use super::*;

#[test]
fn keys_are_tuples_not_joined_strings() {
    let router = Router::new();
    router
        .register("a:b", "c", |_: &[u8]| Ok::<_, String>(b"first".to_vec()))
        .unwrap();
    // In Tarmac this second registration overwrites the first ("a:b:c" == "a:b:c").
    router
        .register("a", "b:c", |_: &[u8]| Ok::<_, String>(b"second".to_vec()))
        .unwrap();
    assert_eq!(router.call(&ctx(), "", "a:b", "c", b"").unwrap(), b"first");
    assert_eq!(router.call(&ctx(), "", "a", "b:c", b"").unwrap(), b"second");
    assert_eq!(router.routes().len(), 2);
}

#[test]
fn exact_route_beats_namespace_route() {
    let router = Router::new();
    router
        .register_namespace("kv", |_: &[u8]| Ok::<_, String>(b"namespace".to_vec()))
        .unwrap();
    router
        .register("kv", "Get", |_: &[u8]| Ok::<_, String>(b"exact".to_vec()))
        .unwrap();
    assert_eq!(router.call(&ctx(), "", "kv", "Get", b"").unwrap(), b"exact");
    assert_eq!(
        router.call(&ctx(), "", "kv", "Set", b"").unwrap(),
        b"namespace"
    );
    assert_eq!(
        router.lookup("", "kv", "Set").unwrap().key,
        RouteKey::namespace("kv")
    );
}

#[test]
fn binding_scoped_route_beats_unscoped_and_only_matches_its_binding() {
    let router = Router::new();
    router
        .register("kv", "get", |_: &[u8]| Ok::<_, String>(b"any".to_vec()))
        .unwrap();
    router
        .register_key(
            RouteKey::exact("kv", "get").with_binding("tarmac"),
            |_: &[u8]| Ok::<_, String>(b"tarmac".to_vec()),
            Conflict::Reject,
        )
        .unwrap();
    router
        .register_key(
            RouteKey::namespace("only").with_binding("tarmac"),
            echo,
            Conflict::Reject,
        )
        .unwrap();
    assert_eq!(
        router.call(&ctx(), "tarmac", "kv", "get", b"").unwrap(),
        b"tarmac"
    );
    assert_eq!(
        router.call(&ctx(), "other", "kv", "get", b"").unwrap(),
        b"any"
    );
    assert_eq!(
        router.call(&ctx(), "other", "only", "x", b""),
        Err(CallError::NotFound {
            binding: "other".into(),
            namespace: "only".into(),
            operation: "x".into(),
        })
    );
    assert_eq!(
        router.call(&ctx(), "tarmac", "only", "x", b"p").unwrap(),
        b"p"
    );
}

#[test]
fn registration_rejects_empty_names() {
    let router = Router::new();
    assert_eq!(
        router.register("", "op", echo),
        Err(RegisterError::EmptyNamespace)
    );
    assert_eq!(
        router.register("ns", "", echo),
        Err(RegisterError::EmptyOperation)
    );
    assert_eq!(
        router.register_key(
            RouteKey::exact("ns", "op").with_binding(""),
            echo,
            Conflict::Reject
        ),
        Err(RegisterError::EmptyBinding)
    );
    assert!(router.routes().is_empty());
}

#[test]
fn duplicates_are_refused_and_replacement_is_explicit() {
    let router = Router::new();
    router
        .register("ns", "op", |_: &[u8]| Ok::<_, String>(b"old".to_vec()))
        .unwrap();
    assert_eq!(
        router.register("ns", "op", echo),
        Err(RegisterError::Duplicate(RouteKey::exact("ns", "op")))
    );
    assert_eq!(router.call(&ctx(), "", "ns", "op", b"x").unwrap(), b"old");
    let replaced = router
        .replace("ns", "op", |_: &[u8]| Ok::<_, String>(b"new".to_vec()))
        .unwrap();
    assert_eq!(replaced.map(|r| r.key), Some(RouteKey::exact("ns", "op")));
    assert_eq!(router.call(&ctx(), "", "ns", "op", b"x").unwrap(), b"new");
    assert_eq!(router.replace("ns", "fresh", echo).unwrap(), None);
}

#[test]
fn lookup_and_listing_report_routes() {
    struct Named;
    impl Provider for Named {
        fn call(&self, _: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
            Ok(vec![])
        }
        fn describe(&self) -> String {
            "named provider".into()
        }
    }
    let router = Router::new();
    router.register("b", "op", Named).unwrap();
    router.register_namespace("a", echo).unwrap();
    assert_eq!(router.lookup("", "c", "op"), None);
    assert_eq!(
        router.lookup("x", "b", "op"),
        Some(RouteInfo {
            key: RouteKey::exact("b", "op"),
            provider: "named provider".into()
        })
    );
    let keys: Vec<String> = router.routes().iter().map(|r| r.key.to_string()).collect();
    assert_eq!(keys, vec!["*/a:*", "*/b:op"]);
}
