//! Management operations shared by the command line, `serve --demo` and the
//! tests' fixtures, so that all three make records the same way.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::domain::{
    ClientKind, DisplayName, Email, GrantType, GrantTypes, IdTokenAlg, Password, RedirectUri,
    ScopeSet, Username, ValidationError, check_line,
};
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

/// A client registration as given by an operator.
#[derive(Debug, Default)]
pub struct ClientRequest {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub public: bool,
    /// Empty means [`ScopeSet::client_default`].
    pub scopes: Vec<String>,
    /// Empty means `authorization_code refresh_token`.
    pub grants: Vec<String>,
    pub first_party: bool,
    /// A fixed `client_id` (the demo's); otherwise a random UUID.
    pub client_id: Option<String>,
    /// A resource server: may introspect other clients' tokens.
    pub introspect: bool,
    /// `RS256` or `ES256`; `None` means RS256.
    pub id_token_alg: Option<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
}

pub struct CreatedClient {
    pub client: crate::domain::Client,
    /// Shown once; only its hash is stored.
    pub secret: Option<SecretString>,
}

pub async fn create_client(
    db: &impl ConnectionTrait,
    req: ClientRequest,
    now: DateTime<Utc>,
) -> Result<CreatedClient, ManageError> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ValidationError::new("client name must be 1 to 100 characters").into());
    }
    check_line("client name", name)?;
    let kind = if req.public {
        ClientKind::Public
    } else {
        ClientKind::Confidential
    };
    let redirect_uris = req
        .redirect_uris
        .iter()
        .map(|u| {
            // The server's own apps (the docs explorer) live at the issuer,
            // which may be named localhost; third-party apps may not.
            if req.first_party {
                RedirectUri::parse(u)
            } else {
                RedirectUri::parse_new(u)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let scopes = if req.scopes.is_empty() {
        ScopeSet::client_default()
    } else {
        ScopeSet::parse_list(&req.scopes)?
    };
    let grants = if req.grants.is_empty() {
        GrantTypes::default_set()
    } else {
        GrantTypes::parse_list(&req.grants)?
    };
    grants.check_for(kind)?;
    // The password grant hands the user's password to the client: only for
    // clients of our own (RFC 9700 §2.4 forbids it for third parties).
    if grants.contains(GrantType::Password) && !req.first_party {
        return Err(ValidationError::new(
            "the password grant is only for first-party clients (add --first-party)",
        )
        .into());
    }
    if req.introspect && kind == ClientKind::Public {
        return Err(ValidationError::new(
            "a public client cannot introspect (it cannot authenticate); drop --public or --introspect",
        )
        .into());
    }
    if grants.contains(GrantType::AuthorizationCode) && redirect_uris.is_empty() {
        return Err(ValidationError::new(
            "the authorization_code grant needs at least one --redirect-uri",
        )
        .into());
    }
    let id_token_alg = req
        .id_token_alg
        .as_deref()
        .map(IdTokenAlg::parse)
        .transpose()?
        .unwrap_or_default();
    let post_logout_redirect_uris = req
        .post_logout_redirect_uris
        .iter()
        .map(|u| {
            if req.first_party {
                RedirectUri::parse(u)
            } else {
                RedirectUri::parse_new(u)
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ValidationError::new(e.0.replacen("redirect URI", "post-logout redirect URI", 1))
        })?;
    // Back-Channel Logout 1.0 §2.2: an absolute URI, no fragment; the
    // server calls it, so a private-use scheme makes no sense.
    let backchannel_logout_uri = req
        .backchannel_logout_uri
        .as_deref()
        .map(|u| {
            let uri = RedirectUri::parse(u).map_err(|e| {
                ValidationError::new(e.0.replacen("redirect URI", "back-channel logout URI", 1))
            })?;
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(ValidationError::new(format!(
                    "invalid back-channel logout URI '{u}': use https (or http on a loopback host)"
                )));
            }
            Ok(uri)
        })
        .transpose()?;
    let secret = (kind == ClientKind::Confidential)
        .then(|| secrets::generate_token(TokenKind::ClientSecret));
    let client = store::clients::create(
        db,
        store::clients::NewClient {
            client_id: req.client_id.unwrap_or_else(|| Uuid::new_v4().to_string()),
            name: name.to_owned(),
            kind,
            secret_hash: secret.as_ref().map(|s| secrets::lookup_hash(s.secret())),
            redirect_uris,
            scopes,
            grants,
            first_party: req.first_party,
            can_introspect: req.introspect,
            id_token_alg,
            post_logout_redirect_uris,
            backchannel_logout_uri,
        },
        now,
    )
    .await?;
    Ok(CreatedClient { client, secret })
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
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<store::api_keys::RevokeOutcome, ManageError> {
    let outcome = store::api_keys::revoke(db, id, now).await?;
    if outcome == store::api_keys::RevokeOutcome::Revoked {
        // A revoked key never comes back: the entry lasts as long as a
        // denylist entry can.
        let forever = now + TimeDelta::days(36_500);
        store::revocations::insert(db, &store::revocations::api_key_target(id), forever, now)
            .await?;
    }
    Ok(outcome)
}
