//! On SQLite the hottest reads (a post by id, the browser session, the
//! authorization code) run inline on read-only connections of their own
//! (`db::readers`); they must read back exactly what sea-orm reads.

use tollgate::secrets::lookup_hash;
use tollgate::store;

use crate::helpers::browser::Browser;
use crate::helpers::oauth::ClientSpec;
use crate::helpers::{TestApp, json};

#[tokio::test]
async fn posts_sessions_and_codes_read_inline_are_the_rows_sea_orm_reads() {
    let app = TestApp::spawn().await;
    let on_sqlite = app.database_url.starts_with("sqlite:");
    assert_eq!(
        app.state.readers.is_some(),
        on_sqlite,
        "readers only on SQLite"
    );
    let Some(readers) = app.state.readers.clone() else {
        return; // PostgreSQL: every read goes through the pool
    };
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, &["blog:read", "blog:write"]).await;

    for (title, published) in [("Inline", true), ("Draft ünïcode", false)] {
        let resp = app
            .client
            .post("/api/v1/posts")
            .header("X-API-Key", &key)
            .body_json(&serde_json::json!({"title": title, "body": "text", "published": published}))
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::CREATED);
        let id: uuid::Uuid = json(resp).await["id"].as_str().unwrap().parse().unwrap();
        let inline = readers.post_by_id(id).expect("inline read");
        assert!(inline.is_some(), "the inline reader finds {id}");
        let pooled = store::posts::find(&app.state.db, id).await.expect("read");
        assert_eq!(inline, pooled, "the same post both ways");
    }
    assert_eq!(
        readers.post_by_id(uuid::Uuid::new_v4()).expect("read"),
        None
    );

    // A real sign-in and authorization, so the rows are as the server
    // writes them (nullable columns filled and empty).
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let code = app
        .authorize_code(&mut browser, &alice, &client, "blog:read")
        .await;
    let session_hash = lookup_hash(browser.cookie("tollgate_session").expect("session cookie"));
    let inline = readers.session(&session_hash).expect("inline read");
    assert!(inline.is_some(), "the inline reader finds the session");
    let pooled = store::sessions::find(&app.state.db, &session_hash)
        .await
        .expect("read");
    assert_eq!(inline, pooled, "the same session and user both ways");
    assert_eq!(readers.session("no such hash").expect("read"), None);

    let code_hash = lookup_hash(&code);
    let inline = readers.code(&code_hash).expect("inline read");
    assert!(
        inline.as_ref().is_some_and(|(_, user)| user.is_some()),
        "code and user found"
    );
    let pooled = store::codes::find(&app.state.db, &code_hash)
        .await
        .expect("read");
    assert_eq!(inline, pooled, "the same code and user both ways");
    assert_eq!(readers.code("no such hash").expect("read"), None);
}

/// At shutdown the readers close before the pool; a read that comes late
/// is answered through the pool, and no read-only connection is left to
/// be the last one open (which could not fold the WAL away).
#[tokio::test]
async fn after_the_readers_close_reads_go_through_the_pool() {
    let app = TestApp::spawn_sqlite().await;
    let readers = app.state.readers.clone().expect("SQLite has readers");
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, &["blog:read", "blog:write"]).await;
    let resp = app
        .client
        .post("/api/v1/posts")
        .header("X-API-Key", &key)
        .body_json(&serde_json::json!({"title": "Late", "body": "read", "published": true}))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::CREATED);
    let id = json(resp).await["id"].as_str().unwrap().to_owned();
    assert!(
        readers.post_by_id(id.parse().unwrap()).unwrap().is_some(),
        "open readers read inline"
    );

    readers.close();

    let closed = readers
        .post_by_id(id.parse().unwrap())
        .expect_err("closed readers refuse");
    assert!(closed.to_string().contains("closed"), "{closed}");
    let resp = app
        .client
        .get(format!("/api/v1/posts/{id}"))
        .header("X-API-Key", &key)
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(json(resp).await["title"], "Late");
}
