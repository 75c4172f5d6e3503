//! CORS (the Fetch standard's CORS protocol) for what a browser app calls
//! from its own origin: the token and userinfo endpoints, for the origins
//! of public clients' redirect URIs; discovery and the JWKS, for anyone.
//!
//! Not poem's `Cors`: it answers an origin it does not allow with a 403,
//! where here the request must run as it would without CORS (the headers
//! only tell the browser what it may show; they guard nothing), and it
//! sends no `Vary: Origin` with preflights or with answers to requests
//! that had no `Origin`, which a shared cache needs to keep them apart.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use poem::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
    VARY,
};
use poem::http::{HeaderValue, Method, StatusCode};
use poem::{Endpoint, Middleware, Request, Response};
use sea_orm::ConnectionTrait;
use tracing::warn;
use url::Url;

use crate::cache::{read_lock, write_lock};
use crate::state::AppState;
use crate::store;

/// Every client created, changed or deleted empties the set (see
/// `propagation`): this only bounds what a failed read could leave.
const ORIGINS_TTL: Duration = Duration::from_secs(30);
/// After a failed load, try again this soon.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);
/// A bound on the set, whatever the registrations hold.
const MAX_ORIGINS: usize = 10_000;
/// How long a browser may reuse a preflight answer.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The origins (`scheme://host[:port]`) of every public client's http and
/// https redirect URIs, loaded from the database and kept for
/// [`ORIGINS_TTL`]. Only registrations fill it, never requests.
#[derive(Default)]
pub struct PublicClientOrigins {
    loaded: RwLock<Option<(Instant, Arc<HashSet<String>>)>>,
    /// One reload at a time; the others answer from the last set.
    reloading: tokio::sync::Mutex<()>,
}

impl PublicClientOrigins {
    pub async fn allows(&self, db: &impl ConnectionTrait, origin: &str) -> bool {
        self.current(db).await.contains(origin)
    }

    async fn current(&self, db: &impl ConnectionTrait) -> Arc<HashSet<String>> {
        if let Some(set) = self.fresh() {
            return set;
        }
        let _reloading = match self.reloading.try_lock() {
            Ok(guard) => guard,
            Err(_) => match self.last() {
                Some(set) => return set,
                None => self.reloading.lock().await,
            },
        };
        // Another request may have reloaded while this one waited.
        if let Some(set) = self.fresh() {
            return set;
        }
        let (set, ttl) = match load(db).await {
            Ok(set) => (Arc::new(set), ORIGINS_TTL),
            Err(e) => {
                warn!(error = %e, "could not load public clients' origins for CORS");
                (self.last().unwrap_or_default(), RETRY_AFTER_FAILURE)
            }
        };
        *write_lock(&self.loaded) = Some((Instant::now() + ttl, set.clone()));
        set
    }

    /// Reloads the set at its next use: a client changed.
    pub fn invalidate(&self) {
        if let Some((until, _)) = write_lock(&self.loaded).as_mut() {
            *until = Instant::now();
        }
    }

    fn fresh(&self) -> Option<Arc<HashSet<String>>> {
        read_lock(&self.loaded)
            .as_ref()
            .filter(|(until, _)| Instant::now() < *until)
            .map(|(_, set)| set.clone())
    }

    fn last(&self) -> Option<Arc<HashSet<String>>> {
        read_lock(&self.loaded).as_ref().map(|(_, set)| set.clone())
    }
}

async fn load(db: &impl ConnectionTrait) -> Result<HashSet<String>, sea_orm::DbErr> {
    let uris = store::clients::public_redirect_uris(db).await?;
    let mut origins: HashSet<String> = uris.iter().filter_map(|u| web_origin(u)).collect();
    if origins.len() > MAX_ORIGINS {
        warn!(
            count = origins.len(),
            kept = MAX_ORIGINS,
            "more public client origins than CORS keeps; some are left out"
        );
        origins = origins.into_iter().take(MAX_ORIGINS).collect();
    }
    Ok(origins)
}

/// The origin a browser sends for pages under `uri`, as it serializes it
/// (lower-case host, default port left out); none for a native app's
/// private-use scheme. A loopback redirect URI gives its own port only:
/// the any-port rule of RFC 8252 §7.3 is for native apps, which need no
/// CORS.
fn web_origin(uri: &str) -> Option<String> {
    let url = Url::parse(uri).ok()?;
    matches!(url.scheme(), "https" | "http").then(|| url.origin().ascii_serialization())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_uri_gives_the_origin_a_browser_sends() {
        assert_eq!(
            web_origin("https://App.Example.com/cb?x=1").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            web_origin("https://app.example.com:443/cb").as_deref(),
            Some("https://app.example.com"),
            "the default port is left out"
        );
        assert_eq!(
            web_origin("https://app.example.com:8443/cb").as_deref(),
            Some("https://app.example.com:8443")
        );
        assert_eq!(
            web_origin("http://127.0.0.1:5173/cb").as_deref(),
            Some("http://127.0.0.1:5173")
        );
        assert_eq!(
            web_origin("http://[::1]:8080/cb").as_deref(),
            Some("http://[::1]:8080")
        );
    }

    #[test]
    fn a_native_apps_scheme_has_no_web_origin() {
        assert_eq!(web_origin("com.example.app:/oauth2redirect"), None);
        assert_eq!(web_origin("not a uri"), None);
    }
}
