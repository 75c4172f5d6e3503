//! The OpenID Connect authorization request (OIDC Core 1.0 §3.1.2):
//! `prompt`, `max_age`, `login_hint`, `nonce`, `response_mode=form_post`,
//! and what a code carries for the ID token.

mod code;
mod form_post;
mod prompt;

use entity::{authorization_code, browser_session};
use sea_orm::EntityTrait;
use tollgate::secrets::lookup_hash;
use tollgate::store;

use crate::helpers::browser::{Browser, Page};
use crate::helpers::oauth::{CHALLENGE, REDIRECT_URI, TestClientApp};
use crate::helpers::{TestApp, TestUser};

/// The issuer of `TestApp::spawn`, sent back as `iss` (RFC 9207).
const ISSUER: &str = "http://127.0.0.1";

/// An OpenID authorization request for `client` (scope `openid`, PKCE,
/// `state=xyz`), with `extra` parameters added or replacing those.
fn oidc_path(client: &TestClientApp, extra: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
        ("state", "xyz"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in extra {
        pairs.retain(|(k, _)| k != name);
        pairs.push((name, value));
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/oauth/authorize?{query}")
}

/// Asserts a redirect (query mode) back to the client with `error`, the
/// state and the issuer, and no code.
fn assert_error_redirect(page: &Page, error: &str) {
    assert_eq!(page.status, 302, "{}", page.body);
    let location = page.location().expect("a redirect");
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let params = page.redirect_params();
    assert_eq!(
        params.get("error").map(String::as_str),
        Some(error),
        "{params:?}"
    );
    assert_eq!(params.get("state").map(String::as_str), Some("xyz"));
    assert_eq!(params.get("iss").map(String::as_str), Some(ISSUER));
    assert!(!params.contains_key("code"), "{params:?}");
}

/// The code of a redirect back to the client.
fn code_of(page: &Page) -> String {
    let params = page.redirect_params();
    assert_eq!(params.get("state").map(String::as_str), Some("xyz"));
    params.get("code").expect("a code").clone()
}

/// Signs `user` in through `client`'s request `path` and allows consent if
/// asked; returns the code.
async fn sign_in_for_code(
    app: &TestApp,
    browser: &mut Browser,
    user: &TestUser,
    path: &str,
) -> String {
    let mut page = browser.get(app, path).await;
    if page.is_login_form() {
        page = browser.log_in(app, &page, user).await;
    }
    if page.is_consent_form() {
        page = browser.decide(app, &page, "allow").await;
    }
    code_of(&page)
}

/// The stored row of `code`.
async fn code_row(app: &TestApp, code: &str) -> authorization_code::Model {
    store::codes::find(&app.state.db, &lookup_hash(code))
        .await
        .expect("query")
        .expect("the code is stored")
        .0
}

/// Every browser session in the database.
async fn sessions(app: &TestApp) -> Vec<browser_session::Model> {
    browser_session::Entity::find()
        .all(&app.state.db)
        .await
        .expect("query")
}

/// The one browser session in the database.
async fn only_session(app: &TestApp) -> browser_session::Model {
    let mut all = sessions(app).await;
    assert_eq!(all.len(), 1, "exactly one session");
    all.remove(0)
}

/// The whole `<input ...>` tag named `name`.
fn input_tag<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("name=\"{name}\"");
    let mut rest = body;
    while let Some(start) = rest.find("<input") {
        let end = start + rest[start..].find('>')? + 1;
        let tag = &rest[start..end];
        if tag.contains(&marker) {
            return Some(tag);
        }
        rest = &rest[end..];
    }
    None
}
