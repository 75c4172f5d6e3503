//! RP-Initiated Logout 1.0 at /oauth/logout: a valid hint acts at once
//! and redirects only to a registered URI; anything less asks the person.

use serde_json::json;

use super::support::*;
use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, TestClientApp};

const SCOPE: &str = "blog:read";

async fn client_with_logout_uri(app: &TestApp) -> TestClientApp {
    app.oauth_client(ClientSpec::default().post_logout_redirect_uris(&[SIGNED_OUT_URI]))
        .await
}

#[tokio::test]
async fn a_valid_hint_and_a_registered_uri_end_the_session_and_redirect_with_state() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = client_with_logout_uri(&app).await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let hint = sign_hint(
        &app,
        &id_token_claims(&app, &alice, &client, &browser).await,
    );
    let session = session_of(&app, &browser).await.unwrap();

    // Act
    let page = browser
        .get(
            &app,
            &logout_path(&[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", SIGNED_OUT_URI),
                ("state", "af0ifjsldkj"),
                ("ui_locales", "en"),
                ("logout_hint", "alice"),
            ]),
        )
        .await;

    // Assert: the URI's own query is kept, state appended.
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        page.location().as_deref(),
        Some("https://app.example.com/signed-out?from=tollgate&state=af0ifjsldkj")
    );
    assert!(!browser.has_cookie(SESSION_COOKIE), "cookie cleared");
    let gone = tollgate::store::sessions::find(&app.state.db, &session.id_hash)
        .await
        .unwrap();
    assert!(gone.is_none(), "session row deleted");
}

#[tokio::test]
async fn a_valid_hint_without_a_redirect_uri_ends_the_session_on_the_signed_out_page() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = client_with_logout_uri(&app).await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let hint = sign_hint(
        &app,
        &id_token_claims(&app, &alice, &client, &browser).await,
    );

    // Act
    let page = browser
        .get(
            &app,
            &logout_path(&[("id_token_hint", &hint), ("state", "ignored")]),
        )
        .await;

    // Assert
    assert_signed_out_page(&page);
    assert!(page.body.contains("href=\"/\""), "{}", page.body);
    assert!(session_of(&app, &browser).await.is_none());
}

#[tokio::test]
async fn an_expired_hint_is_still_accepted() {
    // Arrange: the token expired long ago; its key is still published.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = client_with_logout_uri(&app).await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let mut claims = id_token_claims(&app, &alice, &client, &browser).await;
    let long_ago = app.clock().now().timestamp() - 3600;
    claims["iat"] = json!(long_ago - 900);
    claims["exp"] = json!(long_ago);
    let hint = sign_hint(&app, &claims);

    // Act
    let page = browser
        .get(
            &app,
            &logout_path(&[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", SIGNED_OUT_URI),
            ]),
        )
        .await;

    // Assert
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location().as_deref(), Some(SIGNED_OUT_URI));
    assert!(session_of(&app, &browser).await.is_none());
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_never_followed_with_or_without_a_hint() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = client_with_logout_uri(&app).await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let hint = sign_hint(
        &app,
        &id_token_claims(&app, &alice, &client, &browser).await,
    );
    let evil = "https://evil.example.com/phish";
    let near_miss = "https://app.example.com/signed-out?from=tollgate&x=1";

    // Act
    let with_hint = browser
        .get(
            &app,
            &logout_path(&[("id_token_hint", &hint), ("post_logout_redirect_uri", evil)]),
        )
        .await;
    let with_client_id = browser
        .get(
            &app,
            &logout_path(&[
                ("client_id", &client.client_id),
                ("post_logout_redirect_uri", near_miss),
            ]),
        )
        .await;
    let with_nobody = browser
        .get(
            &app,
            &logout_path(&[("post_logout_redirect_uri", SIGNED_OUT_URI)]),
        )
        .await;

    // Assert: an error page naming the parameter; nothing ended.
    for page in [&with_hint, &with_client_id, &with_nobody] {
        assert_error_page(page, "post_logout_redirect_uri");
        assert!(!page.body.contains("evil.example.com"), "{}", page.body);
    }
    assert_still_signed_in(&app, &mut browser, &client).await;
}

