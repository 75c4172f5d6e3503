//! Client registrations: create, read, change, delete, new secret.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::ManageError;
use super::revocation::{self, Effects};
use crate::domain::{
    Client, ClientKind, GrantType, GrantTypes, IdTokenAlg, RedirectUri, Scope, ScopeSet,
    ValidationError, check_line,
};
use crate::metrics::SecurityEvent;
use crate::propagation::Change;
use crate::secrets::{self, SecretString, TokenKind};
use crate::store;
use crate::store::clients::NewClient;

/// A client registration as given by an operator.
#[derive(Clone, Debug, Default)]
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

/// A checked registration.
struct Valid {
    name: String,
    kind: ClientKind,
    redirect_uris: Vec<RedirectUri>,
    scopes: ScopeSet,
    grants: GrantTypes,
    first_party: bool,
    can_introspect: bool,
    id_token_alg: IdTokenAlg,
    post_logout_redirect_uris: Vec<RedirectUri>,
    backchannel_logout_uri: Option<RedirectUri>,
}

impl Valid {
    fn into_new(self, client_id: String, secret_hash: Option<String>) -> NewClient {
        NewClient {
            client_id,
            name: self.name,
            kind: self.kind,
            secret_hash,
            redirect_uris: self.redirect_uris,
            scopes: self.scopes,
            grants: self.grants,
            first_party: self.first_party,
            can_introspect: self.can_introspect,
            id_token_alg: self.id_token_alg,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            backchannel_logout_uri: self.backchannel_logout_uri,
        }
    }
}

pub async fn create_client(
    db: &impl ConnectionTrait,
    req: ClientRequest,
    now: DateTime<Utc>,
) -> Result<CreatedClient, ManageError> {
    let client_id = req
        .client_id
        .clone()
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let valid = validate(req)?;
    let secret = (valid.kind == ClientKind::Confidential)
        .then(|| secrets::generate_token(TokenKind::ClientSecret));
    let secret_hash = secret.as_ref().map(|s| secrets::lookup_hash(s.secret()));
    let client = store::clients::create(db, valid.into_new(client_id, secret_hash), now).await?;
    // A new public client's origin is allowed for CORS at once everywhere.
    Change::Client(&client.id).record(db, now).await?;
    Ok(CreatedClient { client, secret })
}

/// Checks a registration and turns it into what is stored, but for the
/// client id and the secret.
fn validate(req: ClientRequest) -> Result<Valid, ValidationError> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ValidationError::new(
            "client name must be 1 to 100 characters",
        ));
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
        ));
    }
    if req.introspect && kind == ClientKind::Public {
        return Err(ValidationError::new(
            "a public client cannot introspect (it cannot authenticate); drop --public or --introspect",
        ));
    }
    if grants.contains(GrantType::AuthorizationCode) && redirect_uris.is_empty() {
        return Err(ValidationError::new(
            "the authorization_code grant needs at least one --redirect-uri",
        ));
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
    if scopes.contains(Scope::Admin) && !req.first_party {
        return Err(ValidationError::new(
            "the admin scope is only for first-party clients (add --first-party)",
        ));
    }
    Ok(Valid {
        name: name.to_owned(),
        kind,
        redirect_uris,
        scopes,
        grants,
        first_party: req.first_party,
        can_introspect: req.introspect,
        id_token_alg,
        post_logout_redirect_uris,
        backchannel_logout_uri,
    })
}

/// A change to a registration; `None` leaves a setting as it is. Whether
/// the client is public cannot change (a secret would appear or vanish).
#[derive(Clone, Debug, Default)]
pub struct ClientUpdate {
    pub name: Option<String>,
    /// Empty means [`ScopeSet::client_default`], as at creation.
    pub scopes: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    /// Empty means `authorization_code refresh_token`, as at creation.
    pub grants: Option<Vec<String>>,
    pub first_party: Option<bool>,
    pub introspect: Option<bool>,
    pub id_token_alg: Option<String>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// `Some(None)` removes it.
    pub backchannel_logout_uri: Option<Option<String>>,
}

