//! The authorization endpoint with its login and consent pages.

use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI};

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
