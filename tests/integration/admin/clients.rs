//! Clients: register, read, change, rotate the secret, delete.

use poem::http::Method;
use serde_json::json;

use super::{Admin, blog_status};
use crate::helpers::assert_problem;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, TestClientApp};
use crate::token::support::{field, refresh};

#[tokio::test]
async fn a_client_is_registered_with_its_secret_shown_once_then_read_and_changed() {
    // Arrange
    let admin = Admin::spawn().await;
    let input = json!({
        "name": "Shop", "redirect_uris": [REDIRECT_URI],
        "scopes": ["blog:read", "openid"], "grants": ["authorization_code", "client_credentials"]
    });

    // Act
    let resp = admin
        .call(Method::POST, "/admin/v1/clients", Some(input))
        .await;

    // Assert
    resp.assert_status(poem::http::StatusCode::CREATED);
    let location = resp.0.headers()["location"].to_str().unwrap().to_owned();
    let created = super::body(resp).await;
    let id = created["client_id"].as_str().unwrap();
    assert_eq!(location, format!("/admin/v1/clients/{id}"));
    assert!(
        created["client_secret"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(created["redirect_uris"], json!([REDIRECT_URI]));
    assert_eq!(created["scopes"], json!(["blog:read", "openid"]));
    assert_eq!(
        created["grants"],
        json!(["authorization_code", "client_credentials"])
    );
    assert_eq!(created["public"], false);
    assert_eq!(created["id_token_alg"], "RS256");
    let got = admin.ok(Method::GET, &location, None, 200).await;
    assert!(got.get("client_secret").is_none(), "shown once: {got}");
    assert_eq!(got["name"], "Shop");
    let listed = admin.ok(Method::GET, "/admin/v1/clients", None, 200).await;
    assert_eq!(listed[0]["client_id"], id, "{listed}");
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let app = TestClientApp {
        client_id: id.to_owned(),
        secret: Some(secret),
    };
    let (status, body) = admin
        .app
        .token_basic(&app, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(status, 200, "the secret works: {body}");

    let changed = admin
        .ok(
            Method::PATCH,
            &location,
            Some(
                json!({"name": "Shop 2", "backchannel_logout_uri": "https://app.example.com/bcl"}),
            ),
            200,
        )
        .await;
    assert_eq!(changed["name"], "Shop 2");
    assert_eq!(
        changed["backchannel_logout_uri"],
        "https://app.example.com/bcl"
    );
    assert_eq!(
        changed["scopes"],
        json!(["blog:read", "openid"]),
        "the rest stays"
    );
    let cleared = admin
        .ok(
            Method::PATCH,
            &location,
            Some(json!({"backchannel_logout_uri": null})),
            200,
        )
        .await;
    assert!(cleared["backchannel_logout_uri"].is_null(), "{cleared}");
}

#[tokio::test]
async fn a_public_client_has_no_secret_to_show_or_rotate() {
    // Arrange
    let admin = Admin::spawn().await;
    let input = json!({"name": "SPA", "public": true, "redirect_uris": [REDIRECT_URI]});

    // Act
    let created = admin
        .ok(Method::POST, "/admin/v1/clients", Some(input), 201)
        .await;

    // Assert
    assert!(created["client_secret"].is_null(), "{created}");
    assert_eq!(created["public"], true);
    let path = format!(
        "/admin/v1/clients/{}/secret",
        created["client_id"].as_str().unwrap()
    );
    assert_problem(admin.call(Method::POST, &path, None).await, 422, "public").await;
}

#[tokio::test]
async fn rotating_a_secret_makes_the_old_one_fail_at_the_token_endpoint() {
    // Arrange
    let admin = Admin::spawn().await;
    let old = admin
        .app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;
    let grant = [("grant_type", "client_credentials")];
    let (status, _) = admin.app.token_basic(&old, &grant).await;
    assert_eq!(status, 200);

    // Act
    let rotated = admin
        .ok(
            Method::POST,
            &format!("/admin/v1/clients/{}/secret", old.client_id),
            None,
            200,
        )
        .await;

    // Assert
    assert_eq!(rotated["client_id"], old.client_id.as_str());
    let (status, body) = admin.app.token_basic(&old, &grant).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    let new = TestClientApp {
        client_id: old.client_id.clone(),
        secret: Some(field(&rotated, "client_secret").to_owned()),
    };
    let (status, body) = admin.app.token_basic(&new, &grant).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn deleting_a_client_refuses_its_access_token_and_fails_its_refresh_token() {
    // Arrange
    let admin = Admin::spawn().await;
    let alice = admin.app.user("alice").await;
    let client = admin.app.oauth_client(ClientSpec::default()).await;
    let tokens = admin.app.tokens_for(&alice, &client, "blog:read").await;
    assert_eq!(
        blog_status(&admin.app, field(&tokens, "access_token")).await,
        200
    );
    let path = format!("/admin/v1/clients/{}", client.client_id);

    // Act
    admin.ok(Method::DELETE, &path, None, 204).await;

    // Assert
    assert_eq!(
        blog_status(&admin.app, field(&tokens, "access_token")).await,
        401
    );
    let (status, body) = refresh(&admin.app, &client, field(&tokens, "refresh_token"), None).await;
    assert!(status == 400 || status == 401, "{status} {body}");
    assert!(body["error"].is_string(), "{body}");
    assert_problem(admin.call(Method::GET, &path, None).await, 404, "no client").await;
    assert_problem(
        admin.call(Method::DELETE, &path, None).await,
        404,
        "no client",
    )
    .await;
}

#[tokio::test]
async fn bad_client_input_gets_problems_that_say_what_is_wrong() {
    // Arrange
    let admin = Admin::spawn().await;
    let existing = admin.app.oauth_client(ClientSpec::default()).await;
    let cases = [
        (json!({"name": ""}), 422, "1 to 100"),
        (json!({"name": "x"}), 422, "redirect"),
        (
            json!({"name": "x", "redirect_uris": ["http://evil.example/cb"]}),
            422,
            "redirect uri",
        ),
        (
            json!({"name": "x", "redirect_uris": [REDIRECT_URI], "scopes": ["admin"]}),
            422,
            "first-party",
        ),
        (
            json!({"name": "x", "redirect_uris": [REDIRECT_URI], "grants": ["implicit"]}),
            422,
            "implicit",
        ),
        (json!({"redirect_uris": [REDIRECT_URI]}), 400, "payload"),
    ];
    for (input, status, needle) in cases {
        // Act
        let resp = admin
            .call(Method::POST, "/admin/v1/clients", Some(input))
            .await;

        // Assert
        assert_problem(resp, status, needle).await;
    }
    let path = format!("/admin/v1/clients/{}", existing.client_id);
    let resp = admin
        .call(Method::PATCH, &path, Some(json!({"grants": ["password"]})))
        .await;
    assert_problem(resp, 422, "first-party").await;
    let resp = admin
        .call(
            Method::PATCH,
            "/admin/v1/clients/nope",
            Some(json!({"name": "y"})),
        )
        .await;
    assert_problem(resp, 404, "no client").await;
    let resp = admin
        .call(Method::POST, "/admin/v1/clients/nope/secret", None)
        .await;
    assert_problem(resp, 404, "no client").await;
}
