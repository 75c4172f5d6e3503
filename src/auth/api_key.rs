use chrono::TimeDelta;
use tracing::{debug, warn};

use super::{AuthMethod, Principal, Subject};
use crate::api::ApiError;
use crate::domain::ScopeSet;
use crate::secrets::{lookup_hash, lookup_hash_matches};
use crate::state::AppState;
use crate::store;

/// `last_used_at` is written at most this often per key, so that a busy key
/// does not turn every read into a write.
const LAST_USED_GRANULARITY: TimeDelta = TimeDelta::seconds(60);

/// Resolves an `X-API-Key` value to its owner's principal.
pub async fn authenticate(state: &AppState, presented: &str) -> Result<Principal, ApiError> {
    let hash = lookup_hash(presented);
    let Some((key, owner)) = store::api_keys::find_by_hash(&state.db, &hash)
        .await
        .map_err(ApiError::internal)?
    else {
        debug!("api key rejected: unknown");
        return Err(ApiError::invalid_token("unknown API key"));
    };
    // The lookup was by hash; compare again in constant time so that the
    // decision never rests on a database collation or index quirk.
    if !lookup_hash_matches(presented, &key.key_hash) {
        return Err(ApiError::invalid_token("unknown API key"));
    }
    let now = state.clock.now();
    if key.revoked_at.is_some() {
        debug!(key_id = %key.id, "api key rejected: revoked");
        return Err(ApiError::invalid_token("the API key has been revoked"));
    }
    if key.expires_at.is_some_and(|at| at <= now) {
        debug!(key_id = %key.id, "api key rejected: expired");
        return Err(ApiError::invalid_token("the API key has expired"));
    }
    let scopes = ScopeSet::parse(&key.scopes).map_err(|e| {
        ApiError::internal(anyhow::anyhow!(
            "stored scopes of key {} unreadable: {e}",
            key.id
        ))
    })?;

    if key
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USED_GRANULARITY)
    {
        // Off the request path: a failed bookkeeping write must not fail
        // the request it describes.
        let db = state.db.clone();
        let id = key.id;
        tokio::spawn(async move {
            if let Err(e) = store::api_keys::touch(&db, id, now).await {
                warn!(key_id = %id, error = %e, "could not record API key use");
            }
        });
    }

    Ok(Principal {
        subject: Subject::User {
            id: owner.id,
            username: owner.username,
        },
        scopes,
        via: AuthMethod::ApiKey { key_id: key.id },
    })
}
