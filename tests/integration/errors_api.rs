//! Issue 11 items 4 and 7 on the blog API: bad query values answered in a
//! sentence, and `/openapi.json` saying what the server really does.

use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, json};

const RW: &[&str] = &["blog:read", "blog:write"];

async fn list(app: &TestApp, key: &str, query: &[(&str, &str)]) -> poem::test::TestResponse {
    let mut req = app.client.get("/api/v1/posts").header("X-API-Key", key);
    for (name, value) in query {
        req = req.query(*name, value);
    }
    req.send().await
}

#[tokio::test]
async fn a_bad_limit_is_answered_with_the_rule() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, RW).await;
    for limit in ["0", "101", "ten", "-1"] {
        let resp = list(&app, &key, &[("limit", limit)]).await;
        let body = json(resp).await;
        assert_eq!(body["status"], 400, "{limit}: {body}");
        assert_eq!(
            body["detail"], "limit must be a whole number between 1 and 100",
            "{limit}"
        );
    }
}

#[tokio::test]
async fn a_malformed_post_id_is_answered_with_the_rule() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, RW).await;
    let resp = app
        .client
        .get("/api/v1/posts/42")
        .header("X-API-Key", &key)
        .send()
        .await;
    let body = json(resp).await;
    assert_eq!(body["status"], 400);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("the id in the path must be a uuid such as "),
        "{body}"
    );
}

#[tokio::test]
async fn every_cursor_the_schema_allows_is_accepted_and_others_refused() {
    // Arrange: the documented pattern, read from the document itself.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, RW).await;
    let doc = json(app.client.get("/openapi.json").send().await).await;
    let cursor = doc["paths"]["/api/v1/posts"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "cursor")
        .unwrap()
        .clone();
    assert_eq!(
        cursor["schema"]["pattern"],
        "^([A-Za-f][A-Za-z0-9_-]{9}[AEIMQUYcgkosw048])?$"
    );

    // Act and assert: the pattern's edges are pages; anything else is a 400.
    for allowed in ["", "AAAAAAAAAAA", "f_________8", "a-0Z9_zA-_w"] {
        let resp = list(&app, &key, &[("cursor", allowed)]).await;
        assert_eq!(resp.0.status(), 200, "{allowed:?}");
    }
    for refused in ["g_________8", "AAAAAAAAAAB", "cDE6NDI", "not a cursor"] {
        let resp = list(&app, &key, &[("cursor", refused)]).await;
        assert_problem(resp, 400, "malformed cursor: pass the next_cursor").await;
    }
}

#[tokio::test]
async fn the_document_says_next_cursor_may_be_null() {
    let app = TestApp::spawn().await;
    let doc = json(app.client.get("/openapi.json").send().await).await;
    let next = &doc["components"]["schemas"]["PostPage"]["properties"]["next_cursor"];
    assert_eq!(next["type"], "string", "{next}");
    assert_eq!(next["nullable"], true, "{next}");
    // And the server does send null on the last page.
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, RW).await;
    let page = json(list(&app, &key, &[]).await).await;
    assert_eq!(page["next_cursor"], Value::Null);
}

#[tokio::test]
async fn the_document_lists_413_everywhere_and_415_where_a_body_is_read() {
    let app = TestApp::spawn().await;
    let doc = json(app.client.get("/openapi.json").send().await).await;
    let problem = "#/components/schemas/Problem";
    for (path, method, takes_body) in [
        ("/api/v1/posts", "get", false),
        ("/api/v1/posts", "post", true),
        ("/api/v1/posts/{id}", "get", false),
        ("/api/v1/posts/{id}", "put", true),
        ("/api/v1/posts/{id}", "delete", false),
    ] {
        let responses = &doc["paths"][path][method]["responses"];
        let schema = |status: &str| {
            responses[status]["content"]["application/problem+json"]["schema"]["$ref"].clone()
        };
        assert_eq!(schema("413"), problem, "{method} {path}");
        if takes_body {
            assert_eq!(schema("415"), problem, "{method} {path}");
        } else {
            assert!(responses.get("415").is_none(), "{method} {path}");
        }
        assert!(
            responses["413"]["description"]
                .as_str()
                .unwrap()
                .contains("512 KiB")
        );
    }
}

#[tokio::test]
async fn a_method_the_path_does_not_have_is_a_405_naming_those_it_has() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .request(poem::http::Method::PATCH, "/api/v1/posts")
        .send()
        .await;
    let allow = resp.0.headers().get("allow").cloned();
    assert_problem(resp, 405, "method not allowed").await;
    assert_eq!(allow.unwrap(), "GET, POST");
}

#[tokio::test]
async fn a_post_body_is_held_to_its_documented_types() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, RW).await;
    let post = |body: Value| {
        app.client
            .post("/api/v1/posts")
            .header("X-API-Key", &key)
            .body_json(&body)
            .send()
    };

    // Act and assert: a boolean is not a title (poem-openapi took it as
    // "false"); null is an absent `published`, as documented.
    let resp = post(serde_json::json!({"title": false, "body": ""})).await;
    assert_problem(resp, 400, "title").await;
    let resp = post(serde_json::json!({"title": "t", "body": "", "published": null})).await;
    assert_eq!(resp.0.status(), 201);
    let doc = json(app.client.get("/openapi.json").send().await).await;
    let input = &doc["components"]["schemas"]["PostInput"]["properties"];
    assert_eq!(input["published"]["nullable"], true);
    assert!(
        input["title"]["pattern"]
            .as_str()
            .unwrap()
            .contains("\\u3000")
    );
    assert!(
        input["body"]["pattern"]
            .as_str()
            .unwrap()
            .contains("\\x0E-\\x1F")
    );
}
