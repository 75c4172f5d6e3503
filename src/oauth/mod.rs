//! The authorization server: discovery, authorize (with login and consent
//! pages), token, revocation, introspection and JWKS.

mod authorize;
mod claims;
mod client_auth;
mod discovery;
pub mod error;
mod grants;
pub mod id_token;
mod introspect;
mod issue;
mod logout;
mod params;
pub mod pkce;
mod revoke;
mod throttle;
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
