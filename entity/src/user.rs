use sea_orm::entity::prelude::*;

/// A person who can log in and own API keys and posts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub username: String,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub created_at: DateTimeUtc,
    /// OIDC `name` (profile scope), when the user has one.
    pub name: Option<String>,
    /// OIDC `email` (email scope), when the user has one.
    pub email: Option<String>,
    /// OIDC `email_verified`: false unless an operator says otherwise.
    pub email_verified: bool,
    /// OIDC `updated_at`: when the profile last changed.
    pub updated_at: DateTimeUtc,
    /// Set while an operator has disabled the account: no sign-in, no tokens.
    pub disabled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::api_key::Entity")]
    ApiKey,
}

impl Related<super::api_key::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiKey.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
