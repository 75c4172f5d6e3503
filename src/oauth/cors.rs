//! CORS (the Fetch standard's CORS protocol) for what a browser app calls
//! from its own origin: the token and userinfo endpoints, for the origins
//! of public clients' redirect URIs; discovery and the JWKS, for anyone.
//!
//! Not poem's `Cors`: it answers an origin it does not allow with a 403,
//! where here the request must run as it would without CORS (the headers
//! only tell the browser what it may show; they guard nothing), and it
//! sends no `Vary: Origin` with preflights or with answers to requests
//! that had no `Origin`, which a shared cache needs to keep them apart.

use std::sync::Arc;

use poem::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
    VARY,
};
use poem::http::{HeaderValue, Method, StatusCode};
use poem::{Endpoint, Middleware, Request, Response};

use crate::origins::PublicClientOrigins;
use crate::state::AppState;

/// How long a browser may reuse a preflight answer.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Who may read the answers from another origin.
#[derive(Clone)]
enum Allowed {
    /// Public documents: `*`.
    Anyone,
    PublicClients(Arc<PublicClientOrigins>),
}

/// The middleware; `methods` are the ones the route answers.
#[derive(Clone)]
pub struct Cors {
    allowed: Allowed,
    methods: &'static str,
}

impl Cors {
    /// For public documents (discovery, JWKS): any origin, `*`.
    pub fn anyone(methods: &'static str) -> Self {
        Self {
            allowed: Allowed::Anyone,
            methods,
        }
    }

    /// For the origins of public clients only.
    pub fn public_clients(origins: Arc<PublicClientOrigins>, methods: &'static str) -> Self {
        Self {
            allowed: Allowed::PublicClients(origins),
            methods,
        }
    }
}

impl<E: Endpoint> Middleware<E> for Cors {
    type Output = CorsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CorsEndpoint {
            inner,
            cors: self.clone(),
        }
    }
}

pub struct CorsEndpoint<E> {
    inner: E,
    cors: Cors,
}

impl<E: Endpoint> CorsEndpoint<E> {
    /// The `Access-Control-Allow-Origin` value for this request, if its
    /// origin may read the answer. No credentials mode: never
    /// `Access-Control-Allow-Credentials`, since these endpoints take
    /// tokens, not cookies.
    async fn allow_origin(&self, req: &Request) -> Option<HeaderValue> {
        let origin = req.headers().get(ORIGIN)?;
        match &self.cors.allowed {
            Allowed::Anyone => Some(HeaderValue::from_static("*")),
            Allowed::PublicClients(origins) => {
                let state = req.data::<AppState>()?;
                let text = origin.to_str().ok()?;
                origins
                    .allows(&state.db, text)
                    .await
                    .then(|| origin.clone())
            }
        }
    }

    fn varies(&self) -> bool {
        matches!(self.cors.allowed, Allowed::PublicClients(_))
    }

    fn preflight(&self, allow_origin: HeaderValue) -> Response {
        let mut resp = Response::builder()
            .status(StatusCode::NO_CONTENT)
            .header(ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin)
            .header(ACCESS_CONTROL_ALLOW_METHODS, self.cors.methods)
            .header(ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Content-Type")
            .header(ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE);
        if self.varies() {
            resp = resp.header(VARY, "Origin");
        }
        resp.finish()
    }
}

impl<E: Endpoint> Endpoint for CorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let allow_origin = self.allow_origin(&req).await;
        let is_preflight = req.method() == Method::OPTIONS
            && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
        if let Some(allow_origin) = &allow_origin
            && is_preflight
        {
            return Ok(self.preflight(allow_origin.clone()));
        }
        // Everything else runs as it would without CORS, a preflight from
        // an origin not allowed included (the route's own 405).
        let mut resp = self.inner.get_response(req).await;
        let headers = resp.headers_mut();
        if let Some(allow_origin) = allow_origin {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
            // A 401's challenge says why; let the app read it.
            headers.insert(
                ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("WWW-Authenticate"),
            );
        }
        if self.varies() {
            headers.append(VARY, HeaderValue::from_static("Origin"));
        }
        Ok(resp)
    }
}
