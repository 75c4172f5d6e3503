//! POST /oauth/token: RFC 6749 §5.2 errors and client authentication
//! (§2.3.1). The authorization_code grant has its own module.

mod authorization_code;
mod errors;
pub mod support;

use self::support::{assert_oauth_error, basic, form, post_form, post_raw, redeem};
use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, TestClientApp, VERIFIER};

const TOKEN: &str = "/oauth/token";

/// A user, a confidential client, and a fresh code for blog:read.
async fn code_for_confidential_client(app: &TestApp) -> (TestClientApp, String) {
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let code = app
        .authorize_code(&mut Browser::new(), &alice, &client, "blog:read")
        .await;
    (client, code)
}

fn secret(client: &TestClientApp) -> &str {
    client.secret.as_deref().expect("a confidential client")
}

#[tokio::test]
async fn an_unknown_grant_type_is_unsupported_grant_type() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let (status, body) = app
        .token_basic(&client, &[("grant_type", "urn:example:made-up")])
        .await;

    // Assert
    assert_oauth_error(status, &body, 400, "unsupported_grant_type");
}

#[tokio::test]
async fn a_request_without_grant_type_is_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let (status, body) = app.token_basic(&client, &[("code", "tgc_x")]).await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_request");
}

#[tokio::test]
async fn an_authorization_code_request_without_code_is_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let (status, body) = app
        .token_basic(
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_request");
}

#[tokio::test]
async fn a_body_that_is_not_a_form_is_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;

    // Act: the right fields, as JSON instead of a form (RFC 6749 §3.2).
    let answer = post_raw(
        &app,
        TOKEN,
        "application/json",
        r#"{"grant_type":"client_credentials"}"#.to_owned(),
        Some(&basic(&client.client_id, secret(&client))),
    )
    .await;

    // Assert
    assert_oauth_error(answer.status, &answer.body, 400, "invalid_request");
}

#[tokio::test]
async fn a_parameter_sent_twice_is_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;

    // Act: RFC 6749 §3.2, parameters "MUST NOT be included more than once".
    let (status, body) = app
        .token_basic(
            &client,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "blog:read"),
                ("scope", "blog:write"),
            ],
        )
        .await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_request");
}

#[tokio::test]
async fn client_secret_basic_and_client_secret_post_both_authenticate() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let first = app
        .authorize_code(&mut browser, &alice, &client, "blog:read")
        .await;
    let second = app
        .authorize_code(&mut browser, &alice, &client, "blog:read")
        .await;

    // Act
    let (basic_status, basic_body) = redeem(&app, &client, &first).await;
    let (post_status, post_body) = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &second),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
            ("client_id", &client.client_id),
            ("client_secret", secret(&client)),
        ])
        .await;

    // Assert
    assert_eq!(basic_status, 200, "{basic_body}");
    assert_eq!(basic_body["token_type"], "Bearer");
    assert_eq!(post_status, 200, "{post_body}");
    assert_eq!(post_body["token_type"], "Bearer");
    assert_ne!(basic_body["access_token"], post_body["access_token"]);
}

#[tokio::test]
async fn a_wrong_secret_over_basic_is_invalid_client_with_a_basic_challenge() {
    // Arrange
    let app = TestApp::spawn().await;
    let (client, code) = code_for_confidential_client(&app).await;

    // Act
    let answer = post_form(
        &app,
        TOKEN,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
        ],
        Some(&basic(&client.client_id, "tgs_not-the-secret")),
    )
    .await;

    // Assert: RFC 6749 §5.2, a 401 with the scheme the client tried.
    assert_oauth_error(answer.status, &answer.body, 401, "invalid_client");
    let challenge = answer.www_authenticate().unwrap_or_default();
    assert!(challenge.starts_with("Basic"), "{challenge:?}");
}

#[tokio::test]
async fn a_wrong_secret_in_the_body_is_invalid_client() {
    // Arrange
    let app = TestApp::spawn().await;
    let (client, code) = code_for_confidential_client(&app).await;

    // Act
    let (status, body) = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("client_id", &client.client_id),
            ("client_secret", "tgs_not-the-secret"),
        ])
        .await;

    // Assert
    assert_oauth_error(status, &body, 401, "invalid_client");
}

