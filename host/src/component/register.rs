//! Registering component providers on a [`Router`].

use std::sync::Arc;

use super::provider::ComponentProvider;
use crate::{Conflict, RegisterError, RouteKey, Router};

impl Router {
    /// Route calls to a component provider: the listed `operations` of `namespace`, or every
    /// operation of it when `operations` is `None`. Refuses a duplicate route; on refusal no
    /// route of this call stays registered.
    pub fn register_component(
        &self,
        namespace: &str,
        operations: Option<&[&str]>,
        provider: ComponentProvider,
    ) -> Result<(), RegisterError> {
        self.put_component(namespace, operations, provider, Conflict::Reject)
            .map(|_| ())
    }

    /// Like [`register_component`](Self::register_component) but replaces existing routes
    /// atomically, one route at a time (hot swap): calls in flight finish on the old provider.
    /// Returns how many routes were replaced.
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
        let provider = Arc::new(provider);
        let keys: Vec<RouteKey> = match operations {
            Some(operations) => operations
                .iter()
                .map(|operation| RouteKey::exact(namespace, *operation))
                .collect(),
            None => vec![RouteKey::namespace(namespace)],
        };
        let mut done = Vec::with_capacity(keys.len());
        let mut replaced = 0;
        for key in keys {
            match self.register_key(key.clone(), provider.clone(), on_conflict) {
                Ok(old) => {
                    replaced += usize::from(old.is_some());
                    done.push(key);
                }
                Err(err) => {
                    // Only reachable with Conflict::Reject, where nothing was replaced: undo.
                    for key in &done {
                        self.unregister(key);
                    }
                    return Err(err);
                }
            }
        }
        Ok(replaced)
    }
}
