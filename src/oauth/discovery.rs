//! RFC 8414 metadata, the OpenID Provider metadata (OIDC Discovery §3:
//! the same members plus the OpenID ones), and the JWKS.

use poem::handler;
use poem::web::{Data, Json};
use serde_json::{Map, Value, json};

use super::{
    AUTHORIZE_PATH, INTROSPECT_PATH, JWKS_PATH, LOGOUT_PATH, REVOKE_PATH, TOKEN_PATH, USERINFO_PATH,
};
use crate::domain::{GrantType, ScopeSet};
use crate::state::AppState;

/// Every claim an ID token or the userinfo endpoint may hold.
pub const CLAIMS_SUPPORTED: [&str; 15] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "sid",
    "at_hash",
    "azp",
    "preferred_username",
    "name",
    "updated_at",
    "email",
    "email_verified",
];

/// `/.well-known/oauth-authorization-server`.
#[handler]
pub fn metadata(state: Data<&AppState>) -> Json<Value> {
    Json(Value::Object(oauth_metadata(&state)))
}

/// `/.well-known/openid-configuration`: every RFC 8414 member unchanged,
/// then the OpenID Provider ones.
#[handler]
pub fn openid_configuration(state: Data<&AppState>) -> Json<Value> {
    let mut document = oauth_metadata(&state);
    let issuer = state.settings.issuer_str();
    let openid = json!({
        "userinfo_endpoint": format!("{issuer}{USERINFO_PATH}"),
        "end_session_endpoint": format!("{issuer}{LOGOUT_PATH}"),
        "subject_types_supported": ["public"],
        // Discovery §3: RS256 "MUST be included".
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "claims_supported": CLAIMS_SUPPORTED,
        "prompt_values_supported": ["none", "login", "consent"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        // Discovery §3 makes request_uri_parameter_supported true when
        // absent; none of the three is supported, so each says so.
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    document.extend(members(openid));
    Json(Value::Object(document))
}

fn oauth_metadata(state: &AppState) -> Map<String, Value> {
    let issuer = state.settings.issuer_str();
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    members(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "revocation_endpoint": format!("{issuer}{REVOKE_PATH}"),
        "introspection_endpoint": format!("{issuer}{INTROSPECT_PATH}"),
        "scopes_supported": ScopeSet::all().to_vec(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": format!("{issuer}/docs"),
    }))
}

/// The members of a `json!` object literal.
fn members(object: Value) -> Map<String, Value> {
    match object {
        Value::Object(members) => members,
        _ => Map::new(),
    }
}

#[handler]
pub fn jwks(state: Data<&AppState>) -> Json<Value> {
    Json(state.keys.snapshot().jwks().clone())
}
