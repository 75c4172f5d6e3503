//! Point reads on SQLite on the calling thread.
//!
//! The pool's one connection runs every query on its own worker thread: a
//! hand-off there and back per query, and every read queued behind the
//! writes. A read of one row by key from a WAL database takes microseconds
//! from the page cache, less than the hand-off, so the hottest reads
//! (a post by id) go through read-only connections of their own, used
//! inline. WAL lets them read the last committed state while the writer
//! writes, so a response never sees less than an earlier one acknowledged.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use uuid::Uuid;

/// Idle connections kept; more are opened under a burst and then closed.
/// Each holds its own page cache.
const MAX_IDLE: usize = 8;

pub struct SqliteReaders {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteReaders {
    /// Readers for the SQLite file of `url`; none for PostgreSQL or an
    /// in-memory database, which another connection cannot see.
    pub fn for_url(url: &str) -> Option<Arc<Self>> {
        if !url.starts_with("sqlite:") || url.contains("mode=memory") {
            return None;
        }
        let opts = SqliteConnectOptions::from_str(url).ok()?;
        let path = opts.get_filename().to_path_buf();
        if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
            return None;
        }
        Some(Arc::new(Self {
            path,
            idle: Mutex::new(Vec::new()),
        }))
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
                    created_at: row.get(7)?,
                    updated_at: row.get(8)?,
                })
            })
            .optional()
        })
    }

    fn with<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
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
        if idle.len() < MAX_IDLE {
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
        Ok(conn)
    }
}
