use chrono::{DateTime, Utc};
use entity::consent;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::domain::ScopeSet;

pub async fn find(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: &str,
) -> Result<Option<consent::Model>, DbErr> {
    consent::Entity::find_by_id((user_id, client_id.to_owned()))
        .one(db)
        .await
}

/// Records that the user allowed `scopes` (replacing what was there).
pub async fn upsert(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: &str,
    scopes: &ScopeSet,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    consent::Entity::insert(consent::ActiveModel {
        user_id: Set(user_id),
        client_id: Set(client_id.to_owned()),
        scopes: Set(scopes.to_string()),
        granted_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([consent::Column::UserId, consent::Column::ClientId])
            .update_columns([consent::Column::Scopes, consent::Column::GrantedAt])
            .to_owned(),
    )
    .exec(db)
    .await
    .map(|_| ())
}

/// A user's consents, newest first.
pub async fn of_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<consent::Model>, DbErr> {
    consent::Entity::find()
        .filter(consent::Column::UserId.eq(user_id))
        .order_by_desc(consent::Column::GrantedAt)
        .order_by_asc(consent::Column::ClientId)
        .all(db)
        .await
}

/// Drops a consent; `false` when there was none.
pub async fn delete(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: &str,
) -> Result<bool, DbErr> {
    let result = consent::Entity::delete_by_id((user_id, client_id.to_owned()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
