//! The authorization endpoint with its login and consent pages.

use crate::helpers::TestApp;
use crate::helpers::browser::{Browser, Page};
use crate::helpers::oauth::{CHALLENGE, ClientSpec, REDIRECT_URI, TestClientApp, VERIFIER};

#[tokio::test]
async fn a_user_logs_in_consents_and_the_client_gets_a_code_that_works() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();

    // Act: the authorization request shows the login form.
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    assert_eq!(login.status, 200);
    assert!(login.is_login_form());
    let consent = browser.log_in(&app, &login, &alice).await;
    assert!(consent.is_consent_form(), "{}", consent.body);
    assert!(consent.body.contains("Test App"));
    assert!(consent.body.contains("Read blog posts"));
    let done = browser.decide(&app, &consent, "allow").await;

    // Assert
    assert_eq!(done.status, 303);
    let location = done.location().unwrap();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let params = done.redirect_params();
    assert_eq!(params["state"], "xyz");
    assert_eq!(params["iss"], "http://127.0.0.1");
    assert!(params["code"].starts_with("tgc_"));

    let tokens = app.tokens_for(&alice, &client, "blog:read").await;
    let access = tokens["access_token"].as_str().unwrap();
    let resp = app
        .client
        .get("/api/v1/posts")
        .header("authorization", format!("Bearer {access}"))
        .send()
        .await;
    resp.assert_status_is_ok();
}

/// The issuer of `TestApp::spawn`, sent back as `iss` (RFC 9207).
const ISSUER: &str = "http://127.0.0.1";

/// The request `app.authorize_path` makes, with `changes` applied: `Some`
/// sets a parameter (adding it if absent), `None` removes it.
fn authorize_query(client: &TestClientApp, changes: &[(&str, Option<&str>)]) -> String {
    let mut pairs: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "blog:read"),
        ("state", "xyz"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (name, value) in changes {
        pairs.retain(|(k, _)| k != name);
        if let Some(value) = value {
            pairs.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/oauth/authorize?{query}")
}

/// A 400 error page that sends the browser nowhere.
fn assert_error_page(page: &Page) {
    assert_eq!(page.status, 400, "{}", page.body);
    assert_eq!(page.location(), None, "an error page never redirects");
    assert!(page.body.contains("Request id"), "{}", page.body);
    assert!(!page.is_login_form(), "{}", page.body);
}

/// A redirect back to the client with `error`, `state` and `iss`, and no code.
fn assert_error_redirect(page: &Page, error: &str) {
    assert!(
        matches!(page.status.as_u16(), 302 | 303),
        "a 302 or 303 redirect, got {}: {}",
        page.status,
        page.body
    );
    let location = page.location().expect("a Location header");
    assert!(
        location.starts_with(&format!("{REDIRECT_URI}?")),
        "{location}"
    );
    let params = page.redirect_params();
    assert_eq!(
        params.get("error").map(String::as_str),
        Some(error),
        "{location}"
    );
    assert_eq!(
        params.get("state").map(String::as_str),
        Some("xyz"),
        "{location}"
    );
    assert_eq!(
        params.get("iss").map(String::as_str),
        Some(ISSUER),
        "{location}"
    );
    assert!(!params.contains_key("code"), "{location}");
}

#[tokio::test]
async fn a_request_without_client_id_shows_an_error_page_and_never_redirects() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let page = Browser::new()
        .get(&app, &authorize_query(&client, &[("client_id", None)]))
        .await;

    // Assert
    assert_error_page(&page);
    assert!(page.body.contains("client_id is missing"), "{}", page.body);
}

#[tokio::test]
async fn a_request_from_an_unknown_client_shows_an_error_page_and_never_redirects() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let unknown = uuid::Uuid::new_v4().to_string();

    // Act
    let page = Browser::new()
        .get(
            &app,
            &authorize_query(&client, &[("client_id", Some(&unknown))]),
        )
        .await;

    // Assert
    assert_error_page(&page);
    assert!(page.body.contains("not registered"), "{}", page.body);
}

