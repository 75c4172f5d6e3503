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

/// Under writes that never pause, a passive checkpoint never finds the WAL
/// all copied, and SQLite starts the WAL over only then: the thread must
/// force the restart, or the WAL grows as long as the writes go on.
#[test]
fn under_steady_writes_the_wal_is_started_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("steady.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA wal_autocheckpoint = 0; CREATE TABLE scratch (v BLOB);",
    )
    .unwrap();
    let _checkpointer =
        tollgate::db::checkpoint::Checkpointer::start_thread(path.clone(), 256).unwrap();

    // About 5 pages a commit, 2,000 commits: some 40 MB through the WAL,
    // at most ~10 MB of it between two checkpoints.
    let blob = vec![7u8; 16 * 1024];
    for i in 0..2_000 {
        conn.execute("INSERT INTO scratch (v) VALUES (?1)", [&blob])
            .unwrap();
        if i % 100 == 0 {
            // Keep the table small, so the WAL is what grows.
            conn.execute("DELETE FROM scratch", []).unwrap();
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    let wal = std::fs::metadata(dir.path().join("steady.db-wal"))
        .unwrap()
        .len();
    assert!(
        wal < 24 << 20,
        "the WAL grew to {wal} bytes: it was never started over"
    );
}

/// A load peak grows the WAL file past the RESTART threshold, and SQLite
/// keeps a file at its high-water size; once writes pause, the thread
/// trims it back, and nothing written is lost.
#[tokio::test]
async fn after_a_peak_the_idle_wal_file_is_trimmed() {
    use tollgate::db::checkpoint::{Checkpointer, RESTART_FRAMES, WAL_SIZE_LIMIT};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("peak.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = tollgate::db::open(&url).await.unwrap();
    db.execute_unprepared("PRAGMA wal_autocheckpoint = 0; CREATE TABLE scratch (v BLOB)")
        .await
        .unwrap();
    let wal_path = dir.path().join("peak.db-wal");
    let wal_len = || std::fs::metadata(&wal_path).unwrap().len();

    // A peak: a fifth more than the limit through the WAL in one go.
    let megabytes = (WAL_SIZE_LIMIT >> 20) * 6 / 5;
    for _ in 0..megabytes {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO scratch (v) VALUES (?)",
            [vec![7u8; 1 << 20].into()],
        ))
        .await
        .unwrap();
    }
    let peak = wal_len();
    assert!(peak > WAL_SIZE_LIMIT, "the peak left only {peak} bytes");

    let _checkpointer = Checkpointer::start_thread(path.clone(), RESTART_FRAMES).unwrap();
    // Copying ~80 MB and syncing it can take seconds on a busy disk.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = wal_len();
        if now <= WAL_SIZE_LIMIT {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the idle WAL file stayed at {now} bytes (limit {WAL_SIZE_LIMIT})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT count(*), sum(length(v)) FROM scratch",
        ))
        .await
        .unwrap()
        .expect("a row");
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), megabytes as i64);
    assert_eq!(
        row.try_get_by_index::<i64>(1).unwrap(),
        (megabytes << 20) as i64
    );
}
