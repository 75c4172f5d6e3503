//! POST /oauth/token (RFC 6749 §3.2): parse, authenticate the client, and
//! hand over to the grant's own module.

use poem::http::header::CONTENT_TYPE;
use poem::web::{Data, Json};
use poem::{Body, IntoResponse, Request, Response, handler};

use super::client_auth::{self, AuthenticatedClient};
use super::error::{TokenError, TokenErrorCode};
use super::grants;
use super::params::Params;
use crate::state::AppState;

/// Form bodies larger than this are refused: no legitimate one comes near.
const MAX_FORM_BYTES: usize = 16 * 1024;

#[handler]
pub async fn token(req: &Request, body: Body, state: Data<&AppState>) -> Response {
    match handle(req, body, &state).await {
        Ok(resp) => Json(resp).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(
    req: &Request,
    body: Body,
    state: &AppState,
) -> Result<super::issue::TokenResponse, TokenError> {
    let (params, client) = authenticated_form(state, req, body).await?;
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| TokenError::invalid_request("grant_type is missing"))?;
    match grant_type {
        "authorization_code" => grants::authorization_code::exchange(state, &client, &params).await,
        "refresh_token" => grants::refresh_token::exchange(state, &client, &params).await,
        "client_credentials" => grants::client_credentials::exchange(state, &client, &params).await,
        "password" => grants::password::exchange(state, &client, &params).await,
        other => Err(TokenError::new(
            TokenErrorCode::UnsupportedGrantType,
            format!("unsupported grant_type '{other}'"),
        )),
    }
}

/// The start of every client-authenticated endpoint: the form, read; the
/// client, authenticated; no parameter twice (RFC 6749 §3.2).
pub async fn authenticated_form(
    state: &AppState,
    req: &Request,
    body: Body,
) -> Result<(Params, AuthenticatedClient), TokenError> {
    let params = read_form(req, body).await?;
    let client = client_auth::authenticate(state, req.headers(), &params).await?;
    if let Some(name) = params.duplicate() {
        return Err(TokenError::invalid_request(format!(
            "{name} was sent more than once"
        )));
    }
    Ok((params, client))
}

/// Reads an `application/x-www-form-urlencoded` body (RFC 6749 §3.2).
pub async fn read_form(req: &Request, body: Body) -> Result<Params, TokenError> {
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(TokenError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let bytes = body
        .into_bytes_limit(MAX_FORM_BYTES)
        .await
        .map_err(|_| TokenError::invalid_request("the request body is too large or unreadable"))?;
    Ok(Params::parse(&bytes))
}
