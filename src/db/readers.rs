//! Point reads on SQLite on the calling thread.
//!
//! The pool's one connection runs every query on its own worker thread: a
//! hand-off there and back per query, and every read queued behind the
//! writes. A read of one row by key from a WAL database takes microseconds
//! from the page cache, less than the hand-off, so the hottest reads
//! (a post by id; the browser session and the authorization code of every
//! code flow) go through read-only connections of their own, used inline.
//! WAL lets them read the last committed state while the writer writes,
//! so a response never sees less than an earlier one acknowledged.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sea_orm::DbErr;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use tracing::warn;
use uuid::Uuid;

/// The columns of `users u` in the order [`user_at`] reads them.
macro_rules! user_columns {
    () => {
        "u.id, u.username, u.password_hash, u.created_at, u.name, u.email, \
         u.email_verified, u.updated_at, u.disabled_at"
    };
}

/// Idle connections kept; more are opened under a burst and then closed.
/// Each holds its own page cache.
const MAX_IDLE: usize = 8;

/// How much of the database file a reader maps (SQLite's `mmap_size`).
const MMAP_BYTES: i64 = 256 << 20;

pub struct SqliteReaders {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// After [`close`](Self::close), reads go to the pool.
    closed: AtomicBool,
}

impl SqliteReaders {
    /// Readers for the SQLite file of `url`; none for PostgreSQL or an
    /// in-memory database, which another connection cannot see.
    pub fn for_url(url: &str) -> Option<Arc<Self>> {
        if !url.starts_with("sqlite:") || url.contains("mode=memory") || url.contains(":memory:") {
            return None;
        }
        let opts = SqliteConnectOptions::from_str(url).ok()?;
        let path = opts.get_filename().to_path_buf();
        if path.as_os_str().is_empty() {
            return None;
        }
        Some(Arc::new(Self {
            path,
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }))
    }

    /// Closes the idle connections, and any in use when their read ends;
    /// later reads fail, and [`inline_or`] sends them to the pool.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The post with this public id.
    pub fn post_by_id(&self, id: Uuid) -> rusqlite::Result<Option<entity::post::Model>> {
        self.with(|conn| {
            conn.prepare_cached(
                "SELECT seq, id, title, body, published, author, author_sub, created_at, \
                 updated_at FROM posts WHERE id = ?1",
            )?
            .query_row([id], |row| {
                Ok(entity::post::Model {
                    seq: row.get(0)?,
                    id: row.get(1)?,
                    title: row.get(2)?,
                    body: row.get(3)?,
                    published: row.get(4)?,
                    author: row.get(5)?,
                    author_sub: row.get(6)?,
                    created_at: time_at(row, 7)?,
                    updated_at: time_at(row, 8)?,
                })
            })
            .optional()
        })
    }

    /// The browser session with this id hash, with its user.
    pub fn session(
        &self,
        id_hash: &str,
    ) -> rusqlite::Result<Option<(entity::browser_session::Model, entity::user::Model)>> {
        self.with(|conn| {
            conn.prepare_cached(concat!(
                "SELECT s.id_hash, s.user_id, s.csrf_token, s.created_at, s.expires_at, \
                     s.sid, s.auth_time, s.user_agent, s.last_seen_at, ",
                user_columns!(),
                " FROM browser_sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.id_hash = ?1"
            ))?
            .query_row([id_hash], |row| {
                let session = entity::browser_session::Model {
                    id_hash: row.get(0)?,
                    user_id: row.get(1)?,
                    csrf_token: row.get(2)?,
                    created_at: time_at(row, 3)?,
                    expires_at: time_at(row, 4)?,
                    sid: row.get(5)?,
                    auth_time: time_at(row, 6)?,
                    user_agent: row.get(7)?,
                    last_seen_at: time_at(row, 8)?,
                };
                Ok((session, user_at(row, 9)?))
            })
            .optional()
        })
    }