#[tokio::test]
async fn a_redirect_uri_that_is_not_registered_shows_an_error_page() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let page = Browser::new()
        .get(
            &app,
            &authorize_query(
                &client,
                &[("redirect_uri", Some("https://evil.example/callback"))],
            ),
        )
        .await;

    // Assert
    assert_error_page(&page);
    assert!(
        page.body.contains("does not exactly match"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_redirect_uri_with_an_added_trailing_slash_is_not_the_registered_one() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let with_slash = format!("{REDIRECT_URI}/");

    // Act
    let page = Browser::new()
        .get(
            &app,
            &authorize_query(&client, &[("redirect_uri", Some(&with_slash))]),
        )
        .await;

    // Assert
    assert_error_page(&page);
}

#[tokio::test]
async fn a_redirect_uri_that_differs_only_in_case_is_not_the_registered_one() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();

    for variant in [
        "https://app.example.com/Callback",
        "https://APP.example.com/callback",
        "HTTPS://app.example.com/callback",
    ] {
        // Act
        let page = browser
            .get(
                &app,
                &authorize_query(&client, &[("redirect_uri", Some(variant))]),
            )
            .await;

        // Assert
        assert_error_page(&page);
    }
}

#[tokio::test]
async fn a_bad_redirect_uri_wins_over_errors_that_would_otherwise_redirect() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act: an unsupported response_type would redirect, were the URI valid.
    let page = Browser::new()
        .get(
            &app,
            &authorize_query(
                &client,
                &[
                    ("redirect_uri", Some("https://evil.example/callback")),
                    ("response_type", Some("token")),
                ],
            ),
        )
        .await;

    // Assert
    assert_error_page(&page);
}

#[tokio::test]
async fn a_missing_redirect_uri_is_refused_when_the_client_registered_two() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(
            ClientSpec::default().redirect_uris(&[REDIRECT_URI, "https://app.example.com/other"]),
        )
        .await;

    // Act
    let page = Browser::new()
        .get(&app, &authorize_query(&client, &[("redirect_uri", None)]))
        .await;

    // Assert
    assert_error_page(&page);
    assert!(page.body.contains("no redirect_uri"), "{}", page.body);
}

#[tokio::test]
async fn a_missing_redirect_uri_means_the_only_registered_one() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();

    // Act
    let login = browser
        .get(&app, &authorize_query(&client, &[("redirect_uri", None)]))
        .await;
    let consent = browser.log_in(&app, &login, &alice).await;
    let done = browser.decide(&app, &consent, "allow").await;

    // Assert
    assert!(
        done.location()
            .expect("a redirect")
            .starts_with(&format!("{REDIRECT_URI}?"))
    );
    let params = done.redirect_params();
    assert_eq!(params["state"], "xyz");
    let (status, body) = app
        .token_basic(
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_duplicated_client_id_shows_an_error_page() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let path = format!(
        "{}&client_id={}",
        authorize_query(&client, &[]),
        client.client_id
    );

    // Act
    let page = Browser::new().get(&app, &path).await;

    // Assert
    assert_error_page(&page);
    assert!(page.body.contains("client_id"), "{}", page.body);
}

#[tokio::test]
async fn a_duplicated_client_id_shows_an_error_page_even_after_another_duplicated_parameter() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let other = app.oauth_client(ClientSpec::default()).await;
    let path = format!(
        "{}&state=again&client_id={}",
        authorize_query(&client, &[]),
        other.client_id
    );

    // Act
    let page = Browser::new().get(&app, &path).await;

    // Assert
    assert_error_page(&page);
}

#[tokio::test]
async fn a_duplicated_redirect_uri_shows_an_error_page() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let path = format!(
        "{}&redirect_uri={}",
        authorize_query(&client, &[]),
        url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>()
    );

    // Act
    let page = Browser::new().get(&app, &path).await;

    // Assert
    assert_error_page(&page);
}

#[tokio::test]
async fn a_missing_response_type_redirects_with_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let page = Browser::new()
        .get(&app, &authorize_query(&client, &[("response_type", None)]))
        .await;

    // Assert
    assert_error_redirect(&page, "invalid_request");
}

