//! Server-side browser sessions: the cookie holds 256 random bits; the
//! database holds their SHA-256, the user and the session's CSRF token.

use chrono::{DateTime, Utc};
use entity::{browser_session, user};
use poem::web::cookie::CookieJar;
use sea_orm::DbErr;
use subtle::ConstantTimeEq;
use tracing::info;
use uuid::Uuid;

use super::cookies::{self, CookieName};
use crate::db::readers::inline_or;
use crate::manage::revocation::{self, Actor, Effects};
use crate::secrets::{TokenKind, generate_token, lookup_hash};
use crate::state::AppState;
use crate::store;

/// Enough of a `User-Agent` to tell devices apart on the account page.
const MAX_USER_AGENT_CHARS: usize = 256;

/// `last_seen_at` is written at most this often per session, so that a
/// busy browser does not turn every page into a write.
const LAST_SEEN_GRANULARITY: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

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
    let hash = lookup_hash(cookie.value_str());
    let Some((record, user)) = inline_or(
        state.readers.as_deref(),
        |r| r.session(&hash),
        store::sessions::find(&state.db, &hash),
    )
    .await?
    else {
        return Ok(None);
    };
    let now = state.clock.now();
    if record.expires_at <= now {
        store::sessions::delete(&state.db, record).await?;
        return Ok(None);
    }
    if user.disabled_at.is_some() {
        // Disabling ends sessions; this one raced it.
        return Ok(None);
    }
    if record.last_seen_at < now - LAST_SEEN_GRANULARITY {
        store::sessions::touch(&state.db, &record.id_hash, now).await?;
    }
    // The request log names who is signed in.
    crate::auth::record_principal(&crate::auth::Subject::User {
        id: user.id,
        username: user.username.clone(),
    });
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
    user_agent: Option<&str>,
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
            // one's session as signing out would: its grants are revoked
            // and its clients hear so (Back-Channel Logout 1.0 §2).
            let fx = Effects::server(state, Actor::User(other.user.id));
            revocation::end_session(&fx, other.record).await?;
            start(state, jar, user, user_agent, now).await
        }
        None => start(state, jar, user, user_agent, now).await,
    }
}

/// Starts a session for `user` with a fresh id (never reusing one the
/// browser brought, which would allow session fixation) and sets the cookie.
async fn start(
    state: &AppState,
    jar: &CookieJar,
    user: user::Model,
    user_agent: Option<&str>,
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
        user_agent: user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect()),
        last_seen_at: now,
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

/// Ends the requester's own session (see `manage::revocation::end_session`)
/// and clears the cookie.
pub async fn end(state: &AppState, jar: &CookieJar, session: Session) -> Result<(), DbErr> {
    let user_id = session.user.id;
    let fx = Effects::server(state, Actor::User(user_id));
    let grants = revocation::end_session(&fx, session.record).await?;
    info!(%user_id, grants, "session ended; its grants revoked");
    cookies::remove(&state.settings, jar, CookieName::Session);
    Ok(())
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
