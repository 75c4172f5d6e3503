//! `prompt`, `max_age` and `login_hint` (OIDC Core §3.1.2.1).

use std::time::Duration;

use super::{
    assert_error_redirect, code_of, code_row, input_tag, oidc_path, only_session, sessions,
    sign_in_for_code,
};
use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::ClientSpec;

#[tokio::test]
async fn prompt_none_without_a_session_redirects_with_login_required() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid"))
        .await;
    let mut browser = Browser::new();

    // Act
    let page = browser
        .get(&app, &oidc_path(&client, &[("prompt", "none")]))
        .await;

    // Assert
    assert_error_redirect(&page, "login_required");
    assert!(!page.is_login_form());
}

#[tokio::test]
async fn prompt_none_with_a_session_but_no_consent_redirects_with_consent_required() {
    // Arrange: signed in, through another (first-party) client.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let own = app
        .oauth_client(ClientSpec::default().scopes("openid").first_party())
        .await;
    let third = app
        .oauth_client(ClientSpec::default().scopes("openid"))
        .await;
    let mut browser = Browser::new();
    sign_in_for_code(&app, &mut browser, &alice, &oidc_path(&own, &[])).await;

    // Act
    let page = browser
        .get(&app, &oidc_path(&third, &[("prompt", "none")]))
        .await;

    // Assert
    assert_error_redirect(&page, "consent_required");
    assert!(!page.is_consent_form());
}

#[tokio::test]
async fn prompt_none_with_a_session_and_consent_returns_a_code_without_any_page() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid"))
        .await;
    let mut browser = Browser::new();
    sign_in_for_code(&app, &mut browser, &alice, &oidc_path(&client, &[])).await;

    // Act
    let page = browser
        .get(&app, &oidc_path(&client, &[("prompt", "none")]))
        .await;

    // Assert
    assert_eq!(page.status, 302, "{}", page.body);
    assert!(code_of(&page).starts_with("tgc_"));
}

#[tokio::test]
async fn prompt_login_asks_again_despite_a_session_and_keeps_the_session_with_a_new_auth_time() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid"))
        .await;
    let mut browser = Browser::new();
    sign_in_for_code(&app, &mut browser, &alice, &oidc_path(&client, &[])).await;
    let before = only_session(&app).await;
    app.clock().advance(Duration::from_secs(600));

    // Act
    let login = browser
        .get(&app, &oidc_path(&client, &[("prompt", "login")]))
        .await;
    assert!(login.is_login_form(), "{}", login.body);
    let username = input_tag(&login.body, "username").expect("username field");
    assert!(username.contains("value=\"alice\""), "{username}");
    assert!(login.body.contains("sign in again"), "{}", login.body);
    let done = browser.log_in(&app, &login, &alice).await;

    // Assert: straight back (consent is remembered), same session, sid.
    let code = code_of(&done);
    let after = only_session(&app).await;
    assert_eq!(after.id_hash, before.id_hash, "the same session");
    assert_eq!(after.sid, before.sid);
    assert!(
        after.auth_time >= before.auth_time + chrono::TimeDelta::seconds(600),
        "{} then {}",
        before.auth_time,
        after.auth_time
    );
    assert_eq!(code_row(&app, &code).await.auth_time, Some(after.auth_time));
}

#[tokio::test]
async fn signing_in_again_as_someone_else_starts_a_new_session() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid").first_party())
        .await;
    let mut browser = Browser::new();
    sign_in_for_code(&app, &mut browser, &alice, &oidc_path(&client, &[])).await;
    let alices = only_session(&app).await;

    // Act
    let login = browser
        .get(&app, &oidc_path(&client, &[("prompt", "login")]))
        .await;
    let done = browser.log_in(&app, &login, &bob).await;

    // Assert
    let code = code_of(&done);
    let bobs = only_session(&app).await;
    assert_ne!(bobs.id_hash, alices.id_hash);
    assert_ne!(bobs.sid, alices.sid);
    assert_ne!(bobs.user_id, alices.user_id);
    assert_eq!(code_row(&app, &code).await.user_id, bobs.user_id);
}

