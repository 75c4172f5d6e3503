//! What a person has allowed and where they are signed in: the lists the
//! account page, the admin API and the command line show, and taking one
//! item back.

use chrono::{DateTime, Utc};
use entity::browser_session;
use uuid::Uuid;

use super::ManageError;
use super::revocation::{self, Effects};
use crate::domain::ScopeSet;
use crate::metrics::SecurityEvent;
use crate::store;

/// An app the person consented to.
#[derive(Clone, Debug)]
pub struct ConnectedApp {
    pub client_id: String,
    pub client_name: String,
    pub scopes: ScopeSet,
    pub granted_at: DateTime<Utc>,
    /// The last code or refresh token issued to it for this person, if the
    /// server still has a record of one.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The apps the user consented to, newest consent first.
pub async fn connected_apps(
    fx: &Effects<'_>,
    user_id: Uuid,
) -> Result<Vec<ConnectedApp>, ManageError> {
    let mut apps = Vec::new();
    for consent in store::consents::of_user(fx.db, user_id).await? {
        // A client deleted since takes its consents along; a row that no
        // longer parses is shown with what can be read of it.
        let client_name = store::clients::find(fx.db, &consent.client_id)
            .await?
            .map_or_else(|| consent.client_id.clone(), |c| c.name);
        let refreshed =
            store::refresh_tokens::last_issued(fx.db, user_id, &consent.client_id).await?;
        let signed_in = store::codes::last_issued(fx.db, user_id, &consent.client_id).await?;
        apps.push(ConnectedApp {
            scopes: ScopeSet::parse(&consent.scopes).unwrap_or_default(),
            client_id: consent.client_id,
            client_name,
            granted_at: consent.granted_at,
            last_used_at: refreshed.max(signed_in),
        });
    }
    Ok(apps)
}

/// Takes back what the user allowed the app (see
/// [`revocation::revoke_consent`]).
pub async fn revoke_app(
    fx: &Effects<'_>,
    user_id: Uuid,
    client_id: &str,
) -> Result<(), ManageError> {
    if !revocation::revoke_consent(fx, user_id, client_id).await? {
        return Err(ManageError::UnknownConsent(client_id.to_owned()));
    }
    let event = match fx.actor {
        revocation::Actor::User(_) => SecurityEvent::AppRevoked,
        _ => SecurityEvent::AdminAction,
    };
    fx.audit(
        event,
        "consent.revoke",
        &format!("user {user_id}, client {client_id}"),
    );
    Ok(())
}

/// The user's live browser sessions, most recently seen first.
pub async fn sessions(
    fx: &Effects<'_>,
    user_id: Uuid,
) -> Result<Vec<browser_session::Model>, ManageError> {
    Ok(store::sessions::of_user(fx.db, user_id, fx.now).await?)
}

/// Ends the user's session with this public id (`sid`).
pub async fn end_session(fx: &Effects<'_>, user_id: Uuid, sid: &str) -> Result<(), ManageError> {
    let session = store::sessions::of_user(fx.db, user_id, fx.now)
        .await?
        .into_iter()
        .find(|s| s.sid == sid)
        .ok_or_else(|| ManageError::UnknownSession(sid.to_owned()))?;
    revocation::end_session(fx, session).await?;
    let event = match fx.actor {
        revocation::Actor::User(_) => SecurityEvent::SessionRevoked,
        _ => SecurityEvent::AdminAction,
    };
    fx.audit(
        event,
        "session.revoke",
        &format!("user {user_id}, session {sid}"),
    );
    Ok(())
}

/// Ends every live session of the user but `except` (an id hash).
pub async fn end_all_sessions(
    fx: &Effects<'_>,
    user_id: Uuid,
    except: Option<&str>,
) -> Result<usize, ManageError> {
    let ended = revocation::end_sessions_of_user(fx, user_id, except).await?;
    let event = match fx.actor {
        revocation::Actor::User(_) => SecurityEvent::SessionRevoked,
        _ => SecurityEvent::AdminAction,
    };
    fx.audit(event, "session.revoke_all", &format!("user {user_id}"));
    Ok(ended)
}
