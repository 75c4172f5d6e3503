use poem_openapi::SecurityScheme;
use poem_openapi::auth::ApiKey;

use super::Principal;
use crate::api::ApiError;
use crate::domain::Scope;
use crate::state::AppState;

/// A static API key, created with `tollgate api-key create`. It acts for its
/// owner with its own scopes.
#[derive(SecurityScheme)]
#[oai(
    rename = "ApiKey",
    ty = "api_key",
    key_name = "X-API-Key",
    key_in = "header"
)]
pub struct ApiKeyAuth(ApiKey);

/// Every way to call the resource API. Extraction never fails: missing
/// credentials reach [`Credentials::require`], which answers with a proper
/// RFC 6750 401 instead of poem-openapi's bare text.
#[derive(SecurityScheme)]
pub enum Credentials {
    ApiKey(ApiKeyAuth),
    #[oai(fallback)]
    Missing,
}

impl Credentials {
    /// The caller's principal, if it holds `scope`; otherwise 401 (no or bad
    /// credentials) or 403 (valid, lacking the scope).
    pub async fn require(&self, state: &AppState, scope: Scope) -> Result<Principal, ApiError> {
        let principal = match self {
            Self::ApiKey(ApiKeyAuth(key)) => super::api_key::authenticate(state, &key.key).await?,
            Self::Missing => {
                return Err(ApiError::invalid_token(
                    "missing credentials: send an X-API-Key header",
                ));
            }
        };
        if !principal.has_scope(scope) {
            return Err(ApiError::insufficient_scope(scope));
        }
        Ok(principal)
    }
}
