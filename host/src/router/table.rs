//! The route table: keys, and an immutable lookup structure swapped whole on every write.
//!
//! Keys are tuples, never joined strings: namespace `a:b` with operation `c` and namespace `a`
//! with operation `b:c` are different routes (Tarmac's `"ns:op"` key collides there).

use std::fmt;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::Provider;

/// Identifies a route: a namespace, an operation (or every operation of the namespace), and
/// optionally one waPC binding.
///
/// ```
/// use switchboard::RouteKey;
/// let key = RouteKey::exact("kvstore", "get").with_binding("tarmac");
/// assert_eq!(key.to_string(), "tarmac/kvstore:get");
/// assert_eq!(RouteKey::namespace("kvstore").to_string(), "*/kvstore:*");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteKey {
    binding: Option<String>,
    namespace: String,
    operation: Option<String>,
}

impl RouteKey {
    /// A route for one operation of a namespace, for every binding.
    pub fn exact(namespace: impl Into<String>, operation: impl Into<String>) -> Self {
        RouteKey {
            binding: None,
            namespace: namespace.into(),
            operation: Some(operation.into()),
        }
    }

    /// A route for every operation of a namespace, for every binding.
    pub fn namespace(namespace: impl Into<String>) -> Self {
        RouteKey {
            binding: None,
            namespace: namespace.into(),
            operation: None,
        }
    }

    /// The binding rule meaning "every binding" in config files and presets (and in the
    /// [`Display`](fmt::Display) form of a key).
    pub const EVERY_BINDING: &'static str = "*";

    /// Scope the route to one waPC binding.
    pub fn with_binding(mut self, binding: impl Into<String>) -> Self {
        self.binding = Some(binding.into());
        self
    }

    /// Scope the route by a binding rule as configs write it: [`EVERY_BINDING`](Self::EVERY_BINDING)
    /// (`"*"`) leaves it serving every binding, any other string scopes it to that binding.
    ///
    /// ```
    /// use switchboard::RouteKey;
    /// assert_eq!(RouteKey::namespace("kvstore").with_binding_rule("tarmac").binding(), Some("tarmac"));
    /// assert_eq!(RouteKey::namespace("kvstore").with_binding_rule("*").binding(), None);
    /// ```
    pub fn with_binding_rule(mut self, rule: &str) -> Self {
        self.binding = (rule != Self::EVERY_BINDING).then(|| rule.to_string());
        self
    }

    /// The binding this route is scoped to (`None`: every binding).
    pub fn binding(&self) -> Option<&str> {
        self.binding.as_deref()
    }

    /// The namespace.
    pub fn namespace_name(&self) -> &str {
        &self.namespace
    }

    /// The operation (`None`: every operation of the namespace).
    pub fn operation(&self) -> Option<&str> {
        self.operation.as_deref()
    }
}

impl fmt::Display for RouteKey {
    /// `binding/namespace:operation`, with `*` for "any". Only for display: the key itself is
    /// a tuple, so names containing `/` or `:` stay unambiguous.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}:{}",
            self.binding.as_deref().unwrap_or("*"),
            self.namespace,
            self.operation.as_deref().unwrap_or("*")
        )
    }
}

/// What a lookup or a listing tells about a route, without exposing the provider itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// The route's key.
    pub key: RouteKey,
    /// The provider's own description ([`Provider::describe`]).
    pub provider: String,
}

/// A registered route.
pub(crate) struct Route {
    pub(crate) key: RouteKey,
    pub(crate) provider: Arc<dyn Provider>,
}

impl Route {
    pub(crate) fn info(&self) -> RouteInfo {
        RouteInfo {
            key: self.key.clone(),
            provider: self.provider.describe(),
        }
    }
}

/// Routes sharing a namespace and operation (or the namespace-wide slot), by binding scope.
#[derive(Clone, Default)]
struct Slot {
    any_binding: Option<Arc<Route>>,
    // Few bindings per slot in practice: a linear scan beats hashing here.
    by_binding: Vec<(Box<str>, Arc<Route>)>,
}

impl Slot {
    fn find(&self, binding: &str) -> Option<&Arc<Route>> {
        self.by_binding
            .iter()
            .find(|(b, _)| &**b == binding)
            .map(|(_, r)| r)
            .or(self.any_binding.as_ref())
    }

