use sea_orm::entity::prelude::*;

/// An authorization code (RFC 6749 §4.1.2), stored by hash.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorization_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code_hash: String,
    /// Every token issued from this code carries this grant id, so that a
    /// replayed code can revoke them all.
    pub grant_id: Uuid,
    pub client_id: String,
    pub user_id: Uuid,
    /// The redirect URI if the authorization request named one; the token
    /// request must then repeat it (RFC 6749 §4.1.3).
    pub redirect_uri: Option<String>,
    /// PKCE S256 challenge (RFC 7636), when one was sent.
    pub code_challenge: Option<String>,
    pub scopes: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub redeemed_at: Option<DateTimeUtc>,
    /// `browser_sessions.id_hash` of the session the code was issued in;
    /// ending that session revokes the grant.
    pub session_hash: Option<String>,
    /// OIDC: the authorization request's `nonce`, echoed in the ID token.
    pub nonce: Option<String>,
    /// OIDC: when the person signed in (the session's `auth_time`).
    pub auth_time: Option<DateTimeUtc>,
    /// OIDC: the session's public id.
    pub sid: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
