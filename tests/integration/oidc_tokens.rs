//! ID tokens at the token endpoint (OIDC Core §3.1.3.3, §12.2): issued
//! beside the access token when the grant holds `openid`, each claim as a
//! relying party checks it.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::Value;

use crate::helpers::TestApp;
use crate::helpers::oauth::{ClientSpec, TestClientApp};
use crate::helpers::oidc::{StoredCode, expected_at_hash, jwt_claims};

const ALL_IDENTITY: &str = "openid profile email blog:read";

async fn identity_client(app: &TestApp, spec: ClientSpec) -> TestClientApp {
    app.oauth_client(spec.scopes(ALL_IDENTITY)).await
}

fn id_token(body: &Value) -> &str {
    body["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("an id_token in {body}"))
}

#[tokio::test]
async fn an_openid_code_returns_an_rs256_id_token_with_every_core_claim() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app
        .user_with_profile("alice", "Alice Liddell", "alice@example.com")
        .await;
    let client = identity_client(&app, ClientSpec::default()).await;
    let auth_time = app.clock().now() - TimeDelta::seconds(90);
    let code = app
        .stored_code(
            &alice,
            &client,
            StoredCode {
                scopes: ALL_IDENTITY,
                nonce: Some("n-0S6_WzA2Mj"),
                auth_time,
                sid: Some("08a5019c17e1468f8e8e84bd4a1f8b5a"),
            },
        )
        .await;

    // Act
    let body = app.redeem_ok(&client, &code).await;

    // Assert
    let (header, claims) = app
        .verify_id_token(id_token(&body), &client.client_id)
        .await;
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256, "the default");
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let access = body["access_token"].as_str().expect("access token");
    let user = app.user_row(&alice).await;
    assert_eq!(claims["iss"], "http://127.0.0.1");
    assert_eq!(claims["sub"], user.id.to_string());
    assert_eq!(claims["sub"], jwt_claims(access)["sub"], "one sub for both");
    assert_eq!(claims["aud"], client.client_id.as_str());
    assert_eq!(claims["azp"], client.client_id.as_str());
    let iat = claims["iat"].as_i64().expect("iat");
    assert!(
        (iat - Utc::now().timestamp()).abs() <= 5,
        "iat is now: {iat}"
    );
    let ttl = app.state.settings.access_token_ttl.num_seconds();
    assert_eq!(
        claims["exp"].as_i64(),
        Some(iat + ttl),
        "lives as long as an access token"
    );
    assert_eq!(claims["auth_time"].as_i64(), Some(auth_time.timestamp()));
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["sid"], "08a5019c17e1468f8e8e84bd4a1f8b5a");
    assert_eq!(claims["at_hash"], expected_at_hash(access));
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["name"], "Alice Liddell");
    assert_eq!(
        claims["updated_at"].as_i64(),
        Some(user.updated_at.timestamp())
    );
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], false);
}

#[tokio::test]
async fn a_client_registered_for_es256_gets_es256_id_tokens() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = identity_client(&app, ClientSpec::default().id_token_alg("ES256")).await;
    let code = app
        .stored_code(
            &alice,
            &client,
            StoredCode {
                scopes: "openid",
                nonce: None,
                auth_time: app.clock().now(),
                sid: None,
            },
        )
        .await;

    // Act
    let body = app.redeem_ok(&client, &code).await;

    // Assert
    let (header, claims) = app
        .verify_id_token(id_token(&body), &client.client_id)
        .await;
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let access = body["access_token"].as_str().expect("access token");
    // OIDC Core §3.1.3.6: SHA-256 for ES256 as for RS256.
    assert_eq!(claims["at_hash"], expected_at_hash(access));
    for absent in ["nonce", "sid", "preferred_username", "name", "email"] {
        assert!(claims.get(absent).is_none(), "{absent} in {claims}");
    }
}

#[tokio::test]
async fn each_scope_brings_only_its_own_claims() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app
        .user_with_profile("alice", "Alice Liddell", "alice@example.com")
        .await;
    let bob = app.user("bob").await;
    let client = identity_client(&app, ClientSpec::default()).await;
    let code_for = |scopes| StoredCode {
        scopes,
        nonce: None,
        auth_time: app.clock().now(),
        sid: None,
    };

    // Act
    let profile_only = app
        .redeem_ok(
            &client,
            &app.stored_code(&alice, &client, code_for("openid profile"))
                .await,
        )
        .await;
    let email_only = app
        .redeem_ok(
            &client,
            &app.stored_code(&alice, &client, code_for("openid email"))
                .await,
        )
        .await;
    let no_address = app
        .redeem_ok(
            &client,
            &app.stored_code(&bob, &client, code_for("openid profile email"))
                .await,
        )
        .await;

    // Assert
    let (_, claims) = app
        .verify_id_token(id_token(&profile_only), &client.client_id)
        .await;
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["name"], "Alice Liddell");
    assert!(
        claims.get("email").is_none() && claims.get("email_verified").is_none(),
        "{claims}"
    );
    let (_, claims) = app
        .verify_id_token(id_token(&email_only), &client.client_id)
        .await;
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], false);
    assert!(
        claims.get("preferred_username").is_none() && claims.get("name").is_none(),
        "{claims}"
    );
    let (_, claims) = app
        .verify_id_token(id_token(&no_address), &client.client_id)
        .await;
    assert_eq!(claims["preferred_username"], "bob");
    for absent in ["name", "email", "email_verified"] {
        assert!(
            claims.get(absent).is_none(),
            "bob has no {absent}: {claims}"
        );
    }
}

