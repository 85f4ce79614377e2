//! Registering component providers on a [`Router`].
//!
//! These are inherent methods of [`Router`] written here, next to [`ComponentProvider`], so
//! that the router core never imports the component runtime; `router/mod.rs` lists them with
//! the rest of the router's methods.

use std::sync::Arc;

use super::provider::ComponentProvider;
use crate::{Conflict, Provider, RegisterError, RouteKey, Router};

impl Router {
    /// Route calls to a component provider: the listed `operations` of `namespace`, or every
    /// operation of it when `operations` is `None`. All routes are registered as one batch
    /// ([`Router::register_all`]).
    ///
    /// # Errors
    ///
    /// [`RegisterError::Duplicate`] when one of the routes exists,
    /// [`RegisterError::EmptyNamespace`] / [`RegisterError::EmptyOperation`] for an empty name;
    /// no route of this call is registered then.
    pub fn register_component(
        &self,
        namespace: &str,
        operations: Option<&[&str]>,
        provider: ComponentProvider,
    ) -> Result<(), RegisterError> {
        self.put_component(namespace, operations, provider, Conflict::Reject)
            .map(|_| ())
    }

    /// Like [`register_component`](Self::register_component) but replaces existing routes, all
    /// in one swap (hot swap): calls in flight finish on the old provider, later calls see the
    /// new provider on every route. Returns how many routes were replaced.
    ///
    /// # Errors
    ///
    /// [`RegisterError::EmptyNamespace`] / [`RegisterError::EmptyOperation`] for an empty
    /// name; nothing is replaced then.
    pub fn replace_component(
        &self,
        namespace: &str,
        operations: Option<&[&str]>,
        provider: ComponentProvider,
    ) -> Result<usize, RegisterError> {
        self.put_component(namespace, operations, provider, Conflict::Replace)
    }

    fn put_component(
        &self,
        namespace: &str,
        operations: Option<&[&str]>,
        provider: ComponentProvider,
        on_conflict: Conflict,
    ) -> Result<usize, RegisterError> {
        let provider: Arc<dyn Provider> = Arc::new(provider);
        let keys: Vec<RouteKey> = match operations {
            Some(operations) => operations
                .iter()
                .map(|operation| RouteKey::exact(namespace, *operation))
                .collect(),
            None => vec![RouteKey::namespace(namespace)],
        };
        self.register_batch(
            keys.into_iter().map(|key| (key, Arc::clone(&provider))),
            on_conflict,
        )
        .map(|outcome| outcome.replaced)
        .map_err(|refused| refused.error)
    }
}
