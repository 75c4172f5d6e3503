use std::borrow::Cow;
use std::time::{Duration, Instant};

use poem::http::{HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::OperationId;
use tracing::{Instrument, info, info_span};
use tracing_subscriber::EnvFilter;

use crate::auth;
pub use crate::config::LogFormat;
use crate::oauth;
use crate::state::AppState;
use crate::web;

/// Logs to stderr, filtered by `filter` (`TOLLGATE_LOG`). Safe to call twice.
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
}

/// The header that carries a request's id, taken from the caller when
/// sane and always sent back.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// One log line and one metrics sample per request, and the request's id.
/// The line holds the route, never the query string, so no secret in a URL
/// reaches the log.
pub async fn observe<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let metrics = req.data::<AppState>().map(|s| s.metrics.clone());
    let request_id = request_id(&req);
    // Every line logged while answering (security events among them)
    // carries the request's id and the client's address, and, once
    // `auth::record_principal` has named it, who the caller is.
    let client = req
        .remote_addr()
        .as_socket_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string());
    let span = info_span!(
        "request",
        request_id = %request_id,
        client = %client,
        principal = tracing::field::Empty,
    );
    let answer = next.call(req).instrument(span.clone());
    let (answer, named) = auth::naming_principal(span.clone(), request_id.clone(), answer).await;
    let mut resp = match answer {
        Ok(resp) => resp.into_response(),
        Err(err) => err.into_response(),
    };
    let _entered = span.enter();
    let elapsed = started.elapsed();
    let status = resp.status();
    let route = route_label(&resp, &path, status);
    let method = method_label(&method);
    if let Some(metrics) = metrics {
        metrics.observe(method, &route, status.as_u16(), elapsed);
    }
    if !named {
        span.record("principal", tracing::field::display("-"));
    }
    info!(
        method,
        route = %route,
        status = status.as_u16(),
        latency_ms = round_ms(elapsed),
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(resp)
}

/// The caller's `X-Request-Id` when it is 1 to 64 characters of
/// `[A-Za-z0-9._-]` (safe in a log line and a header), else a new one.
fn request_id(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_sane_request_id(id))
        .map_or_else(new_request_id, str::to_owned)
}

/// A random (version 4) UUID from the thread's generator: `Uuid::new_v4`
/// asks the kernel each time, a system call on every request.
fn new_request_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

fn is_sane_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Milliseconds to one decimal: enough to read, no float noise in the log.
fn round_ms(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 10_000.0).round() / 10.0
}

/// Paths answered by a fixed route, which are their own label.
const FIXED_ROUTES: [&str; 16] = [
    "/",
    web::LOGIN_PATH,
    web::LOGOUT_PATH,
    oauth::USERINFO_PATH,
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    oauth::AUTHORIZE_PATH,
    oauth::TOKEN_PATH,
    oauth::REVOKE_PATH,
    oauth::INTROSPECT_PATH,
    oauth::JWKS_PATH,
    oauth::LOGOUT_PATH,
];

/// The method as a label: the standard ones, and `other` for anything
/// made up, so that no request can add series of its own.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 7] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ];
    KNOWN
        .iter()
        .find(|m| *m == method)
        .map_or("other", Method::as_str)
}

/// A label from a fixed set: the API operation when there is one, the
/// path of a fixed route, `unmatched` for unknown paths and `other` for
/// anything else.
fn route_label(resp: &Response, path: &str, status: StatusCode) -> Cow<'static, str> {
    if let Some(op) = resp.data::<OperationId>() {
        return Cow::Owned(op.to_string());
    }
    if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED {
        return Cow::Borrowed("unmatched");
    }
    if path.starts_with("/api/") {
        // Rejected before reaching an operation (e.g. unparseable body).
        return Cow::Borrowed("api_rejected");
    }
    for prefix in ["/docs", web::ACCOUNT_PATH] {
        if path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|p| p.starts_with('/'))
        {
            return Cow::Borrowed(prefix);
        }
    }
    let fixed = FIXED_ROUTES.iter().find(|r| **r == path);
    Cow::Borrowed(fixed.copied().unwrap_or("other"))
}
