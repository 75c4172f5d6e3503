//! The confirmation page of /oauth/logout: what comes without a hint
//! that names this browser's session, and its form.

use serde_json::json;

use super::support::*;
use crate::helpers::TestApp;
use crate::helpers::oauth::{ClientSpec, TestClientApp};
use crate::token::support::field;

const SCOPE: &str = "blog:read";

async fn client_with_logout_uri(app: &TestApp) -> TestClientApp {
    app.oauth_client(ClientSpec::default().post_logout_redirect_uris(&[SIGNED_OUT_URI]))
        .await
}

#[tokio::test]
async fn without_a_hint_the_person_confirms_and_then_goes_back_to_the_client() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = client_with_logout_uri(&app).await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;

    // Act 1: the client sends the person with client_id only.
    let page = browser
        .get(
            &app,
            &logout_path(&[
                ("client_id", &client.client_id),
                ("post_logout_redirect_uri", SIGNED_OUT_URI),
                ("state", "s1"),
            ]),
        )
        .await;

    // Assert 1: a page to confirm, carrying the validated redirect.
    assert_confirmation_page(&page);
    assert!(page.body.contains("alice"), "{}", page.body);
    assert_eq!(page.form_action().as_deref(), Some("/oauth/logout"));
    assert_eq!(page.field("client_id"), Some(client.client_id.clone()));
    assert_eq!(
        page.field("post_logout_redirect_uri").as_deref(),
        Some(SIGNED_OUT_URI)
    );
    assert_eq!(page.field("state").as_deref(), Some("s1"));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("form-action 'self' https://app.example.com"),
        "{csp}"
    );
    assert!(session_of(&app, &browser).await.is_some(), "nothing yet");

    // Act 2: the person presses Sign out.
    let fields = [
        "csrf_token",
        "client_id",
        "post_logout_redirect_uri",
        "state",
    ]
    .map(|name| (name, page.field(name).unwrap()));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = browser.post_form(&app, "/oauth/logout", &fields).await;

    // Assert 2
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location().as_deref(),
        Some("https://app.example.com/signed-out?from=tollgate&state=s1")
    );
    assert!(session_of(&app, &browser).await.is_none());
}

#[tokio::test]
async fn a_forged_a_foreign_an_access_token_or_a_missing_hint_gets_the_confirmation_page() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let client = client_with_logout_uri(&app).await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let bobs_browser = signed_in(&app, &bob, &client, SCOPE).await;
    let alices_claims = id_token_claims(&app, &alice, &client, &browser).await;
    let forged = forge_hint(&app, &alices_claims);
    let bobs = sign_hint(
        &app,
        &id_token_claims(&app, &bob, &client, &bobs_browser).await,
    );
    let mut other_session = alices_claims.clone();
    other_session["sid"] = json!("0123456789abcdef0123456789abcdef");
    let other_session = sign_hint(&app, &other_session);
    let access_token = app.tokens_for(&alice, &client, SCOPE).await;
    let access_token = field(&access_token, "access_token").to_owned();
    let cases = [
        ("forged", Some(forged.as_str())),
        ("another user's", Some(bobs.as_str())),
        ("another session's", Some(other_session.as_str())),
        ("an access token", Some(access_token.as_str())),
        ("garbage", Some("not.a.jwt")),
        ("missing", None),
    ];

    for (what, hint) in cases {
        // Act
        let mut params = vec![
            ("client_id", client.client_id.as_str()),
            ("post_logout_redirect_uri", SIGNED_OUT_URI),
        ];
        if let Some(hint) = hint {
            params.push(("id_token_hint", hint));
        }
        let page = browser.get(&app, &logout_path(&params)).await;

        // Assert
        assert_eq!(page.status, 200, "{what}: {}", page.body);
        assert_confirmation_page(&page);
        assert!(page.body.contains("alice"), "{what}: {}", page.body);
    }
    assert_still_signed_in(&app, &mut browser, &client).await;
}

#[tokio::test]
async fn a_confirmation_with_a_bad_csrf_token_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = client_with_logout_uri(&app).await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let page = browser.get(&app, "/oauth/logout").await;
    assert_confirmation_page(&page);

    // Act
    let done = browser
        .post_form(
            &app,
            "/oauth/logout",
            &[
                ("csrf_token", "forged-token-forged-token-forged-token"),
                ("client_id", &client.client_id),
                ("post_logout_redirect_uri", SIGNED_OUT_URI),
            ],
        )
        .await;

    // Assert
    assert_eq!(done.status, 400, "{}", done.body);
    assert!(done.location().is_none());
    assert_still_signed_in(&app, &mut browser, &client).await;
}
