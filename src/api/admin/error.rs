//! RFC 9457 problem details for every answer of the admin API that is not
//! a success. Kept apart from the blog API's `ApiError` because the admin
//! API has outcomes the blog API never gives (409, 503).

use poem::http::StatusCode;
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;

use crate::api::{ApiError, Problem};
use crate::auth::AuthError;
use crate::manage::ManageError;
use crate::secrets::signing_keys::KeyError;
use crate::secrets::{PasswordError, RETRY_AFTER_SECONDS};

/// Every error outcome of the admin API.
#[derive(Debug, ApiResponse)]
pub enum AdminError {
    /// The request could not be read: malformed JSON, a missing field, a
    /// parameter of the wrong type (such as an id that is not a UUID).
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
    /// Valid credentials without the `admin` scope.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(
        Json<Problem>,
        /// `Bearer error="insufficient_scope", scope="admin"`.
        #[oai(header = "WWW-Authenticate")]
        Option<String>,
    ),
    /// No such user, client, API key, consent or session.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// The change clashes with what exists, such as a taken username.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Problem>),
    /// The request body is over the size limit.
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Problem>),
    /// The request body is not `application/json`.
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Problem>),
    /// Well-formed but invalid content; the detail says what to change.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Problem>),
    /// Something failed on our side; the details are in the server log.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Problem>),
    /// The server is too busy hashing passwords right now: try again shortly.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(
        Json<Problem>,
        /// Seconds to wait before trying again.
        #[oai(header = "Retry-After")]
        String,
    ),
}

fn problem(status: StatusCode, detail: impl Into<String>) -> Json<Problem> {
    Json(Problem::new(status, detail))
}

impl AdminError {
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::NotFound(problem(StatusCode::NOT_FOUND, detail))
    }

    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::Unprocessable(problem(StatusCode::UNPROCESSABLE_ENTITY, detail))
    }

    /// Logged once (by `ApiError::internal`); the caller learns only that
    /// it failed.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        match ApiError::internal(e) {
            ApiError::Internal(p) => Self::Internal(p),
            _ => Self::Internal(problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; see the server log",
            )),
        }
    }

    /// 400, 413 and 415 come from poem itself (through the API's
    /// `problem_from_poem_error`), never from a handler; these keep the
    /// variants, which document them in the schema, in use.
    pub fn from_status(status: StatusCode, detail: impl Into<String>) -> Self {
        let p = problem(status, detail);
        match status {
            StatusCode::BAD_REQUEST => Self::BadRequest(p),
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge(p),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType(p),
            StatusCode::CONFLICT => Self::Conflict(p),
            StatusCode::NOT_FOUND => Self::NotFound(p),
            StatusCode::UNPROCESSABLE_ENTITY => Self::Unprocessable(p),
            StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable(p, RETRY_AFTER_SECONDS.to_owned()),
            _ => Self::Internal(p),
        }
    }
}

impl From<AuthError> for AdminError {
    fn from(e: AuthError) -> Self {
        // One place builds the RFC 6750 challenges: the blog API's.
        match ApiError::from(e) {
            ApiError::Unauthorized(p, challenge) => Self::Unauthorized(p, challenge),
            ApiError::Forbidden(p, challenge) => Self::Forbidden(p, challenge),
            ApiError::Internal(p) => Self::Internal(p),
            other => Self::internal(anyhow::anyhow!("unexpected auth answer {other:?}")),
        }
    }
}

impl From<ManageError> for AdminError {
    fn from(e: ManageError) -> Self {
        let detail = e.to_string();
        match e {
            ManageError::Invalid(_) | ManageError::UnknownOwner(_) | ManageError::WrongPassword => {
                Self::from_status(StatusCode::UNPROCESSABLE_ENTITY, detail)
            }
            ManageError::DuplicateUsername(_) => Self::from_status(StatusCode::CONFLICT, detail),
            ManageError::UnknownUser(_)
            | ManageError::UnknownClient(_)
            | ManageError::UnknownApiKey(_)
            | ManageError::UnknownConsent(_)
            | ManageError::UnknownSession(_) => Self::from_status(StatusCode::NOT_FOUND, detail),
            ManageError::Password(PasswordError::Busy) => Self::from_status(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many password checks at once; try again in a few seconds",
            ),
            other => Self::internal(other),
        }
    }
}

impl From<sea_orm::DbErr> for AdminError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal(e)
    }
}

impl From<KeyError> for AdminError {
    fn from(e: KeyError) -> Self {
        Self::internal(e)
    }
}
