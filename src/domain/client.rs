use std::fmt;

use chrono::{DateTime, Utc};

use super::{RedirectUri, ScopeSet, ValidationError};

/// A registered client, parsed once from its stored row by
/// `store::clients`: what every endpoint checks a request against.
#[derive(Clone, Debug)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub kind: ClientKind,
    /// Lookup hash of the secret; `None` exactly when the client is public.
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<RedirectUri>,
    pub scopes: ScopeSet,
    pub grants: GrantTypes,
    /// One of the server's own apps: no consent page, may use `password`.
    pub first_party: bool,
    /// A resource server: may introspect tokens issued to other clients.
    pub can_introspect: bool,
    pub created_at: DateTime<Utc>,
    /// How its ID tokens are signed.
    pub id_token_alg: IdTokenAlg,
    /// RP-Initiated Logout 1.0 §3: where the end-session endpoint may send
    /// the person back to; compared as exact strings.
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// Back-Channel Logout 1.0 §2.2: where logout tokens are POSTed.
    pub backchannel_logout_uri: Option<RedirectUri>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.kind == ClientKind::Public
    }

    pub fn may_use(&self, grant: GrantType) -> bool {
        self.grants.contains(grant)
    }

    /// Whether `uri` is one of the registered redirect URIs: compared as
    /// exact strings (RFC 9700 §4.1.3), but for the port of a loopback IP
    /// (RFC 8252 §7.3, see [`RedirectUri::matches`]).
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r.matches(uri))
    }

    /// RP-Initiated Logout 1.0 §3: "The value MUST have been previously
    /// registered ... using exact string matching", loopback ports included.
    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|r| r.as_str() == uri)
    }
}

/// The JOSE algorithm a client's ID tokens are signed with. RS256 by
/// default: OIDC Discovery §3 makes it mandatory to support, and most
/// relying parties expect it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdTokenAlg {
    #[default]
    RS256,
    ES256,
}

impl IdTokenAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "RS256" => Ok(Self::RS256),
            "ES256" => Ok(Self::ES256),
            _ => Err(ValidationError::new(format!(
                "unknown ID token algorithm '{s}' (known: RS256, ES256)"
            ))),
        }
    }
}

impl fmt::Display for IdTokenAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 6749 §2.1 client types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// Cannot keep a secret (browser or native app); must use PKCE.
    Public,
    /// Authenticates with a client secret.
    Confidential,
}

/// The grants a client may use (RFC 6749 §4, §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    Password,
}

impl GrantType {
    pub const ALL: [GrantType; 4] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::Password,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new(format!(
                    "unknown grant '{s}' (known: authorization_code, refresh_token, client_credentials, password)"
                ))
            })
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of grants a client was given, in a stable order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantTypes(Vec<GrantType>);

impl GrantTypes {
    /// `authorization_code` and `refresh_token`, as the contract says.
    pub fn default_set() -> Self {
        Self(vec![GrantType::AuthorizationCode, GrantType::RefreshToken])
    }

    pub fn parse_list<S: AsRef<str>>(items: &[S]) -> Result<Self, ValidationError> {
        let mut grants = Vec::new();
        for item in items {
            for part in item.as_ref().split([' ', ',']).filter(|p| !p.is_empty()) {
                grants.push(GrantType::parse(part)?);
            }
        }
        grants.sort();
        grants.dedup();
        Ok(Self(grants))
    }

    /// Checks the grants make sense for the client's kind.
    pub fn check_for(&self, kind: ClientKind) -> Result<(), ValidationError> {
        if self.0.is_empty() {
            return Err(ValidationError::new("a client needs at least one grant"));
        }
        // RFC 6749 §4.4: "The client credentials grant type MUST only be used
        // by confidential clients."
        if kind == ClientKind::Public && self.contains(GrantType::ClientCredentials) {
            return Err(ValidationError::new(
                "a public client cannot use the client_credentials grant",
            ));
        }
        Ok(())
    }

    pub fn contains(&self, grant: GrantType) -> bool {
        self.0.contains(&grant)
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().map(|g| g.as_str().to_owned()).collect()
    }
}

impl fmt::Display for GrantTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vec().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_parse_sorted_and_deduplicated() {
        let g =
            GrantTypes::parse_list(&["password", "authorization_code", "password"]).expect("ok");
        assert_eq!(g.to_vec(), ["authorization_code", "password"]);
    }

    #[test]
    fn an_unknown_grant_is_named() {
        let err = GrantTypes::parse_list(&["implicit"]).expect_err("unknown");
        assert!(err.0.contains("implicit"));
    }

    #[test]
    fn public_clients_cannot_use_client_credentials() {
        let g = GrantTypes::parse_list(&["client_credentials"]).expect("ok");
        assert!(g.check_for(ClientKind::Public).is_err());
        assert!(g.check_for(ClientKind::Confidential).is_ok());
    }
}
