use chrono::{DateTime, Utc};
use entity::{authorization_code, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

/// One round trip: nothing is read back.
pub async fn insert(
    db: &impl ConnectionTrait,
    code: authorization_code::Model,
) -> Result<(), DbErr> {
    authorization_code::Entity::insert(authorization_code::ActiveModel {
        code_hash: Set(code.code_hash),
        grant_id: Set(code.grant_id),
        client_id: Set(code.client_id),
        user_id: Set(code.user_id),
        redirect_uri: Set(code.redirect_uri),
        code_challenge: Set(code.code_challenge),
        scopes: Set(code.scopes),
        created_at: Set(code.created_at),
        expires_at: Set(code.expires_at),
        redeemed_at: Set(code.redeemed_at),
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// The code with this hash and the user it was issued for, in one query.
pub async fn find(
    db: &impl ConnectionTrait,
    code_hash: &str,
) -> Result<Option<(authorization_code::Model, Option<user::Model>)>, DbErr> {
    authorization_code::Entity::find_by_id(code_hash.to_owned())
        .find_also_related(user::Entity)
        .one(db)
        .await
}

/// Marks the code redeemed if nobody has yet. One conditional UPDATE, so of
/// any number of concurrent redemptions exactly one sees `true`.
pub async fn redeem(
    db: &impl ConnectionTrait,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = authorization_code::Entity::update_many()
        .col_expr(authorization_code::Column::RedeemedAt, Expr::value(now))
        .filter(authorization_code::Column::CodeHash.eq(code_hash))
        .filter(authorization_code::Column::RedeemedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
