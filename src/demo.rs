//! `serve --demo`: on an empty database, a user, a first-party client for
//! the docs explorer and an API key, so a newcomer can try everything.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};

use crate::manage::{self, ClientRequest, ManageError};
use crate::secrets::{SecretString, TokenKind, generate_token};

pub const DEMO_USERNAME: &str = "demo";
/// The docs explorer's client, which the demo registers.
pub use crate::api::EXPLORER_CLIENT_ID as DEMO_CLIENT_ID;

/// What was created, with the secrets to show once.
pub struct Demo {
    pub password: SecretString,
    pub api_key: SecretString,
}

impl Demo {
    pub fn instructions(&self, issuer: &str) -> String {
        format!(
            "\nDemo data created (shown once):\n\
             \x20 user:      {DEMO_USERNAME} / {password}\n\
             \x20 API key:   {key}   (blog:read blog:write)\n\
             \x20 client_id: {DEMO_CLIENT_ID}   (public, first-party, for the docs explorer)\n\n\
             Open {issuer}/docs, press Authorize, paste the API key, and try the posts API.\n\
             Or: curl -H 'X-API-Key: {key}' {issuer}/api/v1/posts\n\n",
            password = self.password.secret(),
            key = self.api_key.secret(),
        )
    }
}

/// Seeds the demo data if there are no users yet; `None` otherwise.
pub async fn seed(
    db: &impl ConnectionTrait,
    issuer: &str,
    now: DateTime<Utc>,
) -> Result<Option<Demo>, ManageError> {
    if entity::user::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    // A random password: a demo database may still be reachable by others.
    let password = generate_token(TokenKind::ApiKey)
        .secret()
        .trim_start_matches(TokenKind::ApiKey.prefix())
        .chars()
        .take(16)
        .collect::<String>();
    let profile = manage::ProfileRequest {
        name: Some("Demo User".to_owned()),
        email: Some("demo@example.com".to_owned()),
        email_verified: false,
    };
    manage::create_user(db, DEMO_USERNAME, password.clone(), profile, now).await?;
    manage::create_client(
        db,
        ClientRequest {
            name: "Tollgate API explorer".to_owned(),
            redirect_uris: vec![format!("{issuer}/docs/oauth-receiver.html")],
            public: true,
            scopes: vec!["blog:read blog:write openid profile email".to_owned()],
            grants: vec![
                "authorization_code".to_owned(),
                "refresh_token".to_owned(),
                "password".to_owned(),
            ],
            first_party: true,
            client_id: Some(DEMO_CLIENT_ID.to_owned()),
            introspect: false,
            ..ClientRequest::default()
        },
        now,
    )
    .await?;
    let key = manage::create_api_key(
        db,
        "demo key",
        DEMO_USERNAME,
        &["blog:read blog:write".to_owned()],
        None,
        now,
    )
    .await?;
    Ok(Some(Demo {
        password: SecretString::new(password),
        api_key: key.secret,
    }))
}
