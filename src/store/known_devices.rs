//! Browsers users have signed in from (see `web::throttle`).

use chrono::{DateTime, Utc};
use entity::known_device;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use uuid::Uuid;

/// A user keeps at most this many recognised browsers; older ones are
/// forgotten, so the table cannot grow without bound.
const MAX_PER_USER: usize = 20;

pub async fn find(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<known_device::Model>, DbErr> {
    known_device::Entity::find_by_id(token_hash.to_owned())
        .one(db)
        .await
}

/// Records a new browser for `user_id`, forgetting the oldest beyond
/// [`MAX_PER_USER`].
pub async fn insert(
    db: &impl ConnectionTrait,
    token_hash: String,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    known_device::ActiveModel {
        token_hash: Set(token_hash),
        user_id: Set(user_id),
        created_at: Set(now),
        last_seen_at: Set(now),
    }
    .insert(db)
    .await?;
    // Capped at every insert, so this reads at most MAX_PER_USER + 1 rows.
    let stale: Vec<String> = known_device::Entity::find()
        .filter(known_device::Column::UserId.eq(user_id))
        .order_by_desc(known_device::Column::LastSeenAt)
        .all(db)
        .await?
        .into_iter()
        .skip(MAX_PER_USER)
        .map(|d| d.token_hash)
        .collect();
    if !stale.is_empty() {
        known_device::Entity::delete_many()
            .filter(known_device::Column::TokenHash.is_in(stale))
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn touch(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    known_device::Entity::update_many()
        .col_expr(
            known_device::Column::LastSeenAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(known_device::Column::TokenHash.eq(token_hash))
        .exec(db)
        .await
        .map(|_| ())
}
