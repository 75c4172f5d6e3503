//! POST /oauth/revoke (RFC 7009), client-authenticated.

use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, TestClientApp};
use crate::token::support::{
    assert_oauth_error, assert_revoked, basic, field, list_posts, post_as, post_form, redeem,
    refresh,
};

const REVOKE: &str = "/oauth/revoke";
const READ_WRITE: &str = "blog:read blog:write";

async fn revoke(
    app: &TestApp,
    client: &TestClientApp,
    fields: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    post_as(app, REVOKE, client, fields).await
}

#[tokio::test]
async fn a_revoked_access_token_is_refused_by_the_api() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, READ_WRITE).await;
    let access = field(&tokens, "access_token");
    let (status, _) = list_posts(&app, access).await;
    assert_eq!(status, 200, "the token works before");

    // Act
    let (status, body) = revoke(
        &app,
        &client,
        &[("token", access), ("token_type_hint", "access_token")],
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_revoked(&app, access).await;
}

#[tokio::test]
async fn a_revoked_refresh_token_stops_refreshing_and_kills_its_access_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, READ_WRITE).await;
    let refresh_token = field(&tokens, "refresh_token");

    // Act: no hint; the server finds the kind itself.
    let (status, body) = revoke(&app, &client, &[("token", refresh_token)]).await;

    // Assert: RFC 7009 §2.1, the grant's access tokens go too.
    assert_eq!(status, 200, "{body}");
    let (status, body) = refresh(&app, &client, refresh_token, None).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    assert_revoked(&app, field(&tokens, "access_token")).await;
}

#[tokio::test]
async fn an_unknown_token_is_answered_with_200() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act: RFC 7009 §2.2, "invalid tokens do not cause an error response".
    let (status, body) = revoke(&app, &client, &[("token", "tgr_never-issued")]).await;

    // Assert
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_public_client_revokes_its_own_token_with_only_its_id() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::public()).await;
    let mut browser = Browser::new();
    let code = app
        .authorize_code(&mut browser, &alice, &client, READ_WRITE)
        .await;
    let (status, tokens) = redeem(&app, &client, &code).await;
    assert_eq!(status, 200, "{tokens}");

    // Act
    let (status, body) = revoke(&app, &client, &[("token", field(&tokens, "refresh_token"))]).await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_revoked(&app, field(&tokens, "access_token")).await;
}

#[tokio::test]
async fn another_clients_tokens_are_not_revoked() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let owner = app.oauth_client(ClientSpec::default()).await;
    let stranger = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &owner, READ_WRITE).await;

    // Act
    let (access_status, access_body) = revoke(
        &app,
        &stranger,
        &[("token", field(&tokens, "access_token"))],
    )
    .await;
    let (refresh_status, refresh_body) = revoke(
        &app,
        &stranger,
        &[("token", field(&tokens, "refresh_token"))],
    )
    .await;

    // Assert: RFC 7009 §2.1, "the request is refused".
    assert_oauth_error(access_status, &access_body, 400, "unauthorized_client");
    assert_oauth_error(refresh_status, &refresh_body, 400, "unauthorized_client");
    let (status, _) = list_posts(&app, field(&tokens, "access_token")).await;
    assert_eq!(status, 200, "the owner's access token still works");
    let (status, body) = refresh(&app, &owner, field(&tokens, "refresh_token"), None).await;
    assert_eq!(status, 200, "the owner's refresh token still works: {body}");
}

#[tokio::test]
async fn a_request_without_token_is_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let (status, body) = revoke(&app, &client, &[("token_type_hint", "access_token")]).await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_request");
}

#[tokio::test]
async fn a_bad_client_authentication_is_invalid_client() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, READ_WRITE).await;
    let access = field(&tokens, "access_token");

    // Act
    let wrong_secret = post_form(
        &app,
        REVOKE,
        &[("token", access)],
        Some(&basic(&client.client_id, "tgs_not-the-secret")),
    )
    .await;
    let anonymous = post_form(&app, REVOKE, &[("token", access)], None).await;

    // Assert
    assert_oauth_error(
        wrong_secret.status,
        &wrong_secret.body,
        401,
        "invalid_client",
    );
    let challenge = wrong_secret.www_authenticate().unwrap_or_default();
    assert!(challenge.starts_with("Basic"), "{challenge:?}");
    assert_oauth_error(anonymous.status, &anonymous.body, 401, "invalid_client");
    let (status, _) = list_posts(&app, access).await;
    assert_eq!(status, 200, "nothing was revoked");
}

#[tokio::test]
async fn an_unknown_token_type_hint_is_unsupported_token_type() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, READ_WRITE).await;

    // Act
    let (status, body) = revoke(
        &app,
        &client,
        &[
            ("token", field(&tokens, "access_token")),
            ("token_type_hint", "id_token"),
        ],
    )
    .await;

    // Assert: RFC 7009 §2.2.1.
    assert_oauth_error(status, &body, 400, "unsupported_token_type");
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act: RFC 6749 §3.2, parameters must not be included more than once.
    let (status, body) = revoke(&app, &client, &[("token", "a"), ("token", "b")]).await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_request");
}