#[tokio::test]
async fn max_age_zero_asks_to_sign_in_again_and_then_returns_a_code() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid").first_party())
        .await;
    let mut browser = Browser::new();
    sign_in_for_code(&app, &mut browser, &alice, &oidc_path(&client, &[])).await;

    // Act
    let path = oidc_path(&client, &[("max_age", "0")]);
    let login = browser.get(&app, &path).await;
    assert!(login.is_login_form(), "{}", login.body);
    let done = browser.log_in(&app, &login, &alice).await;

    // Assert: the fresh sign-in satisfies max_age=0; no second form.
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(code_of(&done).starts_with("tgc_"));
    assert_eq!(sessions(&app).await.len(), 1);
}

#[tokio::test]
async fn a_max_age_that_has_not_passed_needs_no_new_sign_in_and_one_that_has_does() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid").first_party())
        .await;
    let mut browser = Browser::new();
    sign_in_for_code(&app, &mut browser, &alice, &oidc_path(&client, &[])).await;
    app.clock().advance(Duration::from_secs(120));

    // Act
    let recent_enough = browser
        .get(&app, &oidc_path(&client, &[("max_age", "3600")]))
        .await;
    let too_old = browser
        .get(&app, &oidc_path(&client, &[("max_age", "60")]))
        .await;
    let too_old_silent = browser
        .get(
            &app,
            &oidc_path(&client, &[("max_age", "60"), ("prompt", "none")]),
        )
        .await;

    // Assert
    assert_eq!(recent_enough.status, 302, "{}", recent_enough.body);
    assert!(code_of(&recent_enough).starts_with("tgc_"));
    assert!(too_old.is_login_form(), "{}", too_old.body);
    assert_error_redirect(&too_old_silent, "login_required");
}

#[tokio::test]
async fn bad_prompt_and_max_age_values_redirect_with_invalid_request() {
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid"))
        .await;
    let cases = [
        ("prompt", "select_account", "prompt"),
        ("prompt", "none login", "prompt"),
        ("prompt", "consent bogus", "prompt"),
        ("max_age", "-1", "max_age"),
        ("max_age", "soon", "max_age"),
        ("max_age", "1.5", "max_age"),
    ];
    for (name, value, named) in cases {
        let mut browser = Browser::new();
        let page = browser
            .get(&app, &oidc_path(&client, &[(name, value)]))
            .await;
        assert_error_redirect(&page, "invalid_request");
        let description = page.redirect_params()["error_description"].clone();
        assert!(description.contains(named), "{name}={value}: {description}");
    }
}

#[tokio::test]
async fn login_hint_fills_the_username_field_escaped() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid"))
        .await;
    let mut browser = Browser::new();
    let hostile = "\"><script>alert(1)</script>";

    // Act
    let plain = browser
        .get(&app, &oidc_path(&client, &[("login_hint", "bob")]))
        .await;
    let markup = browser
        .get(&app, &oidc_path(&client, &[("login_hint", hostile)]))
        .await;
    let long = "b".repeat(257);
    let overlong = browser
        .get(&app, &oidc_path(&client, &[("login_hint", &long)]))
        .await;

    // Assert
    let tag = input_tag(&plain.body, "username").expect("username field");
    assert!(tag.contains("value=\"bob\""), "{tag}");
    assert!(!markup.body.contains("<script>"), "{}", markup.body);
    let tag = input_tag(&markup.body, "username").expect("username field");
    assert!(
        tag.contains("alert(1)"),
        "the hint is there, escaped: {tag}"
    );
    assert!(markup.is_login_form());
    assert_error_redirect(&overlong, "invalid_request");
}

#[tokio::test]
async fn prompt_consent_asks_again_despite_remembered_consent_except_for_first_party_clients() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let third = app
        .oauth_client(ClientSpec::default().scopes("openid"))
        .await;
    let own = app
        .oauth_client(ClientSpec::default().scopes("openid").first_party())
        .await;
    let mut browser = Browser::new();
    sign_in_for_code(&app, &mut browser, &alice, &oidc_path(&third, &[])).await;
    let remembered = browser.get(&app, &oidc_path(&third, &[])).await;
    assert_eq!(remembered.status, 302, "consent is remembered");

    // Act
    let third_party = browser
        .get(&app, &oidc_path(&third, &[("prompt", "consent")]))
        .await;
    let first_party = browser
        .get(&app, &oidc_path(&own, &[("prompt", "consent")]))
        .await;

    // Assert
    assert!(third_party.is_consent_form(), "{}", third_party.body);
    let done = browser.decide(&app, &third_party, "allow").await;
    assert!(code_of(&done).starts_with("tgc_"));
    assert_eq!(first_party.status, 302, "{}", first_party.body);
    assert!(code_of(&first_party).starts_with("tgc_"));
}
