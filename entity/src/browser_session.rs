use sea_orm::entity::prelude::*;

/// A logged-in browser. The cookie holds a random id; only its hash is kept.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "browser_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    pub user_id: Uuid,
    /// Bound to the session; every form of a logged-in page carries it.
    pub csrf_token: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Public session id: the OIDC `sid` claim. Random, not derived from
    /// the cookie.
    #[sea_orm(unique)]
    pub sid: String,
    /// When the person last entered their password in this session: the
    /// OIDC `auth_time`.
    pub auth_time: DateTimeUtc,
    /// The browser's `User-Agent` at sign-in, cut short, for the account page.
    pub user_agent: Option<String>,
    pub last_seen_at: DateTimeUtc,
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
