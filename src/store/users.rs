use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use uuid::Uuid;

use super::DbErrExt;
use crate::domain::Username;

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("username '{0}' is already taken")]
    Duplicate(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub async fn create(
    db: &impl ConnectionTrait,
    username: &Username,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<user::Model, CreateUserError> {
    user::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(username.as_str().to_owned()),
        password_hash: Set(password_hash),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| {
        if e.is_unique_violation() {
            CreateUserError::Duplicate(username.as_str().to_owned())
        } else {
            CreateUserError::Db(e)
        }
    })
}

pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<user::Model>, DbErr> {
    user::Entity::find()
        .order_by_asc(user::Column::Username)
        .all(db)
        .await
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id).one(db).await
}
