//! The blog API over an API key: CRUD, author rules, validation, pagination.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, json};

const RW: &[&str] = &["blog:read", "blog:write"];

async fn create_post(app: &TestApp, key: &str, title: &str, published: bool) -> Value {
    let resp = app
        .client
        .post("/api/v1/posts")
        .header("X-API-Key", key)
        .body_json(&json!({"title": title, "body": "text", "published": published}))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::CREATED);
    json(resp).await
}

#[tokio::test]
async fn a_post_goes_through_create_read_update_delete() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, RW).await;

    // Act: create
    let resp = app
        .client
        .post("/api/v1/posts")
        .header("X-API-Key", &key)
        .body_json(&json!({"title": "Hello", "body": "First post", "published": true}))
        .send()
        .await;

    // Assert
    resp.assert_status(poem::http::StatusCode::CREATED);
    let location = resp.0.headers()["location"].to_str().unwrap().to_owned();
    let post = json(resp).await;
    let id = post["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/posts/{id}"));
    assert_eq!(post["title"], "Hello");
    assert_eq!(post["body"], "First post");
    assert_eq!(post["published"], true);
    assert_eq!(post["author"], "alice");
    assert_eq!(post["created_at"], post["updated_at"]);
    chrono::DateTime::parse_from_rfc3339(post["created_at"].as_str().unwrap()).expect("RFC 3339");

    // Read
    let resp = app
        .client
        .get(&location)
        .header("X-API-Key", &key)
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(json(resp).await, post);

    // Update
    app.clock().advance(std::time::Duration::from_secs(5));
    let resp = app
        .client
        .put(&location)
        .header("X-API-Key", &key)
        .body_json(&json!({"title": "Hello again", "body": "Edited"}))
        .send()
        .await;
    resp.assert_status_is_ok();
    let updated = json(resp).await;
    assert_eq!(updated["title"], "Hello again");
    assert_eq!(updated["published"], false, "published defaults to false");
    assert_eq!(updated["created_at"], post["created_at"]);
    assert_ne!(updated["updated_at"], post["updated_at"]);

    // Delete
    let resp = app
        .client
        .delete(&location)
        .header("X-API-Key", &key)
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::NO_CONTENT);
    let resp = app
        .client
        .get(&location)
        .header("X-API-Key", &key)
        .send()
        .await;
    assert_problem(resp, 404, "no post").await;
}

#[tokio::test]
async fn only_the_author_or_an_admin_may_change_a_post() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let alice_key = app.api_key(&alice, RW).await;
    let bob_key = app.api_key(&bob, RW).await;
    let admin_key = app
        .api_key(&carol, &["blog:read", "blog:write", "blog:admin"])
        .await;
    let post = create_post(&app, &alice_key, "Alice's", true).await;
    let path = format!("/api/v1/posts/{}", post["id"].as_str().unwrap());

    let resp = app
        .client
        .put(&path)
        .header("X-API-Key", &bob_key)
        .body_json(&json!({"title": "Mine now", "body": ""}))
        .send()
        .await;
    assert_problem(resp, 403, "author").await;
    let resp = app
        .client
        .delete(&path)
        .header("X-API-Key", &bob_key)
        .send()
        .await;
    assert_problem(resp, 403, "author").await;

    let resp = app
        .client
        .put(&path)
        .header("X-API-Key", &admin_key)
        .body_json(&json!({"title": "Moderated", "body": "", "published": true}))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(json(resp).await["author"], "alice", "the author stays");
    let resp = app
        .client
        .delete(&path)
        .header("X-API-Key", &admin_key)
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn drafts_are_visible_only_to_their_author_and_admins() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let alice_key = app.api_key(&alice, RW).await;
    let bob_key = app.api_key(&bob, RW).await;
    let admin_key = app.api_key(&bob, &["blog:read", "blog:admin"]).await;
    let draft = create_post(&app, &alice_key, "Draft", false).await;
    create_post(&app, &alice_key, "Public", true).await;
    let path = format!("/api/v1/posts/{}", draft["id"].as_str().unwrap());

    let resp = app
        .client
        .get(&path)
        .header("X-API-Key", &bob_key)
        .send()
        .await;
    assert_problem(resp, 404, "no post").await;
    let titles = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = |key: String| {
        let client = &app.client;
        async move {
            json(
                client
                    .get("/api/v1/posts")
                    .header("X-API-Key", key)
                    .send()
                    .await,
            )
            .await
        }
    };
    assert_eq!(titles(list(bob_key.clone()).await), ["Public"]);
    assert_eq!(titles(list(alice_key.clone()).await), ["Public", "Draft"]);
    assert_eq!(titles(list(admin_key.clone()).await), ["Public", "Draft"]);
    let resp = app
        .client
        .get(&path)
        .header("X-API-Key", &admin_key)
        .send()
        .await;
    resp.assert_status_is_ok();
}

