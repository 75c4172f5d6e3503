pub mod checkpoint;
mod diagnose;
pub mod readers;
pub mod writer;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Connects to SQLite or PostgreSQL, chosen by the URL's scheme.
///
/// SQLite runs in WAL mode with `synchronous=NORMAL` (durable across process
/// crashes, ~20x the commit rate of the default), foreign keys on, and a busy
/// timeout so that concurrent writers wait instead of failing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // One connection. SQLite has one writer at a time anyway, and with
        // several connections the waiting writers sleep in SQLite's busy
        // handler (a millisecond and up) instead of queueing in the pool:
        // measured on one core, 1,630 code flows/s with one connection
        // against 1,260 with two and 1,290 with four. Reads barely notice,
        // as the hot ones are served from memory. The price: code must not
        // hold a transaction while waiting on another query of the pool.
        opts.max_connections(1)
            .min_connections(1)
            // A ping before every acquire doubled the cost of a query (two
            // more thread hand-offs to the connection's worker); an
            // embedded file does not drop connections.
            .test_before_acquire(false);
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    } else {
        opts.max_connections(16).min_connections(1);
    }
    Database::connect(opts).await
}

/// Why [`open`] failed. Each message says which step, and for a failed
/// connection what to check; the causes are in the message, not in
/// `source()`, so that a printed cause chain does not repeat them.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0}")]
    Connect(String),
    #[error("cannot migrate the database: {0}")]
    Migrate(DbErr),
}

/// Connects and applies pending migrations: what `serve`, every management
/// command and the tests start with.
pub async fn open(url: &str) -> Result<DatabaseConnection, OpenError> {
    Ok(open_reporting(url).await?.0)
}

/// As [`open`], also naming the migrations this call applied (none when
/// the schema was already up to date).
pub async fn open_reporting(url: &str) -> Result<(DatabaseConnection, Vec<String>), OpenError> {
    if !url.starts_with("sqlite:") {
        diagnose::check_postgres(url)
            .await
            .map_err(OpenError::Connect)?;
    }
    let db = connect(url).await.map_err(|e| {
        OpenError::Connect(if url.starts_with("sqlite:") {
            diagnose::sqlite(url, &e)
        } else {
            format!(
                "cannot connect to the database {}: {e}",
                diagnose::redact(url)
            )
        })
    })?;
    let applied = migrate(&db).await.map_err(OpenError::Migrate)?;
    Ok((db, applied))
}

/// Applies pending migrations under [`Lock::Migrations`] and returns the
/// names of those applied. Without the lock, two instances starting on an
/// empty database both found the tables missing and the second died on
/// `table "api_keys" already exists`.
pub async fn migrate(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let txn = begin_exclusive(db, Lock::Migrations).await?;
    let pending: Vec<String> = Migrator::get_pending_migrations(&txn)
        .await?
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    if !pending.is_empty() {
        // In the locked transaction: PostgreSQL's DDL is transactional, and
        // on SQLite the pool's only connection is the one holding the lock.
        Migrator::up(&txn, None).await?;
    }
    txn.commit().await?;
    Ok(pending)
}

/// Work that two processes on one database must not do at the same time.
#[derive(Debug, Clone, Copy)]
pub enum Lock {
    /// Applying migrations.
    Migrations,
    /// Creating or rotating the signing key.
    SigningKeys,
    /// Housekeeping (one instance at a time, see [`try_lock`]).
    Housekeeping,
}

impl Lock {
    /// The PostgreSQL advisory lock key: arbitrary, but fixed and unlikely
    /// to collide with another application's on a shared server.
    fn advisory_key(self) -> i64 {
        match self {
            Lock::Migrations => 0x746f_6c6c_6761_0001,
            Lock::SigningKeys => 0x746f_6c6c_6761_0002,
            Lock::Housekeeping => 0x746f_6c6c_6761_0003,
        }
    }
}

/// A transaction no other process holding `lock` runs beside: on
/// PostgreSQL, a transaction-scoped advisory lock (released at commit or
/// rollback); on SQLite, `BEGIN IMMEDIATE`, which takes the database's one
/// write lock up front (another writer waits up to the busy timeout). So a
/// read-then-write inside sees no concurrent write of the same kind.
pub async fn begin_exclusive(
    db: &DatabaseConnection,
    lock: Lock,
) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await
        }
        // PostgreSQL, the only other backend we connect to. At the default
        // READ COMMITTED, each statement after the lock sees what the
        // previous holder committed.
        _ => {
            let txn = db.begin().await?;
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({})",
                lock.advisory_key()
            ))
            .await?;
            Ok(txn)
        }
    }
}

/// Held while one instance does work the others should skip rather than
/// wait for; released by [`Held::release`] (or on drop, when its
/// transaction rolls back).
pub struct Held(Option<DatabaseTransaction>);

impl Held {
    pub async fn release(self) -> Result<(), DbErr> {
        match self.0 {
            Some(txn) => txn.commit().await,
            None => Ok(()),
        }
    }
}

/// Takes `lock` if nobody holds it, without waiting: on PostgreSQL a
/// transaction-scoped advisory lock on a connection of its own (`None`
/// when another session holds it); on SQLite nothing is taken, as one
/// process serves a database file and holding its only connection would
/// stall everything else.
pub async fn try_lock(db: &DatabaseConnection, lock: Lock) -> Result<Option<Held>, DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        return Ok(Some(Held(None)));
    }
    let txn = db.begin().await?;
    let row = txn
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT pg_try_advisory_xact_lock({}) AS locked",
                lock.advisory_key()
            ),
        ))
        .await?;
    let locked = match row {
        Some(row) => row.try_get::<bool>("", "locked")?,
        None => false,
    };
    if locked {
        Ok(Some(Held(Some(txn))))
    } else {
        txn.rollback().await?;
        Ok(None)
    }
}

/// Whether the database answers (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.ping().await
}
