//! The docs explorer's OAuth set-up, as Swagger UI uses it.

use base64::Engine;
use tollgate::demo;

use crate::helpers::{TestApp, json};

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
