//! Reaching the account page: sign-in and back, the redirect for someone
//! signed out, the home page and signing out.

use crate::helpers::TestApp;
use crate::helpers::browser::Browser;

use super::{csrf, sign_in};

#[tokio::test]
async fn signing_in_through_login_lands_on_the_account_page() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut browser = Browser::new();

    // Act
    let page = sign_in(&app, &mut browser, &alice).await;

    // Assert
    assert!(page.body.contains("Signed in as alice"), "{}", page.body);
    assert!(page.body.contains("this device"), "{}", page.body);
    assert_eq!(
        page.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    for path in ["/account/profile", "/account/password", "/logout"] {
        assert!(page.body.contains(path), "a form posts to {path}");
    }
}

#[tokio::test]
async fn someone_signed_out_is_sent_to_sign_in_and_back() {
    // Arrange
    let app = TestApp::spawn().await;
    let mut browser = Browser::new();

    // Act
    let page = browser.get(&app, "/account").await;
    let action = browser
        .post_form(&app, "/account/profile", &[("name", "X")])
        .await;

    // Assert
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location().as_deref(),
        Some("/login?return_to=%2Faccount")
    );
    assert_eq!(
        action.status, 303,
        "a form posted signed out: {}",
        action.body
    );
    assert!(action.location().expect("location").starts_with("/login"));
}

#[tokio::test]
async fn the_login_page_never_sends_anyone_off_the_server() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut browser = Browser::new();

    // Act
    let form = browser
        .get(&app, "/login?return_to=%2F%2Fevil.example%2F")
        .await;
    let landed = browser.log_in(&app, &form, &alice).await;
    let again = browser
        .get(&app, "/login?return_to=https://evil.example/")
        .await;

    // Assert
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("Sign in to your account"),
        "{}",
        form.body
    );
    assert!(
        form.body.contains("href=\"/account\""),
        "the login page links to the account page"
    );
    assert_eq!(landed.location().as_deref(), Some("/account"));
    assert_eq!(again.status, 303, "already signed in");
    assert_eq!(again.location().as_deref(), Some("/account"));
}

#[tokio::test]
async fn a_failed_sign_in_shows_the_form_again_with_the_generic_message() {
    // Arrange
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    alice.password = "not-the-password".to_owned();
    let mut browser = Browser::new();

    // Act
    let form = browser.get(&app, "/login").await;
    let again = browser.log_in(&app, &form, &alice).await;
    let account = browser.get(&app, "/account").await;

    // Assert
    assert_eq!(again.status, 200);
    assert!(again.is_login_form());
    assert!(
        again.body.contains("Invalid username or password."),
        "{}",
        again.body
    );
    assert_eq!(account.status, 303, "still signed out");
}

#[tokio::test]
async fn signing_out_ends_the_session_and_shows_where_to_go_next() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut browser = Browser::new();
    let page = sign_in(&app, &mut browser, &alice).await;

    // Act
    let refused = browser.post_form(&app, "/logout", &[]).await;
    let still_in = browser.get(&app, "/account").await;
    let out = browser
        .post_form(&app, "/logout", &[("csrf_token", &csrf(&page))])
        .await;
    let after = browser.get(&app, "/account").await;

    // Assert
    assert_eq!(refused.status, 400, "no CSRF token");
    assert_eq!(still_in.status, 200, "a refused sign-out changes nothing");
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(out.body.contains("You are signed out"), "{}", out.body);
    assert!(out.body.contains("href=\"/account\""), "{}", out.body);
    assert_eq!(after.status, 303);
}

#[tokio::test]
async fn the_home_page_points_to_the_docs_the_account_and_discovery() {
    // Arrange
    let app = TestApp::spawn().await;
    let mut browser = Browser::new();

    // Act
    let home = browser.get(&app, "/").await;

    // Assert
    assert_eq!(home.status, 200);
    for link in ["/docs", "/account", "/.well-known/openid-configuration"] {
        assert!(home.body.contains(&format!("href=\"{link}\"")), "{link}");
    }
}
