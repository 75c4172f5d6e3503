//! The login step of the authorization endpoint: the form, failures, CSRF,
//! the session cookie, returning users, expiry and logout.

use std::time::Duration;

use crate::helpers::browser::{Browser, Page};
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI};
use crate::helpers::{TestApp, TestUser};

const FAILED: &str = "Invalid username or password.";

/// The whole `<input ...>` tag named `name`.
fn input_tag<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("name=\"{name}\"");
    let mut rest = body;
    while let Some(start) = rest.find("<input") {
        let end = start + rest[start..].find('>')? + 1;
        let tag = &rest[start..end];
        if tag.contains(&marker) {
            return Some(tag);
        }
        rest = &rest[end..];
    }
    None
}

/// The `Set-Cookie` header that sets `name`, if the page sent one.
fn set_cookie(page: &Page, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&prefix))
        .map(str::to_owned)
}

/// The attributes of a `Set-Cookie` header, lower-cased (`httponly`, `path=/`, ...).
fn cookie_attributes(header: &str) -> Vec<String> {
    header
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

/// The message in the page's error box.
fn error_message(page: &Page) -> Option<String> {
    let start = page.body.find("role=\"alert\">")? + "role=\"alert\">".len();
    let end = start + page.body[start..].find("</p>")?;
    Some(page.body[start..end].trim().to_owned())
}

/// Submits the login form of `login` with the given fields.
async fn submit_login(
    app: &TestApp,
    browser: &mut Browser,
    login: &Page,
    fields: &[(&str, &str)],
) -> Page {
    let action = login.form_action().expect("form action");
    browser.post_form(app, &action, fields).await
}

/// Logs `user` in through a first-party client (no consent step) and
/// returns the page that answered the login.
async fn log_in_first_party(app: &TestApp, browser: &mut Browser, user: &TestUser) -> Page {
    let client = app.oauth_client(ClientSpec::default().first_party()).await;
    let login = browser
        .get(app, &app.authorize_path(&client, "blog:read"))
        .await;
    browser.log_in(app, &login, user).await
}

#[tokio::test]
async fn the_login_page_has_a_post_form_with_username_password_and_a_hidden_csrf_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;

    // Act
    let page = Browser::new()
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;

    // Assert
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("<form").count(), 1, "{}", page.body);
    assert!(page.body.contains("<form method=\"post\""), "{}", page.body);
    let username = input_tag(&page.body, "username").expect("a username input");
    assert!(!username.contains("type=\"password\""), "{username}");
    let password = input_tag(&page.body, "password").expect("a password input");
    assert!(password.contains("type=\"password\""), "{password}");
    let csrf = input_tag(&page.body, "csrf_token").expect("a csrf_token input");
    assert!(csrf.contains("type=\"hidden\""), "{csrf}");
    assert!(page.field("csrf_token").is_some_and(|t| t.len() >= 32));
    assert!(page.body.contains("type=\"submit\""), "{}", page.body);
    assert!(page.body.contains("Test App"), "names the client");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_message() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let csrf = login.field("csrf_token").unwrap();

    // Act
    let wrong_password = submit_login(
        &app,
        &mut browser,
        &login,
        &[
            ("csrf_token", &csrf),
            ("username", "alice"),
            ("password", "not-alices-password"),
        ],
    )
    .await;
    let unknown_user = submit_login(
        &app,
        &mut browser,
        &login,
        &[
            ("csrf_token", &csrf),
            ("username", "mallory"),
            ("password", &alice.password),
        ],
    )
    .await;

    // Assert
    for page in [&wrong_password, &unknown_user] {
        assert!(page.is_login_form(), "the form again: {}", page.body);
        assert_eq!(page.location(), None);
        assert_eq!(error_message(page).as_deref(), Some(FAILED));
        assert!(set_cookie(page, "tollgate_session").is_none());
        let lower = page.body.to_lowercase();
        for telltale in [
            "wrong password",
            "incorrect password",
            "no such user",
            "unknown user",
        ] {
            assert!(!lower.contains(telltale), "says {telltale:?}");
        }
    }
    assert_eq!(wrong_password.status, unknown_user.status);
    assert!(
        !unknown_user.body.contains(&alice.password),
        "never echoes a password"
    );
    // Apart from the echoed username, the two answers are the same page.
    assert_eq!(
        wrong_password
            .body
            .replace("value=\"alice\"", "value=\"?\""),
        unknown_user
            .body
            .replace("value=\"mallory\"", "value=\"?\"")
    );
}

