//! Taking back what was handed out: the grants of a browser session, of a
//! user, of a user's consent to one app. Shared by sign-out, the account
//! page, the admin API and the command line.
//!
//! Order matters against a code redemption racing a revocation: unredeemed
//! codes are expired first, so none can still become tokens; a redemption
//! that got in earlier has inserted its refresh token, which the revoking
//! UPDATE that follows then catches. Access tokens, checked without the
//! database, go through the denylist.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use entity::browser_session;
use sea_orm::{DatabaseConnection, DbErr};
use tracing::warn;
use uuid::Uuid;

use crate::auth::access_token;
use crate::auth::revocations::Cutoff;
use crate::config::Settings;
use crate::domain::Scope;
use crate::metrics::SecurityEvent;
use crate::propagation::Change;
use crate::state::AppState;
use crate::store;

/// Who asks for a change, for the security log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    CommandLine,
    /// A caller of the admin API: a user id or a client id.
    Admin(String),
    /// The person themself, on the account page.
    User(Uuid),
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CommandLine => f.write_str("command-line"),
            Self::Admin(who) => write!(f, "admin:{who}"),
            Self::User(id) => write!(f, "user:{id}"),
        }
    }
}

/// Where an operation's effects go. In a server, revocations reach its
/// in-memory denylist at once, caches are invalidated and sessions' clients
/// hear of their end (Back-Channel Logout). From the command line there is
/// only the database: running servers pick revocations up at their next
/// poll (a second), and cached clients within their cache's lifetime.
pub struct Effects<'a> {
    pub db: &'a DatabaseConnection,
    server: Option<&'a AppState>,
    access_token_ttl: TimeDelta,
    pub now: DateTime<Utc>,
    pub actor: Actor,
}

impl<'a> Effects<'a> {
    pub fn server(state: &'a AppState, actor: Actor) -> Self {
        Self {
            db: &state.db,
            server: Some(state),
            access_token_ttl: state.settings.access_token_ttl,
            now: state.clock.now(),
            actor,
        }
    }

    pub fn offline(db: &'a DatabaseConnection, settings: &Settings, now: DateTime<Utc>) -> Self {
        Self {
            db,
            server: None,
            access_token_ttl: settings.access_token_ttl,
            now,
            actor: Actor::CommandLine,
        }
    }

    /// The server's state, when these effects run in one.
    pub fn state(&self) -> Option<&'a AppState> {
        self.server
    }

    /// Until when a denylist entry made now must last: past the expiry of
    /// every access token issued before it.
    fn denylist_until(&self) -> DateTime<Utc> {
        access_token::accepted_until(self.now, self.access_token_ttl)
    }

    /// Denylists one grant's access tokens.
    pub async fn revoke_grant_tokens(&self, grant_id: Uuid) -> Result<(), DbErr> {
        let (target, until) = (grant_id.to_string(), self.denylist_until());
        match self.server {
            Some(state) => {
                state
                    .denylist
                    .revoke(self.db, &target, until, self.now)
                    .await
            }
            None => store::revocations::insert(self.db, &target, until, self.now)
                .await
                .map(|_| ()),
        }
    }

    /// Refuses every access token issued to `cutoff`'s subject until now.
    pub async fn cut_off(&self, cutoff: Cutoff<'_>) -> Result<(), DbErr> {
        let until = self.denylist_until();
        match self.server {
            Some(state) => {
                state
                    .denylist
                    .cut_off(self.db, cutoff, until, self.now)
                    .await
            }
            None => store::revocations::upsert(self.db, &cutoff.target(), until, self.now).await,
        }
    }

    /// Records `change` for the other instances and, in a server, drops
    /// what it made stale here at once.
    pub async fn changed(&self, change: Change<'_>) -> Result<(), DbErr> {
        change.record(self.db, self.now).await?;
        if let Some(state) = self.server
            && state.forget(&change.read_back())
        {
            state.refresh_keys().await;
        }
        Ok(())
    }

    /// Logs a security event (and counts it, in a server). `target` names
    /// what was acted on: ids and names, never a secret.
    pub fn audit(&self, event: SecurityEvent, action: &str, target: &str) {
        warn!(
            event = event.as_str(),
            actor = %self.actor,
            action,
            target,
            "security event"
        );
        if let Some(state) = self.server {
            state.metrics.security_event(event);
        }
    }
}

