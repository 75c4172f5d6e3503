//! On SQLite the code flow's writes go through one writer thread that
//! commits the writes of concurrent requests together (`db::writer`). Its
//! rows must be the pool's rows to the byte, a failing write must undo
//! only itself, and its queue must hold no more than it says.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{authorization_code, refresh_token};
use rusqlite::params;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tollgate::db::writer::SqliteWriter;
use tollgate::metrics::WriterCounts;
use tollgate::secrets::lookup_hash;
use tollgate::store;
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::helpers::oauth::ClientSpec;

/// An app on SQLite with a user and a client for codes to point at.
struct Fixture {
    app: TestApp,
    user_id: Uuid,
    client_id: String,
}

async fn fixture() -> Fixture {
    let app = TestApp::spawn_sqlite().await;
    app.user("alice").await;
    let user_id = store::users::find_by_username(&app.state.db, "alice")
        .await
        .unwrap()
        .expect("alice")
        .id;
    let client_id = app.oauth_client(ClientSpec::default()).await.client_id;
    Fixture {
        app,
        user_id,
        client_id,
    }
}

impl Fixture {
    /// A writer of its own on the app's file, so its counts are this
    /// test's alone.
    fn writer(&self, capacity: usize) -> SqliteWriter {
        let path = self.app.state.readers.as_ref().expect("SQLite").path();
        SqliteWriter::start_with(path, capacity, WriterCounts::unregistered()).expect("writer")
    }

    /// Queues the insert of a code named `hash` on `writer`, in a task.
    fn insert(
        &self,
        writer: &Arc<SqliteWriter>,
        hash: &str,
        now: DateTime<Utc>,
    ) -> tokio::task::JoinHandle<Result<(), sea_orm::DbErr>> {
        let (writer, code) = (writer.clone(), self.code(hash, now));
        tokio::spawn(async move { writer.insert_code(code).await })
    }

    fn code(&self, hash: &str, now: DateTime<Utc>) -> authorization_code::Model {
        authorization_code::Model {
            code_hash: hash.to_owned(),
            grant_id: Uuid::new_v4(),
            client_id: self.client_id.clone(),
            user_id: self.user_id,
            redirect_uri: Some("http://127.0.0.1/cb".to_owned()),
            code_challenge: Some("challenge".to_owned()),
            scopes: "blog:read".to_owned(),
            created_at: now,
            expires_at: now + TimeDelta::seconds(60),
            redeemed_at: None,
            session_hash: Some("session".to_owned()),
            nonce: Some("nonce ünï".to_owned()),
            auth_time: Some(now - TimeDelta::seconds(5)),
            sid: Some("sid".to_owned()),
        }
    }

    fn refresh(&self, hash: &str, now: DateTime<Utc>) -> refresh_token::Model {
        refresh_token::Model {
            token_hash: hash.to_owned(),
            grant_id: Uuid::new_v4(),
            client_id: self.client_id.clone(),
            user_id: Some(self.user_id),
            scopes: "blog:read".to_owned(),
            created_at: now,
            expires_at: now + TimeDelta::days(30),
            used_at: None,
            revoked_at: None,
            session_hash: Some("session".to_owned()),
            auth_time: Some(now - TimeDelta::seconds(5)),
            sid: Some("sid".to_owned()),
        }
    }

    /// The row as stored: every column as text, blobs in hex.
    async fn stored(&self, table: &str, key: &str, hash: &str) -> String {
        let sql = format!(
            "SELECT quote(created_at) || quote(expires_at) || quote(auth_time) || \
             typeof(grant_id) || hex(grant_id) || typeof(user_id) || hex(user_id) \
             FROM {table} WHERE {key} = ?"
        );
        self.first(&sql, hash).await
    }

    async fn count_codes(&self, like: &str) -> i64 {
        self.first(
            "SELECT COUNT(*) FROM authorization_codes WHERE code_hash LIKE ?",
            like,
        )
        .await
    }

    /// The first column of the one row `sql` finds for `param`.
    async fn first<T: sea_orm::TryGetable>(&self, sql: &str, param: &str) -> T {
        let row = self
            .app
            .state
            .db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                sql,
                [param.into()],
            ))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("a row for {param}"));
        row.try_get_by_index(0).unwrap()
    }
}

