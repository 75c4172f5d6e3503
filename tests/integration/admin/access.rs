//! Refusals for every endpoint, API keys, consents and sessions.

use poem::http::Method;
use serde_json::json;

use super::{Admin, blog_status, id_of, send};
use crate::helpers::oauth::ClientSpec;
use crate::helpers::{assert_problem, www_authenticate};
use crate::token::support::{field, refresh};

/// Every admin operation, with ids that need not exist: authentication is
/// checked before anything else.
const ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/admin/v1/clients"),
    ("POST", "/admin/v1/clients"),
    ("GET", "/admin/v1/clients/some-client"),
    ("PATCH", "/admin/v1/clients/some-client"),
    ("DELETE", "/admin/v1/clients/some-client"),
    ("POST", "/admin/v1/clients/some-client/secret"),
    ("GET", "/admin/v1/users"),
    ("POST", "/admin/v1/users"),
    (
        "GET",
        "/admin/v1/users/00000000-0000-4000-8000-000000000000",
    ),
    (
        "PATCH",
        "/admin/v1/users/00000000-0000-4000-8000-000000000000",
    ),
    (
        "DELETE",
        "/admin/v1/users/00000000-0000-4000-8000-000000000000",
    ),
    (
        "POST",
        "/admin/v1/users/00000000-0000-4000-8000-000000000000/disable",
    ),
    (
        "POST",
        "/admin/v1/users/00000000-0000-4000-8000-000000000000/enable",
    ),
    (
        "PUT",
        "/admin/v1/users/00000000-0000-4000-8000-000000000000/password",
    ),
    (
        "GET",
        "/admin/v1/users/00000000-0000-4000-8000-000000000000/consents",
    ),
    (
        "DELETE",
        "/admin/v1/users/00000000-0000-4000-8000-000000000000/consents/c",
    ),
    (
        "GET",
        "/admin/v1/users/00000000-0000-4000-8000-000000000000/sessions",
    ),
    (
        "DELETE",
        "/admin/v1/users/00000000-0000-4000-8000-000000000000/sessions",
    ),
    (
        "DELETE",
        "/admin/v1/users/00000000-0000-4000-8000-000000000000/sessions/s",
    ),
    ("GET", "/admin/v1/api-keys"),
    ("POST", "/admin/v1/api-keys"),
    (
        "DELETE",
        "/admin/v1/api-keys/00000000-0000-4000-8000-000000000000",
    ),
    ("GET", "/admin/v1/keys"),
    ("POST", "/admin/v1/keys/rotate"),
];

/// A body every operation that reads one can parse, so that the refusal
/// is about credentials and not the body.
fn body_for(method: &str, path: &str) -> Option<serde_json::Value> {
    match (method, path) {
        ("POST", "/admin/v1/clients") => Some(json!({"name": "x"})),
        ("POST", "/admin/v1/users") => Some(json!({"username": "x", "password": "x"})),
        ("POST", "/admin/v1/api-keys") => Some(json!({"name": "x", "owner": "x", "scopes": []})),
        ("PUT", _) => Some(json!({"password": "x"})),
        ("PATCH", _) => Some(json!({})),
        _ => None,
    }
}

