use std::time::Instant;

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::OperationId;
use tracing::info;
use tracing_subscriber::EnvFilter;

use crate::state::AppState;

/// Logs to stderr, filtered by `filter` (`TOLLGATE_LOG`). Safe to call twice.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// One log line and one metrics sample per request. The line holds the
/// route, never the query string, so no secret in a URL reaches the log.
pub async fn observe<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let metrics = req.data::<AppState>().map(|s| s.metrics.clone());
    let resp = match next.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => err.into_response(),
    };
    let elapsed = started.elapsed();
    let status = resp.status();
    let route = route_label(&resp, &path, status);
    if let Some(metrics) = metrics {
        metrics.observe(method.as_str(), &route, status.as_u16(), elapsed);
    }
    info!(
        method = %method,
        route = %route,
        status = status.as_u16(),
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    Ok(resp)
}

/// A label of bounded cardinality: the API operation when there is one,
/// the path for the few fixed routes, and one label for unmatched paths.
fn route_label(resp: &Response, path: &str, status: StatusCode) -> String {
    if let Some(op) = resp.data::<OperationId>() {
        return op.to_string();
    }
    if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED {
        return "unmatched".to_owned();
    }
    if path.starts_with("/api/") {
        // Rejected before reaching an operation (e.g. unparseable body).
        return "api_rejected".to_owned();
    }
    if path.starts_with("/docs") {
        return "/docs".to_owned();
    }
    path.to_owned()
}
