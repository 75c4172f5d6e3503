//! The authorization server: discovery, authorize (with login and consent
//! pages), token, revocation, introspection and JWKS.

mod authorize;
mod client_auth;
mod consent;
mod discovery;
pub mod error;
mod grants;
mod introspect;
mod issue;
mod login;
mod logout;
mod params;
pub mod pkce;
mod revoke;
mod token;

use poem::http::header::{CACHE_CONTROL, PRAGMA};
use poem::middleware::{CookieJarManager, SetHeader};
use poem::{EndpointExt, Route, get, post};

pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
pub const TOKEN_PATH: &str = "/oauth/token";
pub const REVOKE_PATH: &str = "/oauth/revoke";
pub const INTROSPECT_PATH: &str = "/oauth/introspect";
pub const JWKS_PATH: &str = "/oauth/jwks";
pub const LOGOUT_PATH: &str = "/oauth/logout";

/// A client by id, from the cache when fresh (registrations change only
/// through the command line).
pub(crate) async fn find_client(
    state: &crate::state::AppState,
    client_id: &str,
) -> Result<Option<std::sync::Arc<entity::client::Model>>, sea_orm::DbErr> {
    if let Some(c) = state.client_cache.get(client_id) {
        return Ok(Some(c));
    }
    let Some(client) = crate::store::clients::find(&state.db, client_id).await? else {
        return Ok(None);
    };
    let client = std::sync::Arc::new(client);
    state.client_cache.insert(client_id, client.clone());
    Ok(Some(client))
}

/// Adds every OAuth route. Token-bearing answers are never cached.
pub fn routes(route: Route) -> Route {
    let no_store = || {
        SetHeader::new()
            .overriding(CACHE_CONTROL, "no-store")
            .overriding(PRAGMA, "no-cache")
    };
    route
        .at(
            "/.well-known/oauth-authorization-server",
            get(discovery::metadata),
        )
        .at(
            "/.well-known/openid-configuration",
            get(discovery::metadata),
        )
        .at(JWKS_PATH, get(discovery::jwks))
        .at(
            AUTHORIZE_PATH,
            get(authorize::get)
                .post(authorize::post)
                .with(CookieJarManager::new()),
        )
        .at(
            LOGOUT_PATH,
            get(logout::get)
                .post(logout::post)
                .with(CookieJarManager::new()),
        )
        .at(TOKEN_PATH, post(token::token).with(no_store()))
        .at(REVOKE_PATH, post(revoke::revoke).with(no_store()))
        .at(
            INTROSPECT_PATH,
            post(introspect::introspect).with(no_store()),
        )
}
