//! POST /oauth/revoke (RFC 7009).

use chrono::DateTime;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, IntoResponse, Request, Response, handler};
use tracing::info;

use super::client_auth::{AuthenticatedClient, authenticated_form};
use super::error::{TokenError, TokenErrorCode};
use super::issue;
use crate::auth::access_token::{self, LEEWAY, Rejection};
use crate::secrets::lookup_hash;
use crate::state::AppState;
use crate::store;

#[handler]
pub async fn revoke(req: &Request, body: Body, state: Data<&AppState>) -> Response {
    match handle(req, body, &state).await {
        // RFC 7009 §2.2: 200 whether or not the token was valid.
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(req: &Request, body: Body, state: &AppState) -> Result<(), TokenError> {
    let (params, client) = authenticated_form(state, req, body).await?;
    let token = params
        .get("token")
        .ok_or_else(|| TokenError::invalid_request("token is missing"))?;
    match params.get("token_type_hint") {
        None | Some("access_token" | "refresh_token") => {}
        Some(other) => {
            return Err(TokenError::new(
                TokenErrorCode::UnsupportedTokenType,
                format!("unsupported token_type_hint '{other}'"),
            ));
        }
    }
    // The hint only orders the lookups; both kinds are tried.
    if revoke_refresh_token(state, &client, token).await? {
        return Ok(());
    }
    revoke_access_token(state, &client, token).await
}

/// RFC 7009 §2.1: revoking a refresh token also invalidates the access
/// tokens of the same grant.
async fn revoke_refresh_token(
    state: &AppState,
    client: &AuthenticatedClient,
    token: &str,
) -> Result<bool, TokenError> {
    let Some(stored) = store::refresh_tokens::find(&state.db, &lookup_hash(token)).await? else {
        return Ok(false);
    };
    ensure_owner(client, &stored.client_id)?;
    issue::revoke_grant(state, &state.db, stored.grant_id, state.clock.now()).await?;
    info!(grant_id = %stored.grant_id, "refresh token revoked with its grant");
    Ok(true)
}

async fn revoke_access_token(
    state: &AppState,
    client: &AuthenticatedClient,
    token: &str,
) -> Result<(), TokenError> {
    let claims = match access_token::verify(&state.auth, token).await {
        Ok(claims) => claims,
        // Invalid, expired or already revoked: nothing to do.
        Err(
            Rejection::Malformed
            | Rejection::UnknownKey
            | Rejection::BadSignature
            | Rejection::Expired
            | Rejection::NotYetValid
            | Rejection::Revoked,
        ) => return Ok(()),
    };
    ensure_owner(client, &claims.client_id)?;
    let now = state.clock.now();
    let until = DateTime::from_timestamp(claims.exp, 0).unwrap_or(now) + LEEWAY;
    state
        .denylist
        .revoke(&state.db, &claims.jti, until, now)
        .await?;
    info!(jti = %claims.jti, "access token revoked");
    Ok(())
}

/// RFC 7009 §2.1: the server "verifies whether the token was issued to the
/// client making the revocation request. If this validation fails, the
/// request is refused".
fn ensure_owner(client: &AuthenticatedClient, token_client: &str) -> Result<(), TokenError> {
    if token_client == client.id() {
        Ok(())
    } else {
        Err(TokenError::unauthorized_client(
            "the token was not issued to this client",
        ))
    }
}