#[tokio::test]
async fn a_hint_for_another_client_than_client_id_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = client_with_logout_uri(&app).await;
    let other = client_with_logout_uri(&app).await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let hint = sign_hint(
        &app,
        &id_token_claims(&app, &alice, &client, &browser).await,
    );

    // Act
    let page = browser
        .get(
            &app,
            &logout_path(&[
                ("id_token_hint", &hint),
                ("client_id", &other.client_id),
                ("post_logout_redirect_uri", SIGNED_OUT_URI),
            ]),
        )
        .await;
    let unknown = browser
        .get(&app, &logout_path(&[("client_id", "no-such-client")]))
        .await;

    // Assert
    assert_error_page(&page, "another application");
    assert_error_page(&unknown, "not registered");
    assert_still_signed_in(&app, &mut browser, &client).await;
}

#[tokio::test]
async fn without_a_session_a_validated_redirect_is_followed_else_the_signed_out_page() {
    // Arrange: alice signed in once, then her browser lost the session.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = client_with_logout_uri(&app).await;
    let browser = signed_in(&app, &alice, &client, SCOPE).await;
    let hint = sign_hint(
        &app,
        &id_token_claims(&app, &alice, &client, &browser).await,
    );
    let mut fresh = Browser::new();

    // Act
    let redirected = fresh
        .get(
            &app,
            &logout_path(&[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", SIGNED_OUT_URI),
                ("state", "s2"),
            ]),
        )
        .await;
    let plain = fresh.get(&app, "/oauth/logout").await;

    // Assert
    assert_eq!(redirected.status, 303, "{}", redirected.body);
    assert_eq!(
        redirected.location().as_deref(),
        Some("https://app.example.com/signed-out?from=tollgate&state=s2")
    );
    assert_signed_out_page(&plain);
    assert!(
        session_of(&app, &browser).await.is_some(),
        "not hers to end"
    );
}

#[tokio::test]
async fn a_clients_cross_site_post_is_sent_again_as_a_get_which_brings_the_cookie() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = client_with_logout_uri(&app).await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let hint = sign_hint(
        &app,
        &id_token_claims(&app, &alice, &client, &browser).await,
    );
    let params = [
        ("id_token_hint", hint.as_str()),
        ("post_logout_redirect_uri", SIGNED_OUT_URI),
        ("state", "s3"),
    ];
    let mut cookieless = Browser::new();

    // Act: SameSite=Lax keeps the cookie off a cross-site POST.
    let posted = cookieless.post_form(&app, "/oauth/logout", &params).await;
    let location = posted.location().expect("a redirect");
    let followed = browser.get(&app, &location).await;

    // Assert
    assert_eq!(posted.status, 303, "{}", posted.body);
    assert_eq!(location, logout_path(&params));
    assert_eq!(followed.status, 303, "{}", followed.body);
    assert_eq!(
        followed.location().as_deref(),
        Some("https://app.example.com/signed-out?from=tollgate&state=s3")
    );
    assert!(session_of(&app, &browser).await.is_none());
}

#[tokio::test]
async fn a_post_that_brings_the_cookie_and_a_valid_hint_acts_at_once() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = client_with_logout_uri(&app).await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let hint = sign_hint(
        &app,
        &id_token_claims(&app, &alice, &client, &browser).await,
    );

    // Act
    let page = browser
        .post_form(
            &app,
            "/oauth/logout",
            &[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", SIGNED_OUT_URI),
            ],
        )
        .await;

    // Assert
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location().as_deref(), Some(SIGNED_OUT_URI));
    assert!(session_of(&app, &browser).await.is_none());
}

#[tokio::test]
async fn a_repeated_parameter_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = client_with_logout_uri(&app).await;
    let mut browser = Browser::new();
    let path = format!(
        "{}&post_logout_redirect_uri=https%3A%2F%2Fevil.example.com",
        logout_path(&[
            ("client_id", &client.client_id),
            ("post_logout_redirect_uri", SIGNED_OUT_URI),
        ])
    );

    // Act
    let got = browser.get(&app, &path).await;
    let posted = browser
        .post_form(&app, "/oauth/logout", &[("state", "a"), ("state", "b")])
        .await;

    // Assert
    assert_error_page(&got, "post_logout_redirect_uri");
    assert_error_page(&posted, "state");
}