/// The registration as it would be given to `create`.
fn request_of(client: &Client) -> ClientRequest {
    let strings = |uris: &[RedirectUri]| uris.iter().map(|u| u.as_str().to_owned()).collect();
    ClientRequest {
        name: client.name.clone(),
        redirect_uris: strings(&client.redirect_uris),
        public: client.is_public(),
        scopes: client.scopes.to_vec(),
        grants: client.grants.to_vec(),
        first_party: client.first_party,
        client_id: Some(client.id.clone()),
        introspect: client.can_introspect,
        id_token_alg: Some(client.id_token_alg.as_str().to_owned()),
        post_logout_redirect_uris: strings(&client.post_logout_redirect_uris),
        backchannel_logout_uri: client
            .backchannel_logout_uri
            .as_ref()
            .map(|u| u.as_str().to_owned()),
    }
}

pub async fn find(fx: &Effects<'_>, client_id: &str) -> Result<Client, ManageError> {
    store::clients::find(fx.db, client_id)
        .await?
        .ok_or_else(|| ManageError::UnknownClient(client_id.to_owned()))
}

/// Applies `update` after checking the whole result as `create` would.
/// The change reaches a running server's cache at once when made there,
/// else within the cache's lifetime.
pub async fn update(
    fx: &Effects<'_>,
    client_id: &str,
    update: ClientUpdate,
) -> Result<Client, ManageError> {
    let client = find(fx, client_id).await?;
    let mut req = request_of(&client);
    let ClientUpdate {
        name,
        scopes,
        redirect_uris,
        grants,
        first_party,
        introspect,
        id_token_alg,
        post_logout_redirect_uris,
        backchannel_logout_uri,
    } = update;
    req.name = name.unwrap_or(req.name);
    req.scopes = scopes.unwrap_or(req.scopes);
    req.redirect_uris = redirect_uris.unwrap_or(req.redirect_uris);
    req.grants = grants.unwrap_or(req.grants);
    req.first_party = first_party.unwrap_or(req.first_party);
    req.introspect = introspect.unwrap_or(req.introspect);
    req.id_token_alg = id_token_alg.or(req.id_token_alg);
    req.post_logout_redirect_uris =
        post_logout_redirect_uris.unwrap_or(req.post_logout_redirect_uris);
    req.backchannel_logout_uri = backchannel_logout_uri.unwrap_or(req.backchannel_logout_uri);
    let valid = validate(req)?;
    let updated = store::clients::update(
        fx.db,
        valid.into_new(client.id.clone(), client.secret_hash.clone()),
    )
    .await?
    .ok_or_else(|| ManageError::UnknownClient(client_id.to_owned()))?;
    fx.changed(Change::Client(client_id)).await?;
    fx.audit(
        SecurityEvent::AdminAction,
        "client.update",
        &target(&updated),
    );
    Ok(updated)
}

/// A new secret for a confidential client; the old one stops working
/// (at once on this server, within the client cache's lifetime on others).
pub async fn rotate_secret(fx: &Effects<'_>, client_id: &str) -> Result<SecretString, ManageError> {
    let client = find(fx, client_id).await?;
    if client.is_public() {
        return Err(ValidationError::new(format!(
            "client '{client_id}' is public: it has no secret to rotate"
        ))
        .into());
    }
    let secret = secrets::generate_token(TokenKind::ClientSecret);
    let hash = secrets::lookup_hash(secret.secret());
    if !store::clients::set_secret_hash(fx.db, client_id, hash).await? {
        return Err(ManageError::UnknownClient(client_id.to_owned()));
    }
    fx.changed(Change::Client(client_id)).await?;
    fx.audit(
        SecurityEvent::AdminAction,
        "client.rotate_secret",
        &target(&client),
    );
    Ok(secret)
}

/// Deletes the client after refusing every token it holds; its codes,
/// consents and refresh tokens go with it.
pub async fn delete(fx: &Effects<'_>, client_id: &str) -> Result<(), ManageError> {
    let client = find(fx, client_id).await?;
    revocation::cut_off_client(fx, client_id).await?;
    if !store::clients::delete(fx.db, client_id).await? {
        return Err(ManageError::UnknownClient(client_id.to_owned()));
    }
    // Again once deleted: an instance that reread the client between the
    // cutoff and the delete has it cached.
    fx.changed(Change::Client(client_id)).await?;
    fx.audit(
        SecurityEvent::AdminAction,
        "client.delete",
        &target(&client),
    );
    Ok(())
}

fn target(client: &Client) -> String {
    format!("client {} ({})", client.id, client.name)
}
