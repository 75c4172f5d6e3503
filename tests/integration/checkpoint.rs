//! On SQLite the WAL is copied into the database by a thread of its own
//! (`db::checkpoint`), never by a commit on the pool's one connection.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn on_sqlite_a_thread_of_its_own_checkpoints_the_wal() {
    let app = TestApp::spawn().await;
    let Some(readers) = app.state.readers.clone() else {
        assert!(
            app.state.checkpointer.is_none(),
            "no checkpointer on PostgreSQL"
        );
        return;
    };
    assert!(app.state.checkpointer.is_some());
    let row = app
        .state
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_autocheckpoint",
        ))
        .await
        .unwrap()
        .expect("a row");
    assert_eq!(
        row.try_get_by_index::<i64>(0).unwrap(),
        0,
        "the pool's connection leaves checkpoints to the thread"
    );

    // Enough rows for many new pages; without a checkpoint they stay in
    // the WAL and the database file keeps its size.
    let before = std::fs::metadata(readers.path()).unwrap().len();
    let alice = app.user("alice").await;
    let key = app.api_key(&alice, &["blog:read", "blog:write"]).await;
    let body = "x".repeat(4000);
    for i in 0..100 {
        app.client
            .post("/api/v1/posts")
            .header("X-API-Key", &key)
            .body_json(&json!({"title": format!("post {i}"), "body": body, "published": true}))
            .send()
            .await
            .assert_status(poem::http::StatusCode::CREATED);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = std::fs::metadata(readers.path()).unwrap().len();
        if now >= before + 400_000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the database file stayed at {now} bytes (from {before}): nothing checkpointed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
