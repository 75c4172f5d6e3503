//! POST /oauth/introspect (RFC 7662).

use poem::web::{Data, Json};
use poem::{Body, IntoResponse, Request, Response, handler};
use serde_json::{Value, json};

use super::client_auth::{AuthenticatedClient, authenticated_form};
use super::error::TokenError;
use crate::auth::access_token::{self, audience};
use crate::secrets::lookup_hash;
use crate::state::AppState;
use crate::store;

#[handler]
pub async fn introspect(req: &Request, body: Body, state: Data<&AppState>) -> Response {
    match handle(req, body, &state).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(req: &Request, body: Body, state: &AppState) -> Result<Value, TokenError> {
    let (params, client) = authenticated_form(state, req, body).await?;
    let token = params
        .get("token")
        .ok_or_else(|| TokenError::invalid_request("token is missing"))?;
    if let Some(v) = refresh_token(state, &client, token).await? {
        return Ok(v);
    }
    Ok(access(state, &client, token).await.unwrap_or_else(inactive))
}

fn inactive() -> Value {
    json!({ "active": false })
}

/// A client may introspect its own tokens; only a registered resource
/// server (`client create --introspect`) may introspect others'. Others see
/// `active: false`, which reveals nothing (RFC 7662 §2.2).
fn may_see(client: &AuthenticatedClient, token_client: &str) -> bool {
    client.id() == token_client || client.can_introspect
}

async fn access(state: &AppState, client: &AuthenticatedClient, token: &str) -> Option<Value> {
    let claims = access_token::verify(&state.auth, token).await.ok()?;
    if !may_see(client, &claims.client_id) {
        return None;
    }
    let mut v = json!({
        "active": true,
        "scope": claims.scope,
        "client_id": claims.client_id,
        "token_type": "Bearer",
        "exp": claims.exp,
        "iat": claims.iat,
        "nbf": claims.nbf,
        "sub": claims.sub,
        "aud": audience(state.settings.issuer_str()),
        "iss": claims.iss,
        "jti": claims.jti,
    });
    if let Some(name) = claims.preferred_username {
        v["username"] = name.into();
    }
    Some(v)
}

async fn refresh_token(
    state: &AppState,
    client: &AuthenticatedClient,
    token: &str,
) -> Result<Option<Value>, TokenError> {
    let Some(stored) = store::refresh_tokens::find(&state.db, &lookup_hash(token)).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let live = stored.revoked_at.is_none()
        && stored.used_at.is_none()
        && stored.expires_at > now
        && !state.denylist.is_revoked(&stored.grant_id.to_string());
    if !live || !may_see(client, &stored.client_id) {
        return Ok(Some(inactive()));
    }
    let mut v = json!({
        "active": true,
        "scope": stored.scopes,
        "client_id": stored.client_id,
        "token_type": "refresh_token",
        "exp": stored.expires_at.timestamp(),
        "iat": stored.created_at.timestamp(),
        "iss": state.settings.issuer_str(),
    });
    match stored.user_id {
        Some(user_id) => {
            v["sub"] = user_id.to_string().into();
            if let Some(user) = store::users::find(&state.db, user_id).await? {
                v["username"] = user.username.into();
            }
        }
        None => v["sub"] = stored.client_id.clone().into(),
    }
    Ok(Some(v))
}
