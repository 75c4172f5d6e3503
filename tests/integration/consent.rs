//! The consent step: what it shows, when it is skipped or remembered, and
//! its CSRF check.

use tollgate::manage::{self, ClientRequest};

use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, TestClientApp};

const READ: &str = "Read blog posts, including your drafts";
const WRITE: &str = "Create, edit and delete your blog posts";
/// The blog:admin sentence, up to its apostrophe (which is escaped).
const ADMIN: &str = "Edit and delete anyone";

const ALL_SCOPES: &str = "blog:read blog:write blog:admin";

#[tokio::test]
async fn the_consent_page_names_the_client_and_lists_each_requested_scope() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().scopes(ALL_SCOPES))
        .await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read blog:write"))
        .await;

    // Act
    let consent = browser.log_in(&app, &login, &alice).await;

    // Assert
    assert_eq!(consent.status, 200);
    assert!(consent.is_consent_form(), "{}", consent.body);
    assert!(
        consent.body.contains("name=\"decision\" value=\"deny\""),
        "{}",
        consent.body
    );
    assert!(consent.field("csrf_token").is_some());
    assert!(consent.body.contains("Test App"), "names the client");
    assert!(consent.body.contains(READ), "{}", consent.body);
    assert!(consent.body.contains(WRITE), "{}", consent.body);
    assert!(
        !consent.body.contains(ADMIN),
        "blog:admin was not asked for"
    );
}

#[tokio::test]
async fn a_first_party_client_skips_the_consent_page() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default().first_party()).await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read blog:write"))
        .await;

    // Act
    let page = browser.log_in(&app, &login, &alice).await;

    // Assert
    assert!(!page.is_consent_form(), "{}", page.body);
    assert_eq!(page.status, 303);
    assert!(page.location().unwrap().starts_with(REDIRECT_URI));
    let params = page.redirect_params();
    assert!(params["code"].starts_with("tgc_"));
    assert_eq!(params["state"], "xyz");
}

#[tokio::test]
async fn remembered_consent_outlives_the_browser_session() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    app.authorize_code(&mut Browser::new(), &alice, &client, "blog:read")
        .await;
    let mut fresh = Browser::new();
    let login = fresh
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;

    // Act: consent is remembered per user, not per browser session.
    let page = fresh.log_in(&app, &login, &alice).await;

    // Assert
    assert!(!page.is_consent_form(), "{}", page.body);
    assert!(page.redirect_params().contains_key("code"));
}

#[tokio::test]
async fn remembered_consent_covers_a_later_request_for_the_same_or_fewer_scopes() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    app.authorize_code(&mut browser, &alice, &client, "blog:read blog:write")
        .await;

    for scope in ["blog:read blog:write", "blog:read", "blog:write"] {
        // Act
        let page = browser.get(&app, &app.authorize_path(&client, scope)).await;

        // Assert
        assert!(!page.is_consent_form(), "{scope}: {}", page.body);
        let params = page.redirect_params();
        assert!(params.contains_key("code"), "{scope}: {params:?}");
    }
}

#[tokio::test]
async fn a_request_for_more_scopes_than_remembered_asks_again() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().scopes(ALL_SCOPES))
        .await;
    let mut browser = Browser::new();
    app.authorize_code(&mut browser, &alice, &client, "blog:read")
        .await;

    // Act
    let page = browser
        .get(&app, &app.authorize_path(&client, "blog:read blog:admin"))
        .await;

    // Assert
    assert_eq!(page.status, 200);
    assert!(page.is_consent_form(), "{}", page.body);
    assert!(page.body.contains(ADMIN), "{}", page.body);
    assert_eq!(page.location(), None);
}

#[tokio::test]
async fn consent_is_remembered_per_user() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    app.authorize_code(&mut Browser::new(), &alice, &client, "blog:read")
        .await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;

    // Act
    let page = browser.log_in(&app, &login, &bob).await;

    // Assert
    assert!(page.is_consent_form(), "{}", page.body);
    assert!(page.body.contains("bob"), "{}", page.body);
}

#[tokio::test]
async fn a_denied_consent_is_not_remembered() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let consent = browser.log_in(&app, &login, &alice).await;
    browser.decide(&app, &consent, "deny").await;

    // Act
    let page = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;

    // Assert
    assert!(page.is_consent_form(), "{}", page.body);
}

#[tokio::test]
async fn a_consent_form_with_a_wrong_or_missing_csrf_token_is_refused_without_a_code() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let consent = browser.log_in(&app, &login, &alice).await;
    let action = consent.form_action().unwrap();

    for fields in [
        &[("csrf_token", "wrong"), ("decision", "allow")][..],
        &[("decision", "allow")][..],
    ] {
        // Act
        let page = browser.post_form(&app, &action, fields).await;

        // Assert
        assert_eq!(page.status, 400, "{fields:?}");
        assert_eq!(page.location(), None, "{fields:?}");
        assert!(
            !page.body.contains("tgc_"),
            "no code anywhere: {}",
            page.body
        );
    }
    // Nothing was remembered either.
    let again = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    assert!(again.is_consent_form(), "{}", again.body);
}

#[tokio::test]
async fn a_client_name_with_html_is_shown_escaped() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let created = manage::create_client(
        &app.state.db,
        ClientRequest {
            name: "<script>alert('pwned')</script> Evil & Co".to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            ..ClientRequest::default()
        },
        app.clock().now(),
    )
    .await
    .expect("register client");
    let client = TestClientApp {
        client_id: created.client.id,
        secret: created.secret.map(|s| s.secret().to_owned()),
    };
    let mut browser = Browser::new();

    // Act
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let consent = browser.log_in(&app, &login, &alice).await;

    // Assert
    assert!(consent.is_consent_form(), "{}", consent.body);
    for page in [&login, &consent] {
        assert!(
            page.body.contains("alert("),
            "the name is shown: {}",
            page.body
        );
        assert!(!page.body.contains("<script"), "{}", page.body);
        assert!(!page.body.contains("Evil & Co"), "{}", page.body);
    }
}
