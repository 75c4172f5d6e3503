//! The docs explorer's OAuth set-up, as Swagger UI uses it.

use base64::Engine;
use tollgate::demo;

use crate::helpers::browser::Browser;
use crate::helpers::oauth::{CHALLENGE, VERIFIER};
use crate::helpers::{TestApp, TestUser, json};

#[tokio::test]
async fn the_docs_page_turns_on_pkce_for_the_demo_client() {
    let app = TestApp::spawn().await;
    let resp = app.client.get("/docs").send().await;
    resp.assert_status_is_ok();
    let html = resp.0.into_body().into_string().await.unwrap();
    assert!(
        html.contains("usePkceWithAuthorizationCodeGrant: true"),
        "PKCE is on"
    );
    assert!(html.contains(&format!("clientId: \"{}\"", demo::DEMO_CLIENT_ID)));

    let receiver = app.client.get("/docs/oauth-receiver.html").send().await;
    receiver.assert_status_is_ok();
    let receiver = receiver.0.into_body().into_string().await.unwrap();
    assert!(
        receiver.contains("OAuth2 Redirect"),
        "the redirect page is served"
    );
}

#[tokio::test]
async fn the_openapi_document_offers_oauth_with_code_and_password_flows() {
    let app = TestApp::spawn().await;
    let spec = json(app.client.get("/openapi.json").send().await).await;
    let oauth = &spec["components"]["securitySchemes"]["OAuth2"];
    assert_eq!(oauth["type"], "oauth2");
    let code = &oauth["flows"]["authorizationCode"];
    assert_eq!(code["authorizationUrl"], "/oauth/authorize");
    assert_eq!(code["tokenUrl"], "/oauth/token");
    assert!(code["scopes"]["blog:read"].is_string());
    assert_eq!(oauth["flows"]["password"]["tokenUrl"], "/oauth/token");
    let security = spec["paths"]["/api/v1/posts"]["get"]["security"].to_string();
    assert!(
        security.contains("OAuth2") && security.contains("ApiKey"),
        "{security}"
    );
}

