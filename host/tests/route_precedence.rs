//! Property tests of route keys and route precedence, through the public [`Router`] API.
//!
//! For random route tables (registrations, duplicates, removals) and random calls, the router
//! serves each call with the route a model picks from the documented precedence: the exact
//! `(namespace, operation)` route before the namespace-wide one, and within each a route scoped
//! to the call's binding before an unscoped one; no route is `NotFound`. Names are drawn from a
//! small set that includes `:` so that `a:b` + `c` and `a` + `b:c` meet.

use std::collections::BTreeSet;

use proptest::prelude::*;
use switchboard::{CallContext, CallError, Conflict, RegisterError, RouteInfo, RouteKey, Router};

const BINDINGS: [&str; 2] = ["b1", "b2"];
const NAMESPACES: [&str; 3] = ["a", "a:b", "x"];
const OPERATIONS: [&str; 4] = ["b:c", "c", "op", "get"];

/// A key as plain data, so the model never goes through `RouteKey`'s own logic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Spec {
    binding: Option<&'static str>,
    namespace: &'static str,
    operation: Option<&'static str>,
}

impl Spec {
    fn key(&self) -> RouteKey {
        let key = match self.operation {
            Some(operation) => RouteKey::exact(self.namespace, operation),
            None => RouteKey::namespace(self.namespace),
        };
        match self.binding {
            Some(binding) => key.with_binding(binding),
            None => key,
        }
    }

    /// What the route's provider answers: names the route that served the call.
    fn answer(&self) -> Vec<u8> {
        format!("{:?}|{}|{:?}", self.binding, self.namespace, self.operation).into_bytes()
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::option::of(prop::sample::select(BINDINGS.to_vec())),
        prop::sample::select(NAMESPACES.to_vec()),
        prop::option::of(prop::sample::select(OPERATIONS.to_vec())),
    )
        .prop_map(|(binding, namespace, operation)| Spec {
            binding,
            namespace,
            operation,
        })
}

#[derive(Debug, Clone)]
enum Edit {
    Register(Spec),
    Replace(Spec),
    Unregister(Spec),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        5 => spec().prop_map(Edit::Register),
        1 => spec().prop_map(Edit::Replace),
        2 => spec().prop_map(Edit::Unregister),
    ]
}

#[derive(Debug, Clone)]
struct Call {
    binding: &'static str,
    namespace: &'static str,
    operation: &'static str,
}

fn call() -> impl Strategy<Value = Call> {
    (
        // "" and "b3" are bindings no route is scoped to.
        prop::sample::select(vec!["b1", "b2", "b3", ""]),
        prop::sample::select(NAMESPACES.to_vec()),
        prop::sample::select(OPERATIONS.to_vec()),
    )
        .prop_map(|(binding, namespace, operation)| Call {
            binding,
            namespace,
            operation,
        })
}

/// The documented precedence, over the set of registered routes.
fn model_lookup<'s>(routes: &'s BTreeSet<Spec>, call: &Call) -> Option<&'s Spec> {
    let binding = Some(call.binding).filter(|b| !b.is_empty());
    let candidates = [
        (binding, Some(call.operation)),
        (None, Some(call.operation)),
        (binding, None),
        (None, None),
    ];
    candidates.into_iter().find_map(|(binding, operation)| {
        routes.get(&Spec {
            binding,
            namespace: call.namespace,
            operation,
        })
    })
}

/// A provider answering [`Spec::answer`].
fn provider_for(spec: &Spec) -> impl Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync + 'static {
    let answer = spec.answer();
    move |_payload: &[u8]| Ok(answer.clone())
}

