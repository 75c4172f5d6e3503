//! Server-side browser sessions: the cookie holds 256 random bits; the
//! database holds their SHA-256, the user and the session's CSRF token.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entity::{browser_session, user};
use poem::web::cookie::CookieJar;
use sea_orm::DbErr;
use subtle::ConstantTimeEq;
use tracing::info;
use uuid::Uuid;

use super::cookies::{self, CookieName};
use crate::auth::access_token;
use crate::domain::Scope;
use crate::secrets::{TokenKind, generate_token, lookup_hash};
use crate::state::AppState;
use crate::store;

pub struct Session {
    pub record: browser_session::Model,
    pub user: user::Model,
}

impl Session {
    /// Compares a submitted CSRF token with the session's, in constant time.
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        self.record
            .csrf_token
            .as_bytes()
            .ct_eq(submitted.as_bytes())
            .into()
    }
}

/// The live session named by the request's cookie, if any.
pub async fn current(state: &AppState, jar: &CookieJar) -> Result<Option<Session>, DbErr> {
    let Some(cookie) = cookies::get(&state.settings, jar, CookieName::Session) else {
        return Ok(None);
    };
    let Some((record, user)) =
        store::sessions::find(&state.db, &lookup_hash(cookie.value_str())).await?
    else {
        return Ok(None);
    };
    if record.expires_at <= state.clock.now() {
        store::sessions::delete(&state.db, record).await?;
        return Ok(None);
    }
    Ok(Some(Session { record, user }))
}

/// Signs `user` in at `now`. If the browser's live session is already
/// theirs, this is a re-authentication (OIDC Core §3.1.2.1, `prompt=login`
/// or `max_age`): the session stays, with its cookie and `sid`, and only
/// its `auth_time` moves. Keeping the id is no fixation risk, as the id
/// was already signed in as this very user. Anyone else gets a new
/// session.
pub async fn sign_in(
    state: &AppState,
    jar: &CookieJar,
    user: user::Model,
    now: DateTime<Utc>,
) -> Result<Session, DbErr> {
    match current(state, jar).await? {
        Some(mut same) if same.user.id == user.id => {
            store::sessions::set_auth_time(&state.db, &same.record.id_hash, now).await?;
            same.record.auth_time = now;
            same.user = user;
            Ok(same)
        }
        Some(other) => {
            // Another person signing in on this browser ends the first
            // one's session: its clients hear so (Back-Channel Logout 1.0
            // §2). Read before the delete, which takes the rows with it.
            let ended = state.backchannel.session_ending(&other.record).await?;
            store::sessions::delete(&state.db, other.record).await?;
            let session = start(state, jar, user, now).await?;
            state.backchannel.notify(ended);
            Ok(session)
        }
        None => start(state, jar, user, now).await,
    }
}

/// Starts a session for `user` with a fresh id (never reusing one the
/// browser brought, which would allow session fixation) and sets the cookie.
async fn start(
    state: &AppState,
    jar: &CookieJar,
    user: user::Model,
    now: DateTime<Utc>,
) -> Result<Session, DbErr> {
    let id = generate_token(TokenKind::Session);
    let ttl = state.settings.session_ttl;
    let record = browser_session::Model {
        id_hash: lookup_hash(id.secret()),
        user_id: user.id,
        csrf_token: generate_token(TokenKind::Session).secret().to_owned(),
        created_at: now,
        expires_at: now + ttl,
        sid: Uuid::new_v4().simple().to_string(),
        auth_time: now,
    };
    store::sessions::insert(&state.db, record.clone()).await?;
    jar.add(cookies::new_cookie(
        &state.settings,
        CookieName::Session,
        id.secret(),
        ttl,
    ));
    Ok(Session { record, user })
}

/// Ends the session, revoking the grants made under it, clears the cookie
/// and tells the session's clients (Back-Channel Logout 1.0). Revocation
/// comes first: if it fails, the session stays and the person can try
/// again. (An expired session is only deleted, in [`current`] and by
/// housekeeping: its grants outlive it.)
pub async fn end(state: &AppState, jar: &CookieJar, session: Session) -> Result<(), DbErr> {
    let grants = revoke_grants(state, &session.record.id_hash, state.clock.now()).await?;
    info!(user_id = %session.user.id, grants, "session ended; its grants revoked");
    // Read before the delete: the rows naming its clients go with it.
    let ended = state.backchannel.session_ending(&session.record).await?;
    store::sessions::delete(&state.db, session.record).await?;
    cookies::remove(&state.settings, jar, CookieName::Session);
    state.backchannel.notify(ended);
    Ok(())
}

/// Revokes the grants made under the browser session with this id hash,
/// but for those holding `offline_access`. RFC 9700 §4.14.2:
/// "Authorization servers MAY revoke refresh tokens automatically in case
/// of a security event, such as: password change; logout at the
/// authorization server." Its refresh tokens go in one statement, its
/// access tokens through the denylist, one entry per grant (a session has
/// a few), the entry `oauth::issue::revoke_grant` makes on a replay. Its
/// unredeemed codes are expired first, all of them, so none can still
/// become tokens: a redemption racing this either inserts its refresh
/// token before the revoking UPDATE, or finds its code expired when it
/// tries to spend it, and then revokes its own grant. Returns how many
/// grants it revoked.
pub async fn revoke_grants(
    state: &AppState,
    session_hash: &str,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let db = &state.db;
    store::codes::expire_session(db, session_hash, now).await?;
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
    store::refresh_tokens::revoke_session(db, session_hash, &keep, now).await?;
    // No access token of these grants outlives this.
    let until = access_token::accepted_until(now, state.settings.access_token_ttl);
    for grant_id in &revoked {
        state
            .denylist
            .revoke(db, &grant_id.to_string(), until, now)
            .await?;
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

/// The login form's CSRF token: reuses the browser's cookie if it has one,
/// else sets a new one. The form must echo it (double submit).
pub fn login_csrf(state: &AppState, jar: &CookieJar) -> String {
    if let Some(c) = cookies::get(&state.settings, jar, CookieName::LoginCsrf)
        && c.value_str().len() >= 32
    {
        return c.value_str().to_owned();
    }
    let token = generate_token(TokenKind::Session).secret().to_owned();
    jar.add(cookies::new_cookie(
        &state.settings,
        CookieName::LoginCsrf,
        &token,
        state.settings.session_ttl,
    ));
    token
}

/// Whether the submitted login CSRF token equals the cookie's.
pub fn login_csrf_matches(state: &AppState, jar: &CookieJar, submitted: &str) -> bool {
    match cookies::get(&state.settings, jar, CookieName::LoginCsrf) {
        Some(c) if !submitted.is_empty() => {
            c.value_str().as_bytes().ct_eq(submitted.as_bytes()).into()
        }
        _ => false,
    }
}
