//! All sea-orm queries, one module per aggregate. Functions take
//! `&impl ConnectionTrait` so they run on a connection or in a transaction.

pub mod api_keys;
pub mod changes;
pub mod clients;
pub mod codes;
pub mod consents;
pub mod known_devices;
pub mod leases;
pub mod login_throttle;
pub mod posts;
pub mod refresh_tokens;
pub mod revocations;
pub mod sessions;
pub mod signing_keys;
pub mod users;

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, SqlErr};

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

/// Deletes up to `limit` rows of `E` matching `cond`, selected by their key
/// column; returns how many. One bounded statement, so housekeeping never
/// holds the database for long.
pub(crate) async fn delete_batch<E: EntityTrait>(
    db: &impl ConnectionTrait,
    key: E::Column,
    cond: Condition,
    limit: u64,
) -> Result<u64, DbErr> {
    let batch = Query::select()
        .column(key)
        .from(E::default())
        .cond_where(cond)
        .limit(limit)
        .to_owned();
    let result = E::delete_many()
        .filter(key.in_subquery(batch))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
