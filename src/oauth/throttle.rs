//! Login throttling, as Keycloak's brute-force detection does it: failed
//! password attempts are counted per account and per client address, in
//! the database so that every instance sees the same counts. After
//! `login_max_failures` failures in a row an account is locked for
//! `login_lockout`, doubling with each further failure up to
//! `login_lockout_max`; a client address gets four times the failures. A
//! lock always expires, so an attacker cannot lock a person out for good,
//! and a correct password clears the account's count. The typed username
//! is the account key whether or not such a user exists, so unknown and
//! known names are answered alike.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use entity::login_throttle;
use sea_orm::DbErr;
use tracing::warn;

use crate::metrics::SecurityEvent;
use crate::state::AppState;
use crate::store;

/// A client address may fail this many times more often than one account:
/// one person mistyping on several accounts is not an attack.
const ADDRESS_FACTOR: usize = 4;
/// Failures older than this no longer count.
const FORGET_AFTER: TimeDelta = TimeDelta::hours(12);
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

/// Until when the attempt must wait, if its account or address is locked.
pub async fn locked_until(
    state: &AppState,
    attempt: &Attempt,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let now = state.clock.now();
    let mut until = None;
    for (key, _) in attempt.keys(state) {
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
