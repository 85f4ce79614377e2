//! Applying through a registry: building, locating failures, registering all or nothing.

use super::*;

#[test]
fn apply_registers_routes_that_serve_calls() {
    let config = parse(
        "[[route]]\nnamespace = \"t\"\noperation = \"up\"\nprovider = \"uppercase\"\n\
         [[route]]\nnamespace = \"kv\"\nbinding = \"demo\"\nprovider = \"memory-kv\"\n",
    )
    .unwrap();
    let router = Router::new();
    let routes = config.apply(&router, &builtins()).unwrap();
    let listed: Vec<String> = routes
        .iter()
        .map(|r| format!("{} {}", r.key, r.provider))
        .collect();
    assert_eq!(
        listed,
        ["*/t:up builtin uppercase", "demo/kv:* builtin memory-kv"]
    );
    let ctx = CallContext::new();
    assert_eq!(router.call(&ctx, "any", "t", "up", b"abc").unwrap(), b"ABC");
    router.call(&ctx, "demo", "kv", "Set", b"k=v").unwrap();
    assert_eq!(router.call(&ctx, "demo", "kv", "Get", b"k").unwrap(), b"v");
    assert_eq!(
        router.call(&ctx, "other", "kv", "Get", b"k"),
        Err(CallError::NotFound {
            binding: "other".into(),
            namespace: "kv".into(),
            operation: "Get".into(),
        })
    );
}

#[test]
fn unknown_provider_names_the_provider_value() {
    let config = parse("[[route]]\nnamespace = \"a\"\nprovider = \"ecko\"\n").unwrap();
    let err = config.apply(&Router::new(), &builtins()).unwrap_err();
    assert!(
        matches!(&err, ConfigError::UnknownProvider { name, .. } if name == "ecko"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "conf/switchboard.toml:3:12: `route[0].provider`: unknown provider 'ecko' \
         (known: echo, fail, memory-kv, uppercase)"
    );
}

#[test]
fn component_route_without_component_runtime_is_an_unknown_provider() {
    let config = parse("[[route]]\nnamespace = \"a\"\ncomponent = \"kv.wasm\"\n").unwrap();
    let err = config
        .apply(&Router::new(), &ProviderRegistry::new())
        .unwrap_err();
    assert!(
        matches!(&err, ConfigError::UnknownProvider { name, known, .. } if name == "component" && known.is_empty()),
        "{err:?}"
    );
}

#[test]
fn factory_errors_name_the_route() {
    let config = parse(
        "[[route]]\nnamespace = \"a\"\nprovider = \"echo\"\n\n[[route]]\nnamespace = \"b\"\nprovider = \"fail\"\noptions = { mesage = \"x\" }\n",
    )
    .unwrap();
    let router = Router::new();
    let err = config.apply(&router, &builtins()).unwrap_err();
    assert!(
        matches!(
            &err,
            ConfigError::Provider { provider, source: FactoryError::InvalidOptions(_), .. } if provider == "fail"
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "conf/switchboard.toml:5:1: `route[1]`: provider 'fail': invalid options: \
         unknown field `mesage`, expected `message` or `payload`"
    );
    assert!(router.routes().is_empty(), "nothing registered on error");
}

#[test]
fn duplicate_route_is_refused_and_rolled_back() {
    let config = parse(
        "[[route]]\nnamespace = \"a\"\nprovider = \"echo\"\n[[route]]\nnamespace = \"b\"\nprovider = \"echo\"\n[[route]]\nnamespace = \"a\"\nprovider = \"uppercase\"\n",
    )
    .unwrap();
    let router = Router::new();
    router.register("keep", "me", Echo).unwrap();
    let err = config.apply(&router, &builtins()).unwrap_err();
    match &err {
        ConfigError::Register { at, key, source } => {
            assert_eq!((at.line, key.as_str()), (7, "route[2]"));
            assert_eq!(**source, RegisterError::Duplicate(RouteKey::namespace("a")));
        }
        other => panic!("expected Register, got {other:?}"),
    }
    let left: Vec<String> = router.routes().iter().map(|r| r.key.to_string()).collect();
    assert_eq!(
        left,
        ["*/keep:me"],
        "routes added by the failed apply are removed"
    );
}

#[test]
fn presets_build_their_routes() {
    let mut registry = ProviderRegistry::new();
    registry.register_preset("suite", |ctx| {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Opts {
            binding: String,
        }
        let opts: Opts = ctx.parse_options()?;
        Ok(vec![(
            RouteKey::namespace("suite").with_binding(opts.binding),
            Arc::new(Echo) as Arc<dyn Provider>,
        )])
    });
    let config = parse("[preset.suite]\nbinding = \"x\"\n").unwrap();
    let router = Router::new();
    let routes = config.apply(&router, &registry).unwrap();
    assert_eq!(routes[0].key.to_string(), "x/suite:*");
    assert_eq!(
        router
            .call(&CallContext::new(), "x", "suite", "op", b"p")
            .unwrap(),
        b"p"
    );

    let config = parse("\n[preset.suite]\nbinding = 1\n").unwrap();
    let err = config.apply(&Router::new(), &registry).unwrap_err();
    assert_eq!(
        err.to_string(),
        "conf/switchboard.toml:2:1: `preset.suite`: provider 'suite': invalid options: \
         invalid type: integer `1`, expected a string"
    );

    let config = parse("[preset.tarmac]\n").unwrap();
    let err = config.apply(&Router::new(), &registry).unwrap_err();
    assert!(
        matches!(&err, ConfigError::UnknownPreset { name, .. } if name == "tarmac"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "conf/switchboard.toml:1:1: `preset.tarmac`: unknown preset 'tarmac' (known: suite)"
    );
}

#[test]
fn factories_read_the_apply_options_and_the_config_through_their_context() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let mut registry = ProviderRegistry::new();
    registry.register_provider("store", move |ctx| {
        sink.lock().expect("no panics while held").push((
            ctx.data_dir().map(Path::to_path_buf),
            ctx.guest().pool_max,
            ctx.preset("suite").map(|p| p.name.clone()),
            ctx.router().is_some(),
        ));
        Ok(Arc::new(Echo) as Arc<dyn Provider>)
    });
    registry.register_preset("suite", |_| Ok(Vec::new()));
    let config = parse(
        "[guest]\npool_max = 2\n[preset.suite]\n[[route]]\nnamespace = \"s\"\nprovider = \"store\"\n",
    )
    .unwrap();
    config
        .apply_with(
            &Router::new(),
            &registry,
            &ApplyOptions::new().with_data_dir("/srv/data"),
        )
        .expect("applies");
    config.apply(&Router::new(), &registry).expect("applies");
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (
                Some(PathBuf::from("/srv/data")),
                Some(2),
                Some("suite".to_string()),
                true
            ),
            (None, Some(2), Some("suite".to_string()), true),
        ]
    );
}

