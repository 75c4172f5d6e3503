//! Shortcuts shared by the token, refresh, grant, revocation and
//! introspection tests: raw form posts that keep the headers, the
//! resource API over a Bearer token, and RFC 6749 §5.2 error asserts.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use poem::http::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::oauth::{REDIRECT_URI, TestClientApp, VERIFIER};
use crate::helpers::{TestApp, json};

/// An answer of an OAuth endpoint, headers kept.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn www_authenticate(&self) -> Option<&str> {
        self.headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
    }
}

/// `Authorization: Basic` for `client_id:secret` (RFC 6749 §2.3.1).
pub fn basic(client_id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}")))
}

/// Form-encodes `fields`.
pub fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// POSTs `body` with `content_type` and optional `Authorization` to an
/// OAuth endpoint. Every answer there must be `Cache-Control: no-store`.
pub async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: String,
    authorization: Option<&str>,
) -> Answer {
    let mut req = app.client.post(path).content_type(content_type).body(body);
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    let resp = req.send().await;
    let status = resp.0.status().as_u16();
    let headers = resp.0.headers().clone();
    assert_eq!(
        headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "every OAuth endpoint answer is no-store"
    );
    let text = resp.0.into_body().into_string().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON body")
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// A form POST with an optional `Authorization` header.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    authorization: Option<&str>,
) -> Answer {
    post_raw(
        app,
        path,
        "application/x-www-form-urlencoded",
        form(fields),
        authorization,
    )
    .await
}

/// Asserts an RFC 6749 §5.2 error: `status`, `error`, and nothing but
/// `error` and an optional string `error_description` in the body.
pub fn assert_oauth_error(status: u16, body: &Value, expected_status: u16, error: &str) {
    assert_eq!(status, expected_status, "status of {body}");
    assert_eq!(body["error"], error, "error code of {body}");
    let object = body.as_object().expect("a JSON object");
    for (key, value) in object {
        match key.as_str() {
            "error" => {}
            "error_description" => assert!(value.is_string(), "{body}"),
            other => panic!("unexpected field {other} in {body}"),
        }
    }
}

/// Sends `fields` authenticated as `client`: HTTP Basic for a
/// confidential client, `client_id` in the body for a public one.
pub async fn token_as(
    app: &TestApp,
    client: &TestClientApp,
    fields: &[(&str, &str)],
) -> (u16, Value) {
    post_as(app, "/oauth/token", client, fields).await
}

/// As [`token_as`], to any client-authenticated OAuth endpoint.
pub async fn post_as(
    app: &TestApp,
    path: &str,
    client: &TestClientApp,
    fields: &[(&str, &str)],
) -> (u16, Value) {
    match client.secret {
        Some(_) => app.post_oauth_form(path, fields, Some(client)).await,
        None => {
            let mut with_id = vec![("client_id", client.client_id.as_str())];
            with_id.extend_from_slice(fields);
            app.post_oauth_form(path, &with_id, None).await
        }
    }
}

/// Exchanges `code` with the harness's redirect URI and PKCE verifier.
pub async fn redeem(app: &TestApp, client: &TestClientApp, code: &str) -> (u16, Value) {
    token_as(
        app,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

/// Uses `refresh_token`, optionally asking for `scope`.
pub async fn refresh(
    app: &TestApp,
    client: &TestClientApp,
    refresh_token: &str,
    scope: Option<&str>,
) -> (u16, Value) {
    let mut fields = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        fields.push(("scope", scope));
    }
    token_as(app, client, &fields).await
}

/// A string field of a token response.
pub fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
}

/// The claims of a JWT, read without verifying it (the server verifies).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has three parts");
    let bytes = URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// GET /api/v1/posts with `access_token`: status and body.
pub async fn list_posts(app: &TestApp, access_token: &str) -> (u16, Value) {
    let resp = app
        .client
        .get("/api/v1/posts")
        .header("authorization", format!("Bearer {access_token}"))
        .send()
        .await;
    let status = resp.0.status().as_u16();
    (status, json(resp).await)
}

/// POST /api/v1/posts with `access_token`: status and body.
pub async fn create_post(app: &TestApp, access_token: &str) -> (u16, Value) {
    let resp = app
        .client
        .post("/api/v1/posts")
        .header("authorization", format!("Bearer {access_token}"))
        .body_json(&json!({"title": "Hello", "body": "From a token"}))
        .send()
        .await;
    let status = resp.0.status().as_u16();
    (status, json(resp).await)
}

/// Asserts the API refuses `access_token` as revoked (RFC 6750 §3.1).
pub async fn assert_revoked(app: &TestApp, access_token: &str) {
    let (status, body) = list_posts(app, access_token).await;
    assert_eq!(status, 401, "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("revoked"), "detail {detail:?}");
}
