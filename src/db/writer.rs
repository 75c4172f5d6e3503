//! Group commit on SQLite: the code flow's writes, batched.
//!
//! Through the pool, each write is a hand-off to the connection's worker
//! thread and a commit of its own, and writes of concurrent requests queue
//! one behind the other. Here one thread owns a write connection and takes
//! writes from a bounded queue: whatever has queued while it committed
//! the last batch runs as one transaction, each write in a savepoint of
//! its own (so one failing write does not undo the others), and every
//! caller hears back only once that transaction has committed. Nothing is
//! acknowledged before it is in the WAL, as through the pool.
//!
//! The pool's connection still writes everything else; the two wait for
//! each other on SQLite's one write lock (its busy timeout).

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags, params};
use sea_orm::DbErr;
use tokio::sync::{mpsc, oneshot};

use crate::metrics::WriterCounts;

/// Writes waiting for the writer; a request beyond them waits to enqueue.
pub const QUEUE: usize = 1024;
/// Writes per transaction at most, so that one commit stays short.
pub const MAX_BATCH: usize = 256;

pub struct SqliteWriter {
    jobs: mpsc::Sender<Message>,
    counts: WriterCounts,
}

enum Message {
    Write(Box<dyn Job>),
    /// Commit what came before, close the connection, then answer.
    Close(oneshot::Sender<()>),
}

impl SqliteWriter {
    /// Opens a write connection to the SQLite file at `path` and starts
    /// the thread that owns it. The thread ends when the writer is dropped
    /// and the queue has drained. It counts its batches and writes in
    /// `counts`.
    pub fn start(path: &Path, counts: WriterCounts) -> Result<Self, DbErr> {
        Self::start_with(path, QUEUE, counts)
    }

    /// As [`start`](Self::start), with a queue of `capacity` writes.
    pub fn start_with(path: &Path, capacity: usize, counts: WriterCounts) -> Result<Self, DbErr> {
        let conn = open(path).map_err(|e| {
            DbErr::Custom(format!("cannot open {} for writing: {e}", path.display()))
        })?;
        let (jobs, queue) = mpsc::channel(capacity.max(1));
        let counted = counts.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || run(conn, queue, &counted))
            .map_err(|e| DbErr::Custom(format!("cannot start the writer thread: {e}")))?;
        Ok(Self { jobs, counts })
    }

    /// Writes waiting in the queue, not yet taken into a batch.
    pub fn queued(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    /// Batches and writes so far.
    pub fn counts(&self) -> &WriterCounts {
        &self.counts
    }

    /// Commits the writes queued so far and closes the connection; writes
    /// after this fail with "the SQLite writer has stopped".
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.jobs.send(Message::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }

    /// Runs `op` in the next batch; its result once the batch committed.
    /// An error from `op` rolls back only what `op` wrote.
    pub async fn write<T, F>(&self, op: F) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            op: Some(op),
            result: None,
            reply,
        });
        self.jobs
            .send(Message::Write(job))
            .await
            .map_err(|_| DbErr::Custom("the SQLite writer has stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| DbErr::Custom("the SQLite writer has stopped".to_owned()))?
    }

    /// Stores a new authorization code.
    pub async fn insert_code(&self, code: entity::authorization_code::Model) -> Result<(), DbErr> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO authorization_codes (code_hash, grant_id, client_id, user_id, \
                 redirect_uri, code_challenge, scopes, created_at, expires_at, redeemed_at, \
                 session_hash, nonce, auth_time, sid) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                code.code_hash,
                code.grant_id,
                code.client_id,
                code.user_id,
                code.redirect_uri,
                code.code_challenge,
                code.scopes,
                time(code.created_at),
                time(code.expires_at),
                code.redeemed_at.map(time),
                code.session_hash,
                code.nonce,
                code.auth_time.map(time),
                code.sid,
            ])?;
            Ok(())
        })
        .await
    }

    /// Redeems the code if nobody has yet and it has not expired, and then
    /// stores the grant's refresh token, in one transaction: `true` for the
    /// one caller that wins, and only the winner's token is stored.
    pub async fn redeem_code(
        &self,
        code_hash: String,
        now: DateTime<Utc>,
        refresh: Option<entity::refresh_token::Model>,
    ) -> Result<bool, DbErr> {
        self.write(move |conn| {
            let now = time(now);
            let won = conn
                .prepare_cached(
                    "UPDATE authorization_codes SET redeemed_at = ?1 \
                     WHERE code_hash = ?2 AND redeemed_at IS NULL AND expires_at > ?1",
                )?
                .execute(params![now, code_hash])?
                == 1;
            if let (true, Some(token)) = (won, refresh) {
                insert_refresh_token(conn, token)?;
            }
            Ok(won)
        })
        .await
    }
}

