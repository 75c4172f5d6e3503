//! The token response every grant ends with (RFC 6749 §5.1).

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use tracing::warn;
use uuid::Uuid;

use super::error::TokenError;
use super::id_token::{self, IdTokenRequest};
use crate::auth::Subject;
use crate::auth::access_token;
use crate::domain::ScopeSet;
use crate::metrics::SecurityEvent;
use crate::secrets::{TokenKind, generate_token, lookup_hash};
use crate::state::AppState;
use crate::store;

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
    /// OIDC Core §3.1.3.3: beside the access token when `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// How and when the person signed in, as far as the grant knows: carried
/// from the code onto every refresh token of the grant, rotation included.
#[derive(Clone, Copy, Debug, Default)]
pub struct SignIn<'a> {
    /// The browser session's id hash: ending the session revokes the
    /// grant (`web::session::revoke_grants`).
    pub session_hash: Option<&'a str>,
    /// OIDC `auth_time`: kept, so a refreshed ID token says the same.
    pub auth_time: Option<DateTime<Utc>>,
    /// OIDC `sid`: the session's public id.
    pub sid: Option<&'a str>,
}

/// What a grant decided to issue.
pub struct Issue<'a> {
    pub subject: Subject,
    pub user_id: Option<Uuid>,
    pub client_id: &'a str,
    /// Scopes of the access token.
    pub scopes: &'a ScopeSet,
    /// Scopes of the new refresh token, when one is issued. RFC 6749 §6:
    /// a rotated refresh token keeps the scope of the one it replaces.
    pub refresh_scopes: Option<&'a ScopeSet>,
    pub grant_id: Uuid,
    pub sign_in: SignIn<'a>,
    /// An ID token to issue too, bound to the new access token.
    pub id_token: Option<IdTokenRequest<'a>>,
}

/// Issues the tokens a grant decided on ([`mint`]) and stores the refresh
/// token row (it remembers the sign-in) before they can go out.
pub async fn issue(
    state: &AppState,
    db: &impl ConnectionTrait,
    issue: Issue<'_>,
    now: DateTime<Utc>,
) -> Result<TokenResponse, TokenError> {
    let minted = mint(state, issue, now)?;
    if let Some(row) = minted.refresh_row {
        store::refresh_tokens::insert(db, row).await?;
    }
    Ok(minted.response)
}

/// Tokens made but not yet stored: the response may go out only once
/// `refresh_row` is written.
pub struct Minted {
    pub response: TokenResponse,
    pub refresh_row: Option<entity::refresh_token::Model>,
}

/// Makes the tokens a grant decided on, without touching the database, so
/// that a grant can store the refresh token in the same round trip as its
/// own write.
pub fn mint(state: &AppState, issue: Issue<'_>, now: DateTime<Utc>) -> Result<Minted, TokenError> {
    let refresh = issue.refresh_scopes.map(|scopes| {
        let token = generate_token(TokenKind::RefreshToken);
        let row = entity::refresh_token::Model {
            token_hash: lookup_hash(token.secret()),
            grant_id: issue.grant_id,
            client_id: issue.client_id.to_owned(),
            user_id: issue.user_id,
            scopes: scopes.to_string(),
            created_at: now,
            expires_at: now + state.settings.refresh_token_ttl,
            used_at: None,
            revoked_at: None,
            session_hash: issue.sign_in.session_hash.map(str::to_owned),
            auth_time: issue.sign_in.auth_time,
            sid: issue.sign_in.sid.map(str::to_owned),
        };
        (token.secret().to_owned(), row)
    });
    let access = access_token::issue(
        &state.auth,
        &issue.subject,
        issue.client_id,
        issue.scopes,
        issue.grant_id,
        now,
    )
    .map_err(TokenError::server)?;
    let id_token = match &issue.id_token {
        None => None,
        Some(request) => {
            let keys = state.keys.snapshot();
            let issuer = id_token::Issuer {
                keys: &keys,
                iss: state.settings.issuer_str(),
                ttl: state.settings.access_token_ttl,
            };
            let token = id_token::mint(
                &issuer,
                request,
                issue.client_id,
                issue.scopes,
                &access.token,
                now,
            )
            .map_err(TokenError::server)?;
            Some(token)
        }
    };
    let (refresh_token, refresh_row) = refresh.unzip();
    Ok(Minted {
        response: TokenResponse {
            access_token: access.token,
            token_type: "Bearer",
            expires_in: (access.expires_at - now).num_seconds(),
            refresh_token,
            scope: issue.scopes.to_string(),
            id_token,
        },
        refresh_row,
    })
}

/// Revokes everything a grant issued: its refresh tokens, and (through the
/// denylist) its access tokens.
pub async fn revoke_grant(
    state: &AppState,
    db: &impl ConnectionTrait,
    grant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), TokenError> {
    store::refresh_tokens::revoke_grant(db, grant_id, now).await?;
    let until = access_token::accepted_until(now, state.settings.access_token_ttl);
    state
        .denylist
        .revoke(db, &grant_id.to_string(), until, now)
        .await?;
    Ok(())
}

/// A replayed code or reused refresh token: revoke its grant and refuse.
/// A security event: logged at `warn` and counted.
pub async fn refuse_replay(
    state: &AppState,
    event: SecurityEvent,
    grant_id: Uuid,
    description: &'static str,
) -> TokenError {
    warn!(event = event.as_str(), %grant_id, "{description}; revoking the grant");
    state.metrics.security_event(event);
    match revoke_grant(state, &state.db, grant_id, state.clock.now()).await {
        Ok(()) => TokenError::invalid_grant(description),
        Err(e) => e,
    }
}