#[tokio::test]
async fn pages_stay_stable_while_posts_are_added() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, RW).await;
    for i in 1..=5 {
        create_post(&app, &key, &format!("post {i}"), true).await;
    }
    let page = |cursor: Option<String>| {
        let client = &app.client;
        let key = key.clone();
        async move {
            let mut req = client.get("/api/v1/posts").query("limit", &2);
            if let Some(c) = cursor {
                req = req.query("cursor", &c);
            }
            let resp = req.header("X-API-Key", key).send().await;
            resp.assert_status_is_ok();
            json(resp).await
        }
    };
    let titles = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["title"].as_str().unwrap().to_owned())
            .collect()
    };

    let first = page(None).await;
    assert_eq!(titles(&first), ["post 5", "post 4"]);
    // New posts arrive between page fetches: they must not shift later pages.
    create_post(&app, &key, "post 6", true).await;
    create_post(&app, &key, "post 7", true).await;
    let second = page(first["next_cursor"].as_str().map(str::to_owned)).await;
    assert_eq!(titles(&second), ["post 3", "post 2"]);
    let third = page(second["next_cursor"].as_str().map(str::to_owned)).await;
    assert_eq!(titles(&third), ["post 1"]);
    assert_eq!(third["next_cursor"], Value::Null);
    // A fresh first page shows the newcomers.
    assert_eq!(titles(&page(None).await), ["post 7", "post 6"]);
}

#[tokio::test]
async fn a_malformed_cursor_or_limit_is_a_400() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, RW).await;
    let resp = app
        .client
        .get("/api/v1/posts")
        .query("cursor", &"not-a-cursor")
        .header("X-API-Key", &key)
        .send()
        .await;
    assert_problem(resp, 400, "malformed cursor").await;
    for limit in ["0", "101", "ten"] {
        let resp = app
            .client
            .get("/api/v1/posts")
            .query("limit", &limit)
            .header("X-API-Key", &key)
            .send()
            .await;
        assert_problem(resp, 400, "limit").await;
    }
}

