//! RFC 8414 metadata (also served at the OpenID path) and the JWKS.

use poem::handler;
use poem::web::{Data, Json};
use serde_json::{Value, json};

use super::{AUTHORIZE_PATH, INTROSPECT_PATH, JWKS_PATH, REVOKE_PATH, TOKEN_PATH};
use crate::domain::{GrantType, ScopeSet};
use crate::state::AppState;

#[handler]
pub fn metadata(state: Data<&AppState>) -> Json<Value> {
    let issuer = state.settings.issuer_str();
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "revocation_endpoint": format!("{issuer}{REVOKE_PATH}"),
        "introspection_endpoint": format!("{issuer}{INTROSPECT_PATH}"),
        "scopes_supported": ScopeSet::all().to_vec(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": format!("{issuer}/docs"),
    }))
}

#[handler]
pub fn jwks(state: Data<&AppState>) -> Json<Value> {
    Json(state.keys.snapshot().jwks().clone())
}