fn insert_refresh_token(
    conn: &Connection,
    token: entity::refresh_token::Model,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scopes, \
         created_at, expires_at, used_at, revoked_at, session_hash, auth_time, sid) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        token.token_hash,
        token.grant_id,
        token.client_id,
        token.user_id,
        token.scopes,
        time(token.created_at),
        time(token.expires_at),
        token.used_at.map(time),
        token.revoked_at.map(time),
        token.session_hash,
        token.auth_time.map(time),
        token.sid,
    ])?;
    Ok(())
}

/// A time as sqlx writes it on SQLite ("2026-12-06T07:37:32.778744+00:00").
/// rusqlite's own form has a space for the 'T', and stored times are
/// compared as text (`expires_at > ?`), so every writer must agree.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // As the pool's connection (db::connect), and no checkpoints of its
    // own: db::checkpoint does them.
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA wal_autocheckpoint = 0;",
    )?;
    Ok(conn)
}

/// One queued write: run in a batch, answered after the batch's commit.
trait Job: Send {
    /// Runs the write; `false` when it failed.
    fn apply(&mut self, conn: &Connection) -> bool;
    /// Answers the caller: its result if the batch committed.
    fn finish(self: Box<Self>, committed: Result<(), &rusqlite::Error>);
}

struct Pending<T, F> {
    op: Option<F>,
    result: Option<rusqlite::Result<T>>,
    reply: oneshot::Sender<Result<T, DbErr>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send,
{
    fn apply(&mut self, conn: &Connection) -> bool {
        let Some(op) = self.op.take() else {
            return false;
        };
        // A panicking write fails alone; the thread, and every later
        // write, carry on.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| op(conn)))
            .unwrap_or_else(|_| Err(rusqlite::Error::UnwindingPanic));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<(), &rusqlite::Error>) {
        let answer = match (committed, self.result) {
            (Err(e), _) => Err(DbErr::Custom(format!("the write was not committed: {e}"))),
            (Ok(()), Some(Ok(value))) => Ok(value),
            (Ok(()), Some(Err(e))) => Err(DbErr::Custom(format!("the write failed: {e}"))),
            (Ok(()), None) => Err(DbErr::Custom("the write did not run".to_owned())),
        };
        // The caller may have gone (a dropped request): nothing to tell.
        let _ = self.reply.send(answer);
    }
}

fn run(conn: Connection, mut queue: mpsc::Receiver<Message>, counts: &WriterCounts) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut closing = None;
    while closing.is_none() {
        match queue.blocking_recv() {
            Some(Message::Write(job)) => batch.push(job),
            Some(Message::Close(done)) => closing = Some(done),
            None => break,
        }
        // Woken by the first write, let the requests already running queue
        // theirs too before committing. Sharing a core with the server, the
        // writer would otherwise run at once and commit one write at a
        // time, a context switch each; with a core of its own this returns
        // at once.
        std::thread::yield_now();
        while closing.is_none() && batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(Message::Write(job)) => batch.push(job),
                Ok(Message::Close(done)) => closing = Some(done),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        let committed = commit(&conn, &mut batch);
        counts.batches.inc();
        counts.writes.inc_by(batch.len() as u64);
        for job in batch.drain(..) {
            job.finish(committed.as_ref().map(|_| ()));
        }
    }
    // Writes queued after the close are dropped unanswered: their callers
    // hear that the writer has stopped.
    drop(queue);
    drop(conn);
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// Runs the batch in one transaction; one write alone needs no savepoint,
/// as its failure rolls back the transaction, which held nothing else.
fn commit(conn: &Connection, batch: &mut [Box<dyn Job>]) -> rusqlite::Result<()> {
    if !conn.is_autocommit() {
        // A transaction a failed ROLLBACK left open would fail every BEGIN.
        exec(conn, "ROLLBACK")?;
    }
    exec(conn, "BEGIN IMMEDIATE")?;
    let result = (|| {
        if let [job] = batch {
            if !job.apply(conn) {
                return exec(conn, "ROLLBACK");
            }
        } else {
            for job in batch.iter_mut() {
                exec(conn, "SAVEPOINT write")?;
                if !job.apply(conn) {
                    exec(conn, "ROLLBACK TO write")?;
                }
                exec(conn, "RELEASE write")?;
            }
        }
        exec(conn, "COMMIT")
    })();
    if result.is_err() && !conn.is_autocommit() {
        // Leave no transaction open for the next batch.
        let _ = exec(conn, "ROLLBACK");
    }
    result
}

/// A statement without parameters, prepared once.
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}
