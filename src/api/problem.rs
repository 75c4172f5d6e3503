//! RFC 9457 problem details for every error the blog API returns.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::error::{ParseParamError, ParsePathError};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use tracing::error;

use crate::auth::AuthError;
use crate::domain::{Scope, ValidationError};

/// RFC 9457 problem details.
#[derive(Debug, Clone, Object)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[oai(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            problem_type: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: Some(detail.into()),
        }
    }
}

/// Every error outcome of the blog API.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request could not be read: malformed JSON, a missing field, a bad
    /// parameter or cursor.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// No credentials, or credentials that are unknown, revoked or expired.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(
        Json<Problem>,
        /// `Bearer error="invalid_token"` (RFC 6750 §3).
        #[oai(header = "WWW-Authenticate")]
        String,
    ),
    /// Valid credentials without the scope or ownership this needs.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(
        Json<Problem>,
        /// `Bearer error="insufficient_scope"` when a scope is missing.
        #[oai(header = "WWW-Authenticate")]
        Option<String>,
    ),
    /// No such resource (or not visible to the caller).
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// Well-formed but invalid content, such as a blank title.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Problem>),
    /// Something failed on our side; the details are in the server log.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Problem>),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest(Json(Problem::new(StatusCode::BAD_REQUEST, detail)))
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::NotFound(Json(Problem::new(StatusCode::NOT_FOUND, detail)))
    }

    pub fn unprocessable(e: ValidationError) -> Self {
        Self::Unprocessable(Json(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, e.0)))
    }

    /// 401 per RFC 6750 §3.1. `detail` must not contain `"` or `\`.
    pub fn invalid_token(detail: &str) -> Self {
        let challenge = format!(r#"Bearer error="invalid_token", error_description="{detail}""#);
        Self::Unauthorized(
            Json(Problem::new(StatusCode::UNAUTHORIZED, detail)),
            challenge,
        )
    }

    /// 403 per RFC 6750 §3.1, naming the scope that was needed.
    pub fn insufficient_scope(scope: Scope) -> Self {
        let challenge = format!(r#"Bearer error="insufficient_scope", scope="{scope}""#);
        Self::Forbidden(
            Json(Problem::new(
                StatusCode::FORBIDDEN,
                format!("this needs the {scope} scope"),
            )),
            Some(challenge),
        )
    }

    /// 403 for a rule other than scope, such as editing another's post.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden(Json(Problem::new(StatusCode::FORBIDDEN, detail)), None)
    }

    /// Logs the cause chain once; the caller learns only that it failed.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        let e = e.into();
        error!(error.cause_chain = ?e, error.message = %e, "internal error");
        Self::Internal(Json(Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; see the server log",
        )))
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidToken(detail) => Self::invalid_token(detail),
            AuthError::InsufficientScope(scope) => Self::insufficient_scope(scope),
            AuthError::Internal(e) => Self::internal(e),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal(e)
    }
}

/// What to send instead of poem-openapi's `failed to parse parameter
/// \`limit\`: verification failed. minimum(1, exclusive: false)`: the
/// rule, in a sentence, for the parameters we declare.
fn parameter_detail(name: &str, reason: &str) -> String {
    match name {
        "limit" => "limit must be a whole number between 1 and 100".to_owned(),
        "cursor" => super::pagination::MALFORMED.to_owned(),
        // poem-openapi names path parameters `param0`, ...; a uuid is
        // what ours are.
        _ if reason.contains("uuid") => {
            "the id in the path must be a uuid such as 3f2b8c1e-9a4d-4c6b-8e2f-1a2b3c4d5e6f"
                .to_owned()
        }
        _ => format!("parameter {name} is invalid: {reason}"),
    }
}

/// Backstop for errors raised by poem itself (unparseable JSON, wrong
/// content type, unknown route, body too large): the same problem+json
/// shape instead of text/plain.
pub async fn problem_from_poem_error(err: poem::Error) -> Response {
    // Our own `ApiError`s arrive here already shaped; pass them through.
    if err.is_from_response() {
        return err.into_response();
    }
    let status = err.status();
    let detail = if status.is_server_error() {
        error!(error.message = %err, "internal error");
        "internal error; see the server log".to_owned()
    } else if let Some(e) = err.downcast_ref::<ParseParamError>() {
        parameter_detail(e.name, &e.reason)
    } else if let Some(e) = err.downcast_ref::<ParsePathError>() {
        parameter_detail(e.name, &e.reason)
    } else {
        err.to_string()
    };
    let problem = Problem::new(status, detail);
    let body = serde_json::json!({
        "type": problem.problem_type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    });
    body.to_string()
        .with_status(status)
        .with_content_type("application/problem+json")
        .into_response()
}
