//! The authorization_code grant at the token endpoint (RFC 6749 §4.1.3,
//! RFC 7636 §4.6): PKCE, binding to client and redirect URI, expiry, and
//! single use.

use std::sync::Arc;
use std::time::Duration;

use super::support::{
    assert_oauth_error, assert_revoked, field, list_posts, redeem, refresh, token_as,
};
use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, TestClientApp, VERIFIER};
use crate::helpers::{TestApp, TestUser};

/// A verifier that is well-formed but not the one of the challenge.
const OTHER_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx";

async fn code(app: &TestApp, user: &TestUser, client: &TestClientApp) -> String {
    app.authorize_code(&mut Browser::new(), user, client, "blog:read blog:write")
        .await
}

/// An authorization request of a confidential client without PKCE.
fn authorize_path_without_pkce(client: &TestClientApp) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "blog:read")
        .append_pair("state", "xyz")
        .finish();
    format!("/oauth/authorize?{query}")
}

#[tokio::test]
async fn a_wrong_code_verifier_is_invalid_grant_and_does_not_spend_the_code() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::public()).await;
    let code = code(&app, &alice, &client).await;

    // Act
    let (status, body) = token_as(
        &app,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", OTHER_VERIFIER),
        ],
    )
    .await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_grant");
    let (status, body) = redeem(&app, &client, &code).await;
    assert_eq!(status, 200, "the right verifier still works: {body}");
}

#[tokio::test]
async fn a_missing_code_verifier_is_invalid_request_and_does_not_spend_the_code() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::public()).await;
    let code = code(&app, &alice, &client).await;

    // Act
    let (status, body) = token_as(
        &app,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ],
    )
    .await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_request");
    let (status, body) = redeem(&app, &client, &code).await;
    assert_eq!(status, 200, "the right verifier still works: {body}");
}

#[tokio::test]
async fn a_verifier_for_a_code_requested_without_pkce_is_invalid_grant() {
    // Arrange: a legacy confidential client the operator let leave PKCE out.
    let app =
        TestApp::spawn_with(|s| s.pkce_optional_clients = vec!["legacy-app".to_owned()]).await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().with_id("legacy-app"))
        .await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &authorize_path_without_pkce(&client))
        .await;
    let consent = browser.log_in(&app, &login, &alice).await;
    let done = browser.decide(&app, &consent, "allow").await;
    let code = done.redirect_params()["code"].clone();

    // Act: RFC 9700 §2.1.1, a verifier without a challenge is refused.
    let (status, body) = redeem(&app, &client, &code).await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_grant");
    let (status, body) = token_as(
        &app,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ],
    )
    .await;
    assert_eq!(status, 200, "without a verifier the code works: {body}");
}

#[tokio::test]
async fn a_redirect_uri_other_than_the_authorization_requests_is_invalid_grant() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let other = "https://app.example.com/other";
    let client = app
        .oauth_client(ClientSpec::default().redirect_uris(&[REDIRECT_URI, other]))
        .await;
    let code = code(&app, &alice, &client).await;

    // Act: registered, but not the one the code was issued for.
    let (status, body) = token_as(
        &app,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", other),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn a_redirect_uri_sent_when_authorizing_must_be_repeated() {
    // Arrange: the authorization request named its redirect_uri.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let code = code(&app, &alice, &client).await;

    // Act
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", VERIFIER),
    ];
    let (status, body) = token_as(&app, &client, &fields).await;

    // Assert: refused, and the code is not spent.
    assert_oauth_error(status, &body, 400, "invalid_request");
    let (status, _) = redeem(&app, &client, &code).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_code_requested_without_a_redirect_uri_may_be_redeemed_without_one() {
    // Arrange: one registered URI, so the request may leave it out.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let path = app.authorize_path(&client, "blog:read").replace(
        &format!(
            "&redirect_uri={}",
            url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>()
        ),
        "",
    );
    assert!(!path.contains("redirect_uri"), "{path}");
    let mut browser = Browser::new();
    let login = browser.get(&app, &path).await;
    let consent = browser.log_in(&app, &login, &alice).await;
    let done = browser.decide(&app, &consent, "allow").await;
    let code = done.redirect_params()["code"].clone();
    assert!(done.location().unwrap().starts_with(REDIRECT_URI));

    // Act
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", VERIFIER),
    ];
    let (status, body) = token_as(&app, &client, &fields).await;

    // Assert
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_code_issued_to_another_client_is_invalid_grant() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let issued_to = app.oauth_client(ClientSpec::default()).await;
    let thief = app.oauth_client(ClientSpec::default()).await;
    let code = code(&app, &alice, &issued_to).await;

    // Act
    let (status, body) = redeem(&app, &thief, &code).await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let code = code(&app, &alice, &client).await;

    // Act: codes live 60 seconds.
    app.clock().advance(Duration::from_secs(61));
    let (status, body) = redeem(&app, &client, &code).await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn a_code_used_twice_is_refused_and_what_it_issued_is_revoked() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let code = code(&app, &alice, &client).await;
    let (status, first) = redeem(&app, &client, &code).await;
    assert_eq!(status, 200, "{first}");
    let access_token = field(&first, "access_token");
    let refresh_token = field(&first, "refresh_token");
    let (status, _) = list_posts(&app, access_token).await;
    assert_eq!(
        status, 200,
        "the first access token works before the replay"
    );

    // Act
    let (status, body) = redeem(&app, &client, &code).await;

    // Assert: RFC 6749 §4.1.2, deny and revoke what the code issued.
    assert_oauth_error(status, &body, 400, "invalid_grant");
    assert_revoked(&app, access_token).await;
    let (status, body) = refresh(&app, &client, refresh_token, None).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

// Worker threads, so that the redemptions really run in parallel.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_twenty_concurrent_redemptions_of_one_code_exactly_one_succeeds() {
    // Arrange
    let app = Arc::new(TestApp::spawn().await);
    let alice = app.user("alice").await;
    let client = Arc::new(app.oauth_client(ClientSpec::default()).await);
    let code = Arc::new(code(&app, &alice, &client).await);

    // Act
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (app, client, code) = (app.clone(), client.clone(), code.clone());
        tasks.spawn(async move { redeem(&app, &client, &code).await });
    }
    let answers = tasks.join_all().await;

    // Assert
    let succeeded = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(succeeded, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_oauth_error(*status, body, 400, "invalid_grant");
    }
    // Whatever refresh tokens the racing requests stored, the replays
    // revoked the grant: none is live, the winner's included.
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let live = entity::refresh_token::Entity::find()
        .filter(entity::refresh_token::Column::RevokedAt.is_null())
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(live, 0, "no refresh token of the replayed code stays live");
}
