//! The blog resource API, its OpenAPI document and the docs explorer.

mod admin;
mod document;
mod explorer;
mod models;
mod pagination;
mod posts;
mod problem;

use poem::error::ReadBodyError;
use poem::http::StatusCode;
use poem::http::header::CONTENT_LENGTH;
use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Request, Route};
use poem_openapi::OpenApiService;

pub use document::spec_json;
pub use explorer::EXPLORER_CLIENT_ID;
pub use models::{Post, PostInput, PostPage};
pub use problem::{ApiError, Problem, problem_from_poem_error};

use crate::config::Settings;

/// Largest request body the API reads: a maximal post (100 KiB body, 200
/// characters of title) with room for JSON escaping.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

pub fn service(settings: &Settings) -> OpenApiService<(posts::PostsApi, admin::AdminApi), ()> {
    OpenApiService::new(
        (posts::PostsApi, admin::api()),
        "Tollgate blog API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Blog posts guarded by Tollgate. Press Authorize and either paste an API key \
         (sent as `X-API-Key`) or sign in with OAuth 2 (authorization code with PKCE) \
         to get an access token (sent as `Authorization: Bearer`).",
    )
    .server(settings.issuer_str())
}

/// Adds `/api/...`, `/admin/...`, `/openapi.json` and `/docs`.
pub fn routes(route: Route, settings: &Settings) -> Route {
    let api = service(settings);
    let doc = document::spec_json(settings);
    let allowed = std::sync::Arc::new(document::AllowedMethods::from_spec(&doc));
    let spec =
        poem::endpoint::make_sync(move |_| doc.clone().with_content_type("application/json"));
    let docs = explorer::routes(settings);
    // One service holds both APIs' paths; it answers under both prefixes.
    let api = std::sync::Arc::new(
        api.around(limit_body)
            .catch_all_error(problem_from_poem_error)
            .around(move |next, req| document::add_allow(next, req, allowed.clone()))
            .into_endpoint(),
    );
    route
        .nest_no_strip("/api", api.clone())
        .nest_no_strip("/admin", api)
        .at("/openapi.json", spec)
        .nest("/docs", docs)
}

/// Refuses bodies over [`MAX_BODY_BYTES`]: by `Content-Length` before
/// reading, and while reading when the length is not declared (chunked).
async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<E::Output> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(len) if len > MAX_BODY_BYTES => return Err(too_large()),
        Some(_) => {}
        None => {
            let body = req
                .take_body()
                .into_bytes_limit(MAX_BODY_BYTES)
                .await
                .map_err(|e| match e {
                    ReadBodyError::PayloadTooLarge => too_large(),
                    other => other.into(),
                })?;
            req.set_body(body);
        }
    }
    next.call(req).await
}

fn too_large() -> poem::Error {
    poem::Error::from_string(
        format!("the request body is too large (limit {MAX_BODY_BYTES} bytes)"),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
}