#[test]
fn functions_are_built_by_the_registered_functions_factory() {
    let mut registry = ProviderRegistry::new();
    registry.register_functions(|ctx| {
        let names: Vec<String> = ctx.functions().iter().map(|f| f.name.clone()).collect();
        let answer = names.join(",").into_bytes();
        Ok(vec![(
            RouteKey::namespace("fns"),
            Arc::new(crate::provider_fn(move |_: &crate::Request<'_>| {
                Ok::<_, crate::ProviderError>(answer.clone())
            })) as Arc<dyn Provider>,
        )])
    });
    let config =
        parse("[function.b]\nguest = \"b.wasm\"\n[function.a]\nguest = \"a.wasm\"\n").unwrap();
    let router = Router::new();
    let routes = config.apply(&router, &registry).expect("applies");
    assert_eq!(routes.len(), 1);
    assert_eq!(
        router
            .call(&CallContext::new(), "", "fns", "x", b"")
            .unwrap(),
        b"a,b"
    );

    // A config without functions never calls the factory.
    let config = parse("").unwrap();
    assert_eq!(config.apply(&Router::new(), &registry).unwrap(), []);
}

#[test]
fn functions_without_a_functions_factory_are_a_located_error() {
    let config = parse("\n[function.reports]\nguest = \"r.wasm\"\n").unwrap();
    let err = config.apply(&Router::new(), &builtins()).unwrap_err();
    match &err {
        ConfigError::Invalid { at, key, .. } => {
            assert_eq!((at.line, key.as_deref()), (2, Some("function.reports")));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "conf/switchboard.toml:2:1: `function.reports`: `[function.<name>]` needs a functions \
         factory, and none is registered"
    );
}

#[test]
fn a_route_refused_by_the_router_is_located_and_nothing_stays() {
    let mut registry = builtins();
    registry.register_preset("suite", |_| {
        Ok(vec![
            (
                RouteKey::namespace("free"),
                Arc::new(Echo) as Arc<dyn Provider>,
            ),
            (
                RouteKey::namespace("taken"),
                Arc::new(Echo) as Arc<dyn Provider>,
            ),
        ])
    });
    let config =
        parse("[[route]]\nnamespace = \"r\"\nprovider = \"echo\"\n\n[preset.suite]\n").unwrap();
    let router = Router::new();
    router.register_namespace("taken", Echo).unwrap();
    let before = router.routes();
    let err = config.apply(&router, &registry).unwrap_err();
    assert_eq!(
        err.to_string(),
        "conf/switchboard.toml:5:1: `preset.suite`: route */taken:* is already registered"
    );
    assert_eq!(router.routes(), before);
}
