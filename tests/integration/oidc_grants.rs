//! The identity scopes in the grants without a browser: client
//! credentials has no user, so it refuses them; the password grant signs
//! a user in, so it answers `openid` with an ID token.

use std::time::Duration;

use chrono::Utc;

use crate::helpers::TestApp;
use crate::helpers::oauth::ClientSpec;
use crate::helpers::oidc::expected_at_hash;
use crate::token::support::token_as;

const CLIENT_CREDENTIALS: (&str, &str) = ("grant_type", "client_credentials");

#[tokio::test]
async fn client_credentials_refuses_each_identity_scope_with_a_reason() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(
            ClientSpec::default()
                .scopes("blog:read openid profile email offline_access")
                .grants(&["client_credentials"]),
        )
        .await;

    for scope in ["openid", "blog:read profile", "email", "offline_access"] {
        // Act
        let (status, body) = app
            .token_basic(&client, &[CLIENT_CREDENTIALS, ("scope", scope)])
            .await;

        // Assert
        assert_eq!(status, 400, "{scope}: {body}");
        assert_eq!(body["error"], "invalid_scope", "{scope}: {body}");
        let reason = body["error_description"].as_str().unwrap_or_default();
        assert!(reason.contains("needs a user"), "{scope}: {reason}");
        assert!(body.get("id_token").is_none());
    }
}

#[tokio::test]
async fn client_credentials_without_a_scope_leaves_the_identity_scopes_out() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(
            ClientSpec::default()
                .scopes("blog:read openid profile email")
                .grants(&["client_credentials"]),
        )
        .await;
    let identity_only = app
        .oauth_client(
            ClientSpec::default()
                .scopes("openid profile")
                .grants(&["client_credentials"]),
        )
        .await;

    // Act
    let (status, body) = app.token_basic(&client, &[CLIENT_CREDENTIALS]).await;
    let (nothing_status, nothing) = app.token_basic(&identity_only, &[CLIENT_CREDENTIALS]).await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "blog:read");
    assert!(body.get("id_token").is_none(), "{body}");
    assert_eq!(nothing_status, 400, "{nothing}");
    assert_eq!(nothing["error"], "invalid_scope");
}

#[tokio::test]
async fn the_password_grant_answers_openid_with_an_id_token_for_the_user() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app
        .user_with_profile("alice", "Alice Liddell", "alice@example.com")
        .await;
    let client = app
        .oauth_client(
            ClientSpec::public()
                .first_party()
                .scopes("openid profile blog:read")
                .grants(&["password", "refresh_token"]),
        )
        .await;

    // Act
    let (status, body) = token_as(
        &app,
        &client,
        &[
            ("grant_type", "password"),
            ("username", &alice.username),
            ("password", &alice.password),
            ("scope", "openid profile"),
        ],
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    let id_token = body["id_token"].as_str().expect("an id_token");
    let (_, claims) = app.verify_id_token(id_token, &client.client_id).await;
    assert_eq!(claims["sub"], app.user_row(&alice).await.id.to_string());
    assert_eq!(claims["preferred_username"], "alice");
    let access = body["access_token"].as_str().expect("access token");
    assert_eq!(claims["at_hash"], expected_at_hash(access));
    // The password just checked is the sign-in.
    let auth_time = claims["auth_time"].as_i64().expect("auth_time");
    assert!((auth_time - Utc::now().timestamp()).abs() <= 5, "{claims}");
    assert!(claims.get("sid").is_none(), "no browser session: {claims}");
    assert!(
        claims.get("nonce").is_none(),
        "no authorization request: {claims}"
    );

    // And a refresh keeps that sign-in time.
    app.clock().advance(Duration::from_secs(60));
    let refresh = body["refresh_token"].as_str().expect("refresh token");
    let (status, refreshed) = token_as(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let id_token = refreshed["id_token"]
        .as_str()
        .expect("a refreshed id_token");
    let (_, claims) = app.verify_id_token(id_token, &client.client_id).await;
    assert_eq!(claims["auth_time"].as_i64(), Some(auth_time));
}

#[tokio::test]
async fn the_password_grant_without_openid_returns_no_id_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(
            ClientSpec::public()
                .first_party()
                .scopes("openid blog:read")
                .grants(&["password"]),
        )
        .await;

    // Act
    let (status, body) = token_as(
        &app,
        &client,
        &[
            ("grant_type", "password"),
            ("username", &alice.username),
            ("password", &alice.password),
            ("scope", "blog:read"),
        ],
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert!(body.get("id_token").is_none(), "{body}");
}
