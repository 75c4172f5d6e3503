//! All sea-orm queries, one module per aggregate. Functions take
//! `&impl ConnectionTrait` so they run on a connection or in a transaction.

pub mod api_keys;
pub mod clients;
pub mod codes;
pub mod consents;
pub mod known_devices;
pub mod login_throttle;
pub mod posts;
pub mod refresh_tokens;
pub mod revocations;
pub mod sessions;
pub mod signing_keys;
pub mod users;

use sea_orm::{DbErr, SqlErr};

/// Turns a unique-constraint violation into a caller's error at the call site.
pub trait DbErrExt {
    fn is_unique_violation(&self) -> bool;
}

impl DbErrExt for DbErr {
    fn is_unique_violation(&self) -> bool {
        matches!(self.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
    }
}

/// Splits a stored space-delimited list.
pub fn split_list(stored: &str) -> Vec<String> {
    stored
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
