//! `/healthz`, `/readyz` and `/metrics`.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{IntoResponse, Response, Route, get, handler};
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
fn metrics(state: Data<&AppState>) -> Response {
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

/// Adds the operational endpoints.
pub fn routes(route: Route) -> Route {
    route
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics))
}
