//! The refresh_token grant (RFC 6749 §6) with rotation: a reused refresh
//! token revokes its whole family (RFC 9700 §4.14.2).

use std::sync::Arc;
use std::time::Duration;

use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::ClientSpec;
use crate::token::support::{
    assert_oauth_error, assert_revoked, create_post, field, list_posts, redeem, refresh,
};

const READ_WRITE: &str = "blog:read blog:write";

#[tokio::test]
async fn a_refresh_returns_a_new_refresh_token_and_a_working_access_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, READ_WRITE).await;
    let old_refresh = field(&tokens, "refresh_token");

    // Act
    let (status, body) = refresh(&app, &client, old_refresh, None).await;

    // Assert
    assert_eq!(status, 200, "{body}");
    let new_refresh = field(&body, "refresh_token");
    assert_ne!(new_refresh, old_refresh);
    assert_ne!(field(&body, "access_token"), field(&tokens, "access_token"));
    assert_eq!(body["scope"], READ_WRITE);
    assert_eq!(body["token_type"], "Bearer");
    let (status, _) = list_posts(&app, field(&body, "access_token")).await;
    assert_eq!(status, 200);
    let (status, body) = refresh(&app, &client, new_refresh, None).await;
    assert_eq!(status, 200, "the rotated token works in turn: {body}");
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, READ_WRITE).await;
    let first_refresh = field(&tokens, "refresh_token");
    let (status, rotated) = refresh(&app, &client, first_refresh, None).await;
    assert_eq!(status, 200, "{rotated}");
    let newest_refresh = field(&rotated, "refresh_token");
    let newest_access = field(&rotated, "access_token");

    // Act: the old one again, as an attacker holding a stolen copy would.
    let (status, body) = refresh(&app, &client, first_refresh, None).await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_grant");
    let (status, body) = refresh(&app, &client, newest_refresh, None).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    assert_revoked(&app, newest_access).await;
    assert_revoked(&app, field(&tokens, "access_token")).await;
}

#[tokio::test]
async fn a_narrower_scope_narrows_only_that_access_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, READ_WRITE).await;

    // Act
    let (status, narrowed) = refresh(
        &app,
        &client,
        field(&tokens, "refresh_token"),
        Some("blog:read"),
    )
    .await;

    // Assert: the access token has just blog:read.
    assert_eq!(status, 200, "{narrowed}");
    assert_eq!(narrowed["scope"], "blog:read");
    let narrow_access = field(&narrowed, "access_token");
    let (status, _) = list_posts(&app, narrow_access).await;
    assert_eq!(status, 200);
    let (status, body) = create_post(&app, narrow_access).await;
    assert_eq!(status, 403, "{body}");
    // RFC 6749 §6: the new refresh token keeps the original scope.
    let (status, next) = refresh(&app, &client, field(&narrowed, "refresh_token"), None).await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["scope"], READ_WRITE);
    let (status, body) = create_post(&app, field(&next, "access_token")).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn a_wider_scope_than_the_grant_is_invalid_scope() {
    // Arrange: the client may have blog:write, but the user granted read.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, "blog:read").await;

    // Act
    let (status, body) = refresh(
        &app,
        &client,
        field(&tokens, "refresh_token"),
        Some(READ_WRITE),
    )
    .await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_scope");
}

#[tokio::test]
async fn an_expired_refresh_token_is_invalid_grant() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, READ_WRITE).await;

    // Act: refresh tokens live 30 days.
    app.clock().advance(Duration::from_secs(31 * 86_400));
    let (status, body) = refresh(&app, &client, field(&tokens, "refresh_token"), None).await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn another_clients_refresh_token_is_invalid_grant() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let issued_to = app.oauth_client(ClientSpec::default()).await;
    let thief = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &issued_to, READ_WRITE).await;

    // Act
    let (status, body) = refresh(&app, &thief, field(&tokens, "refresh_token"), None).await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn a_client_without_the_refresh_token_grant_gets_none_and_may_not_refresh() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["authorization_code"]))
        .await;
    let other = app.oauth_client(ClientSpec::default()).await;
    let code = app
        .authorize_code(&mut Browser::new(), &alice, &client, READ_WRITE)
        .await;
    let others_tokens = app.tokens_for(&alice, &other, READ_WRITE).await;

    // Act
    let (status, tokens) = redeem(&app, &client, &code).await;
    let (refresh_status, refresh_body) =
        refresh(&app, &client, field(&others_tokens, "refresh_token"), None).await;

    // Assert
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert_oauth_error(refresh_status, &refresh_body, 400, "unauthorized_client");
}

// Worker threads, so that the two refreshes really run in parallel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_concurrent_refreshes_one_wins_and_the_family_is_revoked() {
    // Arrange
    let app = Arc::new(TestApp::spawn().await);
    let alice = app.user("alice").await;
    let client = Arc::new(app.oauth_client(ClientSpec::default()).await);
    let tokens = app.tokens_for(&alice, &client, READ_WRITE).await;
    let presented: Arc<str> = field(&tokens, "refresh_token").into();

    // Act: the same refresh token twice at once, as a client and an
    // attacker holding a stolen copy might.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (app, client, presented) = (app.clone(), client.clone(), presented.clone());
        tasks.spawn(async move { refresh(&app, &client, &presented, None).await });
    }
    let answers = tasks.join_all().await;

    // Assert: exactly one gets tokens; the other is a reuse of a rotated
    // token (RFC 9700 §4.14.2), which revokes the family, the winner's
    // new tokens included, since the server cannot tell which was which.
    let winners: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_oauth_error(*status, body, 400, "invalid_grant");
    }
    let won = &winners[0].1;
    let (status, body) = refresh(&app, &client, field(won, "refresh_token"), None).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    assert_revoked(&app, field(won, "access_token")).await;
    assert_revoked(&app, field(&tokens, "access_token")).await;
}
