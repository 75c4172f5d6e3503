//! Logging out revokes the grants made in that browser session (RFC 9700
//! §4.14.2): their refresh tokens and, through the denylist, their access
//! tokens. Other sessions' grants, password-grant tokens and the grants of
//! a session that merely expired are left alone.

use std::time::Duration;

use chrono::TimeDelta;
use serde_json::Value;
use tollgate::housekeeping::{self, Outcome};
use tollgate::secrets::lookup_hash;
use tollgate::store;

use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, TestClientApp};
use crate::helpers::{TestApp, TestUser};
use crate::token::support::{
    assert_oauth_error, assert_revoked, field, list_posts, post_as, redeem, refresh, token_as,
};

const READ_WRITE: &str = "blog:read blog:write";

/// Signs `user` in with `browser` and takes the code flow to tokens.
pub(crate) async fn tokens_in(
    app: &TestApp,
    browser: &mut Browser,
    user: &TestUser,
    client: &TestClientApp,
) -> Value {
    let code = app.authorize_code(browser, user, client, READ_WRITE).await;
    let (status, tokens) = redeem(app, client, &code).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

/// Logs out the way a person does: the logout page, then its form.
async fn log_out(app: &TestApp, browser: &mut Browser) {
    let page = browser.get(app, "/oauth/logout").await;
    let csrf = page.field("csrf_token").expect("a csrf field");
    assert!(!csrf.is_empty(), "signed in: {}", page.body);
    let done = browser
        .post_form(app, "/oauth/logout", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("signed out"), "{}", done.body);
}

async fn introspect(app: &TestApp, client: &TestClientApp, token: &str) -> Value {
    let (status, body) = post_as(app, "/oauth/introspect", client, &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Asserts both tokens of a response still work: the access token at the
/// API, the refresh token at the token endpoint.
async fn assert_working(app: &TestApp, client: &TestClientApp, tokens: &Value) {
    let (status, body) = list_posts(app, field(tokens, "access_token")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = refresh(app, client, field(tokens, "refresh_token"), None).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn logging_out_revokes_the_sessions_refresh_and_access_tokens() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let tokens = tokens_in(&app, &mut browser, &alice, &client).await;
    let access = field(&tokens, "access_token");
    let refresh_token = field(&tokens, "refresh_token");
    assert_eq!(introspect(&app, &client, access).await["active"], true);

    // Act
    let before_logout = app.clock().now();
    log_out(&app, &mut browser).await;

    // Assert
    let stored = store::refresh_tokens::find(&app.state.db, &lookup_hash(refresh_token))
        .await
        .unwrap()
        .expect("the refresh token row");
    let revoked_at = stored.revoked_at.expect("revoked");
    assert!(
        (before_logout..=app.clock().now()).contains(&revoked_at),
        "revoked at logout: {stored:?}"
    );
    let (status, body) = refresh(&app, &client, refresh_token, None).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    assert_revoked(&app, access).await;
    let access_info = introspect(&app, &client, access).await;
    assert_eq!(access_info, serde_json::json!({"active": false}));
    let refresh_info = introspect(&app, &client, refresh_token).await;
    assert_eq!(refresh_info, serde_json::json!({"active": false}));
}

#[tokio::test]
async fn a_rotated_refresh_token_is_revoked_at_logout_after_its_ancestors_are_gone() {
    // Arrange: refresh tokens live an hour, the session twelve. The family
    // rotates once, then its code and first token expire and housekeeping
    // deletes them: only the rotated token still ties the grant to the
    // session.
    let app = TestApp::spawn_with(|s| s.refresh_token_ttl = TimeDelta::hours(1)).await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let first = tokens_in(&app, &mut browser, &alice, &client).await;
    app.clock().advance(Duration::from_secs(50 * 60));
    let (status, rotated) = refresh(&app, &client, field(&first, "refresh_token"), None).await;
    assert_eq!(status, 200, "{rotated}");
    app.clock().advance(Duration::from_secs(11 * 60));
    let outcome = housekeeping::run_once(&app.state.db, &app.state.settings, app.clock().now())
        .await
        .unwrap();
    let Outcome::Ran(deleted) = outcome else {
        panic!("housekeeping ran: {outcome:?}")
    };
    assert_eq!(
        (deleted.authorization_codes, deleted.refresh_tokens),
        (1, 1),
        "{deleted:?}"
    );

    // Act
    log_out(&app, &mut browser).await;

    // Assert
    let (status, body) = refresh(&app, &client, field(&rotated, "refresh_token"), None).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    assert_revoked(&app, field(&rotated, "access_token")).await;
}

#[tokio::test]
async fn a_client_without_refresh_tokens_loses_its_access_token_at_logout() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["authorization_code"]))
        .await;
    let mut browser = Browser::new();
    let tokens = tokens_in(&app, &mut browser, &alice, &client).await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    let (status, _) = list_posts(&app, field(&tokens, "access_token")).await;
    assert_eq!(status, 200, "the token works before");

    // Act
    log_out(&app, &mut browser).await;

    // Assert
    assert_revoked(&app, field(&tokens, "access_token")).await;
}

#[tokio::test]
async fn a_code_issued_before_logout_is_refused_after_it() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let code = app
        .authorize_code(&mut browser, &alice, &client, READ_WRITE)
        .await;

    // Act
    log_out(&app, &mut browser).await;
    let (status, body) = redeem(&app, &client, &code).await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_grant");
    // A redemption that checked the code just before the logout cannot
    // spend it after: the conditional UPDATE refuses an expired code.
    let spent = store::codes::redeem(&app.state.db, &lookup_hash(&code), app.clock().now())
        .await
        .unwrap();
    assert!(!spent, "an expired code is not redeemed");
}

