//! Hostile text: control characters (NUL above all, which PostgreSQL
//! cannot store or compare) get a 4xx naming the field on both databases,
//! never a 500; usernames are one account whatever their case.

use poem::http::StatusCode;
use serde_json::json;
use tollgate::manage::{self, ClientRequest, ManageError};

use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI};
use crate::helpers::{TestApp, TestUser, assert_problem};

#[tokio::test]
async fn a_nul_in_the_login_forms_username_is_a_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let nul_user = TestUser {
        username: "ali\0ce".to_owned(),
        password: "whatever-password".to_owned(),
    };

    let page = browser.log_in(&app, &login, &nul_user).await;

    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("The field username"), "{}", page.body);
}

#[tokio::test]
async fn a_nul_at_the_token_endpoint_is_invalid_request_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::public().first_party().grants(&["password"]))
        .await;
    for (field, fields) in [
        (
            "username",
            vec![
                ("grant_type", "password"),
                ("client_id", client.client_id.as_str()),
                ("username", "al\0ice"),
                ("password", "x"),
            ],
        ),
        (
            "client_id",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "no\0body"),
            ],
        ),
    ] {
        let (status, body) = app.token(&fields).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], "invalid_request", "{body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains(field), "{description}");
    }
}

#[tokio::test]
async fn a_nul_in_the_authorization_request_never_reaches_the_database() {
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();

    // In the client id: no such client, the error page.
    let page = browser
        .get(
            &app,
            "/oauth/authorize?response_type=code&client_id=a%00b&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback",
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);

    // In the state, once the client is known: back to the client.
    let path = app
        .authorize_path(&client, "blog:read")
        .replace("state=xyz", "state=x%00y");
    let page = browser.get(&app, &path).await;
    let params = page.redirect_params();
    assert!(page.location().unwrap().starts_with(REDIRECT_URI));
    assert_eq!(params["error"], "invalid_request");
    assert!(params["error_description"].contains("state"), "{params:?}");
}

#[tokio::test]
async fn control_characters_in_a_post_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, &["blog:write"]).await;
    let post = |body: serde_json::Value| {
        app.client
            .post("/api/v1/posts")
            .header("x-api-key", &key)
            .body_json(&body)
            .send()
    };

    assert_problem(
        post(json!({"title": "a\u{0}b", "body": "x"})).await,
        422,
        "title",
    )
    .await;
    assert_problem(
        post(json!({"title": "ok", "body": "\u{1b}[2J"})).await,
        422,
        "body",
    )
    .await;
    post(json!({"title": "ok", "body": "two\nlines\tand a tab"}))
        .await
        .assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn a_control_character_in_a_client_name_is_refused() {
    let app = TestApp::spawn().await;
    let err = manage::create_client(
        &app.state.db,
        ClientRequest {
            name: "evil\0app".to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            public: false,
            scopes: Vec::new(),
            grants: Vec::new(),
            first_party: false,
            client_id: None,
            introspect: false,
            ..ClientRequest::default()
        },
        app.clock().now(),
    )
    .await
    .err()
    .expect("refused");
    assert!(matches!(err, ManageError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("client name"), "{err}");
}

#[tokio::test]
async fn alice_signs_in_as_alice_whatever_the_case_and_cannot_be_registered_twice() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default().first_party()).await;
    let shouting = TestUser {
        username: "ALICE".to_owned(),
        password: alice.password.clone(),
    };

    // Act
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let page = browser.log_in(&app, &login, &shouting).await;
    let again = manage::create_user(
        &app.state.db,
        "Alice",
        "another-long-password".to_owned(),
        manage::ProfileRequest::default(),
        app.clock().now(),
    )
    .await;

    // Assert
    assert!(page.redirect_params().contains_key("code"), "{}", page.body);
    assert!(
        matches!(again, Err(ManageError::DuplicateUsername(ref n)) if n == "Alice"),
        "{:?}",
        again.err()
    );
}

#[tokio::test]
async fn a_new_password_must_be_long_and_not_common() {
    let app = TestApp::spawn().await;
    for (password, needle) in [
        ("password", "at least 12"),
        ("12345678", "at least 12"),
        ("password1234", "common"),
        ("Iloveyou1234", "common"),
    ] {
        let err = manage::create_user(
            &app.state.db,
            "bob",
            password.to_owned(),
            manage::ProfileRequest::default(),
            app.clock().now(),
        )
        .await
        .err()
        .unwrap_or_else(|| panic!("{password} accepted"));
        assert!(err.to_string().contains(needle), "{password}: {err}");
    }
}
