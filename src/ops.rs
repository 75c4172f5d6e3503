//! `/healthz`, `/readyz` and `/metrics`.

use poem::http::StatusCode;
use poem::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use poem::web::Data;
use poem::{IntoResponse, Request, Response, Route, get, handler};
use subtle::ConstantTimeEq;
use tracing::warn;

use crate::state::AppState;

#[handler]
fn healthz() -> &'static str {
    "ok"
}

#[handler]
async fn readyz(state: Data<&AppState>) -> Response {
    match crate::db::ping(&state.db).await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            warn!(error = %e, "readiness check failed");
            "database unavailable"
                .with_status(StatusCode::SERVICE_UNAVAILABLE)
                .into_response()
        }
    }
}

#[handler]
fn metrics(req: &Request, state: Data<&AppState>) -> Response {
    if let Some(token) = &state.settings.metrics_token {
        let presented = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let matches: bool = presented.as_bytes().ct_eq(token.secret().as_bytes()).into();
        if !matches {
            return StatusCode::UNAUTHORIZED
                .with_header(WWW_AUTHENTICATE, r#"Bearer realm="metrics""#)
                .into_response();
        }
    }
    match state.metrics.render() {
        Ok(text) => text
            .with_content_type("text/plain; version=0.0.4")
            .into_response(),
        Err(e) => {
            warn!(error = %e, "could not render metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Adds the operational endpoints; `/metrics` only when `with_metrics`
/// (it moves to its own listener when `metrics_bind` is set).
pub fn routes(route: Route, with_metrics: bool) -> Route {
    let route = route
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz));
    if with_metrics {
        route.at("/metrics", get(metrics))
    } else {
        route
    }
}

/// The whole app of the metrics listener: `/metrics`, `/healthz` and
/// `/readyz`, nothing else.
pub fn metrics_app(state: AppState) -> impl poem::Endpoint + 'static {
    use poem::EndpointExt;
    routes(Route::new(), true).data(state)
}
