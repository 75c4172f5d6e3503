//! Management operations shared by the command line, the admin API, the
//! account page, `serve --demo` and the tests' fixtures, so that all of
//! them make and take back records the same way.

pub mod access;
pub mod clients;
pub mod revocation;
pub mod users;

pub use clients::{ClientRequest, ClientUpdate, CreatedClient, create_client};
pub use revocation::{Actor, Effects};

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::domain::{
    DisplayName, Email, Password, ScopeSet, Username, ValidationError, check_line,
};
use crate::metrics::SecurityEvent;
use crate::secrets::{self, PasswordError, SecretString, TokenKind};
use crate::store;
use crate::store::users::CreateUserError;

/// A mistake the operator can fix, or an infrastructure failure.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error("username '{0}' is already taken")]
    DuplicateUsername(String),
    #[error("no user named '{0}'")]
    UnknownOwner(String),
    #[error("no user named '{0}'")]
    UnknownUser(String),
    #[error("no client with id '{0}'")]
    UnknownClient(String),
    #[error("no API key with id '{0}'")]
    UnknownApiKey(String),
    #[error("no consent given to client '{0}'")]
    UnknownConsent(String),
    #[error("no live session with id '{0}'")]
    UnknownSession(String),
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("{0}")]
    Unavailable(&'static str),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// A user's profile as an operator gives it; empty strings mean none.
#[derive(Debug, Default)]
pub struct ProfileRequest {
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
}

impl ProfileRequest {
    fn parse(self) -> Result<store::users::Profile, ValidationError> {
        let present = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        let email = present(self.email).map(|e| Email::parse(&e)).transpose()?;
        if self.email_verified && email.is_none() {
            return Err(ValidationError::new(
                "--email-verified needs an email address",
            ));
        }
        Ok(store::users::Profile {
            name: present(self.name)
                .map(|n| DisplayName::parse(&n))
                .transpose()?,
            email,
            email_verified: self.email_verified,
        })
    }
}

pub async fn create_user(
    db: &impl ConnectionTrait,
    username: &str,
    password: String,
    profile: ProfileRequest,
    now: DateTime<Utc>,
) -> Result<entity::user::Model, ManageError> {
    let username = Username::parse(username)?;
    let profile = profile.parse()?;
    let password = Password::parse(password)?;
    let hash = secrets::hash_password(password.into_secret()).await?;
    store::users::create(db, &username, hash, profile, now)
        .await
        .map_err(|e| match e {
            CreateUserError::Duplicate(name) => ManageError::DuplicateUsername(name),
            CreateUserError::Db(e) => ManageError::Db(e),
        })
}

/// A change to a user's profile; `None` leaves a field as it is, an empty
/// string removes it. A new email is unverified unless `email_verified`
/// says otherwise.
#[derive(Debug, Default)]
pub struct ProfileUpdate {
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
}

pub async fn update_user_profile(
    db: &impl ConnectionTrait,
    username: &str,
    update: ProfileUpdate,
    now: DateTime<Utc>,
) -> Result<entity::user::Model, ManageError> {
    let user = store::users::find_by_username(db, username)
        .await?
        .ok_or_else(|| ManageError::UnknownUser(username.to_owned()))?;
    let email_changed = update
        .email
        .as_ref()
        .is_some_and(|e| Some(e.trim()) != user.email.as_deref());
    let request = ProfileRequest {
        name: update.name.or_else(|| user.name.clone()),
        email: update.email.or_else(|| user.email.clone()),
        email_verified: update
            .email_verified
            .unwrap_or(user.email_verified && !email_changed),
    };
    let profile = request.parse()?;
    Ok(store::users::update_profile(db, user, profile, now).await?)
}

pub struct CreatedApiKey {
    pub key: entity::api_key::Model,
    /// Shown once; only its hash is stored.
    pub secret: SecretString,
    pub scopes: ScopeSet,
}

pub async fn create_api_key(
    db: &impl ConnectionTrait,
    name: &str,
    owner: &str,
    scopes: &[String],
    expires_in: Option<std::time::Duration>,
    now: DateTime<Utc>,
) -> Result<CreatedApiKey, ManageError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ValidationError::new("key name must be 1 to 100 characters").into());
    }
    check_line("key name", name)?;
    let scopes = ScopeSet::parse_list(scopes)?;
    if scopes.is_empty() {
        return Err(ValidationError::new("an API key needs at least one --scope").into());
    }
    if let Some(scope) = scopes.iter().find(|s| s.is_identity()) {
        return Err(ValidationError::new(format!(
            "an API key cannot hold '{scope}': it is for OpenID Connect sign-in, not the blog API"
        ))
        .into());
    }
    let expires_at = match expires_in {
        None => None,
        Some(d) => Some(
            TimeDelta::from_std(d)
                .ok()
                .and_then(|d| now.checked_add_signed(d))
                .ok_or_else(|| ValidationError::new("--expires-in is too long"))?,
        ),
    };
    let owner = store::users::find_by_username(db, owner)
        .await?
        .ok_or_else(|| ManageError::UnknownOwner(owner.to_owned()))?;
    let secret = secrets::generate_token(TokenKind::ApiKey);
    let key = store::api_keys::create(
        db,
        store::api_keys::NewApiKey {
            name,
            user_id: owner.id,
            key_hash: secrets::lookup_hash(secret.secret()),
            scopes: &scopes,
            expires_at,
        },
        now,
    )
    .await?;
    Ok(CreatedApiKey {
        key,
        secret,
        scopes,
    })
}

/// Revokes a key: marks the row, and adds it to the denylist so that
/// running servers (which cache keys) refuse it at once on this instance
/// and within a second on the others.
pub async fn revoke_api_key(
    fx: &Effects<'_>,
    id: Uuid,
) -> Result<store::api_keys::RevokeOutcome, ManageError> {
    let outcome = store::api_keys::revoke(fx.db, id, fx.now).await?;
    if outcome == store::api_keys::RevokeOutcome::Revoked {
        deny_api_key(fx, id).await?;
        fx.audit(
            SecurityEvent::AdminAction,
            "api_key.revoke",
            &format!("api key {id}"),
        );
    }
    Ok(outcome)
}

/// Deletes a key, revoking it first so that no server's cache keeps it.
pub async fn delete_api_key(fx: &Effects<'_>, id: Uuid) -> Result<(), ManageError> {
    let outcome = store::api_keys::revoke(fx.db, id, fx.now).await?;
    if outcome == store::api_keys::RevokeOutcome::NotFound {
        return Err(ManageError::UnknownApiKey(id.to_string()));
    }
    deny_api_key(fx, id).await?;
    store::api_keys::delete(fx.db, id).await?;
    fx.audit(
        SecurityEvent::AdminAction,
        "api_key.delete",
        &format!("api key {id}"),
    );
    Ok(())
}

async fn deny_api_key(fx: &Effects<'_>, id: Uuid) -> Result<(), DbErr> {
    // A revoked key never comes back: the entry lasts as long as a
    // denylist entry can.
    let forever = fx.now + TimeDelta::days(36_500);
    let target = store::revocations::api_key_target(id);
    match fx.state() {
        Some(state) => state.denylist.revoke(fx.db, &target, forever, fx.now).await,
        None => store::revocations::insert(fx.db, &target, forever, fx.now)
            .await
            .map(|_| ()),
    }
}
