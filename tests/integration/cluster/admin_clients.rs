//! A client changed, then deleted, through the admin API at one instance
//! is changed, then gone, at every other instance within the documented
//! delay, although they had it cached.

use std::time::Instant;

use serde_json::{Value, json};

use super::{Cluster, PROPAGATION, SLACK, authorize_path, field, http, name, wait_since};
use crate::helpers::oauth::TestClientApp;

const FIRST_URI: &str = "https://shop.example.com/callback";
const SECOND_URI: &str = "https://shop.example.com/new-callback";

/// The status of an authorization request at instance `i` for `client_id`
/// with `redirect_uri`: 200 (the login form) when both are registered,
/// 400 (an error page, never a redirect) otherwise.
async fn authorize_status(cluster: &Cluster, i: usize, client_id: &str, redirect_uri: &str) -> u16 {
    http()
        .get(cluster.url(i, &authorize_path(client_id, redirect_uri, "blog:read")))
        .send()
        .await
        .expect("authorize")
        .status()
        .as_u16()
}

/// A `client_credentials` request at instance `i`: status and error code.
async fn service_grant(cluster: &Cluster, i: usize, client: &TestClientApp) -> (u16, String) {
    let (status, body) = cluster
        .token(i, client, &[("grant_type", "client_credentials")])
        .await;
    (status, body["error"].as_str().unwrap_or("").to_owned())
}

/// Sends `method path` to instance 0 with the admin key; status and body.
async fn admin_call(
    cluster: &Cluster,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http()
        .request(method, cluster.url(0, path))
        .header("X-API-Key", key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("admin API");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn a_client_changed_then_deleted_through_the_admin_api_at_one_instance_is_so_at_the_others() {
    // Arrange: a client registered through A's admin API, which every
    // other instance has used (and so holds in its client cache).
    let cluster = Cluster::start().await;
    let root = cluster.setup.user("root").await;
    let key = cluster.setup.api_key(&root, &["admin"]).await;
    let input = json!({
        "name": "Shop", "redirect_uris": [FIRST_URI], "scopes": ["blog:read"],
        "grants": ["authorization_code", "client_credentials"]
    });
    let (status, created) = admin_call(
        &cluster,
        &key,
        reqwest::Method::POST,
        "/admin/v1/clients",
        Some(input),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let client = TestClientApp {
        client_id: field(&created, "client_id"),
        secret: Some(field(&created, "client_secret")),
    };
    let id = client.client_id.as_str();
    let others = 1..cluster.size();
    let mut tokens = Vec::new();
    for i in others.clone() {
        assert_eq!(authorize_status(&cluster, i, id, FIRST_URI).await, 200);
        assert_eq!(authorize_status(&cluster, i, id, SECOND_URI).await, 400);
        tokens.push((i, cluster.service_token(i, &client).await));
    }
    let path = format!("/admin/v1/clients/{id}");

    // Act: another redirect URI, and no more client_credentials.
    let changed_at = Instant::now();
    let change = json!({"redirect_uris": [SECOND_URI], "grants": ["authorization_code"]});
    let (status, changed) =
        admin_call(&cluster, &key, reqwest::Method::PATCH, &path, Some(change)).await;
    assert_eq!(status, 200, "{changed}");

    // Assert
    let within = PROPAGATION + SLACK;
    for i in others.clone() {
        let what = |w: &str| format!("{} {w}", name(i));
        wait_since(changed_at, within, &what("refuses the old URI"), || async {
            authorize_status(&cluster, i, id, FIRST_URI).await == 400
        })
        .await;
        assert_eq!(authorize_status(&cluster, i, id, SECOND_URI).await, 200);
        wait_since(changed_at, within, &what("refuses the grant"), || async {
            service_grant(&cluster, i, &client).await == (400, "unauthorized_client".to_owned())
        })
        .await;
    }

    // Act: deleted.
    let deleted_at = Instant::now();
    let (status, body) = admin_call(&cluster, &key, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 204, "{body}");

    // Assert: unknown everywhere, its tokens refused.
    for i in others {
        let what = |w: &str| format!("{} {w}", name(i));
        wait_since(deleted_at, within, &what("refuses the client"), || async {
            service_grant(&cluster, i, &client).await == (401, "invalid_client".to_owned())
        })
        .await;
        assert_eq!(authorize_status(&cluster, i, id, SECOND_URI).await, 400);
        for (j, token) in &tokens {
            wait_since(
                deleted_at,
                within,
                &what(&format!("refuses the token {} issued", name(*j))),
                || async { cluster.bearer_status(i, token).await == 401 },
            )
            .await;
        }
    }
}
