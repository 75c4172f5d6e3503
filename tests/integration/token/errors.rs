//! RFC 6749 §5.2 error paths of POST /oauth/token that need no flow of
//! their own: unknown codes and refresh tokens, grants a client may not
//! use, malformed client authentication, oversized bodies, empty values.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::support::{assert_oauth_error, basic, field, form, post_form, post_raw, redeem};
use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, TestClientApp, VERIFIER};
use crate::helpers::{TestApp, TestUser};

const TOKEN: &str = "/oauth/token";

fn secret(client: &TestClientApp) -> &str {
    client.secret.as_deref().expect("a confidential client")
}

/// A code from an authorization request that left `redirect_uri` out
/// (allowed: the client registered exactly one).
async fn code_authorized_without_redirect_uri(
    app: &TestApp,
    user: &TestUser,
    client: &TestClientApp,
) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect();
    let path = app
        .authorize_path(client, "blog:read")
        .replace(&format!("&redirect_uri={encoded}"), "");
    assert!(!path.contains("redirect_uri"), "{path}");
    let mut browser = Browser::new();
    let login = browser.get(app, &path).await;
    let consent = browser.log_in(app, &login, user).await;
    let done = browser.decide(app, &consent, "allow").await;
    done.redirect_params()["code"].clone()
}

#[tokio::test]
async fn an_unknown_or_garbage_code_is_invalid_grant() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    for code in [
        // Well-formed, never issued.
        "tgc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        // Not even shaped like a code.
        "%%% not a code \u{1F600}",
    ] {
        // Act
        let (status, body) = redeem(&app, &client, code).await;

        // Assert
        assert_oauth_error(status, &body, 400, "invalid_grant");
    }
}

#[tokio::test]
async fn a_redirect_uri_at_the_token_endpoint_when_none_was_sent_to_authorize_must_be_registered() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let code = code_authorized_without_redirect_uri(&app, &alice, &client).await;
    let with_redirect = |uri: &'static str| {
        [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", uri),
            ("code_verifier", VERIFIER),
        ]
    };

    // Act: first a URI the client never registered, then its own.
    let (unregistered_status, unregistered) = app
        .token_basic(&client, &with_redirect("https://evil.example/cb"))
        .await;
    let (registered_status, registered) =
        app.token_basic(&client, &with_redirect(REDIRECT_URI)).await;

    // Assert: RFC 6749 §4.1.3 only requires the parameter when the
    // authorization request had one; an unregistered value is still
    // refused, and the refusal does not spend the code.
    assert_oauth_error(unregistered_status, &unregistered, 400, "invalid_grant");
    assert_eq!(registered_status, 200, "{registered}");
    assert_eq!(registered["token_type"], "Bearer");
}

#[tokio::test]
async fn a_client_without_the_authorization_code_grant_may_not_redeem_a_code() {
    // Arrange: a code of a client that may, presented by one that may not.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let owner = app.oauth_client(ClientSpec::default()).await;
    let machine = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;
    let code = app
        .authorize_code(&mut Browser::new(), &alice, &owner, "blog:read")
        .await;

    // Act
    let (status, body) = redeem(&app, &machine, &code).await;

    // Assert: RFC 6749 §5.2 "unauthorized_client: The authenticated client
    // is not authorized to use this authorization grant type."
    assert_oauth_error(status, &body, 400, "unauthorized_client");
    let (status, body) = redeem(&app, &owner, &code).await;
    assert_eq!(status, 200, "the code was not spent: {body}");
}

#[tokio::test]
async fn a_missing_or_empty_refresh_token_is_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act: RFC 6749 §3.1, a parameter without a value counts as omitted.
    let (missing_status, missing) = app
        .token_basic(&client, &[("grant_type", "refresh_token")])
        .await;
    let (empty_status, empty) = app
        .token_basic(
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", "")],
        )
        .await;

    // Assert
    assert_oauth_error(missing_status, &missing, 400, "invalid_request");
    assert_oauth_error(empty_status, &empty, 400, "invalid_request");
}

