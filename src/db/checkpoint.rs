//! WAL checkpoints off the write path, on SQLite.
//!
//! By default the connection whose commit fills the WAL past 1,000 pages
//! checkpoints it there and then: copies the pages into the database and
//! syncs both files, while every other query waits behind it on the pool's
//! one connection. Measured on the code flow, that was a checkpoint (two
//! fsyncs) dozens of times a second and a fifth of the core idle. Here the
//! pool's connection never checkpoints; a thread of its own does, passively
//! (never blocking the writer or a reader), every [`EVERY`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use tracing::warn;

/// How often the WAL is copied into the database. Bounds the WAL to what
/// the writer writes in this time.
const EVERY: Duration = Duration::from_millis(250);

/// Checkpoints while it lives; the thread ends within [`EVERY`] of its drop.
pub struct Checkpointer {
    _alive: Arc<()>,
}

impl Checkpointer {
    /// Starts the thread for the SQLite file at `path` and turns off the
    /// pool's own checkpoints. Should the pool ever open a new connection,
    /// that one checkpoints as SQLite does by default: slower, still safe.
    pub async fn start(db: &DatabaseConnection, path: PathBuf) -> Result<Self, DbErr> {
        let alive = Arc::new(());
        let weak = Arc::downgrade(&alive);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || run(&path, &weak))
            .map_err(|e| DbErr::Custom(format!("cannot start the checkpoint thread: {e}")))?;
        db.execute_unprepared("PRAGMA wal_autocheckpoint = 0")
            .await?;
        Ok(Self { _alive: alive })
    }
}

fn run(path: &Path, alive: &Weak<()>) {
    let mut conn: Option<Connection> = None;
    let mut warned = false;
    while alive.strong_count() > 0 {
        std::thread::sleep(EVERY);
        let result = match &conn {
            Some(c) => checkpoint(c),
            None => {
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE).and_then(|c| {
                    c.busy_timeout(Duration::from_secs(1))?;
                    checkpoint(&c)?;
                    conn = Some(c);
                    Ok(())
                })
            }
        };
        match result {
            Ok(()) => warned = false,
            Err(e) => {
                // Once per outage, not four times a second.
                if !warned {
                    warn!(error = %e, "WAL checkpoint failed; trying again");
                    warned = true;
                }
                conn = None;
            }
        }
    }
}

fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}