#[tokio::test]
async fn the_demo_client_gets_tokens_the_way_swagger_ui_asks_for_them() {
    // Arrange: what `serve --demo` seeds.
    let app = TestApp::spawn().await;
    let demo = demo::seed(
        &app.state.db,
        app.state.settings.issuer_str(),
        app.clock().now(),
    )
    .await
    .unwrap()
    .expect("seeded on an empty database");

    // Act: Swagger UI's password flow sends the public client as Basic
    // `client_id:` with an empty secret.
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", demo::DEMO_CLIENT_ID));
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("username", demo::DEMO_USERNAME)
        .append_pair("password", demo.password.secret())
        .append_pair("scope", "blog:read blog:write")
        .finish();
    let resp = app
        .client
        .post("/oauth/token")
        .header("authorization", format!("Basic {basic}"))
        .content_type("application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;

    // Assert
    resp.assert_status_is_ok();
    let tokens = json(resp).await;
    let access = tokens["access_token"].as_str().unwrap();
    let resp = app
        .client
        .get("/api/v1/posts")
        .header("authorization", format!("Bearer {access}"))
        .send()
        .await;
    resp.assert_status_is_ok();

    // The demo API key works too.
    let resp = app
        .client
        .get("/api/v1/posts")
        .header("x-api-key", demo.api_key.secret())
        .send()
        .await;
    resp.assert_status_is_ok();
    assert!(
        demo::seed(
            &app.state.db,
            app.state.settings.issuer_str(),
            app.clock().now()
        )
        .await
        .unwrap()
        .is_none(),
        "a second --demo adds nothing"
    );
}

#[tokio::test]
async fn the_authorize_dialog_offers_the_openid_scopes_the_demo_client_may_ask_for() {
    let app = TestApp::spawn().await;
    let spec = json(app.client.get("/openapi.json").send().await).await;
    let flows = &spec["components"]["securitySchemes"]["OAuth2"]["flows"];
    for scope in ["openid", "profile", "email", "blog:read", "blog:write"] {
        assert!(
            flows["authorizationCode"]["scopes"][scope].is_string(),
            "{scope}: {flows}"
        );
    }
    assert!(
        flows["authorizationCode"]["scopes"]["offline_access"].is_null(),
        "the demo client may not ask for offline_access"
    );
}

#[tokio::test]
async fn the_explorer_authorizes_with_openid_profile_and_email() {
    // Arrange: what `serve --demo` seeds, and the request Swagger UI makes.
    let app = TestApp::spawn().await;
    let demo = demo::seed(
        &app.state.db,
        app.state.settings.issuer_str(),
        app.clock().now(),
    )
    .await
    .unwrap()
    .expect("seeded on an empty database");
    let redirect_uri = format!(
        "{}/docs/oauth-receiver.html",
        app.state.settings.issuer_str()
    );
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", demo::DEMO_CLIENT_ID)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", "blog:read openid profile email")
        .append_pair("state", "swagger")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let mut browser = Browser::new();
    let demo_user = TestUser {
        username: demo::DEMO_USERNAME.to_owned(),
        password: demo.password.secret().to_owned(),
    };

    // Act: sign in; the first-party explorer skips consent.
    let login = browser
        .get(&app, &format!("/oauth/authorize?{query}"))
        .await;
    let back = browser.log_in(&app, &login, &demo_user).await;
    let location = back.location().expect("back to the explorer");
    assert!(location.starts_with(&redirect_uri), "{location}");
    let code = back.redirect_params()["code"].clone();
    let (status, tokens) = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", demo::DEMO_CLIENT_ID),
            ("code", &code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", VERIFIER),
        ])
        .await;

    // Assert
    assert_eq!(status, 200, "{tokens}");
    let scope = tokens["scope"].as_str().unwrap_or_default();
    assert!(
        scope.contains("openid") && scope.contains("blog:read"),
        "{tokens}"
    );
    let access = tokens["access_token"].as_str().unwrap();
    let resp = app
        .client
        .get("/api/v1/posts")
        .header("authorization", format!("Bearer {access}"))
        .send()
        .await;
    resp.assert_status_is_ok();
}

#[tokio::test]
async fn the_docs_page_is_made_for_phones_and_named_after_tollgate() {
    let app = TestApp::spawn().await;
    let resp = app.client.get("/docs").send().await;
    resp.assert_status_is_ok();
    let html = resp.0.into_body().into_string().await.unwrap();
    assert!(
        html.trim_start().starts_with("<!DOCTYPE html>"),
        "standards mode, not quirks"
    );
    assert!(
        html.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#),
        "a viewport"
    );
    assert!(html.contains("<title>Tollgate API docs</title>"));
    assert!(!html.contains("<title>Swagger UI</title>"));
}

#[tokio::test]
async fn the_openapi_document_speaks_to_people_about_api_keys_and_oauth() {
    let app = TestApp::spawn().await;
    let spec = json(app.client.get("/openapi.json").send().await).await;
    let description = spec["info"]["description"].as_str().unwrap();
    assert!(description.contains("X-API-Key"), "{description}");
    assert!(description.contains("OAuth"), "{description}");

    // What the Authorize dialog shows of each scheme.
    let schemes = &spec["components"]["securitySchemes"];
    let api_key = schemes["ApiKey"]["description"].as_str().unwrap();
    let oauth = schemes["OAuth2"]["description"].as_str().unwrap();
    assert!(api_key.contains("X-API-Key"), "{api_key}");
    for text in [api_key, oauth] {
        for developer_talk in ["RFC", "relative to the server", "issuer", "JWT"] {
            assert!(!text.contains(developer_talk), "{developer_talk}: {text}");
        }
    }
}