    /// The authorization code with this hash, with its user if they still
    /// exist.
    pub fn code(
        &self,
        code_hash: &str,
    ) -> rusqlite::Result<
        Option<(
            entity::authorization_code::Model,
            Option<entity::user::Model>,
        )>,
    > {
        self.with(|conn| {
            conn.prepare_cached(concat!(
                "SELECT c.code_hash, c.grant_id, c.client_id, c.user_id, c.redirect_uri, \
                     c.code_challenge, c.scopes, c.created_at, c.expires_at, c.redeemed_at, \
                     c.session_hash, c.nonce, c.auth_time, c.sid, ",
                user_columns!(),
                " FROM authorization_codes c LEFT JOIN users u ON u.id = c.user_id \
                     WHERE c.code_hash = ?1"
            ))?
            .query_row([code_hash], |row| {
                let code = entity::authorization_code::Model {
                    code_hash: row.get(0)?,
                    grant_id: row.get(1)?,
                    client_id: row.get(2)?,
                    user_id: row.get(3)?,
                    redirect_uri: row.get(4)?,
                    code_challenge: row.get(5)?,
                    scopes: row.get(6)?,
                    created_at: time_at(row, 7)?,
                    expires_at: time_at(row, 8)?,
                    redeemed_at: optional_time_at(row, 9)?,
                    session_hash: row.get(10)?,
                    nonce: row.get(11)?,
                    auth_time: optional_time_at(row, 12)?,
                    sid: row.get(13)?,
                };
                // No user row: every column of the join is NULL.
                let user = match row.get::<_, Option<Uuid>>(14)? {
                    Some(_) => Some(user_at(row, 14)?),
                    None => None,
                };
                Ok((code, user))
            })
            .optional()
        })
    }

    fn with<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        if self.closed.load(Ordering::Relaxed) {
            // A read-only connection closing last would leave the WAL
            // behind: a read cut off at shutdown goes to the pool instead.
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISUSE),
                Some("the inline readers are closed".to_owned()),
            ));
        }
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = read(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE && !self.closed.load(Ordering::Relaxed) {
            idle.push(conn);
        }
        result
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // The writer may hold the lock a moment (a checkpoint); wait rather
        // than fail the read.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // A read after another connection's commit starts from an empty
        // page cache; mapped, the file's pages cost no copy to read again.
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        Ok(conn)
    }
}

/// `inline` on the readers when there are some, else (on PostgreSQL, or
/// when the inline read failed) `pooled`, which runs only then.
pub async fn inline_or<T>(
    readers: Option<&SqliteReaders>,
    inline: impl FnOnce(&SqliteReaders) -> rusqlite::Result<T>,
    pooled: impl Future<Output = Result<T, DbErr>>,
) -> Result<T, DbErr> {
    if let Some(readers) = readers {
        match inline(readers) {
            Ok(found) => return Ok(found),
            Err(e) => warn!(error = %e, "inline read failed; reading through the pool"),
        }
    }
    pooled.await
}

/// A stored time. sqlx writes RFC 3339 text, which chrono's RFC 3339
/// parser reads several times faster than rusqlite's general format
/// parser (2% of the core on a post read); anything else goes to that.
fn time_at(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<DateTime<Utc>> {
    if let ValueRef::Text(text) = row.get_ref(at)?
        && let Ok(parsed) = DateTime::parse_from_rfc3339(&String::from_utf8_lossy(text))
    {
        return Ok(parsed.with_timezone(&Utc));
    }
    row.get(at)
}

fn optional_time_at(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match row.get_ref(at)? {
        ValueRef::Null => Ok(None),
        _ => time_at(row, at).map(Some),
    }
}

/// The user whose columns start at `at`, in the order of `entity::user`.
fn user_at(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<entity::user::Model> {
    Ok(entity::user::Model {
        id: row.get(at)?,
        username: row.get(at + 1)?,
        password_hash: row.get(at + 2)?,
        created_at: time_at(row, at + 3)?,
        name: row.get(at + 4)?,
        email: row.get(at + 5)?,
        email_verified: row.get(at + 6)?,
        updated_at: time_at(row, at + 7)?,
        disabled_at: optional_time_at(row, at + 8)?,
    })
}
