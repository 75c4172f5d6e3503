//! The JWT signing keys (`secrets::signing_keys` decides what to store).

use chrono::{DateTime, Utc};
use entity::signing_key;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

/// How many keys are current (not retired); one, except on a fresh database.
pub async fn count_current(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    signing_key::Entity::find()
        .filter(signing_key::Column::RetiredAt.is_null())
        .count(db)
        .await
}

/// Retires every current key as of `now`.
pub async fn retire_current(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let result = signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
        .filter(signing_key::Column::RetiredAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

pub async fn insert(
    db: &impl ConnectionTrait,
    key: signing_key::Model,
) -> Result<signing_key::Model, DbErr> {
    signing_key::ActiveModel {
        kid: Set(key.kid),
        algorithm: Set(key.algorithm),
        private_key: Set(key.private_key),
        public_key: Set(key.public_key),
        created_at: Set(key.created_at),
        retired_at: Set(key.retired_at),
    }
    .insert(db)
    .await
}

/// Every key, newest first (ties broken by `kid`, so the order is stable).
pub async fn all_newest_first(db: &impl ConnectionTrait) -> Result<Vec<signing_key::Model>, DbErr> {
    signing_key::Entity::find()
        .order_by_desc(signing_key::Column::CreatedAt)
        .order_by_desc(signing_key::Column::Kid)
        .all(db)
        .await
}
