//! The password grant (RFC 6749 §4.3), for first-party clients only
//! (RFC 9700 §2.4).

use tollgate::manage::{self, ClientRequest};

use crate::helpers::TestApp;
use crate::helpers::oauth::{ClientSpec, TestClientApp};
use crate::token::support::{assert_oauth_error, claims, field, list_posts, refresh, token_as};

async fn first_party_client(app: &TestApp) -> TestClientApp {
    app.oauth_client(
        ClientSpec::public()
            .first_party()
            .grants(&["password", "refresh_token"]),
    )
    .await
}

async fn password_grant(
    app: &TestApp,
    client: &TestClientApp,
    username: &str,
    password: &str,
) -> (u16, serde_json::Value) {
    token_as(
        app,
        client,
        &[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ],
    )
    .await
}

#[tokio::test]
async fn a_first_party_client_with_the_grant_gets_tokens_for_the_user() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = first_party_client(&app).await;

    // Act
    let (status, body) = password_grant(&app, &client, &alice.username, &alice.password).await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "blog:read blog:write");
    let access = field(&body, "access_token");
    assert_eq!(claims(access)["preferred_username"], "alice");
    let (status, _) = list_posts(&app, access).await;
    assert_eq!(status, 200);
    let (status, refreshed) = refresh(&app, &client, field(&body, "refresh_token"), None).await;
    assert_eq!(status, 200, "{refreshed}");
}

#[tokio::test]
async fn registration_refuses_the_password_grant_for_a_third_party_client() {
    // Arrange
    let app = TestApp::spawn().await;
    let request = ClientRequest {
        name: "Someone else's app".to_owned(),
        public: true,
        grants: vec!["password".to_owned()],
        first_party: false,
        ..ClientRequest::default()
    };

    // Act
    let result = manage::create_client(&app.state.db, request, app.clock().now()).await;

    // Assert
    let error = result.err().expect("registration refused").to_string();
    assert!(error.contains("first-party"), "{error}");
}

#[tokio::test]
async fn a_first_party_client_without_the_grant_is_unauthorized_client() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::public().first_party()).await;

    // Act
    let (status, body) = password_grant(&app, &client, &alice.username, &alice.password).await;

    // Assert
    assert_oauth_error(status, &body, 400, "unauthorized_client");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_invalid_grant() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = first_party_client(&app).await;

    // Act
    let (wrong_status, wrong_password) =
        password_grant(&app, &client, &alice.username, "not-alices-password").await;
    let (unknown_status, unknown_user) =
        password_grant(&app, &client, "mallory", "mallory-password").await;

    // Assert: nothing tells which of the two was wrong.
    assert_oauth_error(wrong_status, &wrong_password, 400, "invalid_grant");
    assert_oauth_error(unknown_status, &unknown_user, 400, "invalid_grant");
    assert_eq!(
        wrong_password["error_description"],
        unknown_user["error_description"]
    );
}

#[tokio::test]
async fn a_request_without_username_is_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = first_party_client(&app).await;

    // Act
    let (status, body) = token_as(
        &app,
        &client,
        &[("grant_type", "password"), ("password", &alice.password)],
    )
    .await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_request");
}