#[tokio::test]
async fn response_type_token_redirects_with_unsupported_response_type() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let page = Browser::new()
        .get(
            &app,
            &authorize_query(&client, &[("response_type", Some("token"))]),
        )
        .await;

    // Assert
    assert_error_redirect(&page, "unsupported_response_type");
}

#[tokio::test]
async fn an_unknown_scope_redirects_with_invalid_scope() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let page = Browser::new()
        .get(
            &app,
            &authorize_query(&client, &[("scope", Some("blog:read blog:delete"))]),
        )
        .await;

    // Assert
    assert_error_redirect(&page, "invalid_scope");
}

#[tokio::test]
async fn a_scope_the_client_may_not_ask_for_redirects_with_invalid_scope() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("blog:read"))
        .await;

    // Act
    let page = Browser::new()
        .get(
            &app,
            &authorize_query(&client, &[("scope", Some("blog:read blog:write"))]),
        )
        .await;

    // Assert
    assert_error_redirect(&page, "invalid_scope");
}

#[tokio::test]
async fn a_public_client_without_a_code_challenge_redirects_with_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::public()).await;

    // Act
    let page = Browser::new()
        .get(
            &app,
            &authorize_query(
                &client,
                &[("code_challenge", None), ("code_challenge_method", None)],
            ),
        )
        .await;

    // Assert
    assert_error_redirect(&page, "invalid_request");
}

#[tokio::test]
async fn a_confidential_client_without_a_code_challenge_is_refused_unless_the_operator_allows_it() {
    // Arrange: OAuth 2.1 asks PKCE of every client; one legacy client is
    // let off by name.
    let app =
        TestApp::spawn_with(|s| s.pkce_optional_clients = vec!["legacy-app".to_owned()]).await;
    let modern = app.oauth_client(ClientSpec::default()).await;
    let legacy = app
        .oauth_client(ClientSpec::default().with_id("legacy-app"))
        .await;
    let without_pkce = [("code_challenge", None), ("code_challenge_method", None)];

    // Act
    let refused = Browser::new()
        .get(&app, &authorize_query(&modern, &without_pkce))
        .await;
    let allowed = Browser::new()
        .get(&app, &authorize_query(&legacy, &without_pkce))
        .await;

    // Assert
    assert_error_redirect(&refused, "invalid_request");
    assert!(
        refused.redirect_params()["error_description"].contains("PKCE"),
        "{:?}",
        refused.redirect_params()
    );
    assert!(allowed.is_login_form(), "{}", allowed.body);
}

#[tokio::test]
async fn the_plain_code_challenge_method_redirects_with_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::public()).await;

    // Act
    let page = Browser::new()
        .get(
            &app,
            &authorize_query(
                &client,
                &[
                    ("code_challenge", Some(VERIFIER)),
                    ("code_challenge_method", Some("plain")),
                ],
            ),
        )
        .await;

    // Assert
    assert_error_redirect(&page, "invalid_request");
}

#[tokio::test]
async fn a_code_challenge_without_a_method_redirects_with_invalid_request() {
    // Arrange: RFC 7636 would read the missing method as `plain`.
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::public()).await;

    // Act
    let page = Browser::new()
        .get(
            &app,
            &authorize_query(&client, &[("code_challenge_method", None)]),
        )
        .await;

    // Assert
    assert_error_redirect(&page, "invalid_request");
}

#[tokio::test]
async fn a_malformed_code_challenge_redirects_with_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::public()).await;
    let mut browser = Browser::new();

    for challenge in [
        "too-short",
        &"A".repeat(44),
        &format!("{}!", &CHALLENGE[..42]),
    ] {
        // Act
        let page = browser
            .get(
                &app,
                &authorize_query(&client, &[("code_challenge", Some(challenge))]),
            )
            .await;

        // Assert
        assert_error_redirect(&page, "invalid_request");
    }
}

#[tokio::test]
async fn a_client_without_the_authorization_code_grant_redirects_with_unauthorized_client() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;

    // Act
    let page = Browser::new()
        .get(&app, &authorize_query(&client, &[]))
        .await;

    // Assert
    assert_error_redirect(&page, "unauthorized_client");
}

