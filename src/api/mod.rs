//! The blog resource API, its OpenAPI document and the docs explorer.

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
use serde_json::{Value, json};

pub use explorer::EXPLORER_CLIENT_ID;
pub use models::{Post, PostInput, PostPage};
pub use problem::{ApiError, Problem, problem_from_poem_error};

use crate::config::Settings;

/// Largest request body the API reads: a maximal post (100 KiB body, 200
/// characters of title) with room for JSON escaping.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

pub fn service(settings: &Settings) -> OpenApiService<posts::PostsApi, ()> {
    OpenApiService::new(
        posts::PostsApi,
        "Tollgate blog API",
        env!("CARGO_PKG_VERSION"),
    )
    .description("Blog posts guarded by Tollgate. Authorize with an API key (`X-API-Key`).")
    .server(settings.issuer_str())
}

/// `/openapi.json`: poem-openapi's document, plus the answers given by the
/// layers around every operation under `/api` rather than by a handler:
/// 413 from [`limit_body`] on every operation, and 415 from poem-openapi's
/// content-type check on those that take a body. A handler's own answers
/// are in its signature (`Result<_, ApiError>`).
pub fn spec_json(settings: &Settings) -> String {
    let mut doc: Value = match serde_json::from_str(&service(settings).spec()) {
        Ok(doc) => doc,
        // poem-openapi wrote it with serde_json; cannot happen.
        Err(_) => return service(settings).spec(),
    };
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}
            }}
        })
    };
    let too_large = problem(&format!(
        "The request body is larger than {} KiB.",
        MAX_BODY_BYTES / 1024
    ));
    let wrong_type = problem("The request body is not `application/json`.");
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc.to_string();
    };
    for (_, item) in paths
        .iter_mut()
        .filter(|(path, _)| path.starts_with("/api/"))
    {
        let operations = item
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut());
        for operation in operations {
            let takes_body = operation.get("requestBody").is_some();
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            responses.insert("413".to_owned(), too_large.clone());
            if takes_body {
                responses.insert("415".to_owned(), wrong_type.clone());
            }
        }
    }
    doc.to_string()
}

/// Adds `/api/...`, `/openapi.json` and `/docs`.
pub fn routes(route: Route, settings: &Settings) -> Route {
    let api = service(settings);
    let spec = spec_json(settings);
    let spec =
        poem::endpoint::make_sync(move |_| spec.clone().with_content_type("application/json"));
    let docs = explorer::routes(settings);
    route
        .nest_no_strip(
            "/api",
            api.around(limit_body)
                .catch_all_error(problem_from_poem_error)
                .into_endpoint(),
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_cursor_pattern_is_the_one_the_cursors_follow() {
        let doc: Value =
            serde_json::from_str(&spec_json(&Settings::for_tests("sqlite://unused.db")))
                .expect("json");
        let params = &doc["paths"]["/api/v1/posts"]["get"]["parameters"];
        let cursor = params
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "cursor"))
            .expect("a cursor parameter");
        assert_eq!(cursor["schema"]["pattern"], pagination::PATTERN);
    }
}