fn info(router: &Router, spec: &Spec) -> RouteInfo {
    router
        .routes()
        .into_iter()
        .find(|route| route.key == spec.key())
        .unwrap_or_else(|| panic!("{spec:?} is registered"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_router_serves_each_call_with_the_route_the_precedence_rules_pick(
        edits in prop::collection::vec(edit(), 1..40),
        calls in prop::collection::vec(call(), 1..40),
    ) {
        let router = Router::new();
        let mut model = BTreeSet::new();
        for edit in &edits {
            match edit {
                Edit::Register(spec) => {
                    let result = router.register_key(
                        spec.key(),
                        provider_for(spec),
                        Conflict::Reject,
                    );
                    if model.contains(spec) {
                        prop_assert_eq!(result, Err(RegisterError::Duplicate(spec.key())));
                    } else {
                        prop_assert_eq!(result, Ok(None));
                        model.insert(spec.clone());
                    }
                }
                Edit::Replace(spec) => {
                    let old = model.contains(spec).then(|| info(&router, spec));
                    let result = router.register_key(
                        spec.key(),
                        provider_for(spec),
                        Conflict::Replace,
                    );
                    prop_assert_eq!(result, Ok(old));
                    model.insert(spec.clone());
                }
                Edit::Unregister(spec) => {
                    let old = model.contains(spec).then(|| info(&router, spec));
                    prop_assert_eq!(router.unregister(&spec.key()), old);
                    model.remove(spec);
                }
            }
        }

        // The listing is the model's set, sorted by key.
        let listed: Vec<RouteKey> = router.routes().into_iter().map(|route| route.key).collect();
        let mut expected: Vec<RouteKey> = model.iter().map(Spec::key).collect();
        expected.sort();
        prop_assert_eq!(&listed, &expected);

        let ctx = CallContext::new();
        for call in &calls {
            let chosen = model_lookup(&model, call);
            let looked_up = router.lookup(call.binding, call.namespace, call.operation);
            prop_assert_eq!(
                looked_up.map(|route| route.key),
                chosen.map(Spec::key),
                "lookup {:?} in {:?}", call, model
            );
            let answer = router.call(&ctx, call.binding, call.namespace, call.operation, b"");
            let expected = match chosen {
                Some(spec) => Ok(spec.answer()),
                None => Err(CallError::NotFound {
                    binding: call.binding.to_string(),
                    namespace: call.namespace.to_string(),
                    operation: call.operation.to_string(),
                }),
            };
            prop_assert_eq!(answer, expected, "call {:?} in {:?}", call, model);
        }
    }

    #[test]
    fn route_keys_are_equal_ordered_and_displayed_consistently(a in spec(), b in spec(), c in spec()) {
        let (ka, kb, kc) = (a.key(), b.key(), c.key());
        // The accessors give back exactly what the key was built from.
        prop_assert_eq!(ka.binding(), a.binding);
        prop_assert_eq!(ka.namespace_name(), a.namespace);
        prop_assert_eq!(ka.operation(), a.operation);
        // Equality is equality of the three parts (never of a joined string) ...
        prop_assert_eq!(ka == kb, a == b);
        // ... and `Ord` agrees with it and is a total order.
        prop_assert_eq!(ka.cmp(&kb) == std::cmp::Ordering::Equal, ka == kb);
        prop_assert_eq!(ka.cmp(&kb), kb.cmp(&ka).reverse());
        if ka <= kb && kb <= kc {
            prop_assert!(ka <= kc, "{} <= {} <= {} but not {} <= {}", ka, kb, kc, ka, kc);
        }
        // Display: `binding/namespace:operation`, `*` for "any".
        prop_assert_eq!(
            ka.to_string(),
            format!(
                "{}/{}:{}",
                a.binding.unwrap_or("*"),
                a.namespace,
                a.operation.unwrap_or("*")
            )
        );
    }
}

/// `a:b` + `c` and `a` + `b:c` display alike but are different routes, each served by its own
/// provider (Tarmac's joined `"ns:op"` key would make them collide).
#[test]
fn namespace_and_operation_never_run_together() {
    let joined_left = RouteKey::exact("a:b", "c");
    let joined_right = RouteKey::exact("a", "b:c");
    assert_eq!(joined_left.to_string(), joined_right.to_string());
    assert_ne!(joined_left, joined_right);
    assert_ne!(joined_left.cmp(&joined_right), std::cmp::Ordering::Equal);

    let router = Router::new();
    router
        .register("a:b", "c", |_: &[u8]| Ok::<_, String>(b"left".to_vec()))
        .expect("first route");
    router
        .register("a", "b:c", |_: &[u8]| Ok::<_, String>(b"right".to_vec()))
        .expect("a different key, not a duplicate");
    let ctx = CallContext::new();
    assert_eq!(router.call(&ctx, "", "a:b", "c", b""), Ok(b"left".to_vec()));
    assert_eq!(
        router.call(&ctx, "", "a", "b:c", b""),
        Ok(b"right".to_vec())
    );
    assert_eq!(
        router.call(&ctx, "", "a", "b", b""),
        Err(CallError::NotFound {
            binding: String::new(),
            namespace: "a".to_string(),
            operation: "b".to_string(),
        })
    );
}
