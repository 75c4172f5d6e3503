use sea_orm::entity::prelude::*;

/// A revoked access-token `jti` or grant id. Kept until every access token
/// it could match has expired.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "token_revocations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub target: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