#[tokio::test]
async fn the_writer_stores_codes_and_refresh_tokens_as_the_pool_does() {
    let f = fixture().await;
    let db = &f.app.state.db;
    let writer = f.app.state.writer.clone().expect("a writer on SQLite");
    let now = Utc::now();

    // The same code, once through each: the stored bytes agree (times as
    // RFC 3339 text with a 'T', UUIDs as 16-byte blobs).
    let mut by_pool = f.code("by-pool", now);
    let mut by_writer = f.code("by-writer", now);
    by_writer.grant_id = by_pool.grant_id;
    store::codes::insert(db, by_pool.clone()).await.unwrap();
    writer.insert_code(by_writer.clone()).await.unwrap();
    assert_eq!(
        f.stored("authorization_codes", "code_hash", "by-writer")
            .await,
        f.stored("authorization_codes", "code_hash", "by-pool")
            .await,
    );
    let found = store::codes::find(db, "by-writer").await.unwrap();
    assert_eq!(found.map(|(code, _)| code), Some(by_writer.clone()));

    // Redeemed once: the winner's refresh token is stored as the pool
    // stores one.
    let later = now + TimeDelta::seconds(1);
    let token = f.refresh("token-by-writer", later);
    assert!(
        writer
            .redeem_code("by-writer".to_owned(), later, Some(token.clone()))
            .await
            .unwrap(),
        "the first redemption wins"
    );
    by_writer.redeemed_at = Some(later);
    let found = store::codes::find(db, "by-writer").await.unwrap();
    assert_eq!(found.map(|(code, _)| code), Some(by_writer));
    assert_eq!(
        store::refresh_tokens::find(db, "token-by-writer")
            .await
            .unwrap(),
        Some(token.clone())
    );
    let mut pool_token = f.refresh("token-by-pool", later);
    pool_token.grant_id = token.grant_id;
    store::refresh_tokens::insert(db, pool_token).await.unwrap();
    assert_eq!(
        f.stored("refresh_tokens", "token_hash", "token-by-writer")
            .await,
        f.stored("refresh_tokens", "token_hash", "token-by-pool")
            .await,
    );

    // A second redemption loses, and its token is not stored.
    let again = f.refresh("token-of-replay", later);
    assert!(
        !writer
            .redeem_code("by-writer".to_owned(), later, Some(again))
            .await
            .unwrap(),
        "a spent code is not redeemed again"
    );
    assert_eq!(
        store::refresh_tokens::find(db, "token-of-replay")
            .await
            .unwrap(),
        None
    );

    // Nor is an expired code redeemed: the expiry is compared as text, so
    // this also holds only if both sides write times alike.
    by_pool.code_hash = "expired".to_owned();
    by_pool.expires_at = now - TimeDelta::milliseconds(1);
    writer.insert_code(by_pool).await.unwrap();
    assert!(
        !writer
            .redeem_code("expired".to_owned(), now, None)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_code_flow_goes_through_the_writer() {
    let f = fixture().await;
    let writer = f.app.state.writer.clone().expect("a writer on SQLite");
    let client = f.app.oauth_client(ClientSpec::default()).await;
    let user = crate::helpers::TestUser {
        username: "alice".to_owned(),
        password: "alice-password".to_owned(),
    };
    let before = writer.counts().writes.get();
    let tokens = f.app.tokens_for(&user, &client, "blog:read").await;
    let after = writer.counts().writes.get();
    assert_eq!(after - before, 2, "the code's insert and its redemption");
    // Operators see the same counts.
    let metrics = f.app.state.metrics.render().unwrap();
    assert!(
        metrics.contains(&format!(
            "tollgate_sqlite_group_commit_writes_total {after}\n"
        )),
        "{metrics}"
    );
    let batches = writer.counts().batches.get();
    assert!(metrics.contains(&format!("tollgate_sqlite_group_commits_total {batches}\n")));
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token");
    let stored = store::refresh_tokens::find(&f.app.state.db, &lookup_hash(refresh))
        .await
        .unwrap()
        .expect("the refresh token is stored before it is handed out");
    assert_eq!(stored.client_id, client.client_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits_and_all_land() {
    let f = fixture().await;
    let writer = Arc::new(f.writer(1024));
    let now = Utc::now();
    let writes = (0..200).map(|i| f.insert(&writer, &format!("many-{i}"), now));
    for done in futures_util::future::join_all(writes).await {
        done.unwrap().expect("the write committed");
    }
    assert_eq!(f.count_codes("many-%").await, 200, "every write landed");
    let counts = writer.counts();
    let batches = counts.batches.get();
    assert_eq!(counts.writes.get(), 200);
    assert!(
        batches < 200,
        "writes queued while a batch committed share the next commit ({batches} batches)"
    );
}

/// A write that holds the writer until told to go on: what queues behind
/// it meanwhile makes up the next batch.
async fn hold(
    writer: &Arc<SqliteWriter>,
) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
    let (started, has_started) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let held = writer.clone();
    let task = tokio::spawn(async move {
        held.write(move |_| {
            started.send(()).ok();
            released.recv().ok();
            Ok(())
        })
        .await
        .expect("the holding write");
    });
    tokio::task::spawn_blocking(move || has_started.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the writer took the holding write");
    (release, task)
}

async fn wait_for_queue(writer: &SqliteWriter, len: usize) {
    for _ in 0..1000 {
        if writer.queued() == len {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{} writes queued, not {len}", writer.queued());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_write_in_a_batch_undoes_only_itself() {
    let f = fixture().await;
    let writer = Arc::new(f.writer(16));
    let now = Utc::now();
    let (release, held) = hold(&writer).await;

    let first = f.insert(&writer, "batch-a", now);
    // Writes a row, then fails: the row must go with it.
    let failing = tokio::spawn({
        let writer = writer.clone();
        let (code, dup) = (f.code("batch-b", now), f.code("batch-b", now));
        async move {
            writer
                .write(move |conn| {
                    for c in [code, dup] {
                        conn.execute(
                            "INSERT INTO authorization_codes (code_hash, grant_id, client_id, \
                             user_id, scopes, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, \
                             ?5, ?6, ?7)",
                            params![
                                c.code_hash,
                                c.grant_id,
                                c.client_id,
                                c.user_id,
                                c.scopes,
                                tollgate::db::writer::time(c.created_at),
                                tollgate::db::writer::time(c.expires_at),
                            ],
                        )?;
                    }
                    Ok(())
                })
                .await
        }
    });
    let last = f.insert(&writer, "batch-c", now);
    wait_for_queue(&writer, 3).await;
    release.send(()).unwrap();
    held.await.unwrap();

    first.await.unwrap().expect("the first write committed");
    let error = failing.await.unwrap().expect_err("the duplicate fails");
    assert!(error.to_string().contains("UNIQUE"), "{error}");
    last.await.unwrap().expect("the last write committed");
    assert_eq!(f.count_codes("batch-a").await, 1);
    assert_eq!(
        f.count_codes("batch-b").await,
        0,
        "the failed write's first row is undone"
    );
    assert_eq!(f.count_codes("batch-c").await, 1);
    let counts = writer.counts();
    assert_eq!(
        counts.batches.get(),
        2,
        "the holding write, then the three in one transaction"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_holds_no_more_than_its_capacity() {
    let f = fixture().await;
    let writer = Arc::new(f.writer(2));
    let now = Utc::now();
    let (release, held) = hold(&writer).await;
    let queued: Vec<_> = (0..2)
        .map(|i| f.insert(&writer, &format!("queued-{i}"), now))
        .collect();
    wait_for_queue(&writer, 2).await;

    // A third write cannot get in: its caller waits, and gives up here
    // before its write was ever queued.
    let third = tokio::time::timeout(
        Duration::from_millis(300),
        writer.insert_code(f.code("queued-2", now)),
    )
    .await;
    assert!(third.is_err(), "the third write waited for room");
    assert_eq!(writer.queued(), 2);

    release.send(()).unwrap();
    held.await.unwrap();
    for done in queued {
        done.await.unwrap().expect("a queued write committed");
    }
    assert_eq!(
        f.count_codes("queued-%").await,
        2,
        "only the two queued writes ran"
    );
}

/// At shutdown: what was queued before the close commits, and a write
/// queued after it, or sent later, fails saying the writer has stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_writer_commits_what_came_before_and_refuses_the_rest() {
    let f = fixture().await;
    let writer = Arc::new(f.writer(16));
    let now = Utc::now();
    let (release, held) = hold(&writer).await;
    let before: Vec<_> = (0..3)
        .map(|i| f.insert(&writer, &format!("closing-{i}"), now))
        .collect();
    wait_for_queue(&writer, 3).await;
    let closing = {
        let writer = writer.clone();
        tokio::spawn(async move { writer.close().await })
    };
    wait_for_queue(&writer, 4).await;
    let after = f.insert(&writer, "closing-late", now);
    wait_for_queue(&writer, 5).await;

    release.send(()).unwrap();
    held.await.unwrap();
    closing.await.unwrap();
    for done in before {
        done.await
            .unwrap()
            .expect("a write queued before the close committed");
    }
    let late = after
        .await
        .unwrap()
        .expect_err("a write queued after the close");
    assert!(late.to_string().contains("stopped"), "{late}");
    let later = writer
        .insert_code(f.code("closing-later", now))
        .await
        .expect_err("a write after the close");
    assert!(later.to_string().contains("stopped"), "{later}");
    assert_eq!(f.count_codes("closing-%").await, 3);
    // Closing again is harmless.
    writer.close().await;
}

/// An in-memory database has no file for another connection to open: no
/// readers and no writer, and the server still starts.
#[tokio::test]
async fn an_in_memory_database_has_no_writer_and_still_starts() {
    for url in ["sqlite::memory:", "sqlite://tollgate?mode=memory"] {
        let db = tollgate::db::open(url).await.expect("open");
        let state = tollgate::state::AppState::build(
            db,
            tollgate::Settings::for_tests(url),
            tollgate::clock::Clock::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(state.readers.is_none(), "{url}");
        assert!(state.writer.is_none(), "{url}");
    }
}