/// Revokes the grants made under the browser session with this id hash,
/// but for those holding `offline_access`. RFC 9700 §4.14.2:
/// "Authorization servers MAY revoke refresh tokens automatically in case
/// of a security event, such as: password change; logout at the
/// authorization server." Its refresh tokens go in one statement, its
/// access tokens through the denylist, one entry per grant (a session has
/// a few). Returns how many grants it revoked.
pub async fn revoke_session_grants(fx: &Effects<'_>, session_hash: &str) -> Result<usize, DbErr> {
    let db = fx.db;
    store::codes::expire_session(db, session_hash, fx.now).await?;
    let mut grants = store::refresh_tokens::live_grants_of_session(db, session_hash).await?;
    grants.extend(store::codes::redeemed_grants_of_session(db, session_hash).await?);
    // OIDC Core §11: offline access is for "when the End-User is not
    // present (not logged in)", so such a grant outlives the session.
    let offline: BTreeSet<Uuid> = grants
        .iter()
        .filter(|(_, scopes)| holds_offline_access(scopes))
        .map(|(grant_id, _)| *grant_id)
        .collect();
    let revoked: BTreeSet<Uuid> = grants
        .into_iter()
        .map(|(grant_id, _)| grant_id)
        .filter(|grant_id| !offline.contains(grant_id))
        .collect();
    let keep: Vec<Uuid> = offline.into_iter().collect();
    store::refresh_tokens::revoke_session(db, session_hash, &keep, fx.now).await?;
    for grant_id in &revoked {
        fx.revoke_grant_tokens(*grant_id).await?;
    }
    Ok(revoked.len())
}

/// Whether a stored, space-delimited scope list holds `offline_access`.
/// Read as words rather than parsed, so that a scope retired since cannot
/// make a stored list unreadable.
fn holds_offline_access(scopes: &str) -> bool {
    scopes
        .split(' ')
        .any(|s| s == Scope::OfflineAccess.as_str())
}

/// Ends a browser session: revokes its grants (revocation first: if it
/// fails, the session stays and can be ended again), deletes it and tells
/// its clients. Returns how many grants it revoked. The caller clears the
/// cookie when the session is the requester's own.
pub async fn end_session(
    fx: &Effects<'_>,
    session: browser_session::Model,
) -> Result<usize, DbErr> {
    let grants = revoke_session_grants(fx, &session.id_hash).await?;
    // Read before the delete: the rows naming its clients go with it.
    let ended = match fx.server {
        Some(state) => Some(state.backchannel.session_ending(&session).await?),
        None => None,
    };
    store::sessions::delete(fx.db, session).await?;
    if let (Some(state), Some(ended)) = (fx.server, ended) {
        state.backchannel.notify(ended);
    }
    Ok(grants)
}

/// Ends every live session of the user but `except` (an id hash); returns
/// how many it ended.
pub async fn end_sessions_of_user(
    fx: &Effects<'_>,
    user_id: Uuid,
    except: Option<&str>,
) -> Result<usize, DbErr> {
    let sessions = store::sessions::of_user(fx.db, user_id, fx.now).await?;
    let mut ended = 0;
    for session in sessions {
        if except == Some(session.id_hash.as_str()) {
            continue;
        }
        end_session(fx, session).await?;
        ended += 1;
    }
    Ok(ended)
}

/// Takes back everything the user allowed `client_id`: its unredeemed
/// codes, its refresh tokens, its access tokens (a denylist cutoff) and
/// the consent itself, so the app must ask again. `true` when there was a
/// consent to drop.
pub async fn revoke_consent(
    fx: &Effects<'_>,
    user_id: Uuid,
    client_id: &str,
) -> Result<bool, DbErr> {
    store::codes::expire_of_user(fx.db, user_id, Some(client_id), fx.now).await?;
    store::refresh_tokens::revoke_of_user(fx.db, user_id, Some(client_id), fx.now).await?;
    let user = user_id.to_string();
    fx.cut_off(Cutoff::Consent {
        user: &user,
        client: client_id,
    })
    .await?;
    let dropped = store::consents::delete(fx.db, user_id, client_id).await?;
    fx.changed(Change::Consent {
        user: user_id,
        client: client_id,
    })
    .await?;
    Ok(dropped)
}

/// Takes back everything handed to the user: codes, refresh tokens of
/// every client, and (by a cutoff) every access token and cached API key.
/// Their sessions are ended separately, so that their clients hear of it.
pub async fn cut_off_user(fx: &Effects<'_>, user_id: Uuid) -> Result<(), DbErr> {
    store::codes::expire_of_user(fx.db, user_id, None, fx.now).await?;
    store::refresh_tokens::revoke_of_user(fx.db, user_id, None, fx.now).await?;
    fx.cut_off(Cutoff::User(&user_id.to_string())).await
}

/// Refuses every token issued to the client until now; its refresh tokens
/// and codes are deleted with it.
pub async fn cut_off_client(fx: &Effects<'_>, client_id: &str) -> Result<(), DbErr> {
    fx.cut_off(Cutoff::Client(client_id)).await?;
    fx.changed(Change::Client(client_id)).await
}

/// Revokes the user's grants that were not made under `session_hash`:
/// their refresh tokens, and the access tokens of those grants.
pub async fn revoke_grants_of_user_outside_session(
    fx: &Effects<'_>,
    user_id: Uuid,
    session_hash: &str,
) -> Result<usize, DbErr> {
    let grants =
        store::refresh_tokens::live_grants_of_user_outside(fx.db, user_id, session_hash).await?;
    store::refresh_tokens::revoke_of_user_outside(fx.db, user_id, session_hash, fx.now).await?;
    for grant_id in &grants {
        fx.revoke_grant_tokens(*grant_id).await?;
    }
    Ok(grants.len())
}
