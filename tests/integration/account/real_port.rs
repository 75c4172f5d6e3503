//! The account page on a real port: reqwest with a cookie store plays the
//! browser, the `oauth2` crate plays the app whose access is revoked.

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, RedirectUrl, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use reqwest::redirect::Policy;

use crate::helpers::browser::Page;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, TestClientApp};
use crate::helpers::{TestApp, TestUser};

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn oauth_client(app: &TestApp, registered: &TestClientApp) -> Client {
    let base = app.base_url();
    BasicClient::new(ClientId::new(registered.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            registered.secret.clone().expect("a confidential client"),
        ))
        .set_auth_uri(AuthUrl::new(format!("{base}/oauth/authorize")).expect("auth URL"))
        .set_token_uri(TokenUrl::new(format!("{base}/oauth/token")).expect("token URL"))
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_owned()).expect("redirect URL"))
}

/// Keeps cookies; follows no redirect (the app's redirect URI is not served).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
        .build()
        .expect("reqwest client")
}

fn oauth_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("reqwest client")
}

async fn get(browser: &reqwest::Client, app: &TestApp, path: &str) -> Page {
    let url = format!("{}{path}", app.base_url());
    Page::read(browser.get(url).send().await.expect("GET")).await
}

async fn post(browser: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> Page {
    let url = format!("{}{path}", app.base_url());
    Page::read(browser.post(url).form(form).send().await.expect("POST")).await
}

/// Signs in at `/login` as the account page asks, and returns the page.
async fn sign_in(browser: &reqwest::Client, app: &TestApp, user: &TestUser) -> Page {
    let redirect = get(browser, app, "/account").await;
    assert_eq!(redirect.status, 303);
    let form = get(browser, app, &redirect.location().expect("to /login")).await;
    let csrf = form.field("csrf_token").expect("login CSRF");
    let action = form.form_action().expect("action");
    let landed = post(
        browser,
        app,
        &action,
        &[
            ("csrf_token", &csrf),
            ("username", &user.username),
            ("password", &user.password),
        ],
    )
    .await;
    assert_eq!(
        landed.location().as_deref(),
        Some("/account"),
        "{}",
        landed.body
    );
    let page = get(browser, app, "/account").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

#[tokio::test]
async fn over_a_real_port_a_revoked_app_loses_its_tokens_and_sign_out_works() {
    // Arrange: the app gets tokens with the oauth2 crate; the person
    // consents in the same browser that then opens the account page.
    let app = TestApp::serve().await;
    let alice = app.user("alice").await;
    let registered = app.oauth_client(ClientSpec::default()).await;
    let client = oauth_client(&app, &registered);
    let browser = browser();
    let page = sign_in(&browser, &app, &alice).await;
    let csrf = page.field("csrf_token").expect("CSRF");
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("blog:read".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let consent = Page::read(browser.get(url).send().await.expect("authorize")).await;
    assert!(consent.is_consent_form(), "{}", consent.body);
    assert!(
        consent.body.contains("href=\"/account\""),
        "the consent page links to it"
    );
    let action = consent.form_action().expect("consent action");
    let back = post(
        &browser,
        &app,
        &action,
        &[("csrf_token", &csrf), ("decision", "allow")],
    )
    .await;
    let code = back.redirect_params()["code"].clone();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&oauth_http())
        .await
        .expect("tokens");
    let refresh_token = tokens.refresh_token().expect("a refresh token").clone();
    let access = tokens.access_token().secret().clone();
    let page = get(&browser, &app, "/account").await;
    assert!(page.body.contains("Firefox on Linux"), "{}", page.body);
    assert!(page.body.contains("last used"), "{}", page.body);

    // Act
    let revoked = post(
        &browser,
        &app,
        "/account/apps/revoke",
        &[("csrf_token", &csrf), ("client_id", &registered.client_id)],
    )
    .await;
    let refreshed = client
        .exchange_refresh_token(&refresh_token)
        .request_async(&oauth_http())
        .await;
    let api = reqwest::Client::new()
        .get(format!("{}/api/v1/posts", app.base_url()))
        .bearer_auth(&access)
        .send()
        .await
        .expect("API call");
    let out = post(&browser, &app, "/logout", &[("csrf_token", &csrf)]).await;
    let after = get(&browser, &app, "/account").await;

    // Assert
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    match refreshed {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidGrant);
        }
        other => panic!("the refresh token must be refused: {other:?}"),
    }
    assert_eq!(api.status(), 401);
    assert_eq!(out.status, 200);
    assert!(out.body.contains("You are signed out"), "{}", out.body);
    assert_eq!(after.status, 303);
}

#[tokio::test]
async fn over_a_real_port_a_password_change_signs_the_other_browser_out() {
    // Arrange
    let app = TestApp::serve().await;
    let alice = app.user("alice").await;
    let (laptop, phone) = (browser(), browser());
    sign_in(&phone, &app, &alice).await;
    let page = sign_in(&laptop, &app, &alice).await;
    let csrf = page.field("csrf_token").expect("CSRF");

    // Act
    let changed = post(
        &laptop,
        &app,
        "/account/password",
        &[
            ("csrf_token", &csrf),
            ("current_password", &alice.password),
            ("new_password", "a brand new secret"),
            ("repeat_password", "a brand new secret"),
        ],
    )
    .await;

    // Assert
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert_eq!(get(&phone, &app, "/account").await.status, 303);
    assert_eq!(get(&laptop, &app, "/account").await.status, 200);
}