#[tokio::test]
async fn an_unknown_refresh_token_is_invalid_grant() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let (status, body) = app
        .token_basic(
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "tgr_never-issued"),
            ],
        )
        .await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn a_malformed_basic_header_is_invalid_client_with_a_basic_challenge() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;
    let fields = [("grant_type", "client_credentials")];
    let credentials = format!("{}:{}", client.client_id, secret(&client));
    let cases = [
        // Another scheme, with the right credentials after it.
        (
            "wrong scheme",
            format!("Bearer {}", STANDARD.encode(&credentials)),
        ),
        ("bad base64", "Basic %%%not-base64%%%".to_owned()),
        (
            "no colon",
            format!("Basic {}", STANDARD.encode(&client.client_id)),
        ),
        ("no credentials", "Basic".to_owned()),
    ];

    for (case, header) in cases {
        // Act
        let answer = post_form(&app, TOKEN, &fields, Some(&header)).await;

        // Assert: RFC 6749 §5.2, a client that tried the Authorization
        // header gets 401 and a challenge for the scheme we accept.
        assert_eq!(answer.status, 401, "{case}: {}", answer.body);
        assert_oauth_error(answer.status, &answer.body, 401, "invalid_client");
        let challenge = answer.www_authenticate().unwrap_or_default();
        assert!(challenge.starts_with("Basic"), "{case}: {challenge:?}");
    }
}

#[tokio::test]
async fn a_basic_id_other_than_the_bodys_client_id_is_invalid_client() {
    // Arrange: two real clients, each with its right secret.
    let app = TestApp::spawn().await;
    let spec = || ClientSpec::default().grants(&["client_credentials"]);
    let client = app.oauth_client(spec()).await;
    let other = app.oauth_client(spec()).await;

    // Act: authenticated as one, naming the other in the body.
    let answer = post_form(
        &app,
        TOKEN,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &other.client_id),
        ],
        Some(&basic(&client.client_id, secret(&client))),
    )
    .await;
    let same_id = post_form(
        &app,
        TOKEN,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client.client_id),
        ],
        Some(&basic(&client.client_id, secret(&client))),
    )
    .await;

    // Assert: which client is asking is ambiguous, so nobody is
    // authenticated; the same id in both places is fine.
    assert_oauth_error(answer.status, &answer.body, 401, "invalid_client");
    let challenge = answer.www_authenticate().unwrap_or_default();
    assert!(challenge.starts_with("Basic"), "{challenge:?}");
    assert_eq!(same_id.status, 200, "{}", same_id.body);
}

#[tokio::test]
async fn a_form_body_over_the_limit_is_invalid_request() {
    // Arrange: valid credentials, and a padding field that takes the body
    // just past the 16 KiB limit.
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;
    let authorization = basic(&client.client_id, secret(&client));
    let padded = |bytes: usize| {
        let padding = "a".repeat(bytes);
        form(&[("grant_type", "client_credentials"), ("padding", &padding)])
    };

    // Act
    let over = post_raw(
        &app,
        TOKEN,
        "application/x-www-form-urlencoded",
        padded(16 * 1024),
        Some(&authorization),
    )
    .await;
    let under = post_raw(
        &app,
        TOKEN,
        "application/x-www-form-urlencoded",
        padded(15 * 1024),
        Some(&authorization),
    )
    .await;

    // Assert: the same request below the limit succeeds, so the size alone
    // was refused.
    assert_oauth_error(over.status, &over.body, 400, "invalid_request");
    assert_eq!(under.status, 200, "{}", under.body);
}

#[tokio::test]
async fn an_empty_scope_counts_as_no_scope() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let machine = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app
        .tokens_for(&alice, &client, "blog:read blog:write")
        .await;

    // Act: RFC 6749 §3.1, "Parameters sent without a value MUST be treated
    // as if they were omitted from the request."
    let (credentials_status, credentials) = app
        .token_basic(
            &machine,
            &[("grant_type", "client_credentials"), ("scope", "")],
        )
        .await;
    let (refresh_status, refreshed) = app
        .token_basic(
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", field(&tokens, "refresh_token")),
                ("scope", ""),
            ],
        )
        .await;

    // Assert: as if omitted, each gets everything it may have.
    assert_eq!(credentials_status, 200, "{credentials}");
    assert_eq!(credentials["scope"], "blog:read blog:write");
    assert_eq!(refresh_status, 200, "{refreshed}");
    assert_eq!(refreshed["scope"], "blog:read blog:write");
}
