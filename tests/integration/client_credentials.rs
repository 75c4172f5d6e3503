//! The client_credentials grant (RFC 6749 §4.4): a confidential client
//! acting for itself.

use tollgate::manage::{self, ClientRequest};

use crate::helpers::TestApp;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI};
use crate::token::support::{assert_oauth_error, claims, create_post, field, token_as};

const GRANT: (&str, &str) = ("grant_type", "client_credentials");

#[tokio::test]
async fn a_confidential_client_gets_an_access_token_for_itself_and_no_refresh_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;

    // Act
    let (status, body) = app.token_basic(&client, &[GRANT]).await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "blog:read blog:write");
    // RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included."
    assert!(body.get("refresh_token").is_none(), "{body}");
    let claims = claims(field(&body, "access_token"));
    assert_eq!(claims["sub"], client.client_id.as_str());
    assert_eq!(claims["client_id"], client.client_id.as_str());
    assert!(claims.get("preferred_username").is_none(), "{claims}");
}

#[tokio::test]
async fn a_client_credentials_token_creates_posts_authored_by_the_client() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;
    let (status, body) = app.token_basic(&client, &[GRANT]).await;
    assert_eq!(status, 200, "{body}");

    // Act
    let (status, post) = create_post(&app, field(&body, "access_token")).await;

    // Assert
    assert_eq!(status, 201, "{post}");
    assert_eq!(post["author"], client.client_id.as_str());
}

#[tokio::test]
async fn a_narrower_scope_is_granted_as_asked() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;

    // Act
    let (status, body) = app
        .token_basic(&client, &[GRANT, ("scope", "blog:read")])
        .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "blog:read");
    let (status, problem) = create_post(&app, field(&body, "access_token")).await;
    assert_eq!(status, 403, "{problem}");
}

#[tokio::test]
async fn a_scope_beyond_the_clients_is_invalid_scope() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(
            ClientSpec::default()
                .grants(&["client_credentials"])
                .scopes("blog:read"),
        )
        .await;

    // Act
    let (status, body) = app
        .token_basic(&client, &[GRANT, ("scope", "blog:read blog:write")])
        .await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_scope");
}

#[tokio::test]
async fn a_confidential_client_without_the_grant_is_unauthorized_client() {
    // Arrange: the default grants are authorization_code and refresh_token.
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let (status, body) = app.token_basic(&client, &[GRANT]).await;

    // Assert
    assert_oauth_error(status, &body, 400, "unauthorized_client");
}

#[tokio::test]
async fn a_public_client_is_unauthorized_client() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::public()).await;

    // Act
    let (status, body) = token_as(&app, &client, &[GRANT]).await;

    // Assert
    assert_oauth_error(status, &body, 400, "unauthorized_client");
}

#[tokio::test]
async fn registration_refuses_client_credentials_for_a_public_client() {
    // Arrange
    let app = TestApp::spawn().await;
    let request = ClientRequest {
        name: "SPA".to_owned(),
        redirect_uris: vec![REDIRECT_URI.to_owned()],
        public: true,
        grants: vec!["client_credentials".to_owned()],
        ..ClientRequest::default()
    };

    // Act
    let result = manage::create_client(&app.state.db, request, app.clock().now()).await;

    // Assert: RFC 6749 §4.4, "MUST only be used by confidential clients".
    let error = result.err().expect("registration refused").to_string();
    assert!(error.contains("client_credentials"), "{error}");
}
