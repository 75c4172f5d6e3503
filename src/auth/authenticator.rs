//! What verifying a caller needs, in one place. `AppState` holds one; auth
//! never sees `AppState`, so the dependency runs one way.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tracing::warn;

use super::access_token::{TokenCache, token_cache};
use super::api_key::{ApiKeyCache, api_key_cache};
use super::revocations::Denylist;
use crate::clock::Clock;
use crate::config::Settings;
use crate::secrets::signing_keys::{LoadedKey, SigningKeys};

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
        }
    }

    /// Reloads keys from the database (another instance may have rotated)
    /// and returns the key named `kid` if it now exists; throttled by
    /// [`SigningKeys::reload_for`], so made-up kids cannot hammer the
    /// database.
    pub(super) async fn reload_keys_for(&self, kid: &str) -> Option<Arc<LoadedKey>> {
        let now = self.clock.now();
        self.keys
            .reload_for(kid, &self.db, now, self.settings.access_token_ttl)
            .await
            .unwrap_or_else(|e| {
                warn!(error = %e, "could not reload signing keys");
                None
            })
    }
}