#[tokio::test]
async fn a_duplicated_parameter_other_than_client_id_redirects_with_invalid_request() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let path = format!("{}&scope=blog%3Awrite", authorize_query(&client, &[]));

    // Act
    let page = Browser::new().get(&app, &path).await;

    // Assert
    assert_error_redirect(&page, "invalid_request");
}

#[tokio::test]
async fn denying_consent_redirects_with_access_denied_state_and_iss() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let consent = browser.log_in(&app, &login, &alice).await;

    // Act
    let done = browser.decide(&app, &consent, "deny").await;

    // Assert
    assert_error_redirect(&done, "access_denied");
}

#[tokio::test]
async fn a_login_post_to_an_invalid_request_is_redirected_with_303_so_the_password_is_not_resent() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let csrf = login.field("csrf_token").expect("csrf field");

    // Act: the same form, posted to a request that fails validation.
    let page = browser
        .post_form(
            &app,
            &authorize_query(&client, &[("response_type", Some("token"))]),
            &[
                ("csrf_token", &csrf),
                ("username", &alice.username),
                ("password", &alice.password),
            ],
        )
        .await;

    // Assert: RFC 9700 §4.12 forbids 307, which would re-POST the
    // credentials to the client, and asks for 303.
    assert_eq!(page.status, 303, "{:?}", page.location());
    assert_error_redirect(&page, "unsupported_response_type");
}

#[tokio::test]
async fn a_state_with_markup_and_reserved_characters_comes_back_unchanged_and_is_never_unescaped() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let state = r#"a b&c=d+e"><script>alert('x')</script>%"#;
    let mut browser = Browser::new();

    // Act: the forms post back to a URL that carries the state.
    let login = browser
        .get(&app, &authorize_query(&client, &[("state", Some(state))]))
        .await;
    let consent = browser.log_in(&app, &login, &alice).await;
    let done = browser.decide(&app, &consent, "allow").await;

    // Assert
    for page in [&login, &consent] {
        assert!(!page.body.contains("<script>"), "{}", page.body);
    }
    let params = done.redirect_params();
    assert_eq!(params["state"], state);
    assert!(params.contains_key("code"), "{params:?}");
}

#[tokio::test]
async fn a_native_app_registered_on_a_loopback_ip_may_use_any_port() {
    // Arrange: RFC 8252 §7.3, the app listens on a port it gets at run time.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let native = app
        .oauth_client(
            ClientSpec::public()
                .first_party()
                .redirect_uris(&["http://127.0.0.1/callback"]),
        )
        .await;
    let sent = "http://127.0.0.1:53127/callback";
    let mut browser = Browser::new();

    // Act
    let login = browser
        .get(
            &app,
            &authorize_query(&native, &[("redirect_uri", Some(sent))]),
        )
        .await;
    let done = browser.log_in(&app, &login, &alice).await;
    let code = done.redirect_params()["code"].clone();
    let (status, body) = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", &native.client_id),
            ("code", &code),
            ("redirect_uri", sent),
            ("code_verifier", VERIFIER),
        ])
        .await;

    // Assert
    assert!(
        done.location().unwrap().starts_with(sent),
        "{:?}",
        done.location()
    );
    assert_eq!(status, 200, "{body}");
    // Another path, or https, on the same host is still no match.
    for other in [
        "http://127.0.0.1:53127/other",
        "https://127.0.0.1:53127/callback",
    ] {
        let page = Browser::new()
            .get(
                &app,
                &authorize_query(&native, &[("redirect_uri", Some(other))]),
            )
            .await;
        assert_error_page(&page);
    }
}

#[tokio::test]
async fn registering_a_localhost_redirect_uri_is_refused_in_favour_of_the_ip() {
    let app = TestApp::spawn().await;
    let err = tollgate::manage::create_client(
        &app.state.db,
        tollgate::manage::ClientRequest {
            name: "native".to_owned(),
            redirect_uris: vec!["http://localhost:8765/cb".to_owned()],
            public: true,
            ..Default::default()
        },
        app.clock().now(),
    )
    .await
    .err()
    .expect("refused");
    assert!(err.to_string().contains("http://127.0.0.1"), "{err}");
}
