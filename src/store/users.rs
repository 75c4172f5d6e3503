use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::DbErrExt;
use crate::domain::{DisplayName, Email, Username};

/// The OIDC profile claims a user may have.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    pub name: Option<DisplayName>,
    pub email: Option<Email>,
    pub email_verified: bool,
}

/// Writes a user's profile and bumps `updated_at` (the OIDC claim).
pub async fn update_profile(
    db: &impl ConnectionTrait,
    user: user::Model,
    profile: Profile,
    now: DateTime<Utc>,
) -> Result<user::Model, DbErr> {
    let mut active: user::ActiveModel = user.into();
    active.name = Set(profile.name.map(|n| n.as_str().to_owned()));
    active.email = Set(profile.email.map(|e| e.as_str().to_owned()));
    active.email_verified = Set(profile.email_verified);
    active.updated_at = Set(now);
    active.update(db).await
}

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
    profile: Profile,
    now: DateTime<Utc>,
) -> Result<user::Model, CreateUserError> {
    user::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(username.as_str().to_owned()),
        password_hash: Set(password_hash),
        created_at: Set(now),
        name: Set(profile.name.map(|n| n.as_str().to_owned())),
        email: Set(profile.email.map(|e| e.as_str().to_owned())),
        email_verified: Set(profile.email_verified),
        updated_at: Set(now),
        disabled_at: Set(None),
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

/// The user whose name equals `username` ignoring case (through the index
/// on `lower(username)`). A string that cannot be a username (a NUL byte,
/// say, which PostgreSQL cannot even compare) matches nobody.
pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<user::Model>, DbErr> {
    if Username::parse(username).is_err() {
        return Ok(None);
    }
    user::Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(user::Column::Username)))
                .eq(username.to_ascii_lowercase()),
        )
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

/// Up to `limit` users whose names sort after `after` (case-insensitively,
/// as names are unique that way), for paging through many users.
pub async fn page(
    db: &impl ConnectionTrait,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<user::Model>, DbErr> {
    let lower = || Expr::expr(Func::lower(Expr::col(user::Column::Username)));
    let mut query = user::Entity::find();
    if let Some(after) = after {
        query = query.filter(lower().gt(after.to_ascii_lowercase()));
    }
    query.order_by_asc(lower()).limit(limit).all(db).await
}

/// Sets or clears `disabled_at`; `false` when there is no such user.
pub async fn set_disabled(
    db: &impl ConnectionTrait,
    id: Uuid,
    disabled_at: Option<DateTime<Utc>>,
) -> Result<bool, DbErr> {
    let result = user::Entity::update_many()
        .col_expr(user::Column::DisabledAt, Expr::value(disabled_at))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: Uuid,
    password_hash: String,
) -> Result<bool, DbErr> {
    let result = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Deletes the user; their sessions, codes, consents, refresh tokens, API
/// keys and known devices go with them (foreign keys cascade). Their posts
/// stay, under the name they were written with.
pub async fn delete(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    let result = user::Entity::delete_by_id(id).exec(db).await?;
    Ok(result.rows_affected == 1)
}
