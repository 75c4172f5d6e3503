//! The JWT signing keys (`secrets::signing_keys` decides what to store).

use chrono::{DateTime, Utc};
use entity::signing_key;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// How many keys are current (not retired): one per kind, except on a
/// fresh database.
pub async fn count_current(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    signing_key::Entity::find()
        .filter(signing_key::Column::RetiredAt.is_null())
        .count(db)
        .await
}

/// The algorithm of each current key, sorted (a kind twice if it has two).
pub async fn current_algorithms(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    signing_key::Entity::find()
        .select_only()
        .column(signing_key::Column::Algorithm)
        .filter(signing_key::Column::RetiredAt.is_null())
        .order_by_asc(signing_key::Column::Algorithm)
        .into_tuple()
        .all(db)
        .await
}

/// Retires every current key, of every kind, as of `now`.
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

/// What an erased private half is stored as (the column is NOT NULL).
const ERASED: &str = "";

/// Whether the key's private half was erased (it can verify nothing and
/// sign nothing: it is retired and past its tokens' lifetime).
pub fn is_erased(key: &signing_key::Model) -> bool {
    key.private_key == ERASED
}

/// Replaces the stored private key of `kid` (to encrypt it).
pub async fn set_private_key(
    db: &impl ConnectionTrait,
    kid: &str,
    private_key: &str,
) -> Result<(), DbErr> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::PrivateKey, Expr::value(private_key))
        .filter(signing_key::Column::Kid.eq(kid))
        .exec(db)
        .await
        .map(|_| ())
}

/// Erases the private halves of keys retired at or before `cutoff`;
/// returns how many it erased.
pub async fn erase_private_keys_retired_by(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = signing_key::Entity::update_many()
        .col_expr(signing_key::Column::PrivateKey, Expr::value(ERASED))
        .filter(signing_key::Column::RetiredAt.lte(cutoff))
        .filter(signing_key::Column::PrivateKey.ne(ERASED))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Every key, newest first (ties broken by `kid`, so the order is stable).
pub async fn all_newest_first(db: &impl ConnectionTrait) -> Result<Vec<signing_key::Model>, DbErr> {
    signing_key::Entity::find()
        .order_by_desc(signing_key::Column::CreatedAt)
        .order_by_desc(signing_key::Column::Kid)
        .all(db)
        .await
}