#[tokio::test]
async fn a_login_without_the_csrf_token_is_refused_and_starts_no_session() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;

    // Act
    let page = submit_login(
        &app,
        &mut browser,
        &login,
        &[("username", &alice.username), ("password", &alice.password)],
    )
    .await;

    // Assert
    assert_eq!(page.status, 400);
    assert_eq!(page.location(), None);
    assert!(page.is_login_form(), "{}", page.body);
    assert!(set_cookie(&page, "tollgate_session").is_none());
    assert!(!browser.has_cookie("tollgate_session"));
}

#[tokio::test]
async fn a_login_with_a_wrong_csrf_token_is_refused_and_starts_no_session() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    // A valid token, but of another browser (a login CSRF attempt).
    let attackers = Browser::new()
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await
        .field("csrf_token")
        .unwrap();

    for token in ["wrong", attackers.as_str()] {
        // Act
        let page = submit_login(
            &app,
            &mut browser,
            &login,
            &[
                ("csrf_token", token),
                ("username", &alice.username),
                ("password", &alice.password),
            ],
        )
        .await;

        // Assert
        assert_eq!(page.status, 400);
        assert_eq!(page.location(), None);
        assert!(set_cookie(&page, "tollgate_session").is_none());
        assert!(!browser.has_cookie("tollgate_session"));
    }
}

#[tokio::test]
async fn a_login_from_a_browser_without_the_csrf_cookie_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let login = Browser::new()
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let csrf = login.field("csrf_token").unwrap();
    let mut cookieless = Browser::new();

    // Act
    let page = submit_login(
        &app,
        &mut cookieless,
        &login,
        &[
            ("csrf_token", &csrf),
            ("username", &alice.username),
            ("password", &alice.password),
        ],
    )
    .await;

    // Assert
    assert_eq!(page.status, 400);
    assert!(set_cookie(&page, "tollgate_session").is_none());
}

#[tokio::test]
async fn a_successful_login_sets_an_http_only_lax_session_cookie_without_secure_on_http() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut browser = Browser::new();

    // Act
    let page = log_in_first_party(&app, &mut browser, &alice).await;

    // Assert
    assert_eq!(page.status, 303, "{}", page.body);
    let cookie = set_cookie(&page, "tollgate_session").expect("a session cookie");
    let attributes = cookie_attributes(&cookie);
    assert!(attributes.contains(&"httponly".to_owned()), "{cookie}");
    assert!(attributes.contains(&"samesite=lax".to_owned()), "{cookie}");
    assert!(attributes.contains(&"path=/".to_owned()), "{cookie}");
    assert!(!attributes.contains(&"secure".to_owned()), "{cookie}");
}

#[tokio::test]
async fn on_an_https_issuer_the_session_cookie_is_secure() {
    // Arrange
    let app =
        TestApp::spawn_with(|s| s.issuer = url::Url::parse("https://auth.example").unwrap()).await;
    let alice = app.user("alice").await;
    let mut browser = Browser::new();

    // Act
    let page = log_in_first_party(&app, &mut browser, &alice).await;

    // Assert
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.redirect_params()["iss"], "https://auth.example");
    // The __Host- prefix: no subdomain can plant or overwrite it.
    let cookie = set_cookie(&page, "__Host-tollgate_session").expect("a session cookie");
    let attributes = cookie_attributes(&cookie);
    assert!(attributes.contains(&"secure".to_owned()), "{cookie}");
    assert!(attributes.contains(&"httponly".to_owned()), "{cookie}");
    assert!(attributes.contains(&"samesite=lax".to_owned()), "{cookie}");
}

