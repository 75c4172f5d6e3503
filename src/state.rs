//! The application state every handler receives: shared handles and the
//! caches in front of the database. It sits above everything it holds and
//! below every handler, so no module it holds may name it.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tracing::warn;

use crate::auth::Authenticator;
use crate::auth::revocations::Denylist;
use crate::backchannel::{Backchannel, Policy as BackchannelPolicy};
use crate::cache::TtlCache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::checkpoint::Checkpointer;
use crate::db::readers::SqliteReaders;
use crate::db::writer::SqliteWriter;
use crate::domain::{Client, ScopeSet};
use crate::metrics::Metrics;
use crate::origins::PublicClientOrigins;
use crate::propagation::{ChangeFeed, Changed, Wakeup};
use crate::read_cache::ReadCache;
use crate::secrets::PasswordPool;
use crate::secrets::signing_keys::{KeyError, SigningKeys};

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub metrics: Arc<Metrics>,
    pub keys: Arc<SigningKeys>,
    pub denylist: Arc<Denylist>,
    /// Verifies the resource API's callers (shares the keys and denylist).
    pub auth: Arc<Authenticator>,
    /// Bounded argon2 checks for the login form and the password grant.
    pub passwords: Arc<PasswordPool>,
    /// Recent post reads (see `read_cache`).
    pub read_cache: Arc<ReadCache>,
    /// Clients by id, for the token and authorize endpoints.
    pub client_cache: Arc<TtlCache<Client>>,
    /// Remembered consents by `user|client`. Consents only grow, so a stale
    /// entry can at worst show the consent page once more.
    pub consent_cache: Arc<TtlCache<ScopeSet>>,
    /// `session|client` pairs already recorded in `session_clients`.
    pub session_clients: Arc<TtlCache<()>>,
    /// Tells clients that a browser session ended (Back-Channel Logout).
    pub backchannel: Arc<Backchannel>,
    /// Public clients' origins, for CORS.
    pub cors_origins: Arc<PublicClientOrigins>,
    /// This instance's place in the change log (see `propagation`).
    pub changes: Arc<ChangeFeed>,
    /// Wakes the sync with other instances early, when one announces a change.
    pub wakeup: Arc<Wakeup>,
    /// Names this process in the leases it takes.
    pub instance_id: Arc<str>,
    /// Inline point reads on SQLite (see `db::readers`); none on PostgreSQL.
    pub readers: Option<Arc<SqliteReaders>>,
    /// Checkpoints the SQLite WAL off the write path while the state lives.
    pub checkpointer: Option<Arc<Checkpointer>>,
    /// Group commit of the code flow's writes on SQLite (see
    /// `db::writer`); none on PostgreSQL.
    pub writer: Option<Arc<SqliteWriter>>,
}

/// How long a cached client or consent is kept. A change, here or
/// elsewhere, removes it sooner (see `propagation`); the lifetime bounds
/// what a change log read that failed could leave behind.
pub const CLIENT_CACHE_TTL: Duration = Duration::from_secs(30);

/// How long shutdown waits for the pool's connections to close.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// How long a recorded session sign-in to a client is remembered. A
/// session's rows go only with the session, whose id is never reused, so
/// this bounds memory, not staleness.
const SESSION_CLIENTS_TTL: Duration = Duration::from_secs(600);

