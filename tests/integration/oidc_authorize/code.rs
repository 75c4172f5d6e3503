//! What a code carries for the ID token (`nonce`, `auth_time`, `sid`), the
//! session's record of its clients, and the OpenID scopes.

use tollgate::store;

use super::{assert_error_redirect, code_of, code_row, oidc_path, only_session, sign_in_for_code};
use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::ClientSpec;

/// The consent sentence of `offline_access`.
const OFFLINE: &str = "Keep this access after you sign out";

#[tokio::test]
async fn nonce_auth_time_and_sid_are_stored_on_the_code_and_the_session_records_the_client() {
    // Arrange: the longest nonce allowed, to prove the column holds it.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let first = app
        .oauth_client(ClientSpec::default().scopes("openid"))
        .await;
    let second = app
        .oauth_client(ClientSpec::default().scopes("openid").first_party())
        .await;
    let nonce: String = "n0-_.~".chars().cycle().take(512).collect();
    let mut browser = Browser::new();

    // Act
    let code = sign_in_for_code(
        &app,
        &mut browser,
        &alice,
        &oidc_path(&first, &[("nonce", &nonce)]),
    )
    .await;
    let without_nonce =
        sign_in_for_code(&app, &mut browser, &alice, &oidc_path(&second, &[])).await;

    // Assert
    let session = only_session(&app).await;
    let row = code_row(&app, &code).await;
    assert_eq!(row.nonce.as_deref(), Some(nonce.as_str()));
    assert_eq!(row.auth_time, Some(session.auth_time));
    assert_eq!(row.sid.as_deref(), Some(session.sid.as_str()));
    assert_eq!(row.session_hash.as_deref(), Some(session.id_hash.as_str()));
    let row = code_row(&app, &without_nonce).await;
    assert_eq!(row.nonce, None);
    assert_eq!(row.sid.as_deref(), Some(session.sid.as_str()));
    let mut clients = store::sessions::clients_of(&app.state.db, &session.id_hash)
        .await
        .unwrap();
    clients.sort();
    let mut expected = vec![first.client_id.clone(), second.client_id.clone()];
    expected.sort();
    assert_eq!(clients, expected);
}

#[tokio::test]
async fn a_nonce_over_512_characters_redirects_with_invalid_request() {
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid"))
        .await;
    let nonce = "n".repeat(513);
    let mut browser = Browser::new();

    let page = browser
        .get(&app, &oidc_path(&client, &[("nonce", &nonce)]))
        .await;

    assert_error_redirect(&page, "invalid_request");
    assert!(page.redirect_params()["error_description"].contains("nonce"));
}

#[tokio::test]
async fn openid_or_offline_access_the_client_may_not_ask_for_redirect_with_invalid_scope() {
    let app = TestApp::spawn().await;
    let blog_only = app.oauth_client(ClientSpec::default()).await;
    let no_offline = app
        .oauth_client(ClientSpec::default().scopes("openid"))
        .await;
    let mut browser = Browser::new();

    let openid = browser.get(&app, &oidc_path(&blog_only, &[])).await;
    let offline = browser
        .get(
            &app,
            &oidc_path(&no_offline, &[("scope", "openid offline_access")]),
        )
        .await;

    assert_error_redirect(&openid, "invalid_scope");
    assert_error_redirect(&offline, "invalid_scope");
}

#[tokio::test]
async fn offline_access_without_openid_is_dropped_from_the_grant() {
    // Arrange: first-party, so no consent step hides the outcome.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(
            ClientSpec::default()
                .scopes("openid blog:read offline_access")
                .first_party(),
        )
        .await;
    let mut browser = Browser::new();

    // Act
    let without = sign_in_for_code(
        &app,
        &mut browser,
        &alice,
        &oidc_path(&client, &[("scope", "blog:read offline_access")]),
    )
    .await;
    let with = sign_in_for_code(
        &app,
        &mut browser,
        &alice,
        &oidc_path(&client, &[("scope", "openid offline_access")]),
    )
    .await;

    // Assert: and a first-party client gets it without being asked.
    assert_eq!(code_row(&app, &without).await.scopes, "blog:read");
    assert_eq!(code_row(&app, &with).await.scopes, "openid offline_access");
}

#[tokio::test]
async fn offline_access_needs_consent_and_a_remembered_consent_for_it_counts() {
    // Arrange: consent remembered for openid alone.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid offline_access"))
        .await;
    let mut browser = Browser::new();
    sign_in_for_code(&app, &mut browser, &alice, &oidc_path(&client, &[])).await;
    let offline = oidc_path(&client, &[("scope", "openid offline_access")]);

    // Act
    let consent = browser.get(&app, &offline).await;
    assert!(consent.is_consent_form(), "{}", consent.body);
    assert!(consent.body.contains(OFFLINE), "{}", consent.body);
    let allowed = browser.decide(&app, &consent, "allow").await;
    let again = browser.get(&app, &offline).await;
    let silent = browser
        .get(
            &app,
            &oidc_path(
                &client,
                &[("scope", "openid offline_access"), ("prompt", "none")],
            ),
        )
        .await;

    // Assert
    let code = code_of(&allowed);
    assert_eq!(code_row(&app, &code).await.scopes, "openid offline_access");
    assert_eq!(again.status, 302, "remembered: {}", again.body);
    assert!(code_of(&again).starts_with("tgc_"));
    assert!(code_of(&silent).starts_with("tgc_"));
}

#[tokio::test]
async fn offline_access_without_consent_is_refused_to_prompt_none() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid offline_access"))
        .await;
    let mut browser = Browser::new();
    sign_in_for_code(&app, &mut browser, &alice, &oidc_path(&client, &[])).await;

    let page = browser
        .get(
            &app,
            &oidc_path(
                &client,
                &[("scope", "openid offline_access"), ("prompt", "none")],
            ),
        )
        .await;

    assert_error_redirect(&page, "consent_required");
}
