//! Failed password attempts by key (see `web::throttle`).

use chrono::{DateTime, Utc};
use entity::login_throttle;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

pub async fn find(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<login_throttle::Model>, DbErr> {
    login_throttle::Entity::find_by_id(key.to_owned())
        .one(db)
        .await
}

/// Writes the key's count and lock as computed by the caller.
pub async fn save(db: &impl ConnectionTrait, row: login_throttle::Model) -> Result<(), DbErr> {
    login_throttle::Entity::insert(login_throttle::ActiveModel {
        key: Set(row.key),
        failures: Set(row.failures),
        last_failure_at: Set(row.last_failure_at),
        locked_until: Set(row.locked_until),
    })
    .on_conflict(
        OnConflict::column(login_throttle::Column::Key)
            .update_columns([
                login_throttle::Column::Failures,
                login_throttle::Column::LastFailureAt,
                login_throttle::Column::LockedUntil,
            ])
            .to_owned(),
    )
    .exec(db)
    .await
    .map(|_| ())
}

/// Forgets the key's failures (a correct password).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    login_throttle::Entity::delete_by_id(key.to_owned())
        .exec(db)
        .await
        .map(|_| ())
}

/// The time of the key's lock, if it is locked at `now`.
pub fn locked_at(row: &login_throttle::Model, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    row.locked_until.filter(|until| *until > now)
}
