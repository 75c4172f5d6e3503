//! The log of changes that invalidate what instances hold in memory (see
//! `crate::propagation`).

use chrono::{DateTime, Utc};
use entity::change;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

/// Records that `kind`'s `subject` changed. On PostgreSQL a trigger
/// announces it to listening instances when the write commits.
pub async fn record(
    db: &impl ConnectionTrait,
    kind: &str,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    change::Entity::insert(change::ActiveModel {
        seq: sea_orm::NotSet,
        kind: Set(kind.to_owned()),
        subject: Set(subject.to_owned()),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Rows past `seq`, plus every row created since `recent`, oldest first:
/// as with revocations, a sequence number handed out earlier can commit
/// after a later one was read, so the recent window is read again.
pub async fn since(
    db: &impl ConnectionTrait,
    seq: i64,
    recent: DateTime<Utc>,
) -> Result<Vec<change::Model>, DbErr> {
    let mut rows = change::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(change::Column::Seq.gt(seq))
                .add(change::Column::CreatedAt.gt(recent)),
        )
        .all(db)
        .await?;
    rows.sort_by_key(|r| r.seq);
    Ok(rows)
}

/// The highest sequence number so far (0 for none): where a starting
/// instance begins, as it loads everything fresh anyway.
pub async fn last_seq(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    let last = change::Entity::find()
        .select_only()
        .column(change::Column::Seq)
        .order_by_desc(change::Column::Seq)
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(last.unwrap_or(0))
}

/// Deletes up to `limit` rows created before `before`; returns how many.
pub async fn delete_expired_batch(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<u64, DbErr> {
    use change::Column as C;
    let old = sea_orm::Condition::all().add(C::CreatedAt.lt(before));
    super::delete_batch::<change::Entity>(db, C::Seq, old, limit).await
}