#[tokio::test]
async fn a_code_without_openid_returns_no_id_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = identity_client(&app, ClientSpec::default()).await;

    // Act: through the real browser flow.
    let body = app.tokens_for(&alice, &client, "blog:read profile").await;

    // Assert
    assert!(body["access_token"].is_string(), "{body}");
    assert!(body.get("id_token").is_none(), "{body}");
}

#[tokio::test]
async fn a_refresh_returns_a_new_id_token_with_the_same_sub_and_auth_time_and_no_nonce() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = identity_client(&app, ClientSpec::default()).await;
    let auth_time = app.clock().now() - TimeDelta::seconds(300);
    let code = app
        .stored_code(
            &alice,
            &client,
            StoredCode {
                scopes: "openid profile",
                nonce: Some("abc"),
                auth_time,
                sid: Some("the-session"),
            },
        )
        .await;
    let first = app.redeem_ok(&client, &code).await;
    let (_, original) = app
        .verify_id_token(id_token(&first), &client.client_id)
        .await;
    app.clock().advance(Duration::from_secs(120));

    // Act: refresh twice, so the second uses a rotated token.
    let (status, second) = app
        .refresh(&client, first["refresh_token"].as_str().expect("rt"), None)
        .await;
    assert_eq!(status, 200, "{second}");
    let (status, third) = app
        .refresh(&client, second["refresh_token"].as_str().expect("rt"), None)
        .await;
    assert_eq!(status, 200, "{third}");

    // Assert
    for body in [&second, &third] {
        let (_, claims) = app.verify_id_token(id_token(body), &client.client_id).await;
        assert_eq!(claims["sub"], original["sub"]);
        assert_eq!(claims["aud"], original["aud"]);
        assert_eq!(claims["azp"], original["azp"]);
        assert_eq!(claims["auth_time"].as_i64(), Some(auth_time.timestamp()));
        assert_eq!(claims["sid"], "the-session", "kept through rotation");
        assert!(claims.get("nonce").is_none(), "OIDC Core §12.2: {claims}");
        assert!(
            claims["iat"].as_i64() >= original["iat"].as_i64().map(|t| t + 120),
            "a new iat: {claims}"
        );
        let access = body["access_token"].as_str().expect("access token");
        assert_eq!(
            claims["at_hash"],
            expected_at_hash(access),
            "bound to the new token"
        );
    }
}

#[tokio::test]
async fn a_refresh_narrowed_to_leave_out_openid_returns_no_id_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = identity_client(&app, ClientSpec::default()).await;
    let code = app
        .stored_code(
            &alice,
            &client,
            StoredCode {
                scopes: "openid blog:read",
                nonce: None,
                auth_time: app.clock().now(),
                sid: None,
            },
        )
        .await;
    let first = app.redeem_ok(&client, &code).await;

    // Act
    let (status, body) = app
        .refresh(
            &client,
            first["refresh_token"].as_str().expect("rt"),
            Some("blog:read"),
        )
        .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "blog:read");
    assert!(body.get("id_token").is_none(), "{body}");
}

#[tokio::test]
async fn a_replayed_code_yields_no_second_id_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = identity_client(&app, ClientSpec::default()).await;
    let code = app
        .stored_code(
            &alice,
            &client,
            StoredCode {
                scopes: "openid",
                nonce: Some("once"),
                auth_time: app.clock().now(),
                sid: None,
            },
        )
        .await;
    let first = app.redeem_ok(&client, &code).await;
    assert!(first["id_token"].is_string(), "{first}");

    // Act
    let (status, body) = app.redeem(&client, &code).await;

    // Assert
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body.get("id_token").is_none() && body.get("access_token").is_none(),
        "{body}"
    );
}

#[tokio::test]
async fn a_public_client_gets_an_id_token_too() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = identity_client(&app, ClientSpec::public()).await;
    let code = app
        .stored_code(
            &alice,
            &client,
            StoredCode {
                scopes: "openid",
                nonce: None,
                auth_time: app.clock().now(),
                sid: None,
            },
        )
        .await;

    // Act
    let body = app.redeem_ok(&client, &code).await;

    // Assert
    let (_, claims) = app
        .verify_id_token(id_token(&body), &client.client_id)
        .await;
    assert_eq!(claims["aud"], client.client_id.as_str());
}