#[tokio::test]
async fn bad_bodies_are_client_errors_that_say_why() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, RW).await;
    let post = |body: String| {
        let client = &app.client;
        let key = key.clone();
        async move {
            client
                .post("/api/v1/posts")
                .header("X-API-Key", key)
                .content_type("application/json")
                .body(body)
                .send()
                .await
        }
    };

    assert_problem(post("{\"title\": ".into()).await, 400, "parse").await;
    assert_problem(post("{\"body\": \"x\"}".into()).await, 400, "PostInput").await;
    let long_title = json!({"title": "a".repeat(201), "body": "x"}).to_string();
    assert_problem(post(long_title).await, 400, "title").await;
    let empty_title = json!({"title": "", "body": "x"}).to_string();
    assert_problem(post(empty_title).await, 400, "title").await;
    let blank_title = json!({"title": "   ", "body": "x"}).to_string();
    assert_problem(post(blank_title).await, 422, "title").await;
    let huge_body = json!({"title": "t", "body": "é".repeat(60 * 1024)}).to_string();
    assert_problem(post(huge_body).await, 422, "body").await;
    let too_large = json!({"title": "t", "body": "a".repeat(600 * 1024)}).to_string();
    assert_problem(post(too_large).await, 413, "too large").await;
    let resp = app
        .client
        .post("/api/v1/posts")
        .header("X-API-Key", &key)
        .content_type("text/plain")
        .body("hello")
        .send()
        .await;
    // /openapi.json accepts only JSON here, so another media type is
    // RFC 9110 §15.5.16's 415, as a problem like every other error.
    assert_problem(resp, 415, "not supported: text/plain").await;
    let doc = json(app.client.get("/openapi.json").send().await).await;
    let accepted = doc["paths"]["/api/v1/posts"]["post"]["requestBody"]["content"]
        .as_object()
        .expect("a request body")
        .keys()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(accepted, ["application/json; charset=utf-8"]);

    // Nothing was half-written.
    let list = json(
        app.client
            .get("/api/v1/posts")
            .header("X-API-Key", &key)
            .send()
            .await,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn an_unknown_or_malformed_id_is_404_or_400() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, RW).await;
    let unknown = "/api/v1/posts/00000000-0000-4000-8000-000000000000";
    assert_problem(
        app.client
            .get(unknown)
            .header("X-API-Key", &key)
            .send()
            .await,
        404,
        "no post",
    )
    .await;
    let resp = app
        .client
        .put(unknown)
        .header("X-API-Key", &key)
        .body_json(&json!({"title": "t", "body": "b"}))
        .send()
        .await;
    assert_problem(resp, 404, "no post").await;
    assert_problem(
        app.client
            .delete(unknown)
            .header("X-API-Key", &key)
            .send()
            .await,
        404,
        "no post",
    )
    .await;
    let resp = app
        .client
        .get("/api/v1/posts/42")
        .header("X-API-Key", &key)
        .send()
        .await;
    assert_problem(resp, 400, "uuid").await;
}

#[tokio::test]
async fn an_unknown_api_route_is_a_problem_too() {
    let app = TestApp::spawn().await;
    let resp = app.client.get("/api/v1/nothing-here").send().await;
    assert_problem(resp, 404, "").await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_api_and_its_key_scheme() {
    let app = TestApp::spawn().await;
    let resp = app.client.get("/openapi.json").send().await;
    resp.assert_status_is_ok();
    let spec = json(resp).await;
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/posts"));
    assert!(paths.contains_key("/api/v1/posts/{id}"));
    let scheme = &spec["components"]["securitySchemes"]["ApiKey"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["name"], "X-API-Key");
    assert_eq!(scheme["in"], "header");
    let list = &spec["paths"]["/api/v1/posts"]["get"]["responses"];
    assert!(list["401"]["content"]["application/problem+json"].is_object());

    let resp = app.client.get("/docs").send().await;
    resp.assert_status_is_ok();
    let html = resp.0.into_body().into_string().await.unwrap();
    assert!(html.contains("Swagger UI"), "the docs page is the explorer");
}

#[tokio::test]
async fn another_instances_writes_show_within_a_second_and_ones_own_at_once() {
    use poem::EndpointExt;

    // Arrange: two instances on one database.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, RW).await;
    let db = tollgate::db::connect(&app.database_url).await.unwrap();
    let settings = tollgate::Settings::for_tests(&app.database_url);
    let other_state =
        tollgate::state::AppState::build(db, settings, tollgate::clock::Clock::default())
            .await
            .unwrap();
    let other = poem::test::TestClient::new(tollgate::startup::app(other_state).map_to_response());
    let count = |v: Value| v["items"].as_array().unwrap().len();
    let list = || async {
        json(
            app.client
                .get("/api/v1/posts")
                .header("X-API-Key", &key)
                .send()
                .await,
        )
        .await
    };
    assert_eq!(count(list().await), 0, "now cached as empty");

    // Act: the other instance writes.
    other
        .post("/api/v1/posts")
        .header("X-API-Key", &key)
        .body_json(&json!({"title": "elsewhere", "body": "", "published": true}))
        .send()
        .await
        .assert_status(poem::http::StatusCode::CREATED);

    // Assert: visible here once the cached read expires (within a second).
    tokio::time::sleep(tollgate::read_cache::TTL + std::time::Duration::from_millis(100)).await;
    assert_eq!(count(list().await), 1);
    // This instance's own write shows at once.
    create_post(&app, &key, "here", true).await;
    assert_eq!(count(list().await), 2);
}
