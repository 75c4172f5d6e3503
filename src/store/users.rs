use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
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