#[tokio::test]
async fn login_consent_error_and_logout_pages_are_never_cached_or_framed() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();

    // Act
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let consent = browser.log_in(&app, &login, &alice).await;
    let error = browser
        .get(&app, "/oauth/authorize?response_type=code")
        .await;
    let logout = browser.get(&app, "/oauth/logout").await;

    // Assert
    assert!(login.is_login_form() && consent.is_consent_form());
    assert_eq!(error.status, 400);
    for (name, page) in [
        ("login", &login),
        ("consent", &consent),
        ("error", &error),
        ("logout", &logout),
    ] {
        let header = |h: &str| page.headers.get(h).and_then(|v| v.to_str().ok());
        assert_eq!(header("cache-control"), Some("no-store"), "{name} page");
        assert_eq!(header("x-frame-options"), Some("DENY"), "{name} page");
    }
}

#[tokio::test]
async fn a_returning_user_with_a_live_session_and_consent_goes_straight_back_with_a_code() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    app.authorize_code(&mut browser, &alice, &client, "blog:read")
        .await;

    // Act
    let page = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;

    // Assert
    assert!(
        matches!(page.status.as_u16(), 302 | 303),
        "a redirect, not a page: {} {}",
        page.status,
        page.body
    );
    assert!(page.location().unwrap().starts_with(REDIRECT_URI));
    let params = page.redirect_params();
    assert_eq!(params["state"], "xyz");
    assert!(params["code"].starts_with("tgc_"), "{params:?}");
}

#[tokio::test]
async fn an_expired_session_shows_the_login_form_again() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    app.authorize_code(&mut browser, &alice, &client, "blog:read")
        .await;
    let session_ttl = app.state.settings.session_ttl.to_std().unwrap();

    // Act
    app.clock().advance(session_ttl + Duration::from_secs(1));
    let page = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;

    // Assert
    assert_eq!(page.status, 200);
    assert!(page.is_login_form(), "{}", page.body);
    assert_eq!(page.location(), None);
}

#[tokio::test]
async fn a_session_shortly_before_expiry_is_still_live() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    app.authorize_code(&mut browser, &alice, &client, "blog:read")
        .await;
    let session_ttl = app.state.settings.session_ttl.to_std().unwrap();

    // Act
    app.clock().advance(session_ttl - Duration::from_secs(60));
    let page = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;

    // Assert
    assert!(page.redirect_params().contains_key("code"), "{}", page.body);
}

#[tokio::test]
async fn logging_out_ends_the_session_and_the_next_request_asks_to_log_in_again() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default().first_party()).await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let signed_in = browser.log_in(&app, &login, &alice).await;
    let session_cookie = set_cookie(&signed_in, "tollgate_session")
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    // Act
    let logout = browser.get(&app, "/oauth/logout").await;
    assert_eq!(logout.status, 200);
    assert!(logout.body.contains("alice"), "{}", logout.body);
    assert!(
        logout.body.contains("<form method=\"post\""),
        "{}",
        logout.body
    );
    let csrf = logout.field("csrf_token").expect("a csrf field");
    let done = browser
        .post_form(&app, "/oauth/logout", &[("csrf_token", &csrf)])
        .await;

    // Assert
    assert_eq!(done.status, 200);
    assert!(done.body.contains("signed out"), "{}", done.body);
    let removal = set_cookie(&done, "tollgate_session").expect("the cookie is cleared");
    assert!(
        cookie_attributes(&removal).contains(&"max-age=0".to_owned()),
        "{removal}"
    );
    let next = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    assert!(next.is_login_form(), "{}", next.body);
    // The old session id is dead on the server too, not only in the browser.
    let replayed = app
        .client
        .get(app.authorize_path(&client, "blog:read"))
        .header("cookie", &session_cookie)
        .send()
        .await;
    assert_eq!(replayed.0.status(), 200);
    let body = replayed.0.into_body().into_string().await.unwrap();
    assert!(body.contains("name=\"password\""), "{body}");
}

#[tokio::test]
async fn a_logout_with_a_wrong_csrf_token_keeps_the_session() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default().first_party()).await;
    let mut browser = Browser::new();
    log_in_first_party(&app, &mut browser, &alice).await;

    // Act
    let refused = browser
        .post_form(&app, "/oauth/logout", &[("csrf_token", "wrong")])
        .await;

    // Assert
    assert_eq!(refused.status, 400);
    assert!(browser.has_cookie("tollgate_session"));
    let next = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    assert!(next.redirect_params().contains_key("code"), "{}", next.body);
}
