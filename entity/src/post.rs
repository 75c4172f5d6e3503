use sea_orm::entity::prelude::*;

/// A blog post. `seq` orders posts for keyset pagination; `id` is the public
/// identifier.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    #[sea_orm(unique)]
    pub id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub published: bool,
    /// Shown as the author: a username, or a `client_id` for a client
    /// acting on its own behalf.
    pub author: String,
    /// Who may edit: `user:<uuid>` or `client:<client_id>`.
    pub author_sub: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
