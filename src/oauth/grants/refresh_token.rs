//! RFC 6749 §6 with rotation: every use returns a new refresh token, and a
//! reused one revokes its whole family (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).

use super::requested_scopes;
use crate::auth::Subject;
use crate::domain::{GrantType, Scope, ScopeSet};
use crate::metrics::SecurityEvent;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::error::TokenError;
use crate::oauth::id_token::IdTokenRequest;
use crate::oauth::issue::{self, Issue, SignIn, TokenResponse};
use crate::oauth::params::Params;
use crate::secrets::lookup_hash;
use crate::state::AppState;
use crate::store;

#[tracing::instrument(skip_all, fields(client_id = %client.id()))]
pub async fn exchange(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<TokenResponse, TokenError> {
    if !client.may_use(GrantType::RefreshToken) {
        return Err(TokenError::unauthorized_client(
            "this client may not use the refresh_token grant",
        ));
    }
    let presented = params
        .get("refresh_token")
        .ok_or_else(|| TokenError::invalid_request("refresh_token is missing"))?;
    let now = state.clock.now();
    let hash = lookup_hash(presented);
    let Some(stored) = store::refresh_tokens::find(&state.db, &hash).await? else {
        return Err(TokenError::invalid_grant("unknown refresh token"));
    };
    if stored.client_id != client.id() {
        return Err(TokenError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if stored.revoked_at.is_some()
        || store::revocations::exists(&state.db, &stored.grant_id.to_string()).await?
    {
        return Err(TokenError::invalid_grant(
            "the refresh token has been revoked",
        ));
    }
    if stored.used_at.is_some() {
        return Err(reused(state, stored.grant_id).await);
    }
    if stored.expires_at <= now {
        return Err(TokenError::invalid_grant("the refresh token has expired"));
    }
    let original =
        ScopeSet::parse(&stored.scopes).map_err(|e| TokenError::server(anyhow::anyhow!(e)))?;
    // RFC 6749 §6: a narrower scope may be asked, never a wider one.
    let scopes = requested_scopes(params, &original)?;
    let user = match stored.user_id {
        Some(user_id) => {
            let user = store::users::find(&state.db, user_id)
                .await?
                .ok_or_else(|| TokenError::invalid_grant("the user no longer exists"))?;
            if user.disabled_at.is_some() {
                return Err(TokenError::invalid_grant("the account is disabled"));
            }
            Some(user)
        }
        None => None,
    };
    let subject = match &user {
        Some(user) => Subject::User {
            id: user.id,
            username: user.username.clone(),
        },
        None => Subject::Client {
            client_id: stored.client_id.clone(),
        },
    };
    // The rotated token keeps its family's sign-in: logout still reaches
    // it, and the ID token below keeps the first `auth_time`.
    let sign_in = SignIn {
        session_hash: stored.session_hash.as_deref(),
        auth_time: stored.auth_time,
        sid: stored.sid.as_deref(),
    };
    // OIDC Core §12.2: a refresh may return a new ID token; its `sub` and
    // `auth_time` are the original's, and it carries no `nonce`.
    let id_token = match &user {
        Some(user) if scopes.contains(Scope::OpenId) => Some(IdTokenRequest {
            user,
            alg: client.id_token_alg,
            nonce: None,
            auth_time: sign_in.auth_time,
            sid: sign_in.sid,
        }),
        _ => None,
    };

    // New tokens first, then the old one spent, as in the code grant: a
    // loser's new refresh token dies with the family it revokes.
    let response = issue::issue(
        state,
        &state.db,
        Issue {
            subject,
            user_id: stored.user_id,
            client_id: client.id(),
            scopes: &scopes,
            refresh_scopes: Some(&original),
            grant_id: stored.grant_id,
            sign_in,
            id_token,
        },
        now,
    )
    .await?;
    // One conditional UPDATE: of concurrent presentations of one token,
    // exactly one wins. RFC 9700 §4.14.2: a rotated token presented again
    // means "the authorization server cannot determine which party
    // submitted the invalid refresh token ... will revoke the active
    // refresh token". A loser here is such a presentation, so it revokes
    // the family, the winner's fresh tokens included.
    if !store::refresh_tokens::mark_used(&state.db, &hash, now).await? {
        return Err(reused(state, stored.grant_id).await);
    }
    Ok(response)
}

async fn reused(state: &AppState, grant_id: uuid::Uuid) -> TokenError {
    issue::refuse_replay(
        state,
        SecurityEvent::RefreshTokenReused,
        grant_id,
        "the refresh token was already used",
    )
    .await
}
