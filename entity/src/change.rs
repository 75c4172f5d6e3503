use sea_orm::entity::prelude::*;

/// Something changed that instances may hold in memory: `kind` says what
/// (`client`, `consent`, `keys`), `subject` which one. Read past a cursor
/// by every instance; kept for a while, then deleted by housekeeping.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub kind: String,
    pub subject: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
