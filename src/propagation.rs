//! How instances on one database learn of each other's changes.
//!
//! What an instance holds in memory (revoked tokens, clients, consents,
//! signing keys, public clients' origins) is kept current from two logs in
//! the database, each read past a cursor: the denylist
//! (`auth::revocations`) and the change log ([`Change`], `store::changes`).
//! Every instance reads both every `peer_sync_interval`; on PostgreSQL it
//! also listens on the channel `tollgate`, which triggers on both tables
//! notify as each write commits, and then reads them at once. So a change
//! made at one instance (or by the command line) reaches the others at
//! once on PostgreSQL, and within `peer_sync_interval` on SQLite or when a
//! notification is lost.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};
use tokio::sync::Notify;
use tracing::{info, warn};
use uuid::Uuid;

use crate::cache::lock;
use crate::store;

/// The channel the migration's triggers notify.
pub const CHANNEL: &str = "tollgate";

/// How far back each read looks again for rows that committed out of
/// order (see `store::changes::since`).
const RECENT: TimeDelta = TimeDelta::seconds(60);

/// Waits between attempts to listen again after a failure, doubling up to
/// the last.
const LISTEN_BACKOFF: [Duration; 4] = [
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
];

/// A change that invalidates what instances hold in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change<'a> {
    /// A client was updated, given a new secret, or deleted.
    Client(&'a str),
    /// A user's consent to a client was revoked.
    Consent { user: Uuid, client: &'a str },
    /// Signing keys were rotated.
    Keys,
}

impl Change<'_> {
    fn kind(self) -> &'static str {
        match self {
            Self::Client(_) => "client",
            Self::Consent { .. } => "consent",
            Self::Keys => "keys",
        }
    }

    fn subject(self) -> String {
        match self {
            Self::Client(id) => id.to_owned(),
            Self::Consent { user, client } => consent_key(user, client),
            Self::Keys => String::new(),
        }
    }

    /// As read back from the log.
    pub fn read_back(self) -> Changed {
        match self {
            Self::Client(id) => Changed::Client(id.to_owned()),
            Self::Consent { user, client } => Changed::Consent(consent_key(user, client)),
            Self::Keys => Changed::Keys,
        }
    }

    /// Records the change for the other instances (and, through the
    /// trigger, notifies them on PostgreSQL).
    pub async fn record(self, db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), DbErr> {
        store::changes::record(db, self.kind(), &self.subject(), now).await
    }
}

/// The consent cache's key for a user and a client.
pub fn consent_key(user: Uuid, client: &str) -> String {
    format!("{user}|{client}")
}

/// A change as read back from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changed {
    Client(String),
    /// A consent cache key (see [`consent_key`]).
    Consent(String),
    Keys,
}

impl Changed {
    fn parse(kind: &str, subject: String) -> Option<Self> {
        match kind {
            "client" => Some(Self::Client(subject)),
            "consent" => Some(Self::Consent(subject)),
            "keys" => Some(Self::Keys),
            // A kind from a newer version: nothing of ours depends on it.
            _ => None,
        }
    }
}

#[derive(Default)]
struct Cursor {
    last_seq: i64,
    /// Sequence numbers read within [`RECENT`], so that reading the window
    /// again hands each change out once.
    seen: HashMap<i64, DateTime<Utc>>,
}

/// This instance's place in the change log.
#[derive(Default)]
pub struct ChangeFeed {
    cursor: Mutex<Cursor>,
}

impl ChangeFeed {
    /// Starts past every change made so far: a starting instance loads
    /// everything fresh anyway.
    pub async fn start(db: &impl ConnectionTrait) -> Result<Self, DbErr> {
        let last_seq = store::changes::last_seq(db).await?;
        Ok(Self {
            cursor: Mutex::new(Cursor {
                last_seq,
                seen: HashMap::new(),
            }),
        })
    }

    /// The changes committed since the last read, each once, oldest first.
    pub async fn read(
        &self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> Result<Vec<Changed>, DbErr> {
        let since = lock(&self.cursor).last_seq;
        let rows = store::changes::since(db, since, now - RECENT).await?;
        let mut cursor = lock(&self.cursor);
        let mut fresh = Vec::new();
        for row in rows {
            if row.seq <= cursor.last_seq && cursor.seen.contains_key(&row.seq) {
                continue;
            }
            cursor.last_seq = cursor.last_seq.max(row.seq);
            cursor.seen.insert(row.seq, row.created_at);
            fresh.extend(Changed::parse(&row.kind, row.subject));
        }
        cursor.seen.retain(|_, at| *at > now - RECENT);
        Ok(fresh)
    }
}

/// Wakes the sync loop when another instance announces a change.
#[derive(Default)]
pub struct Wakeup(Notify);

impl Wakeup {
    pub async fn wait(&self) {
        self.0.notified().await;
    }

    fn wake(&self) {
        // One stored permit: a burst of notifications makes one sync.
        self.0.notify_one();
    }
}

/// On PostgreSQL, listens on [`CHANNEL`] for as long as the server runs
/// and wakes `wakeup` for each notification; after a lost connection it
/// wakes it too, as notifications sent meanwhile are lost. Returns at once
/// on SQLite, where polling is all there is.
pub async fn listen(db: DatabaseConnection, wakeup: std::sync::Arc<Wakeup>) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let pool = db.get_postgres_connection_pool();
    let mut failures = 0usize;
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match listener.await {
            Ok(mut listener) => {
                if failures > 0 {
                    info!("listening for other instances' changes again");
                }
                failures = 0;
                // Whatever was announced before this point may be missed.
                wakeup.wake();
                loop {
                    match listener.try_recv().await {
                        Ok(Some(_)) => wakeup.wake(),
                        // Lost and reconnected: changes may have gone by.
                        Ok(None) => wakeup.wake(),
                        Err(e) => {
                            warn!(error = %e, "stopped listening for other instances' changes; polling meanwhile");
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                warn!(error = %e, "cannot listen for other instances' changes; polling meanwhile");
            }
        }
        let wait = LISTEN_BACKOFF[failures.min(LISTEN_BACKOFF.len() - 1)];
        failures += 1;
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_reads_back_as_what_was_recorded() {
        let user = Uuid::new_v4();
        let cases = [
            (Change::Client("app one"), Changed::Client("app one".into())),
            (
                Change::Consent {
                    user,
                    client: "app|two",
                },
                Changed::Consent(format!("{user}|app|two")),
            ),
            (Change::Keys, Changed::Keys),
        ];
        for (change, expected) in cases {
            assert_eq!(change.read_back(), expected);
            assert_eq!(
                Changed::parse(change.kind(), change.subject()),
                Some(expected)
            );
        }
        assert_eq!(Changed::parse("from-a-newer-version", String::new()), None);
    }
}
