//! Static API keys: every way a key can be refused, and what a key records.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{TestApp, assert_problem, www_authenticate};

const INVALID_TOKEN: &str = r#"Bearer error="invalid_token""#;

#[tokio::test]
async fn no_key_is_a_401_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    let resp = app.client.get("/api/v1/posts").send().await;
    let headers = assert_problem(resp, 401, "missing credentials").await;
    assert!(www_authenticate(&headers).starts_with(INVALID_TOKEN));
}

#[tokio::test]
async fn an_unknown_key_is_a_401() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get("/api/v1/posts")
        .header("X-API-Key", "tgk_not-a-real-key")
        .send()
        .await;
    let headers = assert_problem(resp, 401, "unknown API key").await;
    assert!(www_authenticate(&headers).starts_with(INVALID_TOKEN));
}

#[tokio::test]
async fn a_revoked_key_is_a_401() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let (id, key) = app.api_key_expiring(&alice, &["blog:read"], None).await;
    let ok = app
        .client
        .get("/api/v1/posts")
        .header("X-API-Key", &key)
        .send()
        .await;
    ok.assert_status_is_ok();

    // Revoked the way `tollgate api-key revoke` does it, from outside the
    // server; the server hears of it when it syncs with its peers (every
    // second when serving).
    let outcome = tollgate::manage::revoke_api_key(
        &tollgate::manage::Effects::offline(&app.state.db, &app.state.settings, app.clock().now()),
        id,
    )
    .await
    .unwrap();
    assert_eq!(outcome, tollgate::store::api_keys::RevokeOutcome::Revoked);
    app.state.sync_with_peers().await;

    let resp = app
        .client
        .get("/api/v1/posts")
        .header("X-API-Key", &key)
        .send()
        .await;
    let headers = assert_problem(resp, 401, "revoked").await;
    assert!(www_authenticate(&headers).starts_with(INVALID_TOKEN));
}

#[tokio::test]
async fn an_expired_key_is_a_401() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let (_, key) = app
        .api_key_expiring(&alice, &["blog:read"], Some(Duration::from_secs(3600)))
        .await;
    let ok = app
        .client
        .get("/api/v1/posts")
        .header("X-API-Key", &key)
        .send()
        .await;
    ok.assert_status_is_ok();

    app.clock().advance(Duration::from_secs(3601));

    let resp = app
        .client
        .get("/api/v1/posts")
        .header("X-API-Key", &key)
        .send()
        .await;
    assert_problem(resp, 401, "expired").await;
}

#[tokio::test]
async fn a_key_without_the_scope_is_a_403_naming_it() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let read_only = app.api_key(&alice, &["blog:read"]).await;
    let write_only = app.api_key(&alice, &["blog:write"]).await;

    let resp = app
        .client
        .post("/api/v1/posts")
        .header("X-API-Key", &read_only)
        .body_json(&json!({"title": "t", "body": "b"}))
        .send()
        .await;
    let headers = assert_problem(resp, 403, "blog:write").await;
    let challenge = www_authenticate(&headers);
    assert!(
        challenge.starts_with(r#"Bearer error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.contains(r#"scope="blog:write""#), "{challenge}");

    let resp = app
        .client
        .get("/api/v1/posts")
        .header("X-API-Key", &write_only)
        .send()
        .await;
    assert_problem(resp, 403, "blog:read").await;
}

/// Polls `last_used_at` of key `id` until `done` holds, and returns it.
/// The write runs in a task spawned off the request path; the bound only
/// turns a hang into a failure.
async fn last_used_once(
    app: &TestApp,
    id: uuid::Uuid,
    done: impl Fn(Option<DateTime<Utc>>) -> bool,
) -> Option<DateTime<Utc>> {
    let mut seen = None;
    for _ in 0..1_000 {
        seen = entity::api_key::Entity::find_by_id(id)
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap()
            .last_used_at;
        if done(seen) {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("last_used_at of {id} still {seen:?} after 10 s");
}

#[tokio::test]
async fn use_is_recorded_but_not_on_every_request() {
    // Arrange: the key under test, and a second key whose first use marks
    // a point in the sequence of background writes.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let (id, key) = app.api_key_expiring(&alice, &["blog:read"], None).await;
    let (marker_id, marker) = app.api_key_expiring(&alice, &["blog:read"], None).await;
    let use_key = |key: String| {
        let app = &app;
        async move {
            app.client
                .get("/api/v1/posts")
                .header("X-API-Key", key)
                .send()
                .await
                .assert_status_is_ok();
        }
    };

    // Act + Assert: the first use is recorded, with the time of the use.
    let before = app.clock().now();
    use_key(key.clone()).await;
    let after = app.clock().now();
    let first = last_used_once(&app, id, |t| t.is_some()).await.unwrap();
    assert!(
        before <= first && first <= after,
        "{first} in {before}..{after}"
    );

    // Ten seconds later a use writes nothing, not even late: once the
    // marker's first use (made after it) is recorded, a write spawned by
    // it would have landed too (on SQLite's one connection the writes run
    // in the order they were spawned).
    app.clock().advance(Duration::from_secs(10));
    use_key(key.clone()).await;
    use_key(marker).await;
    last_used_once(&app, marker_id, |t| t.is_some()).await;
    let unchanged = last_used_once(&app, id, |_| true).await;
    assert_eq!(unchanged, Some(first), "not rewritten within a minute");

    // A minute after the recorded use, the next one is recorded.
    app.clock().advance(Duration::from_secs(60));
    let before = app.clock().now();
    use_key(key).await;
    let after = app.clock().now();
    let later = last_used_once(&app, id, |t| t != Some(first))
        .await
        .unwrap();
    assert!(
        before <= later && later <= after,
        "{later} in {before}..{after}"
    );
}

#[tokio::test]
async fn only_a_hash_of_the_key_is_stored() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let (id, key) = app.api_key_expiring(&alice, &["blog:read"], None).await;
    assert!(key.starts_with("tgk_"));
    let row = entity::api_key::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.key_hash.contains(&key[4..]));
    assert_eq!(row.key_hash, tollgate::secrets::lookup_hash(&key));
}

#[tokio::test]
async fn a_running_server_honours_a_revocation_made_elsewhere_within_seconds() {
    // Arrange: a served app, whose peer sync runs every second.
    let app = TestApp::serve().await;
    let alice = app.user("alice").await;
    let (id, key) = app.api_key_expiring(&alice, &["blog:read"], None).await;
    let http = reqwest::Client::new();
    let get = || {
        http.get(format!("{}/api/v1/posts", app.base_url()))
            .header("X-API-Key", &key)
            .send()
    };
    assert_eq!(get().await.unwrap().status(), 200, "cached now");

    // Act: revoke as the command line does, through the database only.
    tollgate::manage::revoke_api_key(
        &tollgate::manage::Effects::offline(&app.state.db, &app.state.settings, app.clock().now()),
        id,
    )
    .await
    .unwrap();

    // Assert: the server syncs every second; the bound is wide so that a
    // busy machine running debug-build argon2 elsewhere cannot fail it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut status = 0;
    while tokio::time::Instant::now() < deadline {
        status = get().await.unwrap().status().as_u16();
        if status == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 401, "refused within seconds");
}
