use sea_orm::entity::prelude::*;

/// A refresh token, stored by hash. Tokens of one `grant_id` form a
/// rotation family: reuse of a used one revokes the family.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub grant_id: Uuid,
    pub client_id: String,
    pub user_id: Option<Uuid>,
    pub scopes: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Set when it was exchanged (rotated).
    pub used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// The browser session the grant was made in (carried over from the
    /// code, kept through rotation); none for the password and
    /// client-credentials grants.
    pub session_hash: Option<String>,
    /// OIDC: carried from the code so a refreshed ID token keeps them.
    pub auth_time: Option<DateTimeUtc>,
    pub sid: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
