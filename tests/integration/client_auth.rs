//! Client authentication at the token endpoint, as browser-based clients
//! send it.

use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, TestClientApp, VERIFIER};

#[tokio::test]
async fn a_public_client_may_name_itself_with_basic_and_an_empty_secret() {
    // Arrange: Swagger UI sends `Authorization: Basic base64("id:")`.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::public()).await;
    let code = app
        .authorize_code(&mut Browser::new(), &alice, &client, "blog:read")
        .await;

    // Act
    let (status, body) = app
        .token_basic(
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
}

#[tokio::test]
async fn a_confidential_client_with_an_empty_basic_secret_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["authorization_code", "client_credentials"]))
        .await;
    let code = app
        .authorize_code(&mut Browser::new(), &alice, &client, "blog:read")
        .await;
    let without_secret = TestClientApp {
        client_id: client.client_id.clone(),
        secret: None,
    };

    // Act
    let exchange = app
        .token_basic(
            &without_secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    let credentials = app
        .token_basic(&without_secret, &[("grant_type", "client_credentials")])
        .await;

    // Assert
    for (status, body) in [exchange, credentials] {
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"], "invalid_client");
    }
}
