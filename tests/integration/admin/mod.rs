//! The admin API under `/admin/v1`: every endpoint's success, its refusal
//! without credentials or without the `admin` scope, and problem+json for
//! bad input.

mod access;
mod clients;
mod keys;
mod real_port;
mod users;

use poem::http::Method;
use poem::test::TestResponse;
use serde_json::Value;

use crate::helpers::{TestApp, TestUser, json};

/// An app whose user `root` holds an `admin` API key.
pub struct Admin {
    pub app: TestApp,
    pub key: String,
}

impl Admin {
    pub async fn spawn() -> Self {
        let app = TestApp::spawn().await;
        let root = app.user("root").await;
        let key = app.api_key(&root, &["admin"]).await;
        Self { app, key }
    }

    /// Sends `method path` with the admin key and an optional JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> TestResponse {
        send(&self.app, method, path, Some(&self.key), body).await
    }

    /// As [`call`], asserting `status` and returning the JSON body (`Null`
    /// when there is none).
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
        let resp = self.call(method.clone(), path, body).await;
        let got = resp.0.status().as_u16();
        let text = resp.0.into_body().into_string().await.expect("body");
        assert_eq!(got, status, "{method} {path}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        }
    }

    /// Creates a user through the API and returns its id.
    pub async fn create_user(&self, username: &str) -> String {
        let body =
            serde_json::json!({"username": username, "password": format!("{username}-password")});
        let user = self
            .ok(Method::POST, "/admin/v1/users", Some(body), 201)
            .await;
        user["id"].as_str().expect("id").to_owned()
    }
}

pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> TestResponse {
    let mut req = app.client.request(method, path);
    if let Some(key) = key {
        req = req.header("X-API-Key", key);
    }
    if let Some(body) = body {
        req = req.body_json(&body);
    }
    req.send().await
}

/// The user id of a `TestUser`.
pub async fn id_of(app: &TestApp, user: &TestUser) -> String {
    tollgate::store::users::find_by_username(&app.state.db, &user.username)
        .await
        .expect("query")
        .expect("user exists")
        .id
        .to_string()
}

/// Whether an access token is accepted by the blog API.
pub async fn blog_status(app: &TestApp, access_token: &str) -> u16 {
    app.client
        .get("/api/v1/posts")
        .header("authorization", format!("Bearer {access_token}"))
        .send()
        .await
        .0
        .status()
        .as_u16()
}

pub async fn body(resp: TestResponse) -> Value {
    json(resp).await
}
