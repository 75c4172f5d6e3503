//! `X-API-Key` authentication.
//!
//! Keys are read from the database once and then served from memory for
//! up to [`CACHE_TTL`]: a read API at tens of thousands of requests a
//! second cannot afford a round trip each. Revocation goes through the
//! denylist (`auth::revocations`), so it takes effect at once on the
//! instance that made it and within a second on the others, like access
//! token revocation.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{debug, warn};
use uuid::Uuid;

use super::revocations::Cutoff;
use super::{AuthError, Authenticator, Principal, Subject};
use crate::cache::TtlCache;
use crate::domain::ScopeSet;
use crate::secrets::{lookup_hash, lookup_hash_matches};
use crate::store;

/// `last_used_at` is written at most this often per key, so that a busy key
/// does not turn every read into a write.
const LAST_USED_GRANULARITY_S: i64 = 60;
/// Bounds how stale a cached key may get if denylist sync ever fails.
const CACHE_TTL: Duration = Duration::from_secs(30);

/// What a request needs of a key, read once.
pub struct CachedKey {
    id: Uuid,
    key_hash: String,
    owner_id: Uuid,
    /// `owner_id` as text, the denylist's key for the owner's cutoff.
    owner_sub: String,
    owner: String,
    owner_disabled: bool,
    /// Unix milliseconds when this was read from the database.
    loaded_ms: i64,
    scopes: ScopeSet,
    expires_at: Option<DateTime<Utc>>,
    revoked: bool,
    /// The denylist entry that revokes this key.
    denylist_target: String,
    /// Unix seconds of the last `last_used_at` write.
    last_used_s: AtomicI64,
}

pub type ApiKeyCache = TtlCache<CachedKey>;

pub fn api_key_cache() -> ApiKeyCache {
    TtlCache::new(CACHE_TTL, 16_384)
}

/// Resolves an `X-API-Key` value to its owner's principal.
pub async fn authenticate(auth: &Authenticator, presented: &str) -> Result<Principal, AuthError> {
    let hash = lookup_hash(presented);
    let key = match auth.api_keys.get(&hash) {
        Some(key) => key,
        None => {
            let key = load(auth, &hash).await?;
            auth.api_keys.insert(&hash, key.clone());
            key
        }
    };
    // The lookup was by hash; compare again in constant time so that the
    // decision never rests on a database collation or a map's equality.
    if !lookup_hash_matches(presented, &key.key_hash) {
        return Err(AuthError::InvalidToken("unknown API key"));
    }
    let now = auth.clock.now();
    if key.revoked || auth.denylist.is_revoked(&key.denylist_target) {
        debug!(key_id = %key.id, "api key rejected: revoked");
        return Err(AuthError::InvalidToken("the API key has been revoked"));
    }
    // A cutoff made after the key was read means the owner was disabled
    // or deleted since (perhaps at another instance).
    let owner_cut_off = auth
        .denylist
        .cutoff_of(Cutoff::User(&key.owner_sub))
        .is_some_and(|at| at >= key.loaded_ms);
    if key.owner_disabled || owner_cut_off {
        debug!(key_id = %key.id, "api key rejected: owner disabled");
        return Err(AuthError::InvalidToken("the API key's owner is disabled"));
    }
    if key.expires_at.is_some_and(|at| at <= now) {
        debug!(key_id = %key.id, "api key rejected: expired");
        return Err(AuthError::InvalidToken("the API key has expired"));
    }
    record_use(auth, &key, now);
    Ok(Principal {
        subject: Subject::User {
            id: key.owner_id,
            username: key.owner.clone(),
        },
        scopes: key.scopes.clone(),
    })
}

async fn load(auth: &Authenticator, hash: &str) -> Result<Arc<CachedKey>, AuthError> {
    let Some((key, owner)) = store::api_keys::find_by_hash(&auth.db, hash).await? else {
        debug!("api key rejected: unknown");
        return Err(AuthError::InvalidToken("unknown API key"));
    };
    let scopes = ScopeSet::parse(&key.scopes).map_err(|e| {
        AuthError::Internal(anyhow::anyhow!(
            "stored scopes of key {} unreadable: {e}",
            key.id
        ))
    })?;
    Ok(Arc::new(CachedKey {
        id: key.id,
        key_hash: key.key_hash,
        owner_id: owner.id,
        owner_sub: owner.id.to_string(),
        owner: owner.username,
        owner_disabled: owner.disabled_at.is_some(),
        loaded_ms: auth.clock.now().timestamp_millis(),
        scopes,
        expires_at: key.expires_at,
        revoked: key.revoked_at.is_some(),
        denylist_target: store::revocations::api_key_target(key.id),
        last_used_s: AtomicI64::new(key.last_used_at.map_or(i64::MIN, |t| t.timestamp())),
    }))
}

/// Writes `last_used_at` off the request path, at most once a minute per
/// key (per instance): a failed bookkeeping write must not fail the request.
fn record_use(auth: &Authenticator, key: &CachedKey, now: DateTime<Utc>) {
    let now_s = now.timestamp();
    let last = key.last_used_s.load(Ordering::Relaxed);
    if now_s.saturating_sub(last) < LAST_USED_GRANULARITY_S {
        return;
    }
    if key
        .last_used_s
        .compare_exchange(last, now_s, Ordering::Relaxed, Ordering::Relaxed)
        .is_err()
    {
        return; // another request is writing it
    }
    let db = auth.db.clone();
    let id = key.id;
    tokio::spawn(async move {
        if let Err(e) = store::api_keys::touch(&db, id, now).await {
            warn!(key_id = %id, error = %e, "could not record API key use");
        }
    });
}
