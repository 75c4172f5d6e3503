use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tracing::warn;

use crate::api::read_cache::ReadCache;
use crate::auth::access_token::{TokenCache, token_cache};
use crate::auth::api_key::{ApiKeyCache, api_key_cache};
use crate::auth::revocations::Denylist;
use crate::cache::TtlCache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::ops::Metrics;
use crate::secrets::signing_keys::{KeyError, LoadedKey, SigningKeys};

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub metrics: Arc<Metrics>,
    pub keys: Arc<SigningKeys>,
    pub denylist: Arc<Denylist>,
    pub token_cache: Arc<TokenCache>,
    pub api_key_cache: Arc<ApiKeyCache>,
    /// Recent post reads (see `api::read_cache`).
    pub read_cache: Arc<ReadCache>,
    /// Clients by id, for the token and authorize endpoints.
    pub client_cache: Arc<TtlCache<entity::client::Model>>,
    /// Remembered consents by `user|client`. Consents only grow, so a stale
    /// entry can at worst show the consent page once more.
    pub consent_cache: Arc<TtlCache<crate::domain::ScopeSet>>,
}

/// Client registrations change only through the command line; a running
/// server sees a change within this long.
const CLIENT_CACHE_TTL: Duration = Duration::from_secs(30);

impl AppState {
    /// Loads (creating on first start) the signing keys and the denylist.
    pub async fn build(
        db: DatabaseConnection,
        settings: Settings,
        clock: Clock,
    ) -> Result<Self, KeyError> {
        let now = clock.now();
        let keys = SigningKeys::init(&db, now, settings.access_token_ttl).await?;
        let denylist = Denylist::load(&db, now).await?;
        Ok(Self {
            db,
            settings: Arc::new(settings),
            clock,
            metrics: Arc::new(Metrics::new()),
            keys: Arc::new(keys),
            denylist: Arc::new(denylist),
            token_cache: Arc::new(token_cache()),
            api_key_cache: Arc::new(api_key_cache()),
            read_cache: Arc::new(ReadCache::default()),
            client_cache: Arc::new(TtlCache::new(CLIENT_CACHE_TTL, 1024)),
            consent_cache: Arc::new(TtlCache::new(CLIENT_CACHE_TTL, 16_384)),
        })
    }

    /// Reloads keys from the database (another instance may have rotated)
    /// and returns the key named `kid` if it now exists; throttled by
    /// [`SigningKeys::reload_for`].
    pub async fn reload_keys_for(&self, kid: &str) -> Option<Arc<LoadedKey>> {
        let now = self.clock.now();
        self.keys
            .reload_for(kid, &self.db, now, self.settings.access_token_ttl)
            .await
            .unwrap_or_else(|e| {
                warn!(error = %e, "could not reload signing keys");
                None
            })
    }

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

    /// Picks up other instances' revocations and key rotations.
    pub async fn sync_with_peers(&self) {
        if let Err(e) = self.denylist.sync(&self.db, self.clock.now()).await {
            warn!(error = %e, "could not sync the token denylist");
        }
    }
}
