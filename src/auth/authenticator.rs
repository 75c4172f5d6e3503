//! What verifying a caller needs, in one place. `AppState` holds one; auth
//! never sees `AppState`, so the dependency runs one way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use tokio::sync::Mutex;
use tracing::warn;

use super::access_token::{TokenCache, token_cache};
use super::api_key::{ApiKeyCache, api_key_cache};
use super::revocations::Denylist;
use crate::clock::Clock;
use crate::config::Settings;
use crate::secrets::signing_keys::{LoadedKey, SigningKeys};

/// An unknown `kid` triggers at most one key reload this often, so that
/// tokens with made-up kids cannot hammer the database.
const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(5);

pub struct Authenticator {
    pub(super) db: DatabaseConnection,
    pub(super) clock: Clock,
    pub(super) settings: Arc<Settings>,
    pub(super) keys: Arc<SigningKeys>,
    pub(super) denylist: Arc<Denylist>,
    /// Verified access tokens, by token.
    pub(super) tokens: TokenCache,
    /// API keys, by lookup hash.
    pub(super) api_keys: ApiKeyCache,
    last_key_reload: Mutex<Option<Instant>>,
}

impl Authenticator {
    /// Shares the server's database, clock, settings, keys and denylist.
    pub fn new(
        db: DatabaseConnection,
        clock: Clock,
        settings: Arc<Settings>,
        keys: Arc<SigningKeys>,
        denylist: Arc<Denylist>,
    ) -> Self {
        Self {
            db,
            clock,
            settings,
            keys,
            denylist,
            tokens: token_cache(),
            api_keys: api_key_cache(),
            last_key_reload: Mutex::new(None),
        }
    }

    /// Reloads keys from the database (another instance may have rotated)
    /// and returns the key named `kid` if it now exists.
    pub(super) async fn reload_keys_for(&self, kid: &str) -> Option<Arc<LoadedKey>> {
        {
            let mut last = self.last_key_reload.lock().await;
            if last.is_some_and(|at| at.elapsed() < KEY_RELOAD_INTERVAL) {
                return None;
            }
            *last = Some(Instant::now());
        }
        let now = self.clock.now();
        if let Err(e) = self
            .keys
            .reload(&self.db, now, self.settings.access_token_ttl)
            .await
        {
            warn!(error = %e, "could not reload signing keys");
        }
        self.keys.snapshot().get(kid).cloned()
    }
}