#[tokio::test]
async fn every_endpoint_refuses_a_caller_without_credentials_with_401() {
    // Arrange
    let admin = Admin::spawn().await;
    for (method, path) in ENDPOINTS {
        // Act
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let resp = send(&admin.app, m, path, None, body_for(method, path)).await;

        // Assert
        let headers = assert_problem(resp, 401, "missing credentials").await;
        assert!(
            www_authenticate(&headers).contains(r#"error="invalid_token""#),
            "{method} {path}"
        );
    }
    let resp = send(
        &admin.app,
        Method::GET,
        "/admin/v1/users",
        Some("tg_bogus"),
        None,
    )
    .await;
    assert_problem(resp, 401, "unknown API key").await;
}

#[tokio::test]
async fn every_endpoint_refuses_a_key_without_the_admin_scope_with_403() {
    // Arrange
    let admin = Admin::spawn().await;
    let blogger = admin.app.user("blogger").await;
    let key = admin
        .app
        .api_key(&blogger, &["blog:read", "blog:write", "blog:admin"])
        .await;
    for (method, path) in ENDPOINTS {
        // Act
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let resp = send(&admin.app, m, path, Some(&key), body_for(method, path)).await;

        // Assert
        let headers = assert_problem(resp, 403, "admin").await;
        assert!(
            www_authenticate(&headers).contains(r#"error="insufficient_scope", scope="admin""#),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn an_access_token_with_the_admin_scope_from_a_first_party_client_is_accepted() {
    // Arrange
    let admin = Admin::spawn().await;
    let client = admin
        .app
        .oauth_client(
            ClientSpec::default()
                .first_party()
                .scopes("admin")
                .grants(&["client_credentials"]),
        )
        .await;
    let (status, body) = admin
        .app
        .token_basic(&client, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(status, 200, "{body}");
    let token = field(&body, "access_token");

    // Act
    let resp = admin
        .app
        .client
        .get("/admin/v1/users")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await;

    // Assert
    resp.assert_status_is_ok();
    let page = super::body(resp).await;
    assert_eq!(page["items"][0]["username"], "root");
}

#[tokio::test]
async fn an_api_key_is_created_shown_once_listed_and_revoked() {
    // Arrange
    let admin = Admin::spawn().await;
    let alice = admin.app.user("alice").await;

    // Act
    let created = admin
        .ok(
            Method::POST,
            "/admin/v1/api-keys",
            Some(json!({"name": "ci", "owner": "alice", "scopes": ["blog:read"], "expires_in": "30d"})),
            201,
        )
        .await;

    // Assert
    let key = created["key"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["scopes"], json!(["blog:read"]));
    assert!(created["expires_at"].is_string(), "{created}");
    let resp = admin
        .app
        .client
        .get("/api/v1/posts")
        .header("X-API-Key", key)
        .send()
        .await;
    resp.assert_status_is_ok();

    let listed = admin
        .ok(Method::GET, "/admin/v1/api-keys?owner=alice", None, 200)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["owner"], "alice");
    assert_eq!(listed[0]["owner_id"], id_of(&admin.app, &alice).await);
    assert!(listed[0]["revoked_at"].is_null());
    assert!(listed[0].get("key").is_none(), "never the key: {listed}");
    let all = admin.ok(Method::GET, "/admin/v1/api-keys", None, 200).await;
    assert_eq!(
        all.as_array().unwrap().len(),
        2,
        "root's and alice's: {all}"
    );

    admin
        .ok(
            Method::DELETE,
            &format!("/admin/v1/api-keys/{id}"),
            None,
            204,
        )
        .await;
    let resp = admin
        .app
        .client
        .get("/api/v1/posts")
        .header("X-API-Key", key)
        .send()
        .await;
    assert_problem(resp, 401, "revoked").await;
    let listed = admin
        .ok(Method::GET, "/admin/v1/api-keys?owner=alice", None, 200)
        .await;
    assert!(listed[0]["revoked_at"].is_string(), "{listed}");
}

#[tokio::test]
async fn bad_api_key_requests_get_problems_that_say_what_is_wrong() {
    // Arrange
    let admin = Admin::spawn().await;
    admin.app.user("alice").await;
    let cases = [
        (
            json!({"name": "k", "owner": "alice", "scopes": ["blog:reed"]}),
            422,
            "unknown scope",
        ),
        (
            json!({"name": "k", "owner": "alice", "scopes": []}),
            422,
            "at least one",
        ),
        (
            json!({"name": "k", "owner": "nobody", "scopes": ["blog:read"]}),
            422,
            "no user named 'nobody'",
        ),
        (
            json!({"name": "k", "owner": "alice", "scopes": ["blog:read"], "expires_in": "soon"}),
            422,
            "expires_in",
        ),
        (json!({"name": "k", "owner": "alice"}), 400, "payload"),
    ];
    for (body, status, needle) in cases {
        // Act
        let resp = admin
            .call(Method::POST, "/admin/v1/api-keys", Some(body))
            .await;

        // Assert
        assert_problem(resp, status, needle).await;
    }
    let resp = admin
        .call(Method::GET, "/admin/v1/api-keys?owner=nobody", None)
        .await;
    assert_problem(resp, 404, "nobody").await;
    let resp = admin
        .call(
            Method::DELETE,
            "/admin/v1/api-keys/00000000-0000-4000-8000-000000000000",
            None,
        )
        .await;
    assert_problem(resp, 404, "no API key").await;
    let resp = admin
        .call(Method::DELETE, "/admin/v1/api-keys/not-a-uuid", None)
        .await;
    assert_problem(resp, 400, "id").await;
}

#[tokio::test]
async fn a_consent_is_listed_and_revoking_it_makes_its_tokens_fail() {
    // Arrange
    let admin = Admin::spawn().await;
    let alice = admin.app.user("alice").await;
    let alice_id = id_of(&admin.app, &alice).await;
    let client = admin.app.oauth_client(ClientSpec::default()).await;
    let tokens = admin.app.tokens_for(&alice, &client, "blog:read").await;
    let consents_path = format!("/admin/v1/users/{alice_id}/consents");

    // Act
    let listed = admin.ok(Method::GET, &consents_path, None, 200).await;
    admin
        .ok(
            Method::DELETE,
            &format!("{consents_path}/{}", client.client_id),
            None,
            204,
        )
        .await;

    // Assert
    assert_eq!(
        listed[0]["client_id"],
        client.client_id.as_str(),
        "{listed}"
    );
    assert_eq!(listed[0]["scopes"], json!(["blog:read"]));
    assert!(listed[0]["granted_at"].is_string());
    let after = admin.ok(Method::GET, &consents_path, None, 200).await;
    assert_eq!(after, json!([]));
    assert_eq!(
        blog_status(&admin.app, field(&tokens, "access_token")).await,
        401
    );
    let (status, body) = refresh(&admin.app, &client, field(&tokens, "refresh_token"), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let resp = admin
        .call(
            Method::DELETE,
            &format!("{consents_path}/{}", client.client_id),
            None,
        )
        .await;
    assert_problem(resp, 404, "no consent").await;
}

#[tokio::test]
async fn sessions_are_listed_and_ended_one_or_all() {
    // Arrange
    let admin = Admin::spawn().await;
    let alice = admin.app.user("alice").await;
    let alice_id = id_of(&admin.app, &alice).await;
    let client = admin.app.oauth_client(ClientSpec::default()).await;
    let first = admin.app.tokens_for(&alice, &client, "blog:read").await;
    admin.app.tokens_for(&alice, &client, "blog:read").await;
    let sessions_path = format!("/admin/v1/users/{alice_id}/sessions");

    // Act
    let listed = admin.ok(Method::GET, &sessions_path, None, 200).await;

    // Assert
    let listed = listed.as_array().unwrap().clone();
    assert_eq!(listed.len(), 2, "{listed:?}");
    for s in &listed {
        for key in [
            "sid",
            "created_at",
            "last_seen_at",
            "expires_at",
            "auth_time",
        ] {
            assert!(s[key].is_string(), "{key} in {s}");
        }
    }
    let sid = listed[1]["sid"].as_str().unwrap();
    admin
        .ok(Method::DELETE, &format!("{sessions_path}/{sid}"), None, 204)
        .await;
    let left = admin.ok(Method::GET, &sessions_path, None, 200).await;
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
    assert_ne!(left[0]["sid"], sid);
    let resp = admin
        .call(Method::DELETE, &format!("{sessions_path}/{sid}"), None)
        .await;
    assert_problem(resp, 404, "no live session").await;

    admin.ok(Method::DELETE, &sessions_path, None, 204).await;
    let left = admin.ok(Method::GET, &sessions_path, None, 200).await;
    assert_eq!(left, json!([]));
    // Ending the sessions revoked the refresh tokens issued under them.
    let (status, body) = refresh(&admin.app, &client, field(&first, "refresh_token"), None).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn consents_and_sessions_of_an_unknown_user_are_404() {
    // Arrange
    let admin = Admin::spawn().await;
    let nobody = "00000000-0000-4000-8000-000000000000";
    for (method, path) in [
        (Method::GET, format!("/admin/v1/users/{nobody}/consents")),
        (Method::GET, format!("/admin/v1/users/{nobody}/sessions")),
        (Method::DELETE, format!("/admin/v1/users/{nobody}/sessions")),
    ] {
        // Act
        let resp = admin.call(method, &path, None).await;

        // Assert
        assert_problem(resp, 404, "no user").await;
    }
}