#[tokio::test]
async fn an_unknown_client_is_invalid_client_over_basic_and_in_the_body() {
    // Arrange
    let app = TestApp::spawn().await;
    let fields = [("grant_type", "client_credentials")];

    // Act
    let over_basic = post_form(&app, TOKEN, &fields, Some(&basic("nobody", "tgs_x"))).await;
    let (in_body_status, in_body) = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
            ("client_secret", "tgs_x"),
        ])
        .await;

    // Assert
    assert_oauth_error(over_basic.status, &over_basic.body, 401, "invalid_client");
    let challenge = over_basic.www_authenticate().unwrap_or_default();
    assert!(challenge.starts_with("Basic"), "{challenge:?}");
    assert_oauth_error(in_body_status, &in_body, 401, "invalid_client");
}

#[tokio::test]
async fn a_secret_sent_both_over_basic_and_in_the_body_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let (client, code) = code_for_confidential_client(&app).await;

    // Act: two authentication methods in one request (RFC 6749 §2.3.1).
    let answer = post_form(
        &app,
        TOKEN,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("client_secret", secret(&client)),
        ],
        Some(&basic(&client.client_id, secret(&client))),
    )
    .await;

    // Assert: §5.2 lists "utilizes more than one mechanism for
    // authenticating the client" under invalid_request.
    assert_oauth_error(answer.status, &answer.body, 400, "invalid_request");
    let (status, body) = redeem(&app, &client, &code).await;
    assert_eq!(
        status, 200,
        "the refused request did not spend the code: {body}"
    );
}

#[tokio::test]
async fn a_confidential_client_without_its_secret_is_invalid_client() {
    // Arrange
    let app = TestApp::spawn().await;
    let (client, code) = code_for_confidential_client(&app).await;

    // Act: only the client_id, as a public client would send it.
    let (status, body) = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
            ("client_id", &client.client_id),
        ])
        .await;

    // Assert
    assert_oauth_error(status, &body, 401, "invalid_client");
}

#[tokio::test]
async fn a_public_client_presenting_a_secret_is_invalid_client() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::public()).await;
    let code = app
        .authorize_code(&mut Browser::new(), &alice, &client, "blog:read")
        .await;
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ];

    // Act
    let (in_body_status, in_body) = app
        .token(
            &[
                fields.as_slice(),
                &[
                    ("client_id", &client.client_id),
                    ("client_secret", "tgs_made-up"),
                ],
            ]
            .concat(),
        )
        .await;
    let over_basic = post_form(
        &app,
        TOKEN,
        &fields,
        Some(&basic(&client.client_id, "tgs_made-up")),
    )
    .await;

    // Assert
    assert_oauth_error(in_body_status, &in_body, 401, "invalid_client");
    assert_oauth_error(over_basic.status, &over_basic.body, 401, "invalid_client");
    let challenge = over_basic.www_authenticate().unwrap_or_default();
    assert!(challenge.starts_with("Basic"), "{challenge:?}");
}

#[tokio::test]
async fn a_public_client_with_only_its_id_and_pkce_gets_tokens() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::public()).await;
    let code = app
        .authorize_code(&mut Browser::new(), &alice, &client, "blog:read")
        .await;

    // Act
    let (status, body) = redeem(&app, &client, &code).await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "blog:read");
    assert!(body["refresh_token"].is_string(), "{body}");
    let (api_status, _) = support::list_posts(&app, support::field(&body, "access_token")).await;
    assert_eq!(api_status, 200);
}

#[tokio::test]
async fn a_form_with_a_charset_parameter_is_still_a_form() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;

    // Act
    let answer = post_raw(
        &app,
        TOKEN,
        "application/x-www-form-urlencoded; charset=UTF-8",
        form(&[("grant_type", "client_credentials")]),
        Some(&basic(&client.client_id, secret(&client))),
    )
    .await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body["access_token"].is_string(), "{}", answer.body);
}
