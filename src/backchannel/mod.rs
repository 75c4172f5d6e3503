//! OpenID Connect Back-Channel Logout 1.0: when a browser session ends,
//! every client it signed in to that registered a `backchannel_logout_uri`
//! gets a Logout Token POSTed to it.
//!
//! The person's answer never waits for this. Ending the session reads who
//! to tell and puts one notice on a bounded queue; a background worker
//! signs and sends, with a timeout per attempt, a bounded number of
//! attempts, and a bounded number of sends at once. When the queue is
//! full the notice is dropped, logged and counted
//! (`tollgate_backchannel_logout_total{outcome="dropped"}`): a flood of
//! logouts must not grow memory or tasks without end.
//!
//! It sits below the HTTP layer, like `auth::Authenticator`: sessions end
//! in `web::session`, which `oauth` builds on, so both can reach it.

mod delivery;
pub mod logout_token;

use std::sync::Arc;
use std::time::Duration;

use entity::browser_session;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tracing::{error, warn};
use uuid::Uuid;

use crate::clock::Clock;
use crate::config::Settings;
use crate::metrics::{BackchannelOutcome, Metrics};
use crate::secrets::signing_keys::SigningKeys;
use crate::store;

/// How deliveries are bounded.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Tries per token, the first included.
    pub attempts: u32,
    /// Longest wait for one attempt's answer (connecting included).
    pub timeout: Duration,
    /// Pause before the second attempt; it doubles for each later one.
    pub first_backoff: Duration,
    /// Ended sessions waiting for the worker.
    pub queue: usize,
    /// Tokens being sent at once.
    pub concurrency: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            attempts: 3,
            timeout: Duration::from_secs(5),
            first_backoff: Duration::from_secs(1),
            queue: 1024,
            concurrency: 16,
        }
    }
}

/// A session that ended, and the clients it signed in to.
#[derive(Clone, Debug)]
pub struct SessionEnded {
    sid: String,
    user_id: Uuid,
    client_ids: Vec<String>,
}

/// What the worker needs, shared with each delivery.
struct Context {
    db: DatabaseConnection,
    settings: Arc<Settings>,
    keys: Arc<SigningKeys>,
    clock: Clock,
    metrics: Arc<Metrics>,
    policy: Policy,
    /// `None` only if the TLS backend failed to start (logged once).
    http: Option<reqwest::Client>,
}

/// The handle `AppState` holds. Starting it spawns the worker, which ends
/// when the last handle is dropped.
pub struct Backchannel {
    queue: mpsc::Sender<SessionEnded>,
    db: DatabaseConnection,
    metrics: Arc<Metrics>,
}

impl Backchannel {
    /// Starts the worker; must run inside the Tokio runtime.
    pub fn start(
        db: DatabaseConnection,
        settings: Arc<Settings>,
        keys: Arc<SigningKeys>,
        clock: Clock,
        metrics: Arc<Metrics>,
        policy: Policy,
    ) -> Self {
        let http = delivery::http_client(policy.timeout)
            .inspect_err(|e| error!(error = %e, "back-channel logout disabled: no HTTP client"))
            .ok();
        let (queue, receiver) = mpsc::channel(policy.queue.max(1));
        let ctx = Arc::new(Context {
            db: db.clone(),
            settings,
            keys,
            clock,
            metrics: metrics.clone(),
            policy,
            http,
        });
        tokio::spawn(delivery::run(receiver, ctx));
        Self { queue, db, metrics }
    }

    /// Who must hear that `session` ended. Call it before deleting the
    /// session: the rows naming its clients are deleted with it.
    pub async fn session_ending(
        &self,
        session: &browser_session::Model,
    ) -> Result<SessionEnded, DbErr> {
        Ok(SessionEnded {
            sid: session.sid.clone(),
            user_id: session.user_id,
            client_ids: store::sessions::clients_of(&self.db, &session.id_hash).await?,
        })
    }

    /// Queues the Logout Tokens for a session that has ended; never waits.
    pub fn notify(&self, ended: SessionEnded) {
        if ended.client_ids.is_empty() {
            return;
        }
        let (dropped, why) = match self.queue.try_send(ended) {
            Ok(()) => return,
            Err(TrySendError::Full(ended)) => (ended, "the queue is full"),
            Err(TrySendError::Closed(ended)) => (ended, "the sender has stopped"),
        };
        warn!(
            user_id = %dropped.user_id,
            clients = dropped.client_ids.len(),
            "back-channel logout dropped: {why}"
        );
        let count = u64::try_from(dropped.client_ids.len()).unwrap_or(u64::MAX);
        self.metrics
            .backchannel_logout(BackchannelOutcome::Dropped, count);
    }
}
