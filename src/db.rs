use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

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

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether the database answers (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.ping().await
}
