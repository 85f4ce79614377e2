//! Registering many routes as one change: all of them or none, published in one table swap.

use std::sync::Arc;

use super::table::{Route, RouteInfo, RouteKey};
use super::{validate_key, Conflict, Router};
use crate::{Provider, RegisterError};

/// A batch was refused: which route (its index in the batch) and why. Nothing of the batch is
/// registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct BatchError {
    /// Index of the refused route in the batch, in iteration order.
    pub index: usize,
    /// Why the router refused it.
    pub error: RegisterError,
}

impl BatchError {
    /// The router's reason, without the index.
    pub fn into_error(self) -> RegisterError {
        self.error
    }
}

/// What a batch did: every route it registered, and how many of them replaced a route.
pub(crate) struct BatchOutcome {
    pub(crate) registered: Vec<RouteInfo>,
    pub(crate) replaced: usize,
}

impl Router {
    /// Register a batch of routes as one change: either every route is registered or none is,
    /// and callers see the router before or after the whole batch, never a part of it (the new
    /// table is built once and published in one swap). With [`Conflict::Reject`], a key that is
    /// already registered, or that appears twice in the batch, refuses the batch. Returns the
    /// registered routes in batch order.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use switchboard::builtin::Echo;
    /// use switchboard::{Conflict, Provider, RegisterError, RouteKey, Router};
    ///
    /// let router = Router::new();
    /// let echo: Arc<dyn Provider> = Arc::new(Echo);
    /// router.register_namespace("b", Echo).unwrap();
    /// let batch = [
    ///     (RouteKey::namespace("a"), echo.clone()),
    ///     (RouteKey::namespace("b"), echo.clone()),
    /// ];
    /// let err = router.register_all(batch, Conflict::Reject).unwrap_err();
    /// assert_eq!((err.index, err.error), (1, RegisterError::Duplicate(RouteKey::namespace("b"))));
    /// assert!(router.lookup("", "a", "x").is_none(), "nothing of the batch stays");
    /// ```
    ///
    /// # Errors
    ///
    /// [`BatchError`] naming the first refused route: an empty namespace, operation or binding
    /// ([`RegisterError::EmptyNamespace`] ...), or [`RegisterError::Duplicate`] under
    /// [`Conflict::Reject`]. The router is then exactly as before the call.
    pub fn register_all<I>(
        &self,
        routes: I,
        on_conflict: Conflict,
    ) -> Result<Vec<RouteInfo>, BatchError>
    where
        I: IntoIterator<Item = (RouteKey, Arc<dyn Provider>)>,
    {
        self.register_batch(routes, on_conflict)
            .map(|outcome| outcome.registered)
    }

    /// [`register_all`](Self::register_all), also counting the routes that were replaced.
    pub(crate) fn register_batch<I>(
        &self,
        routes: I,
        on_conflict: Conflict,
    ) -> Result<BatchOutcome, BatchError>
    where
        I: IntoIterator<Item = (RouteKey, Arc<dyn Provider>)>,
    {
        let routes = routes
            .into_iter()
            .enumerate()
            .map(|(index, (key, provider))| {
                validate_key(&key).map_err(|error| BatchError { index, error })?;
                Ok(Arc::new(Route { key, provider }))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.write(|table| {
            let mut outcome = BatchOutcome {
                registered: Vec::with_capacity(routes.len()),
                replaced: 0,
            };
            for (index, route) in routes.into_iter().enumerate() {
                if on_conflict == Conflict::Reject && table.get(&route.key).is_some() {
                    return Err(BatchError {
                        index,
                        error: RegisterError::Duplicate(route.key.clone()),
                    });
                }
                outcome.registered.push(route.info());
                outcome.replaced += usize::from(table.insert(route).is_some());
            }
            Ok(outcome)
        })
    }
}
