use chrono::{DateTime, Utc};
use entity::{api_key, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use uuid::Uuid;

use crate::domain::ScopeSet;

pub struct NewApiKey<'a> {
    pub name: &'a str,
    pub user_id: Uuid,
    pub key_hash: String,
    pub scopes: &'a ScopeSet,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn create(
    db: &impl ConnectionTrait,
    new: NewApiKey<'_>,
    now: DateTime<Utc>,
) -> Result<api_key::Model, DbErr> {
    api_key::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(new.name.to_owned()),
        user_id: Set(new.user_id),
        key_hash: Set(new.key_hash),
        scopes: Set(new.scopes.to_string()),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
        last_used_at: Set(None),
    }
    .insert(db)
    .await
}

/// The key with this lookup hash, and its owner.
pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    key_hash: &str,
) -> Result<Option<(api_key::Model, user::Model)>, DbErr> {
    let found = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(key_hash))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(key, owner)| owner.map(|owner| (key, owner))))
}

/// Every key (or one owner's), oldest first, with its owner.
pub async fn list(
    db: &impl ConnectionTrait,
    owner: Option<Uuid>,
) -> Result<Vec<(api_key::Model, Option<user::Model>)>, DbErr> {
    let mut query = api_key::Entity::find();
    if let Some(owner) = owner {
        query = query.filter(api_key::Column::UserId.eq(owner));
    }
    query
        .order_by_asc(api_key::Column::CreatedAt)
        .order_by_asc(api_key::Column::Id)
        .find_also_related(user::Entity)
        .all(db)
        .await
}

#[derive(Debug, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked,
    AlreadyRevoked,
    NotFound,
}

pub async fn revoke(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<RevokeOutcome, DbErr> {
    // Conditional on `revoked_at IS NULL` so the first revocation time stays.
    let result = api_key::Entity::update_many()
        .col_expr(
            api_key::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if result.rows_affected == 1 {
        return Ok(RevokeOutcome::Revoked);
    }
    let exists = api_key::Entity::find_by_id(id).one(db).await?.is_some();
    Ok(if exists {
        RevokeOutcome::AlreadyRevoked
    } else {
        RevokeOutcome::NotFound
    })
}

pub async fn touch(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<(), DbErr> {
    api_key::Entity::update_many()
        .col_expr(
            api_key::Column::LastUsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(api_key::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn delete(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    let result = api_key::Entity::delete_by_id(id).exec(db).await?;
    Ok(result.rows_affected == 1)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<api_key::Model>, DbErr> {
    api_key::Entity::find_by_id(id).one(db).await
}