impl AppState {
    /// Closes the database connections once no request is left, the
    /// pool's last. On SQLite the last connection to close copies the WAL
    /// into the database and removes it, so the file alone holds every
    /// write (a copy of it is a whole backup).
    pub async fn close(&self) {
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.close().await;
        }
        if let Some(readers) = &self.readers {
            readers.close();
        }
        // A connection still out (a task cut off mid-query) would hold the
        // pool's close for good.
        match tokio::time::timeout(CLOSE_WAIT, self.db.close_by_ref()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "closing the database failed"),
            Err(_) => tracing::warn!("the database did not close within {CLOSE_WAIT:?}"),
        }
    }

    /// Loads (creating on first start) the signing keys and the denylist.
    pub async fn build(
        db: DatabaseConnection,
        settings: Settings,
        clock: Clock,
    ) -> Result<Self, KeyError> {
        crate::secrets::signing_keys::provider::install();
        let now = clock.now();
        let keys = Arc::new(
            SigningKeys::init(
                &db,
                now,
                settings.access_token_ttl,
                settings.key_encryption_key.clone(),
            )
            .await?,
        );
        let denylist = Arc::new(Denylist::load(&db, now).await?);
        let changes = Arc::new(ChangeFeed::start(&db).await?);
        let readers = SqliteReaders::for_url(settings.database_url.secret());
        let checkpointer = match &readers {
            Some(r) => Some(Arc::new(
                Checkpointer::start(&db, r.path().to_path_buf()).await?,
            )),
            None => None,
        };
        let metrics = Arc::new(Metrics::new());
        let writer = match &readers {
            Some(r) => Some(Arc::new(SqliteWriter::start(
                r.path(),
                metrics.writer_counts(),
            )?)),
            None => None,
        };
        let settings = Arc::new(settings);
        let auth = Arc::new(Authenticator::new(
            db.clone(),
            clock.clone(),
            settings.clone(),
            keys.clone(),
            denylist.clone(),
        ));
        let backchannel = Arc::new(Backchannel::start(
            db.clone(),
            settings.clone(),
            keys.clone(),
            clock.clone(),
            metrics.clone(),
            BackchannelPolicy::default(),
        ));
        Ok(Self {
            passwords: Arc::new(PasswordPool::new(
                settings.password_workers,
                settings.password_queue,
            )),
            db,
            settings,
            clock,
            metrics,
            keys,
            denylist,
            auth,
            read_cache: Arc::new(ReadCache::default()),
            client_cache: Arc::new(TtlCache::new(CLIENT_CACHE_TTL, 1024)),
            consent_cache: Arc::new(TtlCache::new(CLIENT_CACHE_TTL, 16_384)),
            session_clients: Arc::new(TtlCache::new(SESSION_CLIENTS_TTL, 16_384)),
            backchannel,
            cors_origins: Arc::new(PublicClientOrigins::default()),
            changes,
            wakeup: Arc::new(Wakeup::default()),
            instance_id: format!("{}:{}", std::process::id(), uuid::Uuid::new_v4().simple()).into(),
            readers,
            checkpointer,
            writer,
        })
    }

    /// Picks up keys another instance rotated in.
    pub async fn refresh_keys(&self) {
        let now = self.clock.now();
        if let Err(e) = self
            .keys
            .reload(&self.db, now, self.settings.access_token_ttl)
            .await
        {
            warn!(error = %e, "could not reload signing keys");
        }
    }

    /// Picks up other instances' revocations and changes.
    pub async fn sync_with_peers(&self) {
        let now = self.clock.now();
        if let Err(e) = self.denylist.sync(&self.db, now).await {
            warn!(error = %e, "could not sync the token denylist");
        }
        match self.changes.read(&self.db, now).await {
            Ok(changed) => self.apply(changed).await,
            Err(e) => warn!(error = %e, "could not read other instances' changes"),
        }
    }

    /// Forgets what `changed` made stale. Also applied to this instance's
    /// own changes as they come back from the log: forgetting is harmless.
    async fn apply(&self, changed: Vec<Changed>) {
        let mut keys = false;
        for change in &changed {
            keys |= self.forget(change);
        }
        if keys {
            self.refresh_keys().await;
        }
    }

    /// Drops what `change` made stale from the caches; `true` when the
    /// signing keys must be reloaded (which takes the database).
    pub fn forget(&self, change: &Changed) -> bool {
        match change {
            Changed::Client(id) => {
                self.client_cache.remove(id);
                self.cors_origins.invalidate();
                // A deleted client's rows went with it (cascade); one made
                // again under its id must be recorded anew.
                self.session_clients.clear();
            }
            Changed::Consent(key) => self.consent_cache.remove(key),
            Changed::Keys => return true,
        }
        false
    }
}
