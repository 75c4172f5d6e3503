//! The admin API's JSON shapes. Times are RFC 3339; every field that can be
//! `null` says so in the schema.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;
use uuid::Uuid;

use crate::domain::{Client, RedirectUri};

/// A registered client (never its secret).
#[derive(Debug, Clone, Object)]
pub struct AdminClient {
    pub client_id: String,
    pub name: String,
    /// A public client has no secret (a browser or native app).
    pub public: bool,
    /// One of the server's own apps: no consent page, may use `password`.
    pub first_party: bool,
    /// A resource server: may introspect other clients' tokens.
    pub introspect: bool,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub grants: Vec<String>,
    /// `RS256` or `ES256`.
    pub id_token_alg: String,
    pub post_logout_redirect_uris: Vec<String>,
    #[oai(nullable)]
    pub backchannel_logout_uri: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn strings(uris: &[RedirectUri]) -> Vec<String> {
    uris.iter().map(|u| u.as_str().to_owned()).collect()
}

impl From<Client> for AdminClient {
    fn from(c: Client) -> Self {
        Self {
            public: c.is_public(),
            redirect_uris: strings(&c.redirect_uris),
            post_logout_redirect_uris: strings(&c.post_logout_redirect_uris),
            scopes: c.scopes.to_vec(),
            grants: c.grants.to_vec(),
            id_token_alg: c.id_token_alg.as_str().to_owned(),
            backchannel_logout_uri: c.backchannel_logout_uri.map(|u| u.as_str().to_owned()),
            client_id: c.id,
            name: c.name,
            first_party: c.first_party,
            introspect: c.can_introspect,
            created_at: c.created_at,
        }
    }
}

/// A new client, with its secret shown this once (as `client create --json`).
#[derive(Debug, Clone, Object)]
pub struct CreatedClient {
    /// Shown once, stored hashed; `null` for a public client.
    #[oai(nullable)]
    pub client_secret: Option<String>,
    #[oai(flatten)]
    pub client: AdminClient,
}

/// A client to register. Omitted settings take `client create`'s defaults.
#[derive(Debug, Clone, Object)]
pub struct ClientInput {
    /// 1 to 100 characters.
    pub name: String,
    /// Exact redirect URIs; `authorization_code` needs at least one.
    #[oai(default)]
    pub redirect_uris: Vec<String>,
    /// A public client gets no secret.
    #[oai(default)]
    pub public: bool,
    #[oai(default)]
    pub first_party: bool,
    /// Empty means `blog:read blog:write openid profile email`.
    #[oai(default)]
    pub scopes: Vec<String>,
    /// Empty means `authorization_code refresh_token`.
    #[oai(default)]
    pub grants: Vec<String>,
    #[oai(default)]
    pub introspect: bool,
    /// `RS256` (the default) or `ES256`.
    #[oai(nullable)]
    pub id_token_alg: Option<String>,
    #[oai(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[oai(nullable)]
    pub backchannel_logout_uri: Option<String>,
}

/// A change to a client; omitted (or `null`) settings stay as they are.
/// Whether it is public cannot change.
#[derive(Debug, Clone, Object)]
pub struct ClientPatch {
    #[oai(nullable)]
    pub name: Option<String>,
    #[oai(nullable)]
    pub redirect_uris: Option<Vec<String>>,
    #[oai(nullable)]
    pub first_party: Option<bool>,
    /// Empty means the default set, as at creation.
    #[oai(nullable)]
    pub scopes: Option<Vec<String>>,
    /// Empty means the default set, as at creation.
    #[oai(nullable)]
    pub grants: Option<Vec<String>>,
    #[oai(nullable)]
    pub introspect: Option<bool>,
    #[oai(nullable)]
    pub id_token_alg: Option<String>,
    #[oai(nullable)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// `null` removes it.
    #[oai(nullable)]
    pub backchannel_logout_uri: MaybeUndefined<String>,
}

/// A client's new secret, shown this once.
#[derive(Debug, Clone, Object)]
pub struct ClientSecret {
    pub client_id: String,
    pub client_secret: String,
}

/// A user account (never its password).
#[derive(Debug, Clone, Object)]
pub struct AdminUser {
    pub id: Uuid,
    pub username: String,
    #[oai(nullable)]
    pub name: Option<String>,
    #[oai(nullable)]
    pub email: Option<String>,
    pub email_verified: bool,
    /// A disabled user cannot sign in, get tokens or use API keys.
    pub disabled: bool,
    #[oai(nullable)]
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entity::user::Model> for AdminUser {
    fn from(u: entity::user::Model) -> Self {
        Self {
            id: u.id,
            username: u.username,
            name: u.name,
            email: u.email,
            email_verified: u.email_verified,
            disabled: u.disabled_at.is_some(),
            disabled_at: u.disabled_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// One page of users, by username.
#[derive(Debug, Clone, Object)]
pub struct UserPage {
    pub items: Vec<AdminUser>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

/// A user to create.
#[derive(Debug, Clone, Object)]
pub struct UserInput {
    pub username: String,
    #[oai(write_only)]
    pub password: String,
    #[oai(nullable)]
    pub name: Option<String>,
    #[oai(nullable)]
    pub email: Option<String>,
    /// Whether the email is known to be the person's (default false).
    #[oai(default)]
    pub email_verified: bool,
}

/// A change to a user's profile; omitted fields stay, `null` or an empty
/// string removes a name or email. A new email is unverified unless
/// `email_verified` says otherwise.
#[derive(Debug, Clone, Object)]
pub struct UserPatch {
    #[oai(nullable)]
    pub name: MaybeUndefined<String>,
    #[oai(nullable)]
    pub email: MaybeUndefined<String>,
    #[oai(nullable)]
    pub email_verified: Option<bool>,
}

/// A password set by an operator.
#[derive(Debug, Clone, Object)]
pub struct PasswordInput {
    #[oai(write_only)]
    pub password: String,
}

/// An API key (never the key itself).
#[derive(Debug, Clone, Object)]
pub struct AdminApiKey {
    pub id: Uuid,
    pub name: String,
    /// The username of the user the key acts for.
    pub owner: String,
    pub owner_id: Uuid,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub revoked_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// An API key to create.
#[derive(Debug, Clone, Object)]
pub struct ApiKeyInput {
    /// 1 to 100 characters.
    pub name: String,
    /// The username (or user id) the key acts for.
    pub owner: String,
    /// At least one scope.
    pub scopes: Vec<String>,
    /// Lifetime such as `90d`, `12h`, `15m`, `90s` or plain seconds; the
    /// key never expires when omitted.
    #[oai(nullable)]
    pub expires_in: Option<String>,
}

/// A new API key, shown this once (as `api-key create --json`).
#[derive(Debug, Clone, Object)]
pub struct CreatedApiKey {
    pub id: Uuid,
    /// Shown once; only its hash is stored.
    pub key: String,
    pub scopes: Vec<String>,
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// An app a user consented to.
#[derive(Debug, Clone, Object)]
pub struct Consent {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub granted_at: DateTime<Utc>,
    /// The last code or refresh token issued to it for this user.
    #[oai(nullable)]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A live browser session.
#[derive(Debug, Clone, Object)]
pub struct Session {
    /// The public session id (the OIDC `sid`).
    pub sid: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// When the person last entered their password in it.
    pub auth_time: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The browser's `User-Agent` at sign-in, cut short.
    #[oai(nullable)]
    pub user_agent: Option<String>,
}

impl From<entity::browser_session::Model> for Session {
    fn from(s: entity::browser_session::Model) -> Self {
        Self {
            sid: s.sid,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            auth_time: s.auth_time,
            expires_at: s.expires_at,
            user_agent: s.user_agent,
        }
    }
}

/// A token-signing key (public facts only, never key material).
#[derive(Debug, Clone, Object)]
pub struct SigningKey {
    pub kid: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    pub created_at: DateTime<Utc>,
    /// When a newer key took over; `null` for a current key.
    #[oai(nullable)]
    pub retired_at: Option<DateTime<Utc>>,
    /// Signs new tokens of its kind.
    pub current: bool,
    /// Published in the JWKS (current, or retired with tokens still live).
    pub published: bool,
}
