use sea_orm::entity::prelude::*;

/// A relying party a browser session signed in to: told by back-channel
/// logout when the session ends.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_clients")]
pub struct Model {
    /// `browser_sessions.id_hash`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub session_hash: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
