//! OAuth error channels, kept apart by type: JSON errors of the token,
//! revocation and introspection endpoints (RFC 6749 §5.2), the codes of
//! errors that redirect back to the client (§4.1.2.1; the redirect itself
//! is `authorize::redirect`), and the page for errors that must not
//! redirect because the client or redirect URI is not trusted yet.

use std::borrow::Cow;
use std::fmt;

use poem::http::StatusCode;
use poem::http::header::{CACHE_CONTROL, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use poem::{IntoResponse, Response};
use tracing::error;

use crate::secrets::RETRY_AFTER_SECONDS;
use crate::web::pages::error_page;

/// RFC 6749 §5.2 (and RFC 7009 §2.2.1) error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    UnsupportedTokenType,
    ServerError,
    /// Overloaded for now (the password workers are all busy): a 503 with
    /// `Retry-After`. RFC 6749 names it for the authorization endpoint;
    /// clients treat it the same way here.
    TemporarilyUnavailable,
}

impl TokenErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

impl fmt::Display for TokenErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of the token, revocation or introspection endpoint.
#[derive(Debug)]
pub struct TokenError {
    pub code: TokenErrorCode,
    pub description: Option<Cow<'static, str>>,
    /// The client tried HTTP Basic: an `invalid_client` must then be a 401
    /// with a Basic challenge (RFC 6749 §5.2).
    pub basic_challenge: bool,
}

impl TokenError {
    pub fn new(code: TokenErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: Some(description.into()),
            basic_challenge: false,
        }
    }

    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(TokenErrorCode::InvalidRequest, d)
    }

    pub fn invalid_grant(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(TokenErrorCode::InvalidGrant, d)
    }

    pub fn invalid_scope(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(TokenErrorCode::InvalidScope, d)
    }

    pub fn unauthorized_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(TokenErrorCode::UnauthorizedClient, d)
    }

    pub fn invalid_client(basic: bool) -> Self {
        Self {
            code: TokenErrorCode::InvalidClient,
            description: Some("client authentication failed".into()),
            basic_challenge: basic,
        }
    }

    /// Logs the cause; the client sees only `server_error`.
    pub fn server(e: impl Into<anyhow::Error>) -> Self {
        let e = e.into();
        error!(error.cause_chain = ?e, error.message = %e, "token endpoint failure");
        Self {
            code: TokenErrorCode::ServerError,
            description: None,
            basic_challenge: false,
        }
    }
}

impl From<sea_orm::DbErr> for TokenError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::server(e)
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let status = match self.code {
            TokenErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            TokenErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            TokenErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut body = serde_json::Map::new();
        body.insert("error".into(), self.code.as_str().into());
        if let Some(d) = self.description {
            body.insert("error_description".into(), d.into_owned().into());
        }
        let mut resp = Response::builder()
            .status(status)
            .content_type("application/json")
            .header(CACHE_CONTROL, "no-store")
            .header(PRAGMA, "no-cache");
        if self.basic_challenge {
            resp = resp.header(WWW_AUTHENTICATE, r#"Basic realm="tollgate""#);
        }
        if self.code == TokenErrorCode::TemporarilyUnavailable {
            resp = resp.header(RETRY_AFTER, RETRY_AFTER_SECONDS);
        }
        resp.body(serde_json::Value::Object(body).to_string())
    }
}

/// RFC 6749 §4.1.2.1 error codes sent back to the client's redirect URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizeErrorCode {
    InvalidRequest,
    UnauthorizedClient,
    AccessDenied,
    UnsupportedResponseType,
    InvalidScope,
    ServerError,
    /// OIDC Core §3.1.2.6: `prompt=none`, and the person must sign in.
    LoginRequired,
    /// OIDC Core §3.1.2.6: `prompt=none`, and the person must consent.
    ConsentRequired,
}

impl AuthorizeErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
        }
    }
}

/// Authorization request errors that must not redirect, because the client
/// or its redirect URI is not trusted yet: a 400 page (RFC 6749 §4.1.2.1).
#[derive(Debug)]
pub enum AuthorizePageError {
    MissingClientId,
    UnknownClient,
    MissingRedirectUri,
    RedirectUriMismatch,
    Duplicate(&'static str),
}

impl IntoResponse for AuthorizePageError {
    fn into_response(self) -> Response {
        let message = match self {
            Self::MissingClientId => {
                "The request names no client (client_id is missing).".to_owned()
            }
            Self::UnknownClient => {
                "The application asking for access is not registered here.".to_owned()
            }
            Self::MissingRedirectUri => {
                "The request has no redirect_uri, and the application has several registered."
                    .to_owned()
            }
            Self::RedirectUriMismatch => {
                "The redirect_uri does not exactly match one the application registered.".to_owned()
            }
            Self::Duplicate(p) => format!("The parameter {p} appears more than once."),
        };
        error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in request cannot continue",
            &message,
        )
    }
}
