//! RFC 6749 §6 with rotation: every use returns a new refresh token, and a
//! reused one revokes its whole family (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).

use super::requested_scopes;
use crate::auth::Subject;
use crate::domain::{GrantType, ScopeSet};
use crate::metrics::SecurityEvent;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::error::TokenError;
use crate::oauth::issue::{self, Issue, TokenResponse};
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
    let subject = match stored.user_id {
        Some(user_id) => {
            let user = store::users::find(&state.db, user_id)
                .await?
                .ok_or_else(|| TokenError::invalid_grant("the user no longer exists"))?;
            Subject::User {
                id: user.id,
                username: user.username,
            }
        }
        None => Subject::Client {
            client_id: stored.client_id.clone(),
        },
    };

    // New tokens first, then the old one spent, as in the code grant: a
    // loser's new refresh token dies with the family it revokes.
    // The rotated token stays in its family's session, so that logout
    // still reaches it.
    let response = issue::issue_in_session(
        state,
        &state.db,
        Issue {
            subject,
            user_id: stored.user_id,
            client_id: client.id(),
            scopes: &scopes,
            refresh_scopes: Some(&original),
            grant_id: stored.grant_id,
        },
        stored.session_hash.as_deref(),
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
