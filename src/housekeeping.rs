//! Housekeeping: deletes what has stopped mattering (expired codes,
//! sessions, refresh tokens and revocation rows) and erases the private
//! halves of retired signing keys whose tokens have all expired.
//!
//! It runs once every `gc_interval` in a cluster of servers on one
//! database, and once on demand with `tollgate gc`. Each server tries
//! every `gc_interval`, but only the one that takes the lease in the
//! database (nobody ran it within the interval) does the work; the others
//! skip that round. On PostgreSQL an advisory lock also keeps a run that
//! outlasts the interval, or `tollgate gc`, from running beside another.
//! Rows go in batches of [`BATCH`], one statement each, with a yield
//! between, so that requests are never held up for long.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;
use tracing::{debug, info, warn};

use crate::config::Settings;
use crate::db::{Lock, try_lock};
use crate::metrics::Metrics;
use crate::secrets::signing_keys;
use crate::state::AppState;
use crate::store;

/// Rows per DELETE statement.
pub const BATCH: u64 = 500;

/// The lease's name in the `leases` table.
const LEASE: &str = "housekeeping";

/// How long a change-log row is kept: far past the window each instance
/// reads again (see `propagation`).
const CHANGES_KEPT: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Rows deleted by one run, by table (the metric's labels).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Deleted {
    pub authorization_codes: u64,
    pub browser_sessions: u64,
    pub refresh_tokens: u64,
    pub token_revocations: u64,
    pub signing_key_private_halves: u64,
    pub changes: u64,
}

impl Deleted {
    /// `(table, rows)` with the labels of [`crate::metrics::HOUSEKEEPING_TABLES`].
    pub fn by_table(&self) -> [(&'static str, u64); 6] {
        [
            ("authorization_codes", self.authorization_codes),
            ("browser_sessions", self.browser_sessions),
            ("refresh_tokens", self.refresh_tokens),
            ("token_revocations", self.token_revocations),
            (
                "signing_key_private_halves",
                self.signing_key_private_halves,
            ),
            ("changes", self.changes),
        ]
    }

    pub fn total(&self) -> u64 {
        self.by_table().iter().map(|(_, n)| n).sum()
    }
}

/// What one run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ran(Deleted),
    /// Another instance was running housekeeping, or ran it within the
    /// interval; this one did nothing.
    Skipped,
}

impl Outcome {
    /// The metric's label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Ran(_) => "ran",
            Self::Skipped => "skipped",
        }
    }
}

/// A scheduled run by `holder`: only when nobody in the cluster ran it in
/// the last `gc_interval`.
pub async fn run_if_due(
    db: &DatabaseConnection,
    settings: &Settings,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, DbErr> {
    // A little less than the interval, so that the instance whose ticks
    // fall just after its own last run does not skip a round by a hair.
    let every = chrono::TimeDelta::from_std(settings.gc_interval.mul_f64(0.9))
        .unwrap_or(chrono::TimeDelta::MAX);
    if !store::leases::take(db, LEASE, holder, every, now).await? {
        return Ok(Outcome::Skipped);
    }
    run_once(db, settings, now).await
}

/// One run, as of `now`.
pub async fn run_once(
    db: &DatabaseConnection,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Outcome, DbErr> {
    let Some(held) = try_lock(db, Lock::Housekeeping).await? else {
        return Ok(Outcome::Skipped);
    };
    let deleted = delete_expired(db, settings, now).await;
    held.release().await?;
    Ok(Outcome::Ran(deleted?))
}

async fn delete_expired(
    db: &DatabaseConnection,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Deleted, DbErr> {
    // The longest any token lives: revocation rows and spent refresh
    // tokens are kept that long, so the checks that read them (refresh
    // reuse, `revocations::exists`) still see them while a token they
    // concern could be presented.
    let longest = settings.access_token_ttl.max(settings.refresh_token_ttl);
    let authorization_codes = batched(|| {
        store::codes::delete_expired_batch(db, now, now - settings.access_token_ttl, BATCH)
    })
    .await?;
    let browser_sessions =
        batched(|| store::sessions::delete_expired_batch(db, now, BATCH)).await?;
    let refresh_tokens =
        batched(|| store::refresh_tokens::delete_expired_batch(db, now, now - longest, BATCH))
            .await?;
    let token_revocations =
        batched(|| store::revocations::delete_expired_batch(db, now - longest, BATCH)).await?;
    let signing_key_private_halves =
        signing_keys::erase_expired_private_keys(db, now, settings.access_token_ttl).await?;
    let changes =
        batched(|| store::changes::delete_expired_batch(db, now - CHANGES_KEPT, BATCH)).await?;
    Ok(Deleted {
        changes,
        authorization_codes,
        browser_sessions,
        refresh_tokens,
        token_revocations,
        signing_key_private_halves,
    })
}

/// Repeats one batch delete until a batch comes back short, yielding
/// between batches; returns the rows deleted in all.
async fn batched<F, Fut>(mut batch: F) -> Result<u64, DbErr>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, DbErr>>,
{
    let mut total = 0;
    loop {
        let n = batch().await?;
        total += n;
        if n < BATCH {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// One scheduled run for a server: counted in the metrics and logged.
pub async fn run_and_record(state: &AppState) -> Result<Outcome, DbErr> {
    let outcome = run_if_due(
        &state.db,
        &state.settings,
        &state.instance_id,
        state.clock.now(),
    )
    .await?;
    state.metrics.housekeeping_run(outcome.as_str());
    match outcome {
        Outcome::Ran(deleted) => {
            record(&state.metrics, &deleted);
            if deleted.total() > 0 {
                info!(?deleted, "housekeeping deleted expired rows");
            } else {
                debug!("housekeeping ran: nothing had expired");
            }
        }
        Outcome::Skipped => debug!("housekeeping skipped: another instance ran it lately"),
    }
    Ok(outcome)
}

fn record(metrics: &Metrics, deleted: &Deleted) {
    for (table, rows) in deleted.by_table() {
        metrics.deleted_rows(table, rows);
    }
}

/// The server's background task: a run every `gc_interval`, the first at
/// start-up.
pub async fn run_periodically(state: AppState) {
    let every = state.settings.gc_interval.max(Duration::from_secs(1));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = run_and_record(&state).await {
            warn!(error = %e, "housekeeping failed; retrying at the next interval");
        }
    }
}
