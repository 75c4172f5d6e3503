//! RFC 6749 §4.4: a confidential client acting on its own behalf.

use uuid::Uuid;

use super::requested_scopes;
use crate::auth::Subject;
use crate::domain::{GrantType, Scope, ScopeSet};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::error::TokenError;
use crate::oauth::issue::{self, Issue, SignIn, TokenResponse};
use crate::oauth::params::Params;
use crate::state::AppState;

#[tracing::instrument(skip_all, fields(client_id = %client.id()))]
pub async fn exchange(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<TokenResponse, TokenError> {
    // RFC 6749 §4.4: "MUST only be used by confidential clients."
    if client.is_public() || !client.may_use(GrantType::ClientCredentials) {
        return Err(TokenError::unauthorized_client(
            "this client may not use the client_credentials grant",
        ));
    }
    let scopes = scopes_without_a_user(params, &client.scopes)?;
    // RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included."
    issue::issue(
        state,
        &state.db,
        Issue {
            subject: Subject::Client {
                client_id: client.id().to_owned(),
            },
            user_id: None,
            client_id: client.id(),
            scopes: &scopes,
            refresh_scopes: None,
            grant_id: Uuid::now_v7(),
            sign_in: SignIn::default(),
            id_token: None,
        },
        state.clock.now(),
    )
    .await
}

/// The requested scopes, none of them about a person. OIDC Core §3.1.2.1
/// makes `openid` a request to authenticate an End-User; this grant has
/// none to authenticate, nor a profile or email to share. Asked for, they
/// are refused by name; by default, they are left out.
fn scopes_without_a_user(params: &Params, allowed: &ScopeSet) -> Result<ScopeSet, TokenError> {
    let requested = params
        .get("scope")
        .and_then(|raw| ScopeSet::parse(raw).ok());
    if let Some(scope) = requested
        .iter()
        .flat_map(ScopeSet::iter)
        .find(|s| s.is_identity())
    {
        return Err(TokenError::invalid_scope(format!(
            "the {scope} scope needs a user, and client_credentials has none"
        )));
    }
    let identity: ScopeSet = Scope::ALL.into_iter().filter(|s| s.is_identity()).collect();
    let scopes = requested_scopes(params, &allowed.without(&identity))?;
    if scopes.is_empty() {
        return Err(TokenError::invalid_scope(
            "this client has no scope it may use without a user",
        ));
    }
    Ok(scopes)
}
