//! WAL checkpoints off the write path, on SQLite.
//!
//! By default the connection whose commit fills the WAL past 1,000 pages
//! checkpoints it there and then: copies the pages into the database and
//! syncs both files, while every other query waits behind it on the pool's
//! one connection. Measured on the code flow, that was a checkpoint (two
//! fsyncs) dozens of times a second and a fifth of the core idle. Here the
//! pool's connection never checkpoints; a thread of its own does, passively
//! (never blocking the writer or a reader), every [`EVERY`].
//!
//! A passive checkpoint alone lets the WAL grow without end under steady
//! writes: SQLite starts the WAL over only when a write begins after a
//! checkpoint that copied every frame, and with writes all the time some
//! frame is always new (measured: 1.5 GB in 20 s of code flows). So once
//! the WAL holds more than [`RESTART_FRAMES`], the thread checkpoints with
//! RESTART, which holds off writers for the few frames the passive pass
//! left (a millisecond or two) so that the next write starts the WAL over.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use tracing::warn;

/// How often the WAL is copied into the database. Bounds the WAL to what
/// the writer writes in this time.
const EVERY: Duration = Duration::from_millis(250);

/// WAL frames (pages, 4 KiB by default) beyond which the WAL is started
/// over: it stays near this size, plus what is written in [`EVERY`].
pub const RESTART_FRAMES: i64 = 16_384;

/// Checkpoints while it lives; the thread ends within [`EVERY`] of its drop.
pub struct Checkpointer {
    _alive: Arc<()>,
}

impl Checkpointer {
    /// Starts the thread for the SQLite file at `path` and turns off the
    /// pool's own checkpoints. Should the pool ever open a new connection,
    /// that one checkpoints as SQLite does by default: slower, still safe.
    pub async fn start(db: &DatabaseConnection, path: PathBuf) -> Result<Self, DbErr> {
        let checkpointer = Self::start_thread(path, RESTART_FRAMES)?;
        db.execute_unprepared("PRAGMA wal_autocheckpoint = 0")
            .await?;
        Ok(checkpointer)
    }

    /// Only the thread, starting the WAL over beyond `restart_frames`.
    pub fn start_thread(path: PathBuf, restart_frames: i64) -> Result<Self, DbErr> {
        let alive = Arc::new(());
        let weak = Arc::downgrade(&alive);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || run(&path, restart_frames, &weak))
            .map_err(|e| DbErr::Custom(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Self { _alive: alive })
    }
}

fn run(path: &Path, restart_frames: i64, alive: &Weak<()>) {
    let mut conn: Option<Connection> = None;
    let mut warned = false;
    while alive.strong_count() > 0 {
        std::thread::sleep(EVERY);
        let result = match &conn {
            Some(c) => checkpoint(c, restart_frames),
            None => {
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE).and_then(|c| {
                    c.busy_timeout(Duration::from_secs(1))?;
                    checkpoint(&c, restart_frames)?;
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

fn checkpoint(conn: &Connection, restart_frames: i64) -> rusqlite::Result<()> {
    // The row: (whether it was blocked, frames in the WAL, frames copied).
    let frames: i64 = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))?;
    if frames > restart_frames {
        conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))?;
    }
    Ok(())
}