#[tokio::test]
async fn tokens_from_another_session_of_the_same_user_keep_working() {
    // Arrange: alice signed in on two devices, one grant each.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut laptop = Browser::new();
    let mut phone = Browser::new();
    let laptop_tokens = tokens_in(&app, &mut laptop, &alice, &client).await;
    let phone_tokens = tokens_in(&app, &mut phone, &alice, &client).await;

    // Act
    log_out(&app, &mut laptop).await;

    // Assert
    assert_revoked(&app, field(&laptop_tokens, "access_token")).await;
    assert_working(&app, &client, &phone_tokens).await;
}

#[tokio::test]
async fn a_password_grant_token_keeps_working_after_logout() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let first_party = app
        .oauth_client(
            ClientSpec::public()
                .first_party()
                .grants(&["password", "refresh_token"]),
        )
        .await;
    let (status, password_tokens) = token_as(
        &app,
        &first_party,
        &[
            ("grant_type", "password"),
            ("username", &alice.username),
            ("password", &alice.password),
        ],
    )
    .await;
    assert_eq!(status, 200, "{password_tokens}");
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let browser_tokens = tokens_in(&app, &mut browser, &alice, &client).await;

    // Act
    log_out(&app, &mut browser).await;

    // Assert
    assert_revoked(&app, field(&browser_tokens, "access_token")).await;
    assert_working(&app, &first_party, &password_tokens).await;
}

#[tokio::test]
async fn a_session_that_expires_leaves_its_grants_alone() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let tokens = tokens_in(&app, &mut browser, &alice, &client).await;
    let session_ttl = app.state.settings.session_ttl.to_std().unwrap();
    app.clock()
        .advance(session_ttl + std::time::Duration::from_secs(60));

    // Act: the expired session is deleted when the browser comes back,
    // and by housekeeping.
    let page = browser
        .get(&app, &app.authorize_path(&client, READ_WRITE))
        .await;
    assert!(page.is_login_form(), "{}", page.body);
    let outcome = housekeeping::run_once(&app.state.db, &app.state.settings, app.clock().now())
        .await
        .unwrap();

    // Assert: the refresh token still works, and so does its new access
    // token (the first one has expired with the clock).
    assert!(matches!(outcome, Outcome::Ran(_)), "{outcome:?}");
    let (status, refreshed) = refresh(&app, &client, field(&tokens, "refresh_token"), None).await;
    assert_eq!(status, 200, "{refreshed}");
    let (status, body) = list_posts(&app, field(&refreshed, "access_token")).await;
    assert_eq!(status, 200, "{body}");
}
