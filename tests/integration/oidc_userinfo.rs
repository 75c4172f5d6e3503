//! GET and POST /oauth/userinfo (OIDC Core §5.3) with RFC 6750 answers.

use poem::test::TestResponse;
use serde_json::Value;
use tollgate::manage::{self, ProfileUpdate};

use crate::helpers::oauth::{ClientSpec, TestClientApp};
use crate::helpers::oidc::StoredCode;
use crate::helpers::{TestApp, TestUser, json, www_authenticate};

/// An access token for `user` holding `scopes`, from a code.
async fn access_token(
    app: &TestApp,
    user: &TestUser,
    client: &TestClientApp,
    scopes: &str,
) -> String {
    let code = app
        .stored_code(
            user,
            client,
            StoredCode {
                scopes,
                nonce: None,
                auth_time: app.clock().now(),
                sid: None,
            },
        )
        .await;
    let body = app.redeem_ok(client, &code).await;
    body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

async fn setup() -> (TestApp, TestUser, TestClientApp) {
    let app = TestApp::spawn().await;
    let alice = app
        .user_with_profile("alice", "Alice Liddell", "alice@example.com")
        .await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid profile email blog:read"))
        .await;
    (app, alice, client)
}

async fn ok_json(resp: TestResponse) -> Value {
    assert_eq!(resp.0.status(), 200);
    let headers = resp.0.headers().clone();
    assert_eq!(headers["cache-control"], "no-store");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{headers:?}"
    );
    json(resp).await
}

