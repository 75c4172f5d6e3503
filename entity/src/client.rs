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
    /// JOSE algorithm of its ID tokens: `RS256` or `ES256`.
    pub id_token_alg: String,
    /// Space-delimited; RP-Initiated Logout redirects only to these.
    pub post_logout_redirect_uris: String,
    /// Back-Channel Logout 1.0: where logout tokens are POSTed.
    pub backchannel_logout_uri: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
