//! What serves a route: the [`Provider`] trait, and the conversions that let a plain closure be
//! one.

use std::sync::Arc;

use crate::{CallContext, CallError, ProviderError, Router};

/// One routed call, as a provider sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Deadline, cancellation and depth of the call.
    pub ctx: &'a CallContext,
    /// The waPC binding the guest named.
    pub binding: &'a str,
    /// The namespace of the call.
    pub namespace: &'a str,
    /// The operation of the call.
    pub operation: &'a str,
    /// The payload, after any rewrite by pre-call middleware.
    pub payload: &'a [u8],
    pub(crate) router: &'a Router,
}

impl<'a> Request<'a> {
    /// The router that dispatched this call.
    pub fn router(&self) -> &'a Router {
        self.router
    }

    /// Call another route from inside this call, with the same binding, deadline and
    /// cancellation, one level deeper (the router bounds the depth).
    ///
    /// # Errors
    ///
    /// Whatever [`Router::call`](crate::Router::call) returns for the nested call.
    pub fn call(
        &self,
        namespace: &str,
        operation: &str,
        payload: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        self.router.call(
            &self.ctx.child(),
            self.binding,
            namespace,
            operation,
            payload,
        )
    }
}

/// A capability behind a route.
///
/// Providers run outside any router lock, on the calling thread, and may be called from many
/// threads at once. Native providers are trusted code; sandboxed ones wrap a WASM component.
///
/// ```
/// use switchboard::{Provider, ProviderError, Request, Router, CallContext};
///
/// struct Greeter;
/// impl Provider for Greeter {
///     fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
///         match req.operation {
///             "Hello" => Ok([b"hello ", req.payload].concat()),
///             other => Err(ProviderError::UnknownOperation(other.to_string())),
///         }
///     }
/// }
///
/// let router = Router::new();
/// router.register_namespace("greet", Greeter).unwrap();
/// let out = router.call(&CallContext::new(), "", "greet", "Hello", b"you").unwrap();
/// assert_eq!(out, b"hello you");
/// ```
pub trait Provider: Send + Sync + 'static {
    /// Serve one call.
    ///
    /// # Errors
    ///
    /// The [`ProviderError`] that says why the call failed; the router hands it to the caller
    /// as a [`CallError`](crate::CallError).
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError>;

    /// A short description for route listings (`native`, `component kv.wasm`, ...).
    fn describe(&self) -> String {
        "native".to_string()
    }
}

impl<P: Provider + ?Sized> Provider for Arc<P> {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        (**self).call(req)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

impl<P: Provider + ?Sized> Provider for Box<P> {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        (**self).call(req)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// A provider made from a closure that sees the whole [`Request`]. Build one with
/// [`provider_fn`].
#[allow(missing_debug_implementations)] // closures are not `Debug`
pub struct FnProvider<F>(F);

/// Wrap a closure over the whole request (context, names, payload) as a [`Provider`].
///
/// ```
/// use switchboard::{provider_fn, CallContext, Router};
/// let router = Router::new();
/// router
///     .register("ns", "op", provider_fn(|req| Ok(req.operation.as_bytes().to_vec())))
///     .unwrap();
/// assert_eq!(router.call(&CallContext::new(), "", "ns", "op", b"").unwrap(), b"op");
/// ```
pub fn provider_fn<F>(f: F) -> FnProvider<F>
where
    F: Fn(&Request<'_>) -> Result<Vec<u8>, ProviderError> + Send + Sync + 'static,
{
    FnProvider(f)
}

impl<F> Provider for FnProvider<F>
where
    F: Fn(&Request<'_>) -> Result<Vec<u8>, ProviderError> + Send + Sync + 'static,
{
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        (self.0)(req)
    }
}

/// Anything that can serve a route: an `impl Provider`, or a closure
/// `Fn(&[u8]) -> Result<Vec<u8>, E>` where `E: Into<ProviderError>` (`String`, `&str`,
/// [`ProviderError`], ...).
///
/// The marker `M` only keeps the blanket implementations apart (as axum does for handlers);
/// callers never name it.
pub trait IntoProvider<M> {
    /// Turn `self` into a shareable provider.
    fn into_provider(self) -> Arc<dyn Provider>;
}

#[doc(hidden)]
#[derive(Debug)]
pub enum ProviderMarker {}

#[doc(hidden)]
#[derive(Debug)]
pub struct PayloadFnMarker<E>(std::marker::PhantomData<E>);

impl<P: Provider> IntoProvider<ProviderMarker> for P {
    fn into_provider(self) -> Arc<dyn Provider> {
        Arc::new(self)
    }
}

struct PayloadFn<F, E>(F, std::marker::PhantomData<fn() -> E>);

impl<F, E> Provider for PayloadFn<F, E>
where
    F: Fn(&[u8]) -> Result<Vec<u8>, E> + Send + Sync + 'static,
    E: Into<ProviderError> + 'static,
{
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        (self.0)(req.payload).map_err(Into::into)
    }
}

impl<F, E> IntoProvider<PayloadFnMarker<E>> for F
where
    F: Fn(&[u8]) -> Result<Vec<u8>, E> + Send + Sync + 'static,
    E: Into<ProviderError> + 'static,
{
    fn into_provider(self) -> Arc<dyn Provider> {
        Arc::new(PayloadFn(self, std::marker::PhantomData))
    }
}