/// Asserts the status and the `WWW-Authenticate` challenge's error.
fn assert_challenge(resp: &TestResponse, status: u16, error: Option<&str>) -> String {
    assert_eq!(resp.0.status().as_u16(), status);
    let challenge = www_authenticate(resp.0.headers());
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    match error {
        Some(error) => assert!(
            challenge.contains(&format!(r#"error="{error}""#)),
            "{challenge}"
        ),
        None => assert!(!challenge.contains("error="), "RFC 6750 §3.1: {challenge}"),
    }
    challenge
}

#[tokio::test]
async fn each_scope_set_reads_its_own_claims() {
    // Arrange
    let (app, alice, client) = setup().await;
    let sub = app.user_row(&alice).await.id.to_string();
    let profile = access_token(&app, &alice, &client, "openid profile").await;
    let email = access_token(&app, &alice, &client, "openid email").await;
    let both = access_token(&app, &alice, &client, "openid profile email").await;
    let neither = access_token(&app, &alice, &client, "openid").await;

    // Act
    let profile = ok_json(app.userinfo(&profile).await).await;
    let email = ok_json(app.userinfo(&email).await).await;
    let both = ok_json(app.userinfo(&both).await).await;
    let neither = ok_json(app.userinfo(&neither).await).await;

    // Assert
    assert_eq!(profile["sub"], sub.as_str());
    assert_eq!(profile["preferred_username"], "alice");
    assert_eq!(profile["name"], "Alice Liddell");
    assert!(profile["updated_at"].is_i64(), "{profile}");
    assert!(profile.get("email").is_none(), "{profile}");
    assert_eq!(email["sub"], sub.as_str());
    assert_eq!(email["email"], "alice@example.com");
    assert_eq!(email["email_verified"], false);
    assert!(email.get("preferred_username").is_none(), "{email}");
    for claim in [
        "sub",
        "preferred_username",
        "name",
        "updated_at",
        "email",
        "email_verified",
    ] {
        assert!(both.get(claim).is_some(), "{claim} in {both}");
    }
    assert_eq!(
        neither.as_object().map(|o| o.len()),
        Some(1),
        "only sub: {neither}"
    );
}

#[tokio::test]
async fn the_claims_are_read_from_the_user_as_it_is_now() {
    // Arrange
    let (app, alice, client) = setup().await;
    let token = access_token(&app, &alice, &client, "openid profile email").await;
    let before = ok_json(app.userinfo(&token).await).await;
    app.clock().advance(std::time::Duration::from_secs(10));

    // Act
    manage::update_user_profile(
        &app.state.db,
        "alice",
        ProfileUpdate {
            name: Some("Alice Hargreaves".to_owned()),
            email: Some("alice@hargreaves.example".to_owned()),
            email_verified: Some(true),
        },
        app.clock().now(),
    )
    .await
    .expect("update the profile");
    let after = ok_json(app.userinfo(&token).await).await;

    // Assert
    assert_eq!(after["name"], "Alice Hargreaves");
    assert_eq!(after["email"], "alice@hargreaves.example");
    assert_eq!(after["email_verified"], true);
    assert!(
        after["updated_at"].as_i64() >= before["updated_at"].as_i64().map(|t| t + 10),
        "{before} then {after}"
    );
}

#[tokio::test]
async fn post_takes_the_token_in_the_header_or_the_form_body_but_not_both() {
    // Arrange
    let (app, alice, client) = setup().await;
    let token = access_token(&app, &alice, &client, "openid profile").await;
    let form = format!("access_token={token}");

    // Act
    let header = app
        .client
        .post("/oauth/userinfo")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await;
    let body = app
        .client
        .post("/oauth/userinfo")
        .content_type("application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await;
    let both = app
        .client
        .post("/oauth/userinfo")
        .header("authorization", format!("Bearer {token}"))
        .content_type("application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await;

    // Assert
    assert_eq!(ok_json(header).await["preferred_username"], "alice");
    assert_eq!(ok_json(body).await["preferred_username"], "alice");
    assert_challenge(&both, 400, Some("invalid_request"));
}

#[tokio::test]
async fn no_credentials_get_a_bare_challenge_and_bad_ones_invalid_token() {
    // Arrange
    let (app, alice, client) = setup().await;
    let token = access_token(&app, &alice, &client, "openid").await;
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });

    // Act
    let none = app.client.get("/oauth/userinfo").send().await;
    let basic = app
        .client
        .get("/oauth/userinfo")
        .header("authorization", "Basic YWxpY2U6c2VjcmV0")
        .send()
        .await;
    let garbage = app.userinfo("not-a-jwt").await;
    let forged = app.userinfo(&tampered).await;
    app.clock().advance(std::time::Duration::from_secs(3600));
    let expired = app.userinfo(&token).await;

    // Assert
    assert_challenge(&none, 401, None);
    assert_challenge(&basic, 401, None);
    assert_challenge(&garbage, 401, Some("invalid_token"));
    assert_challenge(&forged, 401, Some("invalid_token"));
    let challenge = assert_challenge(&expired, 401, Some("invalid_token"));
    assert!(challenge.contains("expired"), "{challenge}");
    assert_eq!(json(expired).await["error"], "invalid_token");
}

#[tokio::test]
async fn a_token_without_openid_is_forbidden_with_insufficient_scope() {
    // Arrange
    let (app, alice, client) = setup().await;
    let token = access_token(&app, &alice, &client, "profile email blog:read").await;

    // Act
    let resp = app.userinfo(&token).await;

    // Assert
    let challenge = assert_challenge(&resp, 403, Some("insufficient_scope"));
    assert!(challenge.contains(r#"scope="openid""#), "{challenge}");
}

#[tokio::test]
async fn a_revoked_token_is_refused() {
    // Arrange
    let (app, alice, client) = setup().await;
    let token = access_token(&app, &alice, &client, "openid").await;
    ok_json(app.userinfo(&token).await).await;

    // Act: RFC 7009, revoking the access token itself.
    let (status, _) = app
        .post_oauth_form(
            "/oauth/revoke",
            &[("token", &token), ("token_type_hint", "access_token")],
            Some(&client),
        )
        .await;
    assert_eq!(status, 200);
    let resp = app.userinfo(&token).await;

    // Assert
    let challenge = assert_challenge(&resp, 401, Some("invalid_token"));
    assert!(challenge.contains("revoked"), "{challenge}");
}

#[tokio::test]
async fn a_token_whose_user_was_deleted_is_refused() {
    // Arrange
    let (app, alice, client) = setup().await;
    let token = access_token(&app, &alice, &client, "openid profile").await;
    let user = app.user_row(&alice).await;

    // Act
    use sea_orm::ModelTrait;
    user.delete(&app.state.db).await.expect("delete the user");
    let resp = app.userinfo(&token).await;

    // Assert
    let challenge = assert_challenge(&resp, 401, Some("invalid_token"));
    assert!(challenge.contains("no longer exists"), "{challenge}");
}
