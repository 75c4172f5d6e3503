//! RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6).

use tracing::info;

use crate::auth::Subject;
use crate::db::readers::inline_or;
use crate::domain::{GrantType, Scope, ScopeSet};
use crate::metrics::SecurityEvent;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::error::TokenError;
use crate::oauth::id_token::IdTokenRequest;
use crate::oauth::issue::{self, Issue, SignIn, TokenResponse};
use crate::oauth::params::Params;
use crate::oauth::pkce;
use crate::secrets::lookup_hash;
use crate::state::AppState;
use crate::store;

#[tracing::instrument(skip_all, fields(client_id = %client.id()))]
pub async fn exchange(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<TokenResponse, TokenError> {
    if !client.may_use(GrantType::AuthorizationCode) {
        return Err(TokenError::unauthorized_client(
            "this client may not use the authorization_code grant",
        ));
    }
    let code = params
        .get("code")
        .ok_or_else(|| TokenError::invalid_request("code is missing"))?;
    let now = state.clock.now();
    let code_hash = lookup_hash(code);
    let found = inline_or(
        state.readers.as_deref(),
        |r| r.code(&code_hash),
        store::codes::find(&state.db, &code_hash),
    )
    .await?;
    let Some((stored, user)) = found else {
        return Err(TokenError::invalid_grant("unknown authorization code"));
    };
    // RFC 6749 §4.1.3: "ensure that the authorization code was issued to
    // the authenticated confidential client, or ... public client".
    if stored.client_id != client.id() {
        return Err(TokenError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if stored.redeemed_at.is_some() {
        return Err(replayed(state, stored.grant_id).await);
    }
    if stored.expires_at <= now {
        return Err(TokenError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    // RFC 6749 §4.1.3: redirect_uri is "REQUIRED, if the redirect_uri
    // parameter was included in the authorization request ..., and their
    // values MUST be identical."
    match (&stored.redirect_uri, params.get("redirect_uri")) {
        (Some(_), None) => return Err(TokenError::invalid_request("redirect_uri is missing")),
        (Some(sent), Some(uri)) if sent != uri => {
            return Err(TokenError::invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        (None, Some(uri)) if !client.has_redirect_uri(uri) => {
            return Err(TokenError::invalid_grant("redirect_uri is not registered"));
        }
        _ => {}
    }
    match (&stored.code_challenge, params.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            if !pkce::verify_s256(verifier, challenge) {
                return Err(TokenError::invalid_grant("PKCE verification failed"));
            }
        }
        (Some(_), None) => return Err(TokenError::invalid_request("code_verifier is missing")),
        // RFC 9700 §2.1.1: a verifier without a challenge must be refused.
        (None, Some(_)) => {
            return Err(TokenError::invalid_grant(
                "no code_challenge was sent for this code",
            ));
        }
        (None, None) => {}
    }
    let user = user.ok_or_else(|| TokenError::invalid_grant("the user no longer exists"))?;
    if user.disabled_at.is_some() {
        return Err(TokenError::invalid_grant("the account is disabled"));
    }
    let scopes =
        ScopeSet::parse(&stored.scopes).map_err(|e| TokenError::server(anyhow::anyhow!(e)))?;

    // Tokens first, then the code: the refresh token row is written with
    // the redemption, and handed out only if this request wins. A loser's
    // tokens die with the grant it revokes.
    let sign_in = SignIn {
        session_hash: stored.session_hash.as_deref(),
        auth_time: stored.auth_time,
        sid: stored.sid.as_deref(),
    };
    // OIDC Core §3.1.3.3: an ID token when the grant holds `openid`.
    let id_token = scopes.contains(Scope::OpenId).then_some(IdTokenRequest {
        user: &user,
        alg: client.id_token_alg,
        nonce: stored.nonce.as_deref(),
        auth_time: sign_in.auth_time,
        sid: sign_in.sid,
    });
    let minted = issue::mint(
        state,
        Issue {
            subject: Subject::User {
                id: user.id,
                username: user.username.clone(),
            },
            user_id: Some(user.id),
            client_id: client.id(),
            scopes: &scopes,
            refresh_scopes: client.may_use(GrantType::RefreshToken).then_some(&scopes),
            grant_id: stored.grant_id,
            sign_in,
            id_token,
        },
        now,
    )?;
    // One conditional UPDATE: of any number of concurrent redemptions,
    // exactly one wins (and none once logout expired the code).
    let won = match &state.writer {
        Some(writer) => {
            writer
                .redeem_code(code_hash, now, minted.refresh_row)
                .await?
        }
        None => {
            store::codes::redeem_storing(&state.db, &code_hash, now, minted.refresh_row).await?
        }
    };
    if !won {
        return Err(replayed(state, stored.grant_id).await);
    }
    info!(grant_id = %stored.grant_id, "authorization code redeemed");
    Ok(minted.response)
}

/// RFC 6749 §4.1.2: "If an authorization code is used more than once, the
/// authorization server MUST deny the request and SHOULD revoke (when
/// possible) all tokens previously issued based on that authorization code."
async fn replayed(state: &AppState, grant_id: uuid::Uuid) -> TokenError {
    issue::refuse_replay(
        state,
        SecurityEvent::CodeReplayed,
        grant_id,
        "the authorization code was already used",
    )
    .await
}
