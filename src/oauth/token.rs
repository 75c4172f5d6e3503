//! POST /oauth/token (RFC 6749 §3.2): parse, authenticate the client, and
//! hand over to the grant's own module.

use poem::web::{Data, Json};
use poem::{Body, IntoResponse, Request, Response, handler};

use super::client_auth::authenticated_form;
use super::error::{TokenError, TokenErrorCode};
use super::grants;
use crate::state::AppState;

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
        "password" => {
            let address = req.remote_addr().as_socket_addr().map(|a| a.ip());
            grants::password::exchange(state, &client, &params, address).await
        }
        other => Err(TokenError::new(
            TokenErrorCode::UnsupportedGrantType,
            format!("unsupported grant_type '{other}'"),
        )),
    }
}
