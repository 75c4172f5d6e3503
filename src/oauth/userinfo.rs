//! GET and POST /oauth/userinfo (OIDC Core §5.3): the claims an access
//! token holding `openid` may read about its user, read from the user row
//! now, so a changed name or address shows at once.

use poem::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use poem::http::{Method, StatusCode};
use poem::web::{Data, Json};
use poem::{Body, IntoResponse, Request, Response, handler};
use serde::Serialize;
use tracing::debug;
use uuid::Uuid;

use super::claims::UserClaims;
use super::params::Params;
use crate::auth::{self, Subject, access_token};
use crate::domain::{Scope, ScopeSet};
use crate::state::AppState;
use crate::store;

/// A form carrying one token comes nowhere near this.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// OIDC Core §5.3.2: `sub` and the claims the token's scopes allow.
#[derive(Serialize)]
struct UserInfo {
    sub: String,
    #[serde(flatten)]
    claims: UserClaims,
}

/// Why a request was refused: an RFC 6750 §3 challenge.
#[derive(Debug)]
enum Refusal {
    /// §3.1: a request without credentials gets a bare challenge, no error.
    NoCredentials,
    /// 400 `invalid_request`.
    InvalidRequest(&'static str),
    /// 401 `invalid_token`.
    InvalidToken(&'static str),
    /// 403 `insufficient_scope`.
    InsufficientScope,
    /// 500, logged.
    Internal(anyhow::Error),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, error, description) = match self {
            Self::NoCredentials => {
                let body = serde_json::json!({
                    "error_description": "send the access token as Authorization: Bearer",
                });
                return Response::builder()
                    .status(StatusCode::UNAUTHORIZED)
                    .header(WWW_AUTHENTICATE, r#"Bearer realm="tollgate""#)
                    .content_type("application/json")
                    .body(body.to_string());
            }
            Self::InvalidRequest(d) => (StatusCode::BAD_REQUEST, "invalid_request", d),
            Self::InvalidToken(d) => (StatusCode::UNAUTHORIZED, "invalid_token", d),
            Self::InsufficientScope => (
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "the access token does not hold the openid scope",
            ),
            Self::Internal(e) => {
                tracing::error!(error.cause_chain = ?e, error.message = %e, "userinfo failure");
                return Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .content_type("application/json")
                    .body(r#"{"error":"server_error"}"#);
            }
        };
        let mut challenge = format!(
            r#"Bearer realm="tollgate", error="{error}", error_description="{description}""#
        );
        if error == "insufficient_scope" {
            challenge.push_str(r#", scope="openid""#);
        }
        let body = serde_json::json!({ "error": error, "error_description": description });
        Response::builder()
            .status(status)
            .header(WWW_AUTHENTICATE, challenge)
            .content_type("application/json")
            .body(body.to_string())
    }
}

impl From<sea_orm::DbErr> for Refusal {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

#[handler]
pub async fn userinfo(req: &Request, body: Body, state: Data<&AppState>) -> Response {
    match handle(req, body, &state).await {
        Ok(info) => Json(info).into_response(),
        Err(refusal) => {
            debug!(?refusal, "userinfo request refused");
            refusal.into_response()
        }
    }
}

async fn handle(req: &Request, body: Body, state: &AppState) -> Result<UserInfo, Refusal> {
    let token = bearer_token(req, body).await?;
    let claims = access_token::verify(&state.auth, &token)
        .await
        .map_err(|r| Refusal::InvalidToken(r.describe()))?;
    let scopes = ScopeSet::parse(&claims.scope)
        .map_err(|_| Refusal::InvalidToken("the access token has an unknown scope"))?;
    // OIDC Core §5.3: the access token is one "obtained through OpenID
    // Connect Authentication".
    if !scopes.contains(Scope::OpenId) {
        return Err(Refusal::InsufficientScope);
    }
    let user_id = Uuid::parse_str(&claims.sub)
        .map_err(|_| Refusal::InvalidToken("the access token is not for a user"))?;
    let Some(user) = store::users::find(&state.db, user_id).await? else {
        return Err(Refusal::InvalidToken("the user no longer exists"));
    };
    auth::record_principal(&Subject::User {
        id: user.id,
        username: user.username.clone(),
    });
    Ok(UserInfo {
        sub: claims.sub,
        claims: UserClaims::of(&user, &scopes),
    })
}

/// The token from `Authorization: Bearer`, or, for a POST, from the form
/// body's `access_token` (RFC 6750 §2.1, §2.2).
async fn bearer_token(req: &Request, body: Body) -> Result<String, Refusal> {
    let header = match req.headers().get(AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| Refusal::InvalidRequest("the Authorization header is not text"))?;
            match value.split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                    Some(token.trim().to_owned())
                }
                // RFC 6750 §3: another scheme is a request without
                // (usable) credentials: a bare challenge.
                _ => return Err(Refusal::NoCredentials),
            }
        }
    };
    let form = if req.method() == Method::POST && is_form(req) {
        let bytes = body
            .into_bytes_limit(MAX_FORM_BYTES)
            .await
            .map_err(|_| Refusal::InvalidRequest("the request body is too large or unreadable"))?;
        let params = Params::parse(&bytes);
        if params
            .duplicate()
            .is_some_and(|name| name == "access_token")
        {
            return Err(Refusal::InvalidRequest(
                "access_token was sent more than once",
            ));
        }
        params.get("access_token").map(str::to_owned)
    } else {
        None
    };
    match (header, form) {
        // RFC 6750 §2: "Clients MUST NOT use more than one method to
        // transmit the token in each request."
        (Some(_), Some(_)) => Err(Refusal::InvalidRequest(
            "send the access token once, in the header or the body",
        )),
        (Some(token), None) | (None, Some(token)) if !token.is_empty() => Ok(token),
        (Some(_), None) => Err(Refusal::InvalidToken("the bearer token is empty")),
        _ => Err(Refusal::NoCredentials),
    }
}

fn is_form(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}
