//! Login throttling, as Keycloak's brute-force detection does it: failed
//! password attempts are counted per account and per client address, in
//! the database so that every instance sees the same counts. After
//! `login_max_failures` failures in a row an account is locked for
//! `login_lockout`, doubling with each further failure up to
//! `login_lockout_max`; a client address gets four times the failures. A
//! lock always expires, so an attacker cannot lock a person out for good,
//! and a correct password clears the account's count. The typed username
//! is the account key whether or not such a user exists, so unknown and
//! known names are answered alike. A browser the person signed in from
//! before (a device cookie) is not held by the account's lock, only by its
//! address's: someone else's guesses do not keep the person out.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{login_throttle, user};
use poem::web::cookie::CookieJar;
use sea_orm::DbErr;
use tracing::warn;
use uuid::Uuid;

use super::cookies::{self, CookieName};
use crate::metrics::SecurityEvent;
use crate::secrets::{TokenKind, generate_token, lookup_hash};
use crate::state::AppState;
use crate::store;

/// A client address may fail this many times more often than one account:
/// one person mistyping on several accounts is not an attack.
const ADDRESS_FACTOR: usize = 4;
/// Failures older than this no longer count.
const FORGET_AFTER: TimeDelta = TimeDelta::hours(12);
/// How long a browser stays recognised without signing in again.
const DEVICE_COOKIE_LIFETIME: TimeDelta = TimeDelta::days(180);
/// Account keys are cut to this length (usernames are at most 32).
const MAX_ACCOUNT_KEY: usize = 64;

/// One password attempt: who for, and from where.
pub struct Attempt {
    account: String,
    address: String,
}

impl Attempt {
    pub fn new(username: &str, address: Option<IpAddr>) -> Self {
        let name: String = username
            .to_ascii_lowercase()
            .chars()
            .take(MAX_ACCOUNT_KEY)
            .collect();
        let address = address.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        Self {
            account: format!("account:{name}"),
            address: format!("address:{address}"),
        }
    }

    fn keys(&self, state: &AppState) -> [(&str, usize); 2] {
        let max = state.settings.login_max_failures;
        [
            (self.account.as_str(), max),
            (self.address.as_str(), max.saturating_mul(ADDRESS_FACTOR)),
        ]
    }
}

/// Until when the attempt must wait, if its account (unless it comes from
/// a `known_device`) or its address is locked.
pub async fn locked_until(
    state: &AppState,
    attempt: &Attempt,
    known_device: bool,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let now = state.clock.now();
    let mut until = None;
    for (key, _) in attempt.keys(state) {
        if known_device && key == attempt.account {
            continue;
        }
        if let Some(row) = store::login_throttle::find(&state.db, key).await? {
            until = until.max(store::login_throttle::locked_at(&row, now));
        }
    }
    if until.is_some() {
        state
            .metrics
            .security_event(SecurityEvent::LoginRefusedWhileLocked);
    }
    Ok(until)
}

/// Counts a wrong password against the account and the address, locking
/// either once it has failed too often.
pub async fn failed(state: &AppState, attempt: &Attempt) -> Result<(), DbErr> {
    let now = state.clock.now();
    state.metrics.security_event(SecurityEvent::LoginFailed);
    for (key, max_failures) in attempt.keys(state) {
        let previous = store::login_throttle::find(&state.db, key).await?;
        let failures = match previous {
            Some(row) if now - row.last_failure_at < FORGET_AFTER => row.failures.saturating_add(1),
            _ => 1,
        };
        let over = usize::try_from(failures)
            .unwrap_or(0)
            .checked_sub(max_failures);
        let locked_until = over.map(|n| now + lockout(state, n));
        store::login_throttle::save(
            &state.db,
            login_throttle::Model {
                key: key.to_owned(),
                failures,
                last_failure_at: now,
                locked_until,
            },
        )
        .await?;
        if let Some(until) = locked_until {
            // The key names the account or address; never the password.
            warn!(
                event = SecurityEvent::LoginLockout.as_str(),
                key,
                failures,
                locked_until = %until,
                "login locked after repeated failures"
            );
            state.metrics.security_event(SecurityEvent::LoginLockout);
        }
    }
    Ok(())
}

/// A correct password: the account's failures are forgotten. The address
/// keeps its count, or an attacker could clear it with an account of
/// their own.
pub async fn succeeded(state: &AppState, attempt: &Attempt) -> Result<(), DbErr> {
    state.metrics.security_event(SecurityEvent::LoginSucceeded);
    store::login_throttle::clear(&state.db, &attempt.account).await
}

/// Whether the browser's device cookie names a browser `user` signed in
/// from before.
pub async fn is_known_device(
    state: &AppState,
    jar: &CookieJar,
    user: Option<&user::Model>,
) -> Result<bool, DbErr> {
    let (Some(user), Some(cookie)) = (user, cookies::get(&state.settings, jar, CookieName::Device))
    else {
        return Ok(false);
    };
    let device = store::known_devices::find(&state.db, &lookup_hash(cookie.value_str())).await?;
    Ok(device.is_some_and(|d| d.user_id == user.id))
}

/// After a sign-in: this browser is recognised next time. `known` is what
/// [`is_known_device`] said for this user: its cookie is then seen again,
/// otherwise it gets a new one.
pub async fn remember_device(
    state: &AppState,
    jar: &CookieJar,
    user_id: Uuid,
    known: bool,
) -> Result<(), DbErr> {
    let now = state.clock.now();
    let cookie = cookies::get(&state.settings, jar, CookieName::Device);
    if let (true, Some(cookie)) = (known, cookie) {
        let hash = lookup_hash(cookie.value_str());
        return store::known_devices::touch(&state.db, &hash, now).await;
    }
    let token = generate_token(TokenKind::Session);
    store::known_devices::insert(&state.db, lookup_hash(token.secret()), user_id, now).await?;
    jar.add(cookies::new_cookie(
        &state.settings,
        CookieName::Device,
        token.secret(),
        DEVICE_COOKIE_LIFETIME,
    ));
    Ok(())
}

/// `login_lockout` doubled `over` times, at most `login_lockout_max`.
fn lockout(state: &AppState, over: usize) -> TimeDelta {
    let (base, max) = (
        state.settings.login_lockout,
        state.settings.login_lockout_max,
    );
    let factor = 1_i32 << over.min(20);
    base.checked_mul(factor).map_or(max, |d| d.min(max))
}

/// Seconds until `until`, rounded up, for `Retry-After`.
pub fn retry_after(state: &AppState, until: DateTime<Utc>) -> i64 {
    let left = until - state.clock.now();
    (left.num_milliseconds().max(0) + 999) / 1000
}
