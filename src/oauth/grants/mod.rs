//! One module per grant; each reads as a checklist.

pub mod authorization_code;
pub mod client_credentials;
pub mod password;
pub mod refresh_token;

use super::error::TokenError;
use super::params::Params;
use crate::domain::ScopeSet;

/// The `scope` parameter, within `allowed`; absent means all of `allowed`.
pub fn requested_scopes(params: &Params, allowed: &ScopeSet) -> Result<ScopeSet, TokenError> {
    let Some(raw) = params.get("scope") else {
        return Ok(allowed.clone());
    };
    let requested = ScopeSet::parse(raw).map_err(|e| TokenError::invalid_scope(e.0))?;
    if !requested.is_subset(allowed) {
        return Err(TokenError::invalid_scope(
            "the requested scope exceeds what this client or grant allows",
        ));
    }
    if requested.is_empty() {
        return Err(TokenError::invalid_scope("no scope requested"));
    }
    Ok(requested)
}
