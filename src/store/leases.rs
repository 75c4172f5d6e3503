//! Leases on cluster-wide work: at most one taker per interval.

use chrono::{DateTime, TimeDelta, Utc};
use entity::lease;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

/// Takes the lease `name` for `holder` if nobody took it in the `every`
/// before `now`. One statement decides, so of instances racing for it
/// exactly one wins on either backend.
pub async fn take(
    db: &impl ConnectionTrait,
    name: &str,
    holder: &str,
    every: TimeDelta,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let taken = lease::Entity::update_many()
        .col_expr(lease::Column::Holder, Expr::value(holder))
        .col_expr(lease::Column::TakenAt, Expr::value(now))
        .filter(lease::Column::Name.eq(name))
        .filter(lease::Column::TakenAt.lte(now - every))
        .exec(db)
        .await?;
    if taken.rows_affected > 0 {
        return Ok(true);
    }
    // The first time ever, there is no row to update.
    let inserted = lease::Entity::insert(lease::ActiveModel {
        name: Set(name.to_owned()),
        holder: Set(holder.to_owned()),
        taken_at: Set(now),
    })
    .on_conflict_do_nothing_on([lease::Column::Name])
    .exec_without_returning(db)
    .await?;
    Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0))
}
