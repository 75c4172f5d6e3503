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
//! left (and its two syncs) so that the next write starts the WAL over;
//! it waits at most [`RESTART_WAIT`] for them, and after a RESTART that
//! could not finish the thread leaves writers alone for a second.
//!
//! RESTART leaves the WAL file at its high-water size. Once a round finds
//! nothing new since the last one and all of it copied, the thread trims a
//! file beyond [`WAL_SIZE_LIMIT`] (TRUNCATE), which then holds off nobody.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use tracing::warn;

use crate::cache::lock;

/// How often the WAL is copied into the database. Bounds the WAL to what
/// the writer writes in this time.
const EVERY: Duration = Duration::from_millis(250);

/// WAL frames (pages, 4 KiB by default) beyond which the WAL is started
/// over: it stays near this size, plus what is written in [`EVERY`].
pub const RESTART_FRAMES: i64 = 16_384;

/// The WAL file's size beyond which the thread trims it, once writes
/// pause: a load peak grows the file past [`RESTART_FRAMES`] pages, and
/// SQLite would keep it at that high-water size for good. Not trimmed
/// under load, where regrowing the file each time cost 5% of the code flow.
pub const WAL_SIZE_LIMIT: u64 = 64 << 20;

/// How long a RESTART waits for the writer and readers before it gives up
/// until a later round.
const RESTART_WAIT: Duration = Duration::from_millis(100);

/// Rounds a RESTART is not tried again after one that could not finish
/// (a reader held on to the WAL), so that writers are not held off round
/// after round.
const BACK_OFF_ROUNDS: u32 = 4;

/// Checkpoints until it is closed or dropped.
pub struct Checkpointer {
    /// The thread, and the sender whose drop stops it at once.
    running: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
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
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || run(&path, restart_frames, &stopped))
            .map_err(|e| DbErr::Custom(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Self {
            running: Mutex::new(Some((stop, thread))),
        })
    }

    /// Stops the thread and waits until it has closed its connection.
    pub async fn close(&self) {
        let running = lock(&self.running).take();
        if let Some((stop, thread)) = running {
            drop(stop);
            // At most one checkpoint to finish: RESTART_WAIT and two syncs.
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn run(path: &Path, restart_frames: i64, stopped: &mpsc::Receiver<()>) {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mut wal = Wal {
        path: PathBuf::from(wal),
        frames: 0,
    };
    let mut conn: Option<Connection> = None;
    let mut warned = false;
    // Rounds left before a RESTART may be tried again.
    let mut backing_off = 0;
    // Nothing is ever sent: the sender's drop ends the wait early.
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
        let restart_at = if backing_off > 0 {
            backing_off -= 1;
            i64::MAX
        } else {
            restart_frames
        };
        let result = match &conn {
            Some(c) => checkpoint(c, restart_at, &mut wal),
            None => {
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE).and_then(|c| {
                    // RESTART holds off writers while it waits: briefly.
                    c.busy_timeout(RESTART_WAIT)?;
                    let blocked = checkpoint(&c, restart_at, &mut wal)?;
                    conn = Some(c);
                    Ok(blocked)
                })
            }
        };
        match result {
            Ok(true) => backing_off = BACK_OFF_ROUNDS,
            Ok(false) => warned = false,
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

/// The WAL file, and the frames the last round found in it.
struct Wal {
    path: PathBuf,
    frames: i64,
}

/// Checkpoints, starts the WAL over beyond `restart_frames`, and trims an
/// idle WAL file beyond [`WAL_SIZE_LIMIT`]; `true` when that RESTART or
/// trim could not finish (a reader or the writer held on past
/// [`RESTART_WAIT`]).
fn checkpoint(conn: &Connection, restart_frames: i64, wal: &mut Wal) -> rusqlite::Result<bool> {
    // The row: (1 if it was blocked, frames in the WAL, frames copied).
    let (frames, copied): (i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((row.get(1)?, row.get(2)?))
        })?;
    let unchanged = std::mem::replace(&mut wal.frames, frames) == frames;
    if frames > 0 && copied == frames && unchanged {
        // Nothing written since the last round and all of it copied: the
        // next write starts the WAL over by itself, and a trim now holds
        // off nobody.
        if std::fs::metadata(&wal.path).is_ok_and(|m| m.len() > WAL_SIZE_LIMIT) {
            let blocked: i64 =
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
            return Ok(blocked != 0);
        }
    } else if frames > restart_frames {
        let blocked: i64 =
            conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| row.get(0))?;
        return Ok(blocked != 0);
    }
    Ok(false)
}