    fn entry(&mut self, binding: Option<&str>) -> Option<&mut Arc<Route>> {
        match binding {
            None => self.any_binding.as_mut(),
            Some(b) => self
                .by_binding
                .iter_mut()
                .find(|(k, _)| &**k == b)
                .map(|(_, r)| r),
        }
    }

    fn insert(&mut self, binding: Option<&str>, route: Arc<Route>) -> Option<Arc<Route>> {
        if let Some(existing) = self.entry(binding) {
            return Some(std::mem::replace(existing, route));
        }
        match binding {
            None => self.any_binding = Some(route),
            Some(b) => self.by_binding.push((b.into(), route)),
        }
        None
    }

    fn remove(&mut self, binding: Option<&str>) -> Option<Arc<Route>> {
        match binding {
            None => self.any_binding.take(),
            Some(b) => {
                let idx = self.by_binding.iter().position(|(k, _)| &**k == b)?;
                Some(self.by_binding.swap_remove(idx).1)
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.any_binding.is_none() && self.by_binding.is_empty()
    }

    fn routes(&self) -> impl Iterator<Item = &Arc<Route>> {
        self.any_binding
            .iter()
            .chain(self.by_binding.iter().map(|(_, r)| r))
    }
}

#[derive(Clone, Default)]
struct NamespaceRoutes {
    operations: FxHashMap<Box<str>, Slot>,
    every_operation: Slot,
}

/// An immutable snapshot of all routes. Writers clone, modify and publish a new one; readers
/// never wait.
#[derive(Clone, Default)]
pub(crate) struct Table {
    namespaces: FxHashMap<Box<str>, NamespaceRoutes>,
}

impl Table {
    /// The route serving a call. Precedence: exact operation before namespace-wide; within
    /// each, a route scoped to the call's binding before an unscoped one.
    pub(crate) fn lookup(
        &self,
        binding: &str,
        namespace: &str,
        operation: &str,
    ) -> Option<&Arc<Route>> {
        let ns = self.namespaces.get(namespace)?;
        ns.operations
            .get(operation)
            .and_then(|slot| slot.find(binding))
            .or_else(|| ns.every_operation.find(binding))
    }

    pub(crate) fn get(&self, key: &RouteKey) -> Option<&Arc<Route>> {
        let ns = self.namespaces.get(key.namespace.as_str())?;
        let slot = match &key.operation {
            Some(op) => ns.operations.get(op.as_str())?,
            None => &ns.every_operation,
        };
        match key.binding.as_deref() {
            None => slot.any_binding.as_ref(),
            Some(b) => slot
                .by_binding
                .iter()
                .find(|(k, _)| &**k == b)
                .map(|(_, r)| r),
        }
    }

    /// Insert or replace; returns the replaced route.
    pub(crate) fn insert(&mut self, route: Arc<Route>) -> Option<Arc<Route>> {
        let key = route.key.clone();
        let ns = self
            .namespaces
            .entry(key.namespace.as_str().into())
            .or_default();
        let slot = match &key.operation {
            Some(op) => ns.operations.entry(op.as_str().into()).or_default(),
            None => &mut ns.every_operation,
        };
        slot.insert(key.binding.as_deref(), route)
    }

    pub(crate) fn remove(&mut self, key: &RouteKey) -> Option<Arc<Route>> {
        let ns = self.namespaces.get_mut(key.namespace.as_str())?;
        let removed = match &key.operation {
            Some(op) => {
                let slot = ns.operations.get_mut(op.as_str())?;
                let removed = slot.remove(key.binding.as_deref());
                if slot.is_empty() {
                    ns.operations.remove(op.as_str());
                }
                removed
            }
            None => ns.every_operation.remove(key.binding.as_deref()),
        };
        if ns.operations.is_empty() && ns.every_operation.is_empty() {
            self.namespaces.remove(key.namespace.as_str());
        }
        removed
    }

    pub(crate) fn routes(&self) -> impl Iterator<Item = &Arc<Route>> {
        self.namespaces.values().flat_map(|ns| {
            ns.operations
                .values()
                .flat_map(Slot::routes)
                .chain(ns.every_operation.routes())
        })
    }
}
