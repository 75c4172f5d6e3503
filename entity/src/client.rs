use sea_orm::entity::prelude::*;

/// A registered OAuth 2 client (RFC 6749 §2).
///
/// Lists (redirect URIs, scopes, grants) are stored space-delimited: none of
/// their members may contain a space, which keeps one schema for SQLite and
/// PostgreSQL.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    /// The public `client_id`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// SHA-256 of the secret (hex); `None` for public clients.
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub scopes: String,
    pub grants: String,
    pub is_public: bool,
    /// First-party clients skip the consent page.
    pub first_party: bool,
    /// A resource server: may introspect tokens issued to other clients.
    pub can_introspect: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
