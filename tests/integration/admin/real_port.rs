//! The admin API over a real socket, and its place in `/openapi.json`.

use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn an_operator_manages_users_over_http_with_an_admin_key() {
    // Arrange
    let app = TestApp::serve().await;
    let root = app.user("root").await;
    let key = app.api_key(&root, &["admin"]).await;
    let http = reqwest::Client::new();
    let base = app.base_url();

    // Act
    let created = http
        .post(format!("{base}/admin/v1/users"))
        .header("X-API-Key", &key)
        .json(&json!({"username": "alice", "password": "long enough pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let disabled = http
        .post(format!(
            "{base}/admin/v1/users/{}/disable",
            created["id"].as_str().unwrap()
        ))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    let refused = http
        .get(format!("{base}/admin/v1/users"))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(disabled.status(), 200);
    let disabled: Value = disabled.json().await.unwrap();
    assert_eq!(disabled["disabled"], true);
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    assert!(refused.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn a_duplicate_username_is_a_409_problem_over_http() {
    // Arrange
    let app = TestApp::serve().await;
    let root = app.user("root").await;
    let key = app.api_key(&root, &["admin"]).await;
    let http = reqwest::Client::new();

    // Act
    let resp = http
        .post(format!("{}/admin/v1/users", app.base_url()))
        .header("X-API-Key", &key)
        .json(&json!({"username": "Root", "password": "long enough pass"}))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(resp.status(), 409);
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(problem["status"], 409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("already taken"),
        "{problem}"
    );
}

#[tokio::test]
async fn the_admin_api_is_in_the_openapi_document_under_its_own_tag() {
    // Arrange
    let app = TestApp::serve().await;

    // Act
    let spec: Value = reqwest::get(format!("{}/openapi.json", app.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Assert
    let users = &spec["paths"]["/admin/v1/users"];
    assert_eq!(users["get"]["tags"], json!(["admin"]), "{users}");
    assert!(
        spec["paths"]["/api/v1/posts"].is_object(),
        "the blog API stays"
    );
    for status in ["401", "403", "409", "413", "415", "422"] {
        assert!(
            users["post"]["responses"][status].is_object(),
            "{status} documented"
        );
    }
    let user = &spec["components"]["schemas"]["AdminUser"]["properties"];
    assert_eq!(user["disabled_at"]["nullable"], true, "{user}");
    let page = &spec["components"]["schemas"]["UserPage"]["properties"];
    assert_eq!(page["next_cursor"]["nullable"], true, "{page}");
}
