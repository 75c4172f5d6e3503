//! RFC 6749 §4.4: a confidential client acting on its own behalf.

use uuid::Uuid;

use super::requested_scopes;
use crate::auth::Subject;
use crate::domain::GrantType;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::error::TokenError;
use crate::oauth::issue::{self, Issue, TokenResponse};
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
    let scopes = requested_scopes(params, &client.scopes)?;
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
            grant_id: Uuid::new_v4(),
        },
        state.clock.now(),
    )
    .await
}
