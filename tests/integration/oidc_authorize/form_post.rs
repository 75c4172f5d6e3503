//! `response_mode=form_post` (OAuth 2.0 Form Post Response Mode): the
//! answer is a page whose form posts the parameters to the client.

use base64::Engine;
use sha2::{Digest, Sha256};

use super::{ISSUER, assert_error_redirect, oidc_path};
use crate::helpers::TestApp;
use crate::helpers::browser::{Browser, Page};
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, VERIFIER};

fn header(page: &Page, name: &str) -> String {
    page.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Asserts a form_post page: a 200 that redirects nowhere, whose one form
/// posts to the redirect URI, whose script the CSP lets run (its hash),
/// with a Continue button for when scripts are off.
fn assert_form_post_page(page: &Page) {
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.location(), None);
    assert_eq!(header(page, "cache-control"), "no-store");
    assert!(header(page, "content-type").starts_with("text/html"));
    assert!(page.body.contains("<form method=\"post\""), "{}", page.body);
    assert_eq!(page.form_action().as_deref(), Some(REDIRECT_URI));
    assert!(
        page.body
            .contains("<button type=\"submit\">Continue</button>"),
        "{}",
        page.body
    );
    let start = page.body.find("<script>").expect("a script") + "<script>".len();
    let end = start + page.body[start..].find("</script>").expect("script end");
    let script = &page.body[start..end];
    assert!(script.contains(".submit()"), "{script}");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
    let csp = header(page, "content-security-policy");
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}'")),
        "the CSP allows exactly this script: {csp}"
    );
    assert!(csp.contains("form-action https://app.example.com"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
}

#[tokio::test]
async fn a_form_post_success_page_posts_code_state_and_iss_to_the_redirect_uri() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid").first_party())
        .await;
    let mut browser = Browser::new();
    let path = oidc_path(&client, &[("response_mode", "form_post")]);

    // Act: after the login form, and again with the session.
    let login = browser.get(&app, &path).await;
    let after_login = browser.log_in(&app, &login, &alice).await;
    let with_session = browser.get(&app, &path).await;

    // Assert
    for page in [&after_login, &with_session] {
        assert_form_post_page(page);
        assert!(page.field("code").unwrap().starts_with("tgc_"));
        assert_eq!(page.field("state").as_deref(), Some("xyz"));
        assert_eq!(page.field("iss").as_deref(), Some(ISSUER));
        assert_eq!(page.field("error"), None);
    }
    let code = with_session.field("code").unwrap();
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
    assert_eq!(status, 200, "the posted code works: {body}");
}

#[tokio::test]
async fn errors_after_validation_use_form_post_too() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid"))
        .await;
    let mut browser = Browser::new();
    let form_post = ("response_mode", "form_post");

    // Act
    let not_signed_in = browser
        .get(&app, &oidc_path(&client, &[form_post, ("prompt", "none")]))
        .await;
    let bad_prompt = browser
        .get(&app, &oidc_path(&client, &[form_post, ("prompt", "bogus")]))
        .await;
    let login = browser.get(&app, &oidc_path(&client, &[form_post])).await;
    let consent = browser.log_in(&app, &login, &alice).await;
    let denied = browser.decide(&app, &consent, "deny").await;

    // Assert
    for (page, error) in [
        (&not_signed_in, "login_required"),
        (&bad_prompt, "invalid_request"),
        (&denied, "access_denied"),
    ] {
        assert_form_post_page(page);
        assert_eq!(page.field("error").as_deref(), Some(error));
        assert!(page.field("error_description").is_some());
        assert_eq!(page.field("state").as_deref(), Some("xyz"));
        assert_eq!(page.field("iss").as_deref(), Some(ISSUER));
        assert_eq!(page.field("code"), None);
    }
}

#[tokio::test]
async fn an_unknown_response_mode_is_refused_in_query_mode() {
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid"))
        .await;
    let mut browser = Browser::new();

    let fragment = browser
        .get(&app, &oidc_path(&client, &[("response_mode", "fragment")]))
        .await;
    let query = browser
        .get(
            &app,
            &oidc_path(&client, &[("response_mode", "query"), ("prompt", "none")]),
        )
        .await;

    assert_error_redirect(&fragment, "invalid_request");
    assert!(fragment.redirect_params()["error_description"].contains("response_mode"));
    assert_error_redirect(&query, "login_required");
}
