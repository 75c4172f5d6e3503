//! The authorization server and OpenID Provider: discovery, authorize
//! (with login and consent pages), token, userinfo, revocation,
//! introspection, JWKS and logout.

mod authorize;
mod claims;
mod client_auth;
pub mod cors;
mod discovery;
pub mod error;
mod grants;
pub mod id_token;
mod introspect;
mod issue;
mod login;
mod logout;
mod params;
pub mod pkce;
mod revoke;
mod token;
mod userinfo;

use std::sync::Arc;

use poem::http::header::{CACHE_CONTROL, PRAGMA};
use poem::middleware::{CookieJarManager, SetHeader};
use poem::{EndpointExt, Route, get, post};

pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
pub const TOKEN_PATH: &str = "/oauth/token";
pub const REVOKE_PATH: &str = "/oauth/revoke";
pub const INTROSPECT_PATH: &str = "/oauth/introspect";
pub const JWKS_PATH: &str = "/oauth/jwks";
pub const LOGOUT_PATH: &str = "/oauth/logout";
pub const USERINFO_PATH: &str = "/oauth/userinfo";

/// Adds every OAuth route. Token-bearing answers are never cached. A
/// browser app may call the token and userinfo endpoints from the origin
/// of a public client's redirect URI, and read the public documents from
/// anywhere (`cors`).
pub fn routes(route: Route, origins: Arc<crate::origins::PublicClientOrigins>) -> Route {
    let no_store = || {
        SetHeader::new()
            .overriding(CACHE_CONTROL, "no-store")
            .overriding(PRAGMA, "no-cache")
    };
    let public_clients = |methods| cors::Cors::public_clients(origins.clone(), methods);
    let anyone = || cors::Cors::anyone("GET");
    route
        .at(
            "/.well-known/oauth-authorization-server",
            get(discovery::metadata).with(anyone()),
        )
        .at(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration).with(anyone()),
        )
        .at(JWKS_PATH, get(discovery::jwks).with(anyone()))
        .at(
            AUTHORIZE_PATH,
            get(authorize::get)
                .post(authorize::post)
                .with(CookieJarManager::new()),
        )
        .at(
            crate::web::LOGIN_PATH,
            get(login::page::get)
                .post(login::page::post)
                .with(CookieJarManager::new()),
        )
        .at(
            LOGOUT_PATH,
            get(logout::get)
                .post(logout::post)
                .with(CookieJarManager::new()),
        )
        .at(
            TOKEN_PATH,
            post(token::token)
                .with(no_store())
                .with(public_clients("POST")),
        )
        .at(
            USERINFO_PATH,
            get(userinfo::userinfo)
                .post(userinfo::userinfo)
                .with(no_store())
                .with(public_clients("GET, POST")),
        )
        // RFC 7009 §5: revocation "MAY support CORS" for browser apps,
        // which need it to sign out cleanly.
        .at(
            REVOKE_PATH,
            post(revoke::revoke)
                .with(no_store())
                .with(public_clients("POST")),
        )
        .at(
            INTROSPECT_PATH,
            post(introspect::introspect).with(no_store()),
        )
}
