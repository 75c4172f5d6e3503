//! POST /oauth/introspect (RFC 7662), client-authenticated.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, TestClientApp};
use crate::helpers::{TestApp, TestUser};
use crate::token::support::{
    assert_oauth_error, basic, field, post_as, post_form, redeem, refresh,
};

const INTROSPECT: &str = "/oauth/introspect";
const READ_WRITE: &str = "blog:read blog:write";

async fn introspect(app: &TestApp, client: &TestClientApp, token: &str) -> Value {
    let (status, body) = post_as(app, INTROSPECT, client, &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Tokens of a public client, through the code flow.
async fn public_tokens(app: &TestApp, user: &TestUser, client: &TestClientApp) -> Value {
    let code = app
        .authorize_code(&mut Browser::new(), user, client, READ_WRITE)
        .await;
    let (status, tokens) = redeem(app, client, &code).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

#[tokio::test]
async fn an_active_access_token_is_described() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let before = app.clock().now().timestamp();
    let tokens = app.tokens_for(&alice, &client, "blog:read").await;
    let alice_id = tollgate::store::users::find_by_username(&app.state.db, "alice")
        .await
        .unwrap()
        .unwrap()
        .id;

    // Act
    let body = introspect(&app, &client, field(&tokens, "access_token")).await;

    // Assert: RFC 7662 §2.2.
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["scope"], "blog:read");
    assert_eq!(body["client_id"], client.client_id.as_str());
    assert_eq!(body["username"], "alice");
    assert_eq!(body["sub"], alice_id.to_string());
    assert_eq!(body["iss"], "http://127.0.0.1");
    assert_eq!(body["token_type"], "Bearer");
    let iat = body["iat"].as_i64().expect("iat");
    let exp = body["exp"].as_i64().expect("exp");
    assert!(
        (before..=before + 5).contains(&iat),
        "iat {iat}, now {before}"
    );
    assert_eq!(exp - iat, 15 * 60, "access tokens live 15 minutes");
}

#[tokio::test]
async fn an_active_refresh_token_is_active() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, READ_WRITE).await;

    // Act
    let body = introspect(&app, &client, field(&tokens, "refresh_token")).await;

    // Assert
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["scope"], READ_WRITE);
    assert_eq!(body["client_id"], client.client_id.as_str());
    assert_eq!(body["username"], "alice");
}

#[tokio::test]
async fn revoked_rotated_and_garbage_tokens_are_inactive() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let revoked = app.tokens_for(&alice, &client, READ_WRITE).await;
    let (status, body) = post_as(
        &app,
        "/oauth/revoke",
        &client,
        &[("token", field(&revoked, "access_token"))],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let rotated = app.tokens_for(&alice, &client, READ_WRITE).await;
    let (status, body) = refresh(&app, &client, field(&rotated, "refresh_token"), None).await;
    assert_eq!(status, 200, "{body}");

    // Act
    let revoked_access = introspect(&app, &client, field(&revoked, "access_token")).await;
    let rotated_refresh = introspect(&app, &client, field(&rotated, "refresh_token")).await;
    let garbage = introspect(&app, &client, "not-a-token").await;
    let forged = introspect(&app, &client, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.").await;

    // Assert: RFC 7662 §2.2, nothing but `active: false`.
    assert_eq!(revoked_access, json!({"active": false}));
    assert_eq!(rotated_refresh, json!({"active": false}));
    assert_eq!(garbage, json!({"active": false}));
    assert_eq!(forged, json!({"active": false}));
}

#[tokio::test]
async fn expired_tokens_are_inactive() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, READ_WRITE).await;

    // Act: past the access token's 15 minutes and any leeway ...
    app.clock().advance(Duration::from_secs(16 * 60));
    let expired_access = introspect(&app, &client, field(&tokens, "access_token")).await;
    let live_refresh = introspect(&app, &client, field(&tokens, "refresh_token")).await;
    // ... and past the refresh token's 30 days.
    app.clock().advance(Duration::from_secs(30 * 86_400));
    let expired_refresh = introspect(&app, &client, field(&tokens, "refresh_token")).await;

    // Assert
    assert_eq!(expired_access, json!({"active": false}));
    assert_eq!(live_refresh["active"], true, "{live_refresh}");
    assert_eq!(expired_refresh, json!({"active": false}));
}

#[tokio::test]
async fn a_public_client_sees_only_its_own_tokens_as_active() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let public = app.oauth_client(ClientSpec::public()).await;
    let confidential = app.oauth_client(ClientSpec::default()).await;
    let own = public_tokens(&app, &alice, &public).await;
    let others = app.tokens_for(&alice, &confidential, READ_WRITE).await;

    // Act
    let own_access = introspect(&app, &public, field(&own, "access_token")).await;
    let others_access = introspect(&app, &public, field(&others, "access_token")).await;
    let others_refresh = introspect(&app, &public, field(&others, "refresh_token")).await;

    // Assert
    assert_eq!(own_access["active"], true, "{own_access}");
    assert_eq!(others_access, json!({"active": false}));
    assert_eq!(others_refresh, json!({"active": false}));
}

#[tokio::test]
async fn a_resource_server_may_introspect_another_clients_token() {
    // Arrange: a resource server is a confidential client registered with
    // --introspect.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let public = app.oauth_client(ClientSpec::public()).await;
    let resource_server = app
        .oauth_client(ClientSpec::default().resource_server())
        .await;
    let tokens = public_tokens(&app, &alice, &public).await;

    // Act
    let body = introspect(&app, &resource_server, field(&tokens, "access_token")).await;

    // Assert
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["client_id"], public.client_id.as_str());
}

#[tokio::test]
async fn any_other_confidential_client_sees_another_clients_tokens_as_inactive() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let public = app.oauth_client(ClientSpec::public()).await;
    let other = app.oauth_client(ClientSpec::default()).await;
    let tokens = public_tokens(&app, &alice, &public).await;

    // Act
    let access = introspect(&app, &other, field(&tokens, "access_token")).await;
    let refresh = introspect(&app, &other, field(&tokens, "refresh_token")).await;

    // Assert
    assert_eq!(access, json!({"active": false}));
    assert_eq!(refresh, json!({"active": false}));
}

#[tokio::test]
async fn introspection_requires_client_authentication() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, READ_WRITE).await;
    let access = field(&tokens, "access_token");

    // Act
    let anonymous = post_form(&app, INTROSPECT, &[("token", access)], None).await;
    let wrong_secret = post_form(
        &app,
        INTROSPECT,
        &[("token", access)],
        Some(&basic(&client.client_id, "tgs_not-the-secret")),
    )
    .await;

    // Assert
    assert_oauth_error(anonymous.status, &anonymous.body, 401, "invalid_client");
    assert_oauth_error(
        wrong_secret.status,
        &wrong_secret.body,
        401,
        "invalid_client",
    );
    let challenge = wrong_secret.www_authenticate().unwrap_or_default();
    assert!(challenge.starts_with("Basic"), "{challenge:?}");
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let (status, body) =
        post_as(&app, INTROSPECT, &client, &[("token", "a"), ("token", "b")]).await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_request");
}
